"""EventProp on scikit-learn's digits, latency coded (offline: no download).

The 8x8 images (values 0..16) are scaled to 0..255 and each pixel above a
threshold spikes once, brighter pixels earlier (``linear_latency_encode_data``);
a hidden layer of LIF neurons feeds ten leaky integrators whose average
membrane potential (``avg_var``) is the class score, trained with
cross-entropy (the setting of mlGeNN's latency MNIST example, on a dataset
that ships with scikit-learn).

Prints a table (epoch, train accuracy, test accuracy, time) and writes
``<out>/latency_digits.png``: accuracy against epochs and the spikes of one
test digit in every layer.

    python examples/event_prop/latency_digits.py [--epochs 20] [--batch-size 32] [--out out]
"""
import argparse
import os
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import SpikeRecorder
from ml_genn.compilers.event_prop_compiler import EventPropCompiler, default_params
from ml_genn.connectivity import Dense
from ml_genn.initializers import Normal
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential
from ml_genn.utils.data import calc_max_spikes, linear_latency_encode_data

#: latest input spike time and example duration (ms)
MAX_INPUT_TIME, EXAMPLE_TIME = 20.0, 30.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-hidden", type=int, default=128)
    parser.add_argument("--dt", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target,
                                                        test_size=0.25, random_state=0)
    spikes_train = linear_latency_encode_data(x_train, MAX_INPUT_TIME, thresh=16)
    spikes_test = linear_latency_encode_data(x_test, MAX_INPUT_TIME, thresh=16)
    max_spikes = calc_max_spikes(spikes_train + spikes_test)

    np.random.seed(args.seed)
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=args.batch_size * max_spikes), 64,
                         record_spikes=True)
        hidden = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), args.num_hidden,
                            record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 10)
        Connection(inp, hidden, Dense(Normal(mean=0.3, sd=0.6)), Exponential(5.0))
        Connection(hidden, out, Dense(Normal(mean=0.0, sd=0.3)), Exponential(5.0))

    steps = int(round(EXAMPLE_TIME / args.dt))
    compiler = EventPropCompiler(steps, "sparse_categorical_crossentropy",
                                 optimiser=Adam(args.lr), dt=args.dt,
                                 batch_size=args.batch_size, max_spikes=steps,
                                 rng_seed=args.seed)
    t0 = time.perf_counter()
    compiled = compiler.compile(network, "latency_digits")
    history = []
    print(f"{'epoch':>5} {'train acc':>10} {'test acc':>9} {'epoch s':>8}")
    with compiled:
        build = time.perf_counter() - t0
        for epoch in range(args.epochs):
            t1 = time.perf_counter()
            last = epoch == args.epochs - 1
            recorders = ([SpikeRecorder(p, key=p.name, example_filter=0)
                          for p in (inp, hidden)] if last else [])
            train, test, _, rec = compiled.train(
                {inp: spikes_train}, {out: y_train}, num_epochs=1, start_epoch=epoch,
                callbacks=[], validation_x={inp: spikes_test}, validation_y={out: y_test},
                validation_callbacks=recorders)
            elapsed = time.perf_counter() - t1
            history.append((train[out].result, test[out].result, elapsed))
            print(f"{epoch:>5} {100 * train[out].result:>9.1f}% "
                  f"{100 * test[out].result:>8.1f}% {elapsed:>8.2f}")
    epoch_s = np.mean([h[2] for h in history])
    print(f"\nfinal test accuracy {100 * history[-1][1]:.1f}% after {args.epochs} epochs "
          f"(build {build:.1f} s, {epoch_s:.2f} s per epoch incl. test)")
    plot(args.out, history, rec, inp, hidden, x_test[0], steps * args.dt)


def plot(out_dir, history, recorded, inp, hidden, image, example_time):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), gridspec_kw={"width_ratios": [3, 1, 3]})
    epochs = np.arange(len(history))
    axes[0].plot(epochs, [100 * h[0] for h in history], label="train")
    axes[0].plot(epochs, [100 * h[1] for h in history], label="test")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("accuracy (%)")
    axes[0].set_title("digits, EventProp (latency code)")
    axes[0].legend()
    axes[1].imshow(image, cmap="gray_r")
    axes[1].set_title("test digit 0")
    axes[1].axis("off")
    t_in, i_in = recorded[inp.name][0][0], recorded[inp.name][1][0]
    t_h, i_h = recorded[hidden.name][0][0], recorded[hidden.name][1][0]
    axes[2].scatter(t_in, i_in, s=4, c="k", label="input")
    axes[2].scatter(t_h, 64 + i_h, s=4, c="tab:blue", label="hidden")
    axes[2].set_xlim(0, example_time)
    axes[2].set_xlabel("time (ms)")
    axes[2].set_ylabel("neuron")
    axes[2].set_title("spikes of test digit 0")
    axes[2].legend(loc="upper right")
    fig.tight_layout()
    path = os.path.join(out_dir, "latency_digits.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
