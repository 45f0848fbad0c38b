"""EventProp on the Yin-Yang dataset with first-spike-time (TTFS) coding
(Kriener et al. 2021; Wunderlich & Pehle 2021; Nowotny et al. 2024).

Each point (x, y) becomes five input spikes (a bias channel and x, y,
1 - x, 1 - y, latency coded); a hidden layer of LIF neurons feeds three LIF
output neurons, and the class is the output neuron that fires first
(``first_spike_time`` readout). Training minimises the cross-entropy of the
softmax of the negated first-spike times (plus EventProp's early-spike term
``ttfs_alpha``), or ``--loss rmse`` the relative mean square error of the
first-spike times. The dataset is generated, nothing is downloaded.

Prints a table (epoch, train accuracy, test accuracy, time), saves the
trained weights in ``<out>/yin_yang_weights/``, reloads them into an
inference network for the final test accuracy and writes
``<out>/yin_yang.png``: accuracy against epochs, the test points coloured by
the predicted class, and spike rasters of one test example.

    python examples/event_prop/yin_yang.py [--epochs 30] [--batch-size 32] [--out out]

Data-parallel over MPI (each rank trains on every ``num_ranks``-th example;
the gradients of the whole batch are summed over the ranks; needs mpi4py):

    mpirun -np 2 python examples/event_prop/yin_yang.py --mpi
"""
import argparse
import os
import time

import numpy as np

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import OptimiserParamSchedule, SpikeRecorder
from ml_genn.compilers import InferenceCompiler
from ml_genn.compilers.event_prop_compiler import EventPropCompiler, default_params
from ml_genn.connectivity import Dense
from ml_genn.initializers import Normal
from ml_genn.losses import RelativeMeanSquareError
from ml_genn.neurons import LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Exponential
from ml_genn.utils.data import generate_yin_yang_dataset

#: input spikes fall in [OFFSET, OFFSET + SCALE] ms; examples last EXAMPLE_TIME
OFFSET, SCALE, EXAMPLE_TIME = 2.0, 15.0, 30.0


def build_network(num_hidden):
    """Input (5) -> LIF hidden -> LIF output (3, first spike time)."""
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=5 * 1024), 5)
        hidden = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), num_hidden,
                            record_spikes=True)
        out = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            readout="first_spike_time"), 3,
                         record_spikes=True)
        Connection(inp, hidden, Dense(Normal(mean=2.0, sd=1.5)), Exponential(5.0))
        Connection(hidden, out, Dense(Normal(mean=0.2, sd=0.4)), Exponential(5.0))
    return network, inp, hidden, out


def points(spikes):
    """(x, y) of each example, from its x and y channel spike times."""
    return np.array([[(s.spike_times[1] - OFFSET) / SCALE, (s.spike_times[2] - OFFSET) / SCALE]
                     for s in spikes])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-train", type=int, default=5000)
    parser.add_argument("--num-test", type=int, default=1000)
    parser.add_argument("--num-hidden", type=int, default=200)
    parser.add_argument("--dt", type=float, default=0.05)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--lr-decay", type=float, default=0.95,
                        help="learning rate of epoch e: lr * lr_decay ** e")
    parser.add_argument("--loss", choices=["sce", "rmse"], default="sce")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="out")
    parser.add_argument("--mpi", action="store_true",
                        help="train data-parallel over the ranks of mpirun (--batch-size "
                             "is the whole batch, divided among the ranks)")
    args = parser.parse_args()

    np.random.seed(args.seed)
    x_train, y_train = generate_yin_yang_dataset(args.num_train, SCALE, OFFSET)
    x_test, y_test = generate_yin_yang_dataset(args.num_test, SCALE, OFFSET)
    y_train, y_test = np.array(y_train), np.array(y_test)
    steps = int(round(EXAMPLE_TIME / args.dt))
    communicator, rank = None, 0
    x_val, y_val = x_test, y_test
    if args.mpi:
        from ml_genn.communicators import MPI
        communicator = MPI()
        rank, ranks = communicator.rank, communicator.num_ranks
        # every rank generated the same data (same seed): each takes its shard
        x_train, y_train = x_train[rank::ranks], y_train[rank::ranks]
        x_val, y_val = x_test[rank::ranks], y_test[rank::ranks]
    log = print if rank == 0 else (lambda *a, **k: None)

    network, inp, hidden, out = build_network(args.num_hidden)
    loss = ("sparse_categorical_crossentropy" if args.loss == "sce"
            else RelativeMeanSquareError(2.0))
    compiler = EventPropCompiler(steps, loss, optimiser=Adam(args.lr), dt=args.dt,
                                 batch_size=args.batch_size, max_spikes=20, ttfs_alpha=0.01,
                                 softmax_temperature=0.5, rng_seed=args.seed,
                                 communicator=communicator)
    t0 = time.perf_counter()
    compiled = compiler.compile(network, "yin_yang")
    history = []
    schedule = OptimiserParamSchedule("alpha", lambda e, alpha: args.lr * args.lr_decay ** e)
    log(f"{'epoch':>5} {'train acc':>10} {'test acc':>9} {'epoch s':>8}")
    with compiled:
        build = time.perf_counter() - t0
        for epoch in range(args.epochs):
            t1 = time.perf_counter()
            train, test, _, _ = compiled.train(
                {inp: x_train}, {out: y_train}, num_epochs=1, start_epoch=epoch,
                callbacks=[schedule], validation_x={inp: x_val}, validation_y={out: y_val},
                validation_callbacks=[])
            elapsed = time.perf_counter() - t1
            history.append((train[out].result, test[out].result, elapsed))
            log(f"{epoch:>5} {100 * train[out].result:>9.1f}% "
                f"{100 * test[out].result:>8.1f}% {elapsed:>8.2f}")
        weights = Numpy(os.path.join(args.out, "yin_yang_weights"))
        compiled.save(("trained",), weights)      # with MPI: rank 0 writes
    if rank != 0:
        return

    # evaluate the trained weights (inference, as a user would deploy them)
    network.load(("trained",), weights)
    inference = InferenceCompiler(steps, dt=args.dt, batch_size=args.batch_size,
                                  reset_in_syn_between_batches=True).compile(
                                      network, "yin_yang_inference")
    with inference:
        metrics, _ = inference.evaluate({inp: x_test}, {out: y_test}, callbacks=[])
        predicted, recorded = inference.predict(
            {inp: x_test}, out, callbacks=[SpikeRecorder(hidden, key="hidden",
                                                         example_filter=0),
                                           SpikeRecorder(out, key="out", example_filter=0)])
    test_acc = metrics[out].result
    epoch_s = np.mean([h[2] for h in history]) if history else float("nan")
    print(f"\nfinal test accuracy {100 * test_acc:.1f}% after {args.epochs} epochs "
          f"(build {build:.1f} s, {epoch_s:.1f} s per epoch incl. validation, "
          f"{args.num_train / epoch_s:.0f} training samples/s incl. validation)")
    plot(args.out, history, points(x_test), predicted[out].argmax(axis=1), y_test, recorded,
         x_test[0], steps * args.dt, args.num_hidden)


def plot(out_dir, history, xy, predicted, y_test, recorded, example, example_time,
         num_hidden):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    if history:
        epochs = np.arange(len(history))
        axes[0].plot(epochs, [100 * h[0] for h in history], label="train")
        axes[0].plot(epochs, [100 * h[1] for h in history], label="test")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("accuracy (%)")
    axes[0].legend()
    axes[0].set_title("Yin-Yang, EventProp (TTFS)")
    correct = predicted == y_test
    axes[1].scatter(xy[correct, 0], xy[correct, 1], c=predicted[correct], cmap="viridis", s=6)
    axes[1].scatter(xy[~correct, 0], xy[~correct, 1], c="red", marker="x", s=12,
                    label="wrong")
    axes[1].set_aspect("equal")
    axes[1].set_title(f"test set, predicted class ({100 * correct.mean():.1f}% correct)")
    axes[1].legend(loc="upper right")
    ax = axes[2]
    ax.scatter(example.spike_times, np.arange(len(example.spike_times)), s=12, c="k",
               label="input")
    hid_t, hid_i = recorded["hidden"][0][0], recorded["hidden"][1][0]
    ax.scatter(hid_t, 5 + hid_i, s=2, c="tab:blue", label="hidden")
    out_t, out_i = recorded["out"][0][0], recorded["out"][1][0]
    ax.scatter(out_t, 5 + num_hidden + 3 * out_i, s=30, c="tab:red", label="output")
    ax.set_xlim(0, example_time)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title("spikes of test example 0")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, "yin_yang.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
