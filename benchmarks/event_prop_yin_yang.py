"""Benchmark: EventProp training on Yin-Yang (first-spike-time coding).

The network and data of ``examples/event_prop/yin_yang.py`` (5 inputs, 200
hidden LIF, 3 LIF outputs, dt = 0.05 ms, 600 steps per example, 5000
training and 1000 test examples). For every batch size: training epoch time
and training samples per second (forward and backward pass, no validation),
then the test accuracy reached after the given number of epochs. The
learning rate decays by ``--lr-decay`` every epoch and grows with the batch
size: ``lr * (batch / 32) ** 0.75`` (fewer, less noisy steps per epoch).

    python benchmarks/event_prop_yin_yang.py [--batch-sizes 32,512] [--epochs 30]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                                "event_prop"))

from ml_genn.callbacks import OptimiserParamSchedule  # noqa: E402
from ml_genn.compilers.event_prop_compiler import EventPropCompiler  # noqa: E402
from ml_genn.optimisers import Adam  # noqa: E402
from ml_genn.utils.data import generate_yin_yang_dataset  # noqa: E402

from yin_yang import EXAMPLE_TIME, OFFSET, SCALE, build_network  # noqa: E402


def measure(batch_size, epochs, x_train, y_train, x_test, y_test, dt, lr, lr_decay):
    network, inp, _, out = build_network(200)
    steps = int(round(EXAMPLE_TIME / dt))
    lr = lr * (batch_size / 32) ** 0.75
    schedule = OptimiserParamSchedule("alpha", lambda e, alpha: lr * lr_decay ** e)
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(lr),
                                 dt=dt, batch_size=batch_size, max_spikes=20,
                                 softmax_temperature=0.5, rng_seed=1).compile(
                                     network, f"bench_yin_yang_{batch_size}")
    times = []
    with compiled:
        for epoch in range(epochs):
            start = time.perf_counter()
            compiled.train({inp: x_train}, {out: y_train}, num_epochs=1, start_epoch=epoch,
                           callbacks=[schedule])
            times.append(time.perf_counter() - start)
        # test accuracy: a forward pass over the test set (validation only)
        _, test, _, _ = compiled.train({inp: x_train[:batch_size]}, {out: y_train[:batch_size]},
                                       num_epochs=1, start_epoch=epochs, callbacks=[],
                                       validation_x={inp: x_test}, validation_y={out: y_test},
                                       validation_callbacks=[])
    epoch_s = float(np.median(times))
    return epoch_s, len(x_train) / epoch_s, test[out].result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", default="32,512")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--num-train", type=int, default=5000)
    parser.add_argument("--num-test", type=int, default=1000)
    parser.add_argument("--dt", type=float, default=0.05)
    parser.add_argument("--lr", type=float, default=0.003, help="at batch size 32")
    parser.add_argument("--lr-decay", type=float, default=0.95)
    args = parser.parse_args()
    np.random.seed(1)
    x_train, y_train = generate_yin_yang_dataset(args.num_train, SCALE, OFFSET)
    x_test, y_test = generate_yin_yang_dataset(args.num_test, SCALE, OFFSET)
    y_train, y_test = np.array(y_train), np.array(y_test)
    print(f"EventProp Yin-Yang, {args.num_train} training examples, "
          f"{int(round(EXAMPLE_TIME / args.dt))} steps each, {os.cpu_count()} CPU cores")
    print(f"{'batch':>6} {'epoch s':>8} {'train samples/s':>16} "
          f"{'test acc after ' + str(args.epochs) + ' epochs':>26}")
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        epoch_s, rate, acc = measure(batch_size, args.epochs, x_train, y_train, x_test,
                                     y_test, args.dt, args.lr, args.lr_decay)
        print(f"{batch_size:>6} {epoch_s:>8.2f} {rate:>16.0f} {100 * acc:>25.1f}%")


if __name__ == "__main__":
    main()
