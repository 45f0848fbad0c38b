"""EventProp on the Spiking Heidelberg Digits (Cramer et al. 2020; Nowotny
et al. 2024). Needs the ``tonic`` package and internet access on first use.

Each spoken digit (20 classes: 0-9 in English and German) is a pattern of
spikes on 700 cochlea channels, about one second long. Binned into time
steps of ``dt`` (one spike per channel and step at most), it drives a
recurrently connected layer of 256 LIF neurons (``Exponential(5.0)``
synapses) that feeds 20 leaky integrators; the class score is their
membrane potential averaged with a weight that grows over the example
(``avg_var_exp_weight``). EventProp trains every connection with
cross-entropy, Adam and a spike-count regularisation of the hidden layer
(lambda 2.5e-10 above and below a target of 14 spikes per neuron and
example) -- the settings of mlGeNN's ``event_prop/shd.py``.

The dataset is read through tonic (``pip install tonic``), which downloads
it (about 130 MB) into ``--data-dir`` on first use: that needs internet
access; later runs use the cached files. A full run (8156 training
examples, 50 epochs) is meant for a GPU (``--backend cuda``); on a CPU try
``--num-train 512 --num-test 256 --epochs 5`` (roughly 0.1 ms per example
and time step on 2 cores with SHD-like synthetic data: a minute or two per
epoch).

Prints a table (epoch, train accuracy, test accuracy, time) and writes
``<out>/shd_event_prop.png``: accuracy against epochs and the spikes of one
test example.

    python examples/event_prop/shd.py [--epochs 50] [--data-dir data] [--out out]
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
from ml_genn.utils.data import calc_latest_spike_time, calc_max_spikes  # noqa: E402


def build_network(num_input, num_hidden, num_output, max_spikes):
    """SpikeInput -> recurrent LIF hidden -> LeakyIntegrate outputs
    (``avg_var_exp_weight``)."""
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=max_spikes), num_input, record_spikes=True)
        hidden = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), num_hidden,
                            record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var_exp_weight"),
                         num_output)
        Connection(inp, hidden, Dense(Normal(mean=0.03, sd=0.01)), Exponential(5.0))
        Connection(hidden, hidden, Dense(Normal(mean=0.0, sd=0.02)), Exponential(5.0))
        Connection(hidden, out, Dense(Normal(mean=0.0, sd=0.03)), Exponential(5.0))
    return network, inp, hidden, out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=datasets.SHD_HELP)
    parser.add_argument("--data-dir", default="data", help="where tonic keeps the SHD")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-hidden", type=int, default=256)
    parser.add_argument("--num-train", type=int, default=None,
                        help="use a random subset of N training examples")
    parser.add_argument("--num-test", type=int, default=None,
                        help="use a random subset of N test examples")
    parser.add_argument("--max-time", type=float, default=None,
                        help="drop input events after this time (ms); by default the "
                             "examples last until the latest input spike")
    parser.add_argument("--max-spikes", type=int, default=1500,
                        help="EventProp's spike buffer per neuron and example")
    parser.add_argument("--dt", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--reg-lambda", type=float, default=2.5e-10)
    parser.add_argument("--reg-nu", type=float, default=14.0)
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
    compiler = EventPropCompiler(steps, "sparse_categorical_crossentropy",
                                 optimiser=Adam(args.lr), reg_lambda_upper=args.reg_lambda,
                                 reg_lambda_lower=args.reg_lambda, reg_nu_upper=args.reg_nu,
                                 max_spikes=args.max_spikes, dt=args.dt,
                                 batch_size=args.batch_size, rng_seed=args.seed,
                                 **genn_kwargs)
    print(f"{steps} steps per example")
    t0 = time.perf_counter()
    compiled = compiler.compile(network, "shd_event_prop")
    with compiled:
        build = time.perf_counter() - t0
        history, rec = datasets.train_epochs(compiled, inp, out, train, test, args.epochs,
                                             record=(inp, hidden))
    datasets.print_summary(history, build)
    path = os.path.join(args.out, "shd_event_prop.png")
    rasters = [("input", *rec[inp.name], num_input),
               ("hidden", *rec[hidden.name], args.num_hidden)]
    datasets.plot_results(path, "SHD, EventProp", history, rasters, steps * args.dt)
    return {"history": history, "build": build, "timesteps": steps, "png": path}


if __name__ == "__main__":
    main()
