"""EventProp on latency-coded digits: scikit-learn's 8x8 digits by default
(offline, no download), or MNIST with ``--dataset mnist``.

Each image (0..255) is latency coded: every pixel above a threshold spikes
once, brighter pixels earlier (``linear_latency_encode_data``, spikes in
0..20 ms of a 30 ms example); a hidden layer of LIF neurons feeds ten leaky
integrators whose average membrane potential (``avg_var``) is the class
score, trained with cross-entropy and Adam (the setting of mlGeNN's
``event_prop/latency_mnist.py``: 128 LIF neurons without refractory
period, ``Exponential(5.0)`` synapses, ``Adam(1e-2)``, batch 32).

``--dataset mnist`` downloads MNIST through Keras (``keras.datasets.mnist``;
needs e.g. ``pip install tensorflow-cpu``) and so needs internet access on
first use; it is cached in ``~/.keras/datasets`` afterwards.

Prints a table (epoch, train accuracy, test accuracy, time) and writes
``<out>/latency_digits.png`` (``latency_mnist.png`` for MNIST): accuracy
against epochs and the spikes of one test example in every layer.

    python examples/event_prop/latency_digits.py [--dataset digits] [--epochs 20] [--out out]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import example_datasets as datasets  # noqa: E402  (examples/example_datasets.py)

from ml_genn import Connection, Network, Population  # noqa: E402
from ml_genn.compilers.event_prop_compiler import EventPropCompiler, default_params  # noqa: E402
from ml_genn.connectivity import Dense  # noqa: E402
from ml_genn.initializers import Normal  # noqa: E402
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput  # noqa: E402
from ml_genn.optimisers import Adam  # noqa: E402
from ml_genn.synapses import Exponential  # noqa: E402
from ml_genn.utils.data import calc_max_spikes, linear_latency_encode_data  # noqa: E402

#: latest input spike time and example duration (ms)
MAX_INPUT_TIME, EXAMPLE_TIME = 20.0, 30.0

#: per dataset: encoding threshold and initial weights (mean, sd) of the
#: input->hidden and hidden->output connections. The 8x8 digits have few,
#: strong inputs; MNIST's are the values of mlGeNN's latency MNIST example.
SETTINGS = {"digits": {"thresh": 16, "w_in": (0.3, 0.6), "w_out": (0.0, 0.3)},
            "mnist": {"thresh": 1, "w_in": (0.078, 0.045), "w_out": (0.2, 0.37)}}


def encode(images, dataset):
    """Latency code of uint8 images (one PreprocessedSpikes per image)."""
    return linear_latency_encode_data(images, MAX_INPUT_TIME,
                                      thresh=SETTINGS[dataset]["thresh"])


def build_network(num_input, num_hidden, max_spikes, dataset):
    """SpikeInput -> LIF hidden -> LeakyIntegrate (avg_var) outputs."""
    w_in, w_out = SETTINGS[dataset]["w_in"], SETTINGS[dataset]["w_out"]
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=max_spikes), num_input, record_spikes=True)
        hidden = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), num_hidden,
                            record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 10)
        Connection(inp, hidden, Dense(Normal(mean=w_in[0], sd=w_in[1])), Exponential(5.0))
        Connection(hidden, out, Dense(Normal(mean=w_out[0], sd=w_out[1])), Exponential(5.0))
    return network, inp, hidden, out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=datasets.IMAGE_DATASETS, default="digits",
                        help=datasets.MNIST_HELP)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-hidden", type=int, default=128)
    parser.add_argument("--num-train", type=int, default=None,
                        help="use only the first N training examples")
    parser.add_argument("--num-test", type=int, default=None,
                        help="use only the first N test examples")
    parser.add_argument("--dt", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="out")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return args


def main(argv=None):
    """Run the example; returns ``{"history": [(train acc, test acc,
    seconds)], "build": seconds, "png": path}``."""
    args = parse_args(argv)
    x_train, y_train, x_test, y_test = datasets.load_images(args.dataset, args.num_train,
                                                            args.num_test)
    spikes_train = encode(x_train, args.dataset)
    spikes_test = encode(x_test, args.dataset)
    max_spikes = calc_max_spikes(spikes_train + spikes_test)

    np.random.seed(args.seed)
    num_input = int(np.prod(x_train.shape[1:]))
    network, inp, hidden, out = build_network(num_input, args.num_hidden,
                                              args.batch_size * max_spikes, args.dataset)
    steps = int(round(EXAMPLE_TIME / args.dt))
    compiler = EventPropCompiler(steps, "sparse_categorical_crossentropy",
                                 optimiser=Adam(args.lr), dt=args.dt,
                                 batch_size=args.batch_size, max_spikes=steps,
                                 rng_seed=args.seed)
    t0 = time.perf_counter()
    compiled = compiler.compile(network, f"latency_{args.dataset}")
    with compiled:
        build = time.perf_counter() - t0
        history, rec = datasets.train_epochs(compiled, inp, out, (spikes_train, y_train),
                                             (spikes_test, y_test), args.epochs,
                                             record=(inp, hidden))
    datasets.print_summary(history, build)
    name = "latency_digits" if args.dataset == "digits" else "latency_mnist"
    path = os.path.join(args.out, f"{name}.png")
    rasters = [("input", *rec[inp.name], num_input),
               ("hidden", *rec[hidden.name], args.num_hidden)]
    datasets.plot_results(path, f"{args.dataset}, EventProp (latency code)", history,
                          rasters, steps * args.dt, image=x_test[0])
    return {"history": history, "build": build, "png": path}


if __name__ == "__main__":
    main()
