"""Rate-coded SNN inference on scikit-learn's digits, in the style of
mlGeNN's simple MNIST example (offline: no download).

A 64-128-10 ReLU network is trained with NumPy, its weights are scaled
layer by layer with the largest activation seen on the training data (data
normalisation), and the same weights drive integrate-and-fire neurons:
inputs are IntegrateFireInput currents, hidden and output layers are
IntegrateFire, and the class is the output neuron with the most spikes.

    python examples/simple_digits.py [--timesteps 100] [--batch-size 64]
"""
import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ml_genn import InputLayer, Layer, SequentialNetwork
from ml_genn.compilers import InferenceCompiler
from ml_genn.connectivity import Dense
from ml_genn.neurons import IntegrateFire, IntegrateFireInput


def train_ann(x, y, hidden=128, epochs=300, lr=0.5, seed=0):
    """Two-layer ReLU network without biases, full-batch gradient descent."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0.0, np.sqrt(2.0 / x.shape[1]), (x.shape[1], hidden))
    w2 = rng.normal(0.0, np.sqrt(2.0 / hidden), (hidden, 10))
    onehot = np.eye(10)[y]
    for _ in range(epochs):
        h = np.maximum(x @ w1, 0.0)
        logits = h @ w2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        d_logits = (p - onehot) / len(x)
        d_h = (d_logits @ w2.T) * (h > 0)
        w2 -= lr * (h.T @ d_logits)
        w1 -= lr * (x.T @ d_h)
    return w1.astype(np.float32), w2.astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timesteps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25,
                                                        random_state=0)
    w1, w2 = train_ann(x_train, y_train)
    ann_acc = np.mean(np.argmax(np.maximum(x_test @ w1, 0) @ w2, axis=1) == y_test)

    # data normalisation: the largest activation of each layer maps to threshold 1
    h_max = np.max(np.maximum(x_train @ w1, 0))
    o_max = np.max(np.maximum(np.maximum(x_train @ w1, 0) @ w2, 0))
    w1_snn = w1 / h_max
    w2_snn = w2 * h_max / o_max

    network = SequentialNetwork()
    with network:
        inp = InputLayer(IntegrateFireInput(v_thresh=1.0), 64)
        Layer(Dense(weight=w1_snn), IntegrateFire(v_thresh=1.0))
        out = Layer(Dense(weight=w2_snn), IntegrateFire(v_thresh=1.0, readout="spike_count"))

    compiler = InferenceCompiler(evaluate_timesteps=args.timesteps,
                                 batch_size=args.batch_size)
    compiled_net = compiler.compile(network)
    with compiled_net:
        start = time.perf_counter()
        metrics, _ = compiled_net.evaluate({inp: x_test}, {out: y_test})
        elapsed = time.perf_counter() - start
    print(f"ANN accuracy: {100 * ann_acc:.1f}%")
    print(f"SNN accuracy: {100 * metrics[out].result:.1f}% "
          f"({args.timesteps} time steps, {len(x_test)} test digits, "
          f"{len(x_test) / elapsed:.0f} samples/s, build {compiled_net.genn_model.build_time:.2f} s)")


if __name__ == "__main__":
    main()
