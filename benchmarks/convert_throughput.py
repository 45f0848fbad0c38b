"""Benchmark: samples per second of converted SNNs (DataNorm and FewSpike).

Trains the demo's digits CNN (examples/convert_digits.py), converts it with
both converters and times ``evaluate`` on the test split at several batch
sizes, next to Keras's own ``predict``.

    python benchmarks/convert_throughput.py [--batch-sizes 1,256] [--timesteps 100]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from convert_digits import (evaluate_ann, load_data, norm_batches, run_snn,  # noqa: E402
                            train_ann)

from ml_genn_tf.converters import DataNorm, FewSpike, InputType  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", default="1,256")
    parser.add_argument("--timesteps", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    x_train, y_train, x_test, y_test = load_data("digits")
    ann, _ = train_ann(x_train, y_train, args.epochs)
    norm = norm_batches(x_train[:512], y_train[:512], 128)
    print(f"machine: {os.cpu_count()} cores; digits test split ({len(x_test)} examples), "
          "CPU backend")
    print(f"{'model':<34} {'batch':>6} {'accuracy':>9} {'samples/s':>10}")
    for b in [int(s) for s in args.batch_sizes.split(",")]:
        acc, rate = evaluate_ann(ann, x_test, y_test, b)
        print(f"{'ANN (Keras predict)':<34} {b:6d} {100 * acc:8.1f}% {rate:10.0f}")
        converter = DataNorm(evaluate_timesteps=args.timesteps, norm_data=[norm],
                             input_type=InputType.IF)
        net, inputs, outputs, _ = converter.convert(ann)
        compiled = converter.create_compiler(batch_size=b).compile(net, name="bench_dn")
        acc, rate, *_ = run_snn(compiled, inputs, outputs, x_test, y_test, callbacks=[])
        print(f"{f'DataNorm IF, {args.timesteps} steps':<34} {b:6d} {100 * acc:8.1f}% "
              f"{rate:10.0f}")
        converter = FewSpike(k=args.k, norm_data=[norm])
        net, inputs, outputs, _ = converter.convert(ann)
        compiled = converter.create_compiler(batch_size=b).compile(
            net, name="bench_fs", inputs=inputs, outputs=outputs)
        acc, rate, *_ = run_snn(compiled, inputs, outputs, x_test, y_test, callbacks=[])
        print(f"{f'FewSpike, k={args.k}':<34} {b:6d} {100 * acc:8.1f}% {rate:10.0f}")


if __name__ == "__main__":
    main()
