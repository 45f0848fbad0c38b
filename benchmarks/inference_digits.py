"""Benchmark: InferenceCompiler throughput on a 64-256-10 IF network.

Inputs are scikit-learn's digits (1797 examples, 64 pixels) presented as
IntegrateFireInput currents for 100 time steps; random weights scaled so the
network is active.  Prints samples per second for several batch sizes and
the share of evaluate() time spent inside native code (model.run).

    python benchmarks/inference_digits.py [--batch-sizes 1,32,256] [--backend cpu|cuda]
"""
import argparse
import os
import time

import numpy as np
from sklearn.datasets import load_digits

from ml_genn import InputLayer, Layer, SequentialNetwork
from ml_genn.compilers import InferenceCompiler
from ml_genn.connectivity import Dense
from ml_genn.neurons import IntegrateFire, IntegrateFireInput


def build_network(seed=0):
    rng = np.random.default_rng(seed)
    net = SequentialNetwork()
    with net:
        inp = InputLayer(IntegrateFireInput(v_thresh=1.0), 64)
        Layer(Dense(weight=rng.normal(0.0, 0.3, (64, 256))), IntegrateFire(v_thresh=1.0))
        out = Layer(Dense(weight=rng.normal(0.0, 0.3, (256, 10))),
                    IntegrateFire(v_thresh=1.0, readout="spike_count"))
    return net, inp, out


def measure(batch_size, x, y, timesteps=100):
    net, inp, out = build_network()
    compiled = InferenceCompiler(evaluate_timesteps=timesteps,
                                 batch_size=batch_size).compile(net, name="bench_digits")
    with compiled:
        model = compiled.genn_model
        native = [0.0]
        run = model.run

        def timed_run(n):
            start = time.perf_counter()
            run(n)
            native[0] += time.perf_counter() - start
        model.run = timed_run
        compiled.evaluate({inp: x[:batch_size]}, {out: y[:batch_size]}, callbacks=[])  # warm-up
        native[0] = 0.0
        start = time.perf_counter()
        metrics, _ = compiled.evaluate({inp: x}, {out: y}, callbacks=[])
        total = time.perf_counter() - start
    return len(x) / total, native[0] / total, total, model.build_time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", default="1,32,256")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    os.environ["ML_GENN_BACKEND"] = args.backend      # the compiler's GeNNModel default
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    print(f"machine: {os.cpu_count()} cores; 64-256-10 IF network, 100 time steps, "
          f"{len(x)} digits, {args.backend} backend")
    print(f"{'batch size':>10} {'samples/s':>10} {'native share':>13} {'evaluate [s]':>13} "
          f"{'build [s]':>10}")
    for b in [int(s) for s in args.batch_sizes.split(",")]:
        rate, share, total, build = measure(b, x, y)
        print(f"{b:10d} {rate:10.0f} {100 * share:12.1f}% {total:13.3f} {build:10.3f}")


if __name__ == "__main__":
    main()
