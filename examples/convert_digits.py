"""Train a small Keras CNN, convert it to spiking networks and run them.

The main demo (``make demo``). On scikit-learn's bundled digits (8x8
grey-scale images, no download) it

1. trains a small convolutional network with Keras (Conv2D, AveragePooling2D,
   Dense; ReLU) -- fixed seeds, a few seconds;
2. converts it with ``ml_genn_tf.converters.DataNorm`` (rate coding:
   integrate-and-fire neurons whose thresholds come from the largest
   activations on training data; inputs are injected as currents) and with
   ``FewSpike`` (few-spike coding: each ReLU value is sent as at most ``k``
   binary-weighted spikes, layers pipelined);
3. evaluates both spiking networks on the whole test split, in batches, on
   ml_genn's engine, and the DataNorm network again at several numbers of
   time steps, and once with random (Poisson-like) input spikes, each pixel
   spiking with probability equal to its value on every step;
4. prints one table (accuracy, time steps per example, samples per second,
   build time) and writes two figures into ``--out``:
   ``convert_raster.png`` (the spikes of one test digit in every layer) and
   ``convert_accuracy.png`` (SNN accuracy against time steps per example).

    python examples/convert_digits.py [--out out] [--batch-size 128]
                                      [--timesteps 100] [--k 10]
                                      [--dataset digits|mnist]

``--dataset mnist`` trains on MNIST instead (downloaded by
``keras.datasets.mnist``: needs internet access; the first 1000 test
images unless ``--num-test`` says otherwise; a few minutes).
"""
import argparse
import os
import sys
import time

# TensorFlow's C++ logging (set TF_CPP_MIN_LOG_LEVEL=0 to see it): with some
# TensorFlow/Keras pairs tf.data logs a harmless "NodeDef mentions attribute
# use_unbounded_threadpool" error on every fit
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from tqdm.auto import tqdm

from ml_genn.compilers import InferenceCompiler

SEED = 1234
SWEEP_TIMESTEPS = (10, 15, 25, 50, 100, 200, 400)


# ---------------------------------------------------------------------------
# Data and ANN
# ---------------------------------------------------------------------------
def load_data(name):
    """-> x_train, y_train, x_test, y_test with images (N, H, W, 1) in [0, 1]."""
    if name == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        digits = load_digits()
        x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
        x_train, x_test, y_train, y_test = train_test_split(
            x, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    else:
        import keras
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        x_train = (x_train / 255.0).astype(np.float32)[..., np.newaxis]
        x_test = (x_test / 255.0).astype(np.float32)[..., np.newaxis]
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def build_ann(input_shape):
    """Conv(16) - AvgPool - Conv(32) - AvgPool - Dense(64) - Dense(10).

    Hidden layers use ReLU, which spiking neurons approximate; the output
    layer gives linear logits, which the converters accept (spiking neurons
    cannot represent negative values, but the predicted class is unchanged
    as long as the winning logit is positive). Biases are converted too.
    """
    import keras
    from keras import layers
    return keras.Sequential([
        keras.Input(shape=input_shape, name="input"),
        layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        layers.AveragePooling2D(2, name="pool1"),
        layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        layers.AveragePooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(64, activation="relu", name="dense"),
        layers.Dense(10, name="output"),
    ], name="digits_cnn")


class _EpochBar:
    """A tqdm bar over training epochs (Keras' own per-epoch bars are noisy)."""

    def __new__(cls, epochs):
        import keras

        class Bar(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.bar = tqdm(total=epochs, desc="Training ANN", unit="epoch")

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                self.bar.set_postfix(loss=f"{logs.get('loss', 0):.3f}",
                                     acc=f"{logs.get('accuracy', 0):.3f}")
                self.bar.update(1)

            def on_train_end(self, logs=None):
                self.bar.close()
        return Bar()


def train_ann(x_train, y_train, epochs, batch_size=32):
    import keras
    keras.utils.set_random_seed(SEED)
    try:
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()
    except Exception:     # another Keras backend, or already initialised
        pass
    model = build_ann(x_train.shape[1:])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True,
              verbose=0, callbacks=[_EpochBar(epochs)])
    return model, time.perf_counter() - start


def evaluate_ann(model, x, y, batch_size):
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)     # warm up
    start = time.perf_counter()
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    elapsed = time.perf_counter() - start
    return float(np.mean(np.argmax(logits, axis=1) == y)), len(x) / elapsed


# ---------------------------------------------------------------------------
# SNNs
# ---------------------------------------------------------------------------
def norm_batches(x, y, batch_size):
    """Normalisation data as the converters take it: a list of (x, y) batches."""
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]


def run_snn(compiled, net_inputs, net_outputs, x, y, callbacks=None):
    """Build/load, evaluate; -> (accuracy, samples/s, build s, cache hit, cb data)."""
    kwargs = {} if callbacks is None else {"callbacks": callbacks}
    with compiled:
        genn_model = compiled.genn_model
        start = time.perf_counter()
        metrics, cb_data = compiled.evaluate({net_inputs[0]: x}, {net_outputs[0]: y},
                                             **kwargs)
        elapsed = time.perf_counter() - start
    return (metrics[net_outputs[0]].result, len(x) / elapsed, genn_model.build_time,
            bool(genn_model.cache_hit), cb_data)


def spike_recorders(net, filters):
    from ml_genn.callbacks import SpikeRecorder
    return [SpikeRecorder(pop, key=pop.name, example_filter=filters[pop])
            for pop in net.populations]


def set_record_spikes(net, value):
    for pop in net.populations:
        pop.record_spikes = value


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------
def plot_raster(path, image, label, dn_pops, dn_data, dn_steps, fs_pops, fs_data, k,
                fs_stage, outputs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = np.sqrt([np.prod(p.shape) for p in dn_pops])
    ratios = np.maximum(ratios, 0.15 * ratios.max())
    fig = plt.figure(figsize=(14, 9))
    grid = fig.add_gridspec(len(dn_pops), 3, width_ratios=[0.9, 2.2, 2.2],
                            height_ratios=ratios, hspace=0.12, wspace=0.3)
    ax_img = fig.add_subplot(grid[:2, 0])
    ax_img.imshow(image.squeeze(), cmap="gray_r")
    ax_img.set_title(f"test example 0 (label {label})")
    ax_img.set_xticks([])
    ax_img.set_yticks([])

    def panel(col, pops, data, title, xmax, offsets, note):
        axes = []
        for row, pop in enumerate(pops):
            n = int(np.prod(pop.shape))
            ax = fig.add_subplot(grid[row, col], sharex=axes[0] if axes else None)
            times, ids = data[pop]
            t = np.asarray(times) + offsets[row]
            ax.scatter(t, ids, s=1.5 if n > 100 else (4 if n > 16 else 40),
                       marker="|" if n <= 100 else ".", color=f"C{row}",
                       linewidths=0.8 if n > 16 else 1.5)
            ax.set_xlim(-0.5, xmax)
            ax.set_ylim(-0.5, n - 0.5)
            ax.set_yticks([0, n - 1])
            ax.tick_params(labelsize=7)
            ax.set_ylabel(f"{pop.name}\n{len(ids)} sp", fontsize=8)
            if pop in outputs:      # the neuron of the true class
                ax.axhspan(label - 0.5, label + 0.5, color="0.8", alpha=0.6, zorder=0)
            if row < len(pops) - 1:
                plt.setp(ax.get_xticklabels(), visible=False)
            axes.append(ax)
        axes[0].set_title(title, fontsize=10)
        axes[-1].set_xlabel(note, fontsize=9)
        return axes

    panel(1, dn_pops, dn_data, f"DataNorm (rate coding, IF input), {dn_steps} steps",
          dn_steps, [0] * len(dn_pops), "time step")
    num_stages = max(fs_stage.values()) + 1
    axes = panel(2, fs_pops, fs_data,
                 f"FewSpike (k={k}): example 0 moves one layer per {k} steps",
                 num_stages * k - 0.5, [fs_stage[p] * k for p in fs_pops],
                 "time step since example 0 entered the pipeline")
    for ax in axes:
        for n in range(1, num_stages):
            ax.axvline(n * k - 0.5, color="0.85", lw=0.6, zorder=0)
    fig.suptitle("Spikes of one test digit in every layer of the converted networks")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_accuracy(path, ann_acc, sweep, fs_acc, k, fs_latency, dataset):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.axhline(100 * ann_acc, color="k", ls="--", lw=1,
               label=f"ANN (Keras) {100 * ann_acc:.1f}%")
    steps = sorted(sweep)
    ax.plot(steps, [100 * sweep[t] for t in steps], "o-", color="C0",
            label="SNN DataNorm (rate coding)")
    for t in steps:
        above = sweep[t] > ann_acc    # keep the label off the ANN line
        ax.annotate(f"{100 * sweep[t]:.1f}", (t, 100 * sweep[t]), textcoords="offset points",
                    xytext=(0, 6 if above else -13), ha="center", fontsize=8, color="C0")
    ax.plot([k], [100 * fs_acc], "s", color="C3", markersize=8,
            label=f"SNN FewSpike k={k} (pipelined; latency {fs_latency} steps)")
    ax.annotate(f"{100 * fs_acc:.1f}", (k, 100 * fs_acc), textcoords="offset points",
                xytext=(0, 8 if fs_acc > ann_acc else -15), ha="center", fontsize=8,
                color="C3")
    ax.set_xscale("log")
    ticks = sorted(set(steps) | {k})
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.minorticks_off()
    lo = min([100 * v for v in sweep.values()] + [100 * fs_acc, 100 * ann_acc])
    ax.set_ylim(max(0.0, lo - 8), 101.5)
    ax.set_xlabel("time steps per example")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Converted SNNs on {dataset}: accuracy against simulation length")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Train a Keras CNN, convert it to SNNs (DataNorm, FewSpike), "
                    "evaluate them on ml_genn's engine and plot the results.")
    parser.add_argument("--out", default="out", help="folder for the figures (default out/)")
    parser.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                        help="digits: scikit-learn's 8x8 digits (default, offline); "
                             "mnist: keras.datasets.mnist (downloads)")
    parser.add_argument("--batch-size", type=int, default=128,
                        help="examples simulated in parallel (default 128)")
    parser.add_argument("--timesteps", type=int, default=100,
                        help="time steps per example of the DataNorm network whose spikes "
                             "are plotted (default 100)")
    parser.add_argument("--sweep", default=",".join(map(str, SWEEP_TIMESTEPS)),
                        help="DataNorm time steps for the accuracy plot "
                             "(default %(default)s; empty: none)")
    parser.add_argument("--k", type=int, default=10,
                        help="FewSpike time steps per layer (default 10)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="ANN training epochs (default 30 on digits, 2 on MNIST)")
    parser.add_argument("--num-test", type=int, default=None,
                        help="evaluate on the first N test examples (default: all on "
                             "digits, 1000 on MNIST)")
    parser.add_argument("--num-norm", type=int, default=512,
                        help="training examples used for normalisation (default 512)")
    parser.add_argument("--backend", default=None,
                        help="engine backend: cpu (default) or cuda")
    args = parser.parse_args(argv)

    try:
        import keras  # noqa: F401
        from ml_genn_tf.converters import DataNorm, FewSpike, InputType
    except ImportError as exc:
        sys.exit(f"this demo needs TensorFlow/Keras and ml_genn_tf ({exc}); install them "
                 f"with: pip install -e '.[demo]'")

    total_start = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    epochs = args.epochs or (30 if args.dataset == "digits" else 2)
    x_train, y_train, x_test, y_test = load_data(args.dataset)
    print(f"{args.dataset}: {len(x_train)} training and {len(x_test)} test images of "
          f"{'x'.join(map(str, x_train.shape[1:]))}")

    # -- the ANN ------------------------------------------------------------
    model, train_time = train_ann(x_train, y_train, epochs)
    num_test = args.num_test or (None if args.dataset == "digits" else 1000)
    if num_test is not None:
        x_test, y_test = x_test[:num_test], y_test[:num_test]
    ann_acc, ann_rate = evaluate_ann(model, x_test, y_test, args.batch_size)
    rng = np.random.default_rng(SEED)
    norm_idx = rng.choice(len(x_train), min(args.num_norm, len(x_train)), replace=False)
    norm = norm_batches(x_train[norm_idx], y_train[norm_idx], args.batch_size)
    compiler_kwargs = {"batch_size": args.batch_size}
    if args.backend:
        compiler_kwargs["backend"] = args.backend
    rows = [("ANN (Keras, float32)", "-", ann_acc, ann_rate, None, None)]

    # -- DataNorm: rate-coded IF network -------------------------------------
    start = time.perf_counter()
    dn = DataNorm(evaluate_timesteps=args.timesteps, norm_data=[norm],
                  input_type=InputType.IF)
    dn_net, dn_inputs, dn_outputs, _ = dn.convert(model)
    dn_convert_time = time.perf_counter() - start
    dn_pops = list(dn_net.populations)
    set_record_spikes(dn_net, True)
    print(f"DataNorm: converted in {dn_convert_time:.2f} s; evaluating "
          f"{len(x_test)} examples at {args.timesteps} time steps (spikes recorded)")
    compiled = dn.create_compiler(**compiler_kwargs).compile(dn_net)
    acc, rate, build, hit, cb = run_snn(
        compiled, dn_inputs, dn_outputs, x_test, y_test,
        callbacks=["batch_progress_bar"] + spike_recorders(dn_net, {p: 0 for p in dn_pops}))
    dn_raster = {p: (cb[p.name][0][0], cb[p.name][1][0]) for p in dn_pops}
    dn_results = {args.timesteps: (acc, rate, build, hit)}
    set_record_spikes(dn_net, False)

    sweep = sorted({int(t) for t in args.sweep.split(",") if t.strip()} - {args.timesteps})
    if sweep:
        print(f"DataNorm: accuracy at {', '.join(map(str, sweep))} time steps")
    for steps in sweep:
        # the converted network is an ordinary ml_genn Network: compile it
        # again for another simulation length (what dn.create_compiler does)
        compiled = InferenceCompiler(evaluate_timesteps=steps, **compiler_kwargs).compile(
            dn_net, name=f"datanorm_{steps}")
        acc, rate, build, hit, _ = run_snn(compiled, dn_inputs, dn_outputs, x_test, y_test)
        dn_results[steps] = (acc, rate, build, hit)
    for steps in sorted(dn_results):
        acc, rate, build, hit = dn_results[steps]
        rows.append(("SNN DataNorm (rate, IF input)" + (" *" if steps == args.timesteps else ""),
                     str(steps), acc, rate, build, hit))

    # -- DataNorm with random input spikes ------------------------------------
    # input_type="poisson": each pixel spikes with probability equal to its
    # value on every step (BernoulliInput), so rates are proportional to the
    # pixels, as with IF inputs but noisier
    dnp = DataNorm(evaluate_timesteps=args.timesteps, norm_data=[norm],
                   input_type=InputType.POISSON)
    dnp_net, dnp_inputs, dnp_outputs, _ = dnp.convert(model)
    print(f"DataNorm: Poisson-like input spikes at {args.timesteps} time steps")
    compiled = dnp.create_compiler(**compiler_kwargs).compile(dnp_net, name="datanorm_poisson")
    acc, rate, build, hit, _ = run_snn(compiled, dnp_inputs, dnp_outputs, x_test, y_test)
    rows.append(("SNN DataNorm (rate, Poisson input)", str(args.timesteps), acc, rate, build,
                 hit))

    # -- FewSpike -----------------------------------------------------------
    start = time.perf_counter()
    fs = FewSpike(k=args.k, norm_data=[norm])
    fs_net, fs_inputs, fs_outputs, _ = fs.convert(model)
    fs_pops = list(fs_net.populations)
    set_record_spikes(fs_net, True)
    print(f"FewSpike: converted in {time.perf_counter() - start:.2f} s; evaluating "
          f"{len(x_test)} examples at k={args.k}")
    compiled = fs.create_compiler(**compiler_kwargs).compile(fs_net, inputs=fs_inputs,
                                                             outputs=fs_outputs)
    # The layers form a pipeline: the input population spikes example 0 in
    # the first presentation (batch) of k steps; a population at pipeline
    # depth d integrates it in presentation d and spikes it in d + 1. Example
    # 0 of presentation n has the global index n * batch_size.
    inputs = set(fs_inputs)
    stage = {p: 0 if p in inputs else compiled.pop_pipeline_depth[p] + 1 for p in fs_pops}
    num_stages = max(stage.values()) + 1
    first = [n * args.batch_size for n in range(num_stages)]
    fs_acc, fs_rate, fs_build, fs_hit, cb = run_snn(
        compiled, fs_inputs, fs_outputs, x_test, y_test,
        callbacks=["batch_progress_bar"] + spike_recorders(fs_net, {p: first for p in fs_pops}))
    fs_raster = {}
    for p in fs_pops:
        times, ids = cb[p.name]
        n = stage[p]
        fs_raster[p] = ((times[n], ids[n]) if n < len(times)
                        else (np.zeros(0), np.zeros(0, dtype=np.int64)))
    fs_latency = max(stage[p] for p in fs_outputs) * args.k
    fs_flush = max(compiled.pop_pipeline_depth[p] for p in fs_outputs)
    rows.append((f"SNN FewSpike (k={args.k}) *", f"{args.k} (latency {fs_latency})", fs_acc,
                 fs_rate, fs_build, fs_hit))

    # -- figures --------------------------------------------------------------
    raster_path = os.path.join(args.out, "convert_raster.png")
    accuracy_path = os.path.join(args.out, "convert_accuracy.png")
    plot_raster(raster_path, x_test[0], y_test[0], dn_pops, dn_raster, args.timesteps,
                fs_pops, fs_raster, args.k, stage, set(dn_outputs) | set(fs_outputs))
    plot_accuracy(accuracy_path, ann_acc, {t: r[0] for t, r in dn_results.items()},
                  fs_acc, args.k, fs_latency, args.dataset)

    # -- the table --------------------------------------------------------------
    print()
    print(f"{args.dataset}: ANN trained for {epochs} epochs in {train_time:.1f} s; "
          f"{len(x_test)} test examples, batch size {args.batch_size}, "
          f"backend {args.backend or 'cpu'}")
    header = ("model", "time steps/example", "accuracy", "samples/s", "build (s)")
    table = [header] + [
        (name, steps, f"{100 * acc:.1f}%", f"{rate:,.0f}",
         "-" if build is None else f"{build:.2f}" + (" (cached)" if hit else ""))
        for name, steps, acc, rate, build, hit in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, r in enumerate(table):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                        for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print("* spikes of every layer recorded in this run (for the raster plot); FewSpike "
          f"also runs\n  {fs_flush} extra presentations of {args.k} steps to empty its "
          "pipeline")
    print()
    print(f"wrote {raster_path} and {accuracy_path} "
          f"(total {time.perf_counter() - total_start:.0f} s)")


if __name__ == "__main__":
    main()
