"""Datasets and plots shared by the training examples.

The examples run out of the box on data that needs no download
(scikit-learn's 8x8 digits). Two larger datasets are optional and need
internet access **on first use** (they are cached afterwards):

* MNIST (``--dataset mnist`` of the latency examples), loaded through Keras
  (``keras.datasets.mnist``, cached in ``~/.keras/datasets``); needs Keras
  with a backend, e.g. ``pip install tensorflow-cpu``;
* the Spiking Heidelberg Digits (the SHD examples), loaded through the
  ``tonic`` package (``pip install tonic``) into ``--data-dir``.

Both optional packages are imported only when their dataset is asked for.
The examples import this module from the parent folder of their own, so
they run from any working directory:

    python examples/event_prop/latency_digits.py --dataset mnist
"""
import os
import time

import numpy as np

from ml_genn.utils.data import preprocess_tonic_spikes

#: image datasets of the latency examples; the first is the default
IMAGE_DATASETS = ("digits", "mnist")

MNIST_HELP = ("'mnist' downloads MNIST (about 11 MB) through Keras "
              "(keras.datasets.mnist, needs e.g. pip install tensorflow-cpu) and so needs "
              "internet access on first use; 'digits' (scikit-learn's 8x8 digits) needs "
              "no download")

SHD_HELP = ("The Spiking Heidelberg Digits are downloaded (about 130 MB) through the tonic "
            "package (pip install tonic) into --data-dir on first use, which needs "
            "internet access; later runs read the cached files.")


# ---------------------------------------------------------------------------
# Images: digits (offline) and MNIST (Keras, download on first use)
# ---------------------------------------------------------------------------
def load_digits_images(test_size: float = 0.25, seed: int = 0):
    """scikit-learn's 8x8 digits scaled to 0..255 (uint8), split into
    ``(x_train, y_train, x_test, y_test)`` with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target,
                                                        test_size=test_size,
                                                        random_state=seed)
    return x_train, y_train, x_test, y_test


def load_mnist_images():
    """MNIST as ``(x_train, y_train, x_test, y_test)``: uint8 images of
    28x28 pixels and integer labels, through ``keras.datasets.mnist``
    (downloaded on first use, so internet access is needed once)."""
    try:
        import keras
    except ImportError as e:
        raise ImportError("--dataset mnist loads MNIST through Keras "
                          "(keras.datasets.mnist), which is not installed: pip install "
                          "tensorflow-cpu (or keras with another backend). The default "
                          "--dataset digits needs neither Keras nor a download.") from e
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as e:
        raise RuntimeError("could not load MNIST through keras.datasets.mnist: the first "
                           "use downloads it (about 11 MB, cached in ~/.keras/datasets), "
                           "which needs internet access. The default --dataset digits "
                           f"needs no download. ({type(e).__name__}: {e})") from e
    return check_images(x_train, y_train, x_test, y_test)


def check_images(x_train, y_train, x_test, y_test):
    """The arrays as uint8 images ``(N, H, W)`` and int64 labels ``(N,)``
    (``RuntimeError`` if they are not)."""
    out = []
    for name, x, y in (("training", x_train, y_train), ("test", x_test, y_test)):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 3 or len(x) != len(y) or y.ndim != 1:
            raise RuntimeError(f"{name} images must have shape (N, height, width) with N "
                               f"labels; got {x.shape} and {y.shape}")
        if x.dtype != np.uint8:
            if x.size and (x.min() < 0 or x.max() > 255):
                raise RuntimeError(f"{name} images must lie in 0..255")
            x = x.astype(np.uint8)
        out += [x, y.astype(np.int64)]
    return tuple(out)


def load_images(dataset: str, num_train=None, num_test=None):
    """``(x_train, y_train, x_test, y_test)`` of ``dataset`` ('digits' or
    'mnist'), optionally only the first ``num_train``/``num_test``
    examples."""
    if dataset == "digits":
        data = load_digits_images()
    elif dataset == "mnist":
        data = load_mnist_images()
    else:
        raise ValueError(f"unknown dataset '{dataset}'; choose one of {IMAGE_DATASETS}")
    x_train, y_train, x_test, y_test = data
    return (x_train[:num_train], y_train[:num_train], x_test[:num_test], y_test[:num_test])


# ---------------------------------------------------------------------------
# Spiking Heidelberg Digits (tonic, download on first use)
# ---------------------------------------------------------------------------
def load_shd(data_dir: str):
    """The SHD training and test sets as tonic datasets (downloaded into
    ``data_dir`` on first use: needs internet access once)."""
    try:
        import tonic
    except ImportError as e:
        raise ImportError("the SHD examples read the Spiking Heidelberg Digits through the "
                          "tonic package, which is not installed: pip install tonic") from e
    try:
        train = tonic.datasets.SHD(save_to=data_dir, train=True)
        test = tonic.datasets.SHD(save_to=data_dir, train=False)
    except Exception as e:
        raise RuntimeError(f"could not load the Spiking Heidelberg Digits into "
                           f"'{data_dir}': the first use downloads them (about 130 MB), "
                           f"which needs internet access. ({type(e).__name__}: {e})") from e
    return train, test


def subset_indices(size: int, num=None, seed: int = 0):
    """All of ``range(size)``, or ``num`` of them drawn without replacement
    with a fixed seed (in increasing order)."""
    if num is None or num >= size:
        return np.arange(size)
    return np.sort(np.random.default_rng(seed).choice(size, num, replace=False))


def preprocess_tonic_dataset(dataset, dt: float, num=None, max_time=None, seed: int = 0):
    """Tonic events -> ``(list of PreprocessedSpikes, int64 labels,
    number of input neurons, number of classes)``.

    Each example is binned into time steps of ``dt`` ms: a channel with at
    least one event in ``[k dt, (k + 1) dt)`` spikes once at ``k dt``
    (``preprocess_tonic_spikes`` with ``histogram_thresh=1``; event times
    are in µs, as tonic gives them). ``max_time`` (ms) drops later events;
    ``num`` keeps a seeded random subset of the examples.
    """
    spikes, labels = [], []
    for i in subset_indices(len(dataset), num, seed):
        events, label = dataset[int(i)]
        if max_time is not None:
            events = events[np.asarray(events["t"]) * 1e-3 < max_time]
        spikes.append(preprocess_tonic_spikes(events, dataset.ordering, dataset.sensor_size,
                                              dt=dt, histogram_thresh=1))
        labels.append(int(label))
    num_input = int(np.prod(dataset.sensor_size))
    return spikes, np.asarray(labels, dtype=np.int64), num_input, len(dataset.classes)


def load_shd_spikes(data_dir: str, dt: float, num_train=None, num_test=None,
                    max_time=None, seed: int = 0):
    """The SHD as spikes: ``((train spikes, labels), (test spikes, labels),
    number of input channels, number of classes)`` (see
    :func:`preprocess_tonic_dataset`; downloads on first use)."""
    train_set, test_set = load_shd(data_dir)
    start = time.perf_counter()
    *train, num_input, num_classes = preprocess_tonic_dataset(train_set, dt, num_train,
                                                              max_time, seed)
    *test, _, _ = preprocess_tonic_dataset(test_set, dt, num_test, max_time, seed)
    print(f"SHD: {len(train[0])} training and {len(test[0])} test examples of {num_input} "
          f"channels, {num_classes} classes (preprocessed in "
          f"{time.perf_counter() - start:.1f} s)")
    return tuple(train), tuple(test), num_input, num_classes


# ---------------------------------------------------------------------------
# Output: the table and the figure
# ---------------------------------------------------------------------------
def print_header():
    print(f"{'epoch':>5} {'train acc':>10} {'test acc':>9} {'epoch s':>8}", flush=True)


def print_row(epoch, train_acc, test_acc, seconds):
    print(f"{epoch:>5} {100 * train_acc:>9.1f}% {100 * test_acc:>8.1f}% {seconds:>8.2f}",
          flush=True)


def train_epochs(compiled, inp, out, train, test, epochs: int, record=()):
    """Train ``compiled`` (inside its ``with`` block) one epoch at a time on
    ``train = (input spikes, labels)``, testing on ``test`` after each
    epoch, and print a table row per epoch. In the last epoch, the spikes of
    test example 0 are recorded for every population of ``record``.
    Returns ``(history [(train acc, test acc, seconds)], {pop.name: (times,
    ids)})``."""
    from ml_genn.callbacks import SpikeRecorder
    history, recorded = [], {}
    print_header()
    for epoch in range(epochs):
        start = time.perf_counter()
        last = epoch == epochs - 1
        recorders = ([SpikeRecorder(p, key=p.name, example_filter=0) for p in record]
                     if last else [])
        train_metrics, test_metrics, _, data = compiled.train(
            {inp: train[0]}, {out: train[1]}, num_epochs=1, start_epoch=epoch,
            callbacks=[], validation_x={inp: test[0]}, validation_y={out: test[1]},
            validation_callbacks=recorders)
        history.append((train_metrics[out].result, test_metrics[out].result,
                        time.perf_counter() - start))
        print_row(epoch, *history[-1])
    for p in record:
        recorded[p.name] = (data[p.name][0][0], data[p.name][1][0])
    return history, recorded


def print_summary(history, build_seconds):
    epoch_s = np.mean([h[2] for h in history])
    print(f"\nfinal test accuracy {100 * history[-1][1]:.1f}% after {len(history)} epochs "
          f"(build {build_seconds:.1f} s, {epoch_s:.2f} s per epoch incl. test)")


def plot_results(path, title, history, rasters, example_time, image=None):
    """Write a PNG: accuracy against epochs (``history`` rows ``(train,
    test, seconds)``), optionally ``image``, and spike rasters
    (``rasters``: ``[(label, times, ids, number of neurons)]`` stacked from
    the bottom up)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ratios = [3, 1, 3] if image is not None else [1, 1]
    fig, axes = plt.subplots(1, len(ratios), figsize=(4.7 * len(ratios), 4),
                             gridspec_kw={"width_ratios": ratios})
    epochs = np.arange(len(history))
    axes[0].plot(epochs, [100 * h[0] for h in history], marker=".", label="train")
    axes[0].plot(epochs, [100 * h[1] for h in history], marker=".", label="test")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("accuracy (%)")
    axes[0].set_title(title)
    axes[0].legend()
    if image is not None:
        axes[1].imshow(image, cmap="gray_r")
        axes[1].set_title("test example 0")
        axes[1].axis("off")
    offset = 0
    for label, times, ids, size in rasters:
        axes[-1].scatter(times, offset + np.asarray(ids), s=2, label=label)
        offset += size
    axes[-1].set_xlim(0, example_time)
    axes[-1].set_ylim(0, max(offset, 1))
    axes[-1].set_xlabel("time (ms)")
    axes[-1].set_ylabel("neuron")
    axes[-1].set_title("spikes of test example 0")
    axes[-1].legend(loc="upper right", markerscale=4)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
