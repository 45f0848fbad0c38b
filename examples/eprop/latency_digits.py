"""e-prop on latency-coded digits: scikit-learn's 8x8 digits by default
(offline, no download), or MNIST with ``--dataset mnist``.

Each image (0..255) is coded by the time a leaky integrator driven by the
pixel value would take to reach a threshold: pixels above 51 spike once at
``20 ms * ln(v / (v - 51))`` (``log_latency_encode_data``), brighter pixels
earlier. A layer of 128 LIF neurons (threshold 0.61, tau 20 ms, refractory
5 ms) feeds ten leaky integrators whose membrane potentials, summed over
the example (``sum_var``), are the class scores; e-prop (Bellec et al.
2020) trains both layers with cross-entropy and Adam -- the setting of
mlGeNN's ``eprop/latency_mnist.py``, with a smaller batch for the 1347
training digits.

``--dataset mnist`` downloads MNIST through Keras (``keras.datasets.mnist``;
needs e.g. ``pip install tensorflow-cpu``) and so needs internet access on
first use; it is cached in ``~/.keras/datasets`` afterwards.

Prints a table (epoch, train accuracy, test accuracy, time) and writes
``<out>/eprop_latency_digits.png`` (``eprop_latency_mnist.png`` for MNIST):
accuracy against epochs and the spikes of one test example.

    python examples/eprop/latency_digits.py [--dataset digits] [--epochs 10] [--out out]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import example_datasets as datasets  # noqa: E402  (examples/example_datasets.py)

from ml_genn import Connection, Network, Population  # noqa: E402
from ml_genn.compilers.eprop_compiler import EPropCompiler, default_params  # noqa: E402
from ml_genn.connectivity import Dense  # noqa: E402
from ml_genn.initializers import Normal  # noqa: E402
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput  # noqa: E402
from ml_genn.optimisers import Adam  # noqa: E402
from ml_genn.utils.data import (calc_latest_spike_time, calc_max_spikes,  # noqa: E402
                                log_latency_encode_data)

#: log-latency code: effective time constant (ms) and threshold (0..255)
TAU_EFF, THRESH = 20.0, 51


def encode(images):
    """Log-latency code of uint8 images (one PreprocessedSpikes per image)."""
    return log_latency_encode_data(images, TAU_EFF, THRESH)


def example_timesteps(spikes, dt):
    """Steps per example: up to the latest input spike, plus one step for
    its effect to reach the outputs."""
    return int(np.ceil(calc_latest_spike_time(spikes) / dt)) + 1


def build_network(num_input, num_hidden, max_spikes):
    """SpikeInput -> LIF hidden -> LeakyIntegrate (sum_var) outputs, with
    weights drawn from N(0, 1/fan-in)."""
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=max_spikes), num_input, record_spikes=True)
        hidden = Population(LeakyIntegrateFire(v_thresh=0.61, tau_mem=20.0, tau_refrac=5.0),
                            num_hidden, record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 10)
        Connection(inp, hidden, Dense(Normal(sd=1.0 / np.sqrt(num_input))))
        Connection(hidden, out, Dense(Normal(sd=1.0 / np.sqrt(num_hidden))))
    return network, inp, hidden, out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=datasets.IMAGE_DATASETS, default="digits",
                        help=datasets.MNIST_HELP)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="mlGeNN's MNIST example uses 128")
    parser.add_argument("--num-hidden", type=int, default=128)
    parser.add_argument("--num-train", type=int, default=None,
                        help="use only the first N training examples")
    parser.add_argument("--num-test", type=int, default=None,
                        help="use only the first N test examples")
    parser.add_argument("--dt", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="out")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return args


def main(argv=None):
    """Run the example; returns ``{"history": [(train acc, test acc,
    seconds)], "build": seconds, "timesteps": steps per example, "png":
    path}``."""
    args = parse_args(argv)
    x_train, y_train, x_test, y_test = datasets.load_images(args.dataset, args.num_train,
                                                            args.num_test)
    spikes_train, spikes_test = encode(x_train), encode(x_test)
    max_spikes = calc_max_spikes(spikes_train + spikes_test)
    steps = example_timesteps(spikes_train + spikes_test, args.dt)

    np.random.seed(args.seed)
    num_input = int(np.prod(x_train.shape[1:]))
    network, inp, hidden, out = build_network(num_input, args.num_hidden,
                                              args.batch_size * max_spikes)
    compiler = EPropCompiler(example_timesteps=steps,
                             losses="sparse_categorical_crossentropy",
                             optimiser=Adam(args.lr), dt=args.dt,
                             batch_size=args.batch_size, rng_seed=args.seed)
    print(f"{len(spikes_train)} training and {len(spikes_test)} test examples of "
          f"{num_input} inputs, {steps} steps each")
    t0 = time.perf_counter()
    compiled = compiler.compile(network, f"eprop_latency_{args.dataset}")
    with compiled:
        build = time.perf_counter() - t0
        history, rec = datasets.train_epochs(compiled, inp, out, (spikes_train, y_train),
                                             (spikes_test, y_test), args.epochs,
                                             record=(inp, hidden))
    datasets.print_summary(history, build)
    path = os.path.join(args.out, f"eprop_latency_{args.dataset}.png")
    rasters = [("input", *rec[inp.name], num_input),
               ("hidden", *rec[hidden.name], args.num_hidden)]
    datasets.plot_results(path, f"{args.dataset}, e-prop (log-latency code)", history,
                          rasters, steps * args.dt, image=x_test[0])
    return {"history": history, "build": build, "timesteps": steps, "png": path}


if __name__ == "__main__":
    main()
