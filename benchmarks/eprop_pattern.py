"""Benchmark: e-prop training on the pattern recognition task of
examples/eprop/pattern_recognition.py (20 inputs, 256 recurrent LIF, 3
leaky-integrator outputs, 1000 steps per example, batch 1, MSE loss,
Adam(0.003), c_reg 3).

Prints seconds per training epoch (one example of 1000 steps, gradients and
the Adam step included; no recording) on one thread and on every core, and
the MSE of the output traces after N epochs (the "mean_square_error" metric,
summed in the engine over every step of epoch N + 1, which sees the
weights N epochs produced).

Reference point: upstream mlGeNN on GeNN's single-threaded CPU backend
takes about 4.4 s per epoch of this task on a 2-core development machine;
the goal is at most half that.

    python benchmarks/eprop_pattern.py [--epochs 100] [--repeats 3] [--backend cpu|cuda]
"""
import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "examples", "eprop"))
from pattern_recognition import (EXAMPLE_TIMESTEPS, build_compiler,  # noqa: E402
                                 build_network, make_task, train)

UPSTREAM_SECONDS_PER_EPOCH = 4.4


def run(epochs, repeats, **genn_kwargs):
    """``(seconds per epoch over all epochs and repeats, [MSE after `epochs`
    epochs per repeat])``; each repeat trains a fresh network (same seeds)."""
    spikes, targets = make_task()
    seconds, mses = [], []
    for _ in range(repeats):
        network, inp, out = build_network()
        compiled_net = build_compiler(**genn_kwargs).compile(network,
                                                             name="eprop_pattern_benchmark")
        with compiled_net:
            # epoch `epochs` (0-based) runs with the weights after `epochs`
            # epochs: its MSE is the one reported (not timed)
            s, mse, _ = train(compiled_net, inp, out, spikes, targets, epochs + 1,
                              record=False)
        seconds += s[:-1]
        mses.append(mse[-1])
    return seconds, mses


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    configs = ([("1 thread", {"num_threads": 1}), (f"{os.cpu_count()} threads", {})]
               if args.backend == "cpu" else [("cuda", {"backend": "cuda"})])
    print(f"e-prop pattern recognition: 256 recurrent LIF, {EXAMPLE_TIMESTEPS} steps per "
          f"epoch, batch 1, {args.epochs} epochs x {args.repeats} repeats")
    print(f"{'configuration':<14} {'s/epoch median':>15} {'min':>7} {'max':>7} "
          f"{'speed-up vs 4.4 s':>18} {'MSE after N':>12}")
    for label, kwargs in configs:
        seconds, mses = run(args.epochs, args.repeats, **kwargs)
        median = statistics.median(seconds)
        print(f"{label:<14} {median:>15.4f} {min(seconds):>7.4f} {max(seconds):>7.4f} "
              f"{UPSTREAM_SECONDS_PER_EPOCH / median:>17.1f}x "
              f"{statistics.mean(mses):>12.4f}")
    _, targets = make_task()
    print(f"(variance of the targets: {np.var(targets):.4f}; MSE is the mean over "
          "repeats)")


if __name__ == "__main__":
    main()
