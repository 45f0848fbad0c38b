"""Train a small network with a training compiler, alone or as one rank of
``mpirun``, and save the learned weights of this process.

Used by ``tests/test_mpi_training.py``: ``--ranks 1`` trains with the whole
batch in one process; under ``mpirun -np 2`` each rank takes every second
example (``range(rank, N, num_ranks)``, as mlGeNN's MPI examples do), so its
k-th batch holds half of the examples of the whole run's k-th batch, and the
gradients summed over the ranks are those of the whole batch.
"""
import argparse
import os

import numpy as np

from ml_genn import Connection, Network, Population
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.utils.data import preprocess_spikes

NUM_EXAMPLES, BATCH_SIZE, NUM_IN, NUM_HIDDEN, NUM_OUT, TIMESTEPS = 8, 4, 10, 12, 2, 30


def dataset():
    rng = np.random.default_rng(7)
    spikes, labels = [], []
    for i in range(NUM_EXAMPLES):
        label = i % NUM_OUT
        # class 0 drives the first half of the inputs early, class 1 the second
        ids = rng.integers(0, NUM_IN // 2, size=12) + label * (NUM_IN // 2)
        times = rng.uniform(0.0, TIMESTEPS - 5, size=12).round(1)
        spikes.append(preprocess_spikes(times, ids, NUM_IN))
        labels.append(label)
    return spikes, np.array(labels)


def weights():
    rng = np.random.default_rng(8)
    return (rng.normal(0.0, 1.5, (NUM_IN, NUM_HIDDEN)).astype(np.float32),
            rng.normal(0.0, 0.3, (NUM_HIDDEN, NUM_HIDDEN)).astype(np.float32),
            rng.normal(0.0, 1.0, (NUM_HIDDEN, NUM_OUT)).astype(np.float32))


def build(kind):
    w_in, w_rec, w_out = weights()
    if kind == "eprop":
        from ml_genn.compilers.eprop_compiler import default_params
        hidden = dict(v_thresh=0.61, tau_mem=20.0, tau_refrac=5.0)
        synapse = {}
        readout = "sum_var"
    else:
        from ml_genn.compilers.event_prop_compiler import default_params
        from ml_genn.synapses import Exponential
        hidden = dict(v_thresh=1.0, tau_mem=20.0)
        synapse = {"synapse": Exponential(5.0)}
        readout = "avg_var"
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=12 * BATCH_SIZE), NUM_IN)
        hid = Population(LeakyIntegrateFire(**hidden), NUM_HIDDEN)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout=readout), NUM_OUT)
        conns = [Connection(inp, hid, Dense(w_in), **synapse),
                 Connection(hid, hid, Dense(w_rec), **synapse),
                 Connection(hid, out, Dense(w_out), **synapse)]
    return net, inp, out, conns


def compiler(kind, communicator):
    common = dict(example_timesteps=TIMESTEPS, losses="sparse_categorical_crossentropy",
                  optimiser=Adam(0.01), batch_size=BATCH_SIZE, communicator=communicator)
    if kind == "eprop":
        from ml_genn.compilers.eprop_compiler import EPropCompiler
        return EPropCompiler(**common)
    from ml_genn.compilers.event_prop_compiler import EventPropCompiler
    return EventPropCompiler(**common)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compiler", choices=["eprop", "event_prop"], required=True)
    parser.add_argument("--ranks", type=int, default=0,
                        help="1: train alone; 0: use MPI (under mpirun)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    communicator = None
    if args.ranks != 1:
        from ml_genn.communicators import MPI
        communicator = MPI()
    rank = 0 if communicator is None else communicator.rank
    num_ranks = 1 if communicator is None else communicator.num_ranks

    spikes, labels = dataset()
    shard = list(range(rank, NUM_EXAMPLES, num_ranks))
    net, inp, out, conns = build(args.compiler)
    compiled = compiler(args.compiler, communicator).compile(net, name="mpi_training")
    with compiled:
        metrics, _ = compiled.train({inp: [spikes[i] for i in shard]},
                                    {out: labels[shard]}, num_epochs=args.epochs,
                                    shuffle=False, callbacks=[])
        learned = {}
        for i, conn in enumerate(conns):
            var = compiled.connection_populations[conn].vars["g"]
            var.pull_from_device()
            learned[f"g{i}"] = var.values
    learned["accuracy"] = np.array(metrics[out].result)
    np.savez(os.path.join(args.out, f"{args.compiler}_{num_ranks}_rank{rank}.npz"), **learned)


if __name__ == "__main__":
    main()
