"""e-prop on the Spiking Heidelberg Digits (Cramer et al. 2020; Bellec et
al. 2020). Needs the ``tonic`` package and internet access on first use.

Each spoken digit (20 classes: 0-9 in English and German) is a pattern of
spikes on 700 cochlea channels, about one second long. Binned into time
steps of ``dt`` (one spike per channel and step at most), it drives a
recurrently connected layer of 256 adaptive LIF neurons (threshold 0.6,
refractory 5 ms, adaptation time constant 2 s) that feeds 20 leaky
integrators; the class score is their membrane potential summed over the
example (``sum_var``). e-prop trains every connection with cross-entropy
and Adam, in batches of 512 -- the settings of mlGeNN's
``eprop/shd_classifier.py``.

The dataset is read through tonic (``pip install tonic``), which downloads
it (about 130 MB) into ``--data-dir`` on first use: that needs internet
access; later runs use the cached files. A full run (8156 training
examples, 50 epochs) is meant for a GPU (``--backend cuda``): on a 2-core
CPU e-prop takes roughly 1 ms per example and time step (with SHD-like
synthetic data), so ``--num-train 512 --num-test 256 --batch-size 64``
already takes about a quarter of an hour per epoch.

Prints a table (epoch, train accuracy, test accuracy, time) and writes
``<out>/shd_eprop.png``: accuracy against epochs and the spikes of one test
example.

    python examples/eprop/shd_classifier.py [--epochs 50] [--data-dir data] [--out out]
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
from ml_genn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput  # noqa: E402
from ml_genn.optimisers import Adam  # noqa: E402
from ml_genn.utils.data import calc_latest_spike_time, calc_max_spikes  # noqa: E402


def build_network(num_input, num_hidden, num_output, max_spikes):
    """SpikeInput -> recurrent ALIF hidden -> LeakyIntegrate outputs
    (``sum_var``), with weights drawn from N(0, 1/fan-in)."""
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=max_spikes), num_input, record_spikes=True)
        hidden = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=5.0,
                                                       tau_mem=20.0, tau_adapt=2000.0),
                            num_hidden, record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), num_output)
        Connection(inp, hidden, Dense(Normal(sd=1.0 / np.sqrt(num_input))))
        Connection(hidden, hidden, Dense(Normal(sd=1.0 / np.sqrt(num_hidden))))
        Connection(hidden, out, Dense(Normal(sd=1.0 / np.sqrt(num_hidden))))
    return network, inp, hidden, out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=datasets.SHD_HELP)
    parser.add_argument("--data-dir", default="data", help="where tonic keeps the SHD")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--num-hidden", type=int, default=256)
    parser.add_argument("--num-train", type=int, default=None,
                        help="use a random subset of N training examples")
    parser.add_argument("--num-test", type=int, default=None,
                        help="use a random subset of N test examples")
    parser.add_argument("--max-time", type=float, default=None,
                        help="drop input events after this time (ms); by default the "
                             "examples last until the latest input spike")
    parser.add_argument("--dt", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--backend", default=None, help="engine backend, e.g. cuda")
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
    train, test, num_input, num_output = datasets.load_shd_spikes(
        args.data_dir, args.dt, args.num_train, args.num_test, args.max_time, args.seed)
    max_spikes = calc_max_spikes(train[0] + test[0])
    steps = int(np.ceil(calc_latest_spike_time(train[0] + test[0]) / args.dt)) + 1

    np.random.seed(args.seed)
    network, inp, hidden, out = build_network(num_input, args.num_hidden, num_output,
                                              args.batch_size * max_spikes)
    genn_kwargs = {} if args.backend is None else {"backend": args.backend}
    compiler = EPropCompiler(example_timesteps=steps,
                             losses="sparse_categorical_crossentropy",
                             optimiser=Adam(args.lr), dt=args.dt,
                             batch_size=args.batch_size, rng_seed=args.seed, **genn_kwargs)
    print(f"{steps} steps per example")
    t0 = time.perf_counter()
    compiled = compiler.compile(network, "shd_eprop")
    with compiled:
        build = time.perf_counter() - t0
        history, rec = datasets.train_epochs(compiled, inp, out, train, test, args.epochs,
                                             record=(inp, hidden))
    datasets.print_summary(history, build)
    path = os.path.join(args.out, "shd_eprop.png")
    rasters = [("input", *rec[inp.name], num_input),
               ("hidden", *rec[hidden.name], args.num_hidden)]
    datasets.plot_results(path, "SHD, e-prop", history, rasters, steps * args.dt)
    return {"history": history, "build": build, "timesteps": steps, "png": path}


if __name__ == "__main__":
    main()
