"""Train a Keras CNN with SoftLIF activations, run it with spiking LIF neurons.

NengoDL's recipe on ml_genn: on scikit-learn's bundled digits (8x8 images,
no download) it

1. trains a small Keras CNN whose non-linearities are
   ``ml_genn_tf.layers.SoftLIF`` (a smooth, differentiable LIF rate,
   amplitude 0.01 so activations are of order 1) -- fixed seeds, seconds;
2. converts it with ``ml_genn_tf.converters.NengoConverter``: every SoftLIF
   layer becomes a population of Nengo's spiking ``LIF`` neurons with the
   same time constants, connections low-pass filter the spikes (5 ms), the
   pixel values are presented as continuous input;
3. evaluates the spiking network on the test split at several numbers of
   time steps (dt = 1 ms) with the standard ``InferenceCompiler`` (every
   compiler delivers ``weight * Out`` from the Nengo neurons' graded
   output) and prints ANN and SNN accuracy.

    python examples/softlif_digits.py [--epochs 15] [--sweep 25,50,100,200]
                                      [--num-test N] [--batch-size 128]
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

SEED = 1234


def load_digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    return train_test_split(x, digits.target, test_size=0.25, random_state=0,
                            stratify=digits.target)


def build_and_train(x_train, y_train, epochs):
    import keras
    from ml_genn_tf.layers import SoftLIF
    keras.utils.set_random_seed(SEED)
    inp = keras.Input(x_train.shape[1:])
    h = keras.layers.Conv2D(16, 3, padding="same")(inp)
    h = SoftLIF(sigma=0.02, amplitude=0.01)(h)
    h = keras.layers.AveragePooling2D(2)(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(64)(h)
    h = SoftLIF(sigma=0.02, amplitude=0.01)(h)
    out = keras.layers.Dense(10)(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--sweep", default="25,50,100,200")
    parser.add_argument("--num-test", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)

    from ml_genn_tf.converters import NengoConverter

    x_train, x_test, y_train, y_test = load_digits_split()
    if args.num_test is not None:
        x_test, y_test = x_test[:args.num_test], y_test[:args.num_test]
    model = build_and_train(x_train, y_train, args.epochs)
    ann_acc = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    print(f"{'network':<24}{'time steps':>12}{'accuracy':>10}")
    print(f"{'ANN (SoftLIF)':<24}{'-':>12}{100 * ann_acc:>9.1f}%")
    results = []
    for steps in (int(s) for s in args.sweep.split(",")):
        converter = NengoConverter(evaluate_timesteps=steps)
        net, inputs, outputs, _ = converter.convert(model)
        compiled = converter.create_compiler(batch_size=args.batch_size).compile(
            net, name="softlif_digits")
        with compiled:
            metrics, _ = compiled.evaluate({inputs[0]: x_test}, {outputs[0]: y_test},
                                           callbacks=[])
        acc = metrics[outputs[0]].result
        results.append((steps, acc))
        print(f"{'SNN (spiking LIF)':<24}{steps:>12}{100 * acc:>9.1f}%")
    return ann_acc, results


if __name__ == "__main__":
    main()
