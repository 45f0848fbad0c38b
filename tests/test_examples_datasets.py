"""The optional "internet" datasets of the training examples (MNIST through
Keras, the Spiking Heidelberg Digits through tonic), exercised offline.

The download itself cannot run here, so ``keras`` and ``tonic`` are replaced
by fakes that hand out data in the same format (uint8 28x28 images and
integer labels; tonic-style structured event arrays with fields x, t (µs),
p on a (700, 1, 1) sensor). Everything after the download -- encoding,
preprocessing, network, one epoch of training, table and figure -- is the
examples' own code.
"""
import importlib.util
import math
import sys
import types
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(relative):
    """Import an example script as a module (it adds ``examples/`` to
    ``sys.path`` for ``example_datasets``)."""
    name = "example_" + relative.replace("/", "_").replace(".py", "")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ep_latency():
    return _load("event_prop/latency_digits.py")


@pytest.fixture(scope="module")
def eprop_latency():
    return _load("eprop/latency_digits.py")


@pytest.fixture(scope="module")
def ep_shd():
    return _load("event_prop/shd.py")


@pytest.fixture(scope="module")
def eprop_shd():
    return _load("eprop/shd_classifier.py")


@pytest.fixture(scope="module")
def datasets(ep_latency):
    return sys.modules["example_datasets"]


# ---------------------------------------------------------------------------
# Fakes of the downloads
# ---------------------------------------------------------------------------
def _fake_mnist(num_train=24, num_test=12, seed=3):
    """MNIST-format data: uint8 (N, 28, 28) images, a bright bar whose row
    depends on the label, plus noise; uint8 labels as Keras returns them."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for image, label in zip(images, labels):
            row = 2 + 2 * int(label)
            image[row:row + 3, 4:24] = rng.integers(150, 256, (3, 20))
        return images, labels
    return make(num_train), make(num_test)


@pytest.fixture
def fake_keras(monkeypatch):
    """``import keras`` gives a module whose ``datasets.mnist.load_data``
    returns the fake MNIST (no download)."""
    data = _fake_mnist()
    calls = []

    def load_data():
        calls.append(1)
        return data
    keras = types.SimpleNamespace(datasets=types.SimpleNamespace(
        mnist=types.SimpleNamespace(load_data=load_data)))
    monkeypatch.setitem(sys.modules, "keras", keras)
    return data, calls


SHD_DTYPE = np.dtype([("x", int), ("t", int), ("p", int)])


def _events(x, t, ordering="xtp"):
    """A tonic structured event array (fields in ``ordering``; p = 0)."""
    dtype = np.dtype([(f, int) for f in ordering])
    events = np.zeros(len(x), dtype=dtype)
    events["x"], events["t"] = x, t
    return events


class _FakeSHDSet:
    """What ``tonic.datasets.SHD`` looks like to the examples."""
    sensor_size = (700, 1, 1)
    classes = [f"digit-{i}".encode() for i in range(20)]

    def __init__(self, items, ordering="xtp"):
        self.items = items
        self.ordering = ordering

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


def _synthetic_shd(n, seed, max_time_us=30_000):
    """Examples of class c fire channels 35c..35c+34 at random times."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        label = int(rng.integers(0, 20))
        num = int(rng.integers(20, 60))
        x = 35 * label + rng.integers(0, 35, num)
        t = np.sort(rng.integers(0, max_time_us, num))
        items.append((_events(x, t), np.int64(label)))
    return items


@pytest.fixture
def fake_tonic(monkeypatch):
    """``import tonic`` gives a module whose ``datasets.SHD(save_to, train)``
    returns synthetic SHD-format data; the calls are recorded."""
    calls = []
    sets = {True: _synthetic_shd(10, 1), False: _synthetic_shd(6, 2)}

    def shd(save_to, train=True, transform=None, target_transform=None):
        calls.append((save_to, train))
        return _FakeSHDSet(sets[train])
    tonic = types.SimpleNamespace(datasets=types.SimpleNamespace(SHD=shd))
    monkeypatch.setitem(sys.modules, "tonic", tonic)
    return sets, calls


# ---------------------------------------------------------------------------
# MNIST: loading and latency codes
# ---------------------------------------------------------------------------
def test_mnist_loads_through_keras_and_subsets(datasets, fake_keras):
    ((x_train, y_train), (x_test, y_test)), calls = fake_keras
    got = datasets.load_images("mnist", num_train=5, num_test=3)
    assert calls == [1]
    np.testing.assert_array_equal(got[0], x_train[:5])
    np.testing.assert_array_equal(got[1], y_train[:5])
    np.testing.assert_array_equal(got[2], x_test[:3])
    np.testing.assert_array_equal(got[3], y_test[:3])
    assert got[0].dtype == np.uint8 and got[1].dtype == np.int64


def test_event_prop_linear_latency_code_of_an_mnist_image(ep_latency):
    image = np.zeros((28, 28), dtype=np.uint8)
    image[0, 0], image[1, 2], image[27, 27], image[5, 5], image[5, 6] = 255, 0, 128, 1, 2
    (spikes,) = ep_latency.encode(image[None], "mnist")
    # pixels > 1 spike once at (255 - v) / 255 * 20 ms; neuron = row * 28 + col
    want = {0: 0.0, 5 * 28 + 6: 253 / 255 * 20.0, 27 * 28 + 27: 127 / 255 * 20.0}
    counts = np.diff(np.concatenate(([0], spikes.end_spikes)))
    assert len(spikes.end_spikes) == 784
    assert {int(i) for i in np.nonzero(counts)[0]} == set(want)
    np.testing.assert_allclose(spikes.spike_times, [want[k] for k in sorted(want)])


def test_event_prop_latency_code_of_fake_mnist_matches_the_formula(ep_latency, datasets,
                                                                   fake_keras):
    x_train = datasets.load_images("mnist", num_train=4, num_test=1)[0]
    for image, spikes in zip(x_train, ep_latency.encode(x_train, "mnist")):
        flat = image.reshape(-1).astype(float)
        on = flat > 1
        np.testing.assert_array_equal(spikes.end_spikes, np.cumsum(on))
        np.testing.assert_allclose(spikes.spike_times, (255.0 - flat[on]) / 255.0 * 20.0)


def test_eprop_log_latency_code_and_example_length(eprop_latency):
    image = np.zeros((28, 28), dtype=np.uint8)
    image[0, 1], image[3, 3], image[3, 4], image[10, 0] = 255, 52, 51, 100
    (spikes,) = eprop_latency.encode(image[None])
    # pixels > 51 spike once at 20 ms * ln(v / (v - 51))
    np.testing.assert_array_equal(np.nonzero(np.diff(np.concatenate(
        ([0], spikes.end_spikes))))[0], [1, 3 * 28 + 3, 10 * 28])
    np.testing.assert_allclose(spikes.spike_times, [20.0 * math.log(255 / 204),
                                                    20.0 * math.log(52 / 1),
                                                    20.0 * math.log(100 / 49)])
    # the latest spike, 20 ln 52 = 79.02 ms, is reached at step 80; one more
    # step lets it reach the outputs
    assert eprop_latency.example_timesteps([spikes], 1.0) == 81
    assert eprop_latency.example_timesteps([spikes], 0.5) == 160


def test_default_digits_need_no_keras(datasets, monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)       # import keras fails
    x_train, y_train, x_test, y_test = datasets.load_images("digits")
    assert x_train.shape == (1347, 8, 8) and x_test.shape == (450, 8, 8)
    assert x_train.dtype == np.uint8 and x_train.max() == 255
    assert set(np.unique(y_train)) == set(range(10))
    with pytest.raises(ImportError, match="pip install tensorflow-cpu"):
        datasets.load_images("mnist")


def test_mnist_download_failure_says_internet_is_needed(datasets, monkeypatch):
    def load_data():
        raise OSError("URL fetch failure on https://storage.googleapis.com/...")
    keras = types.SimpleNamespace(datasets=types.SimpleNamespace(
        mnist=types.SimpleNamespace(load_data=load_data)))
    monkeypatch.setitem(sys.modules, "keras", keras)
    with pytest.raises(RuntimeError, match="internet access") as info:
        datasets.load_images("mnist")
    assert "URL fetch failure" in str(info.value)


def test_unknown_dataset_and_bad_images(datasets):
    with pytest.raises(ValueError, match="digits"):
        datasets.load_images("cifar10")
    with pytest.raises(RuntimeError, match="shape"):
        datasets.check_images(np.zeros((3, 784)), np.zeros(3), np.zeros((1, 2, 2)),
                              np.zeros(1))
    with pytest.raises(RuntimeError, match="0..255"):
        datasets.check_images(np.full((1, 2, 2), 300), [0], np.zeros((1, 2, 2)), [0])


# ---------------------------------------------------------------------------
# SHD: loading and preprocessing
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("ordering", ["xtp", ("t", "x", "p")])
def test_shd_preprocessing_of_hand_made_events(datasets, ordering):
    # channel 3 fires at 1.5, 1.9 and 2.4 ms, channel 699 at 2.0 ms and
    # channel 0 at 10 ms (tonic times are in µs)
    events = _events([3, 699, 3, 0, 3], [1500, 2000, 2400, 10000, 1900], ordering)
    data = _FakeSHDSet([(events, np.int64(7)), (_events([5], [0], ordering), 19)],
                       ordering)
    spikes, labels, num_input, num_classes = datasets.preprocess_tonic_dataset(data, 1.0)
    assert (num_input, num_classes) == (700, 20)
    np.testing.assert_array_equal(labels, [7, 19])
    first = spikes[0]
    # one spike per channel and 1 ms bin, at the start of the bin
    want_counts = np.zeros(700, dtype=int)
    want_counts[[0, 3, 699]] = [1, 2, 1]
    np.testing.assert_array_equal(first.end_spikes, np.cumsum(want_counts))
    np.testing.assert_allclose(first.spike_times, [10.0, 1.0, 2.0, 2.0])
    np.testing.assert_allclose(spikes[1].spike_times, [0.0])
    assert spikes[1].end_spikes[4] == 0 and spikes[1].end_spikes[5] == 1
    # bins of 0.25 ms keep 1.5 and 1.9 ms apart; max_time drops later events
    (fine,), _, _, _ = datasets.preprocess_tonic_dataset(
        _FakeSHDSet([(events, 1)], ordering), 0.25, max_time=5.0)
    np.testing.assert_allclose(fine.spike_times, [1.5, 1.75, 2.25, 2.0])
    assert fine.end_spikes[0] == 0 and fine.end_spikes[3] == 3 and fine.end_spikes[-1] == 4


def test_shd_subset_is_seeded(datasets):
    assert list(datasets.subset_indices(5)) == [0, 1, 2, 3, 4]
    picked = datasets.subset_indices(100, 10, seed=4)
    assert len(set(picked)) == 10 and list(picked) == sorted(picked)
    np.testing.assert_array_equal(picked, datasets.subset_indices(100, 10, seed=4))
    data = _FakeSHDSet(_synthetic_shd(8, 5))
    _, labels, _, _ = datasets.preprocess_tonic_dataset(data, 1.0, num=3, seed=4)
    np.testing.assert_array_equal(
        labels, [int(data[i][1]) for i in datasets.subset_indices(8, 3, seed=4)])


def test_shd_needs_tonic(datasets, monkeypatch):
    monkeypatch.setitem(sys.modules, "tonic", None)
    with pytest.raises(ImportError, match="pip install tonic"):
        datasets.load_shd("data")


def test_shd_download_failure_says_internet_is_needed(datasets, monkeypatch):
    def shd(save_to, train=True):
        raise OSError("urlopen error [Errno -3] Temporary failure in name resolution")
    monkeypatch.setitem(sys.modules, "tonic", types.SimpleNamespace(
        datasets=types.SimpleNamespace(SHD=shd)))
    with pytest.raises(RuntimeError, match="internet access"):
        datasets.load_shd("somewhere")


@pytest.mark.parametrize("module", ["ep_latency", "eprop_latency", "ep_shd", "eprop_shd"])
def test_help_says_when_internet_is_needed(module, request, capsys):
    example = request.getfixturevalue(module)
    with pytest.raises(SystemExit):
        example.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "internet access on first use" in text
    assert ("pip install tonic" in text) == module.endswith("shd")


# ---------------------------------------------------------------------------
# One epoch of each example on synthetic data
# ---------------------------------------------------------------------------
def _check_run(result, num_train, num_test, png):
    (train_acc, test_acc, seconds), = result["history"]
    # accuracies are fractions of the examples seen
    assert train_acc * num_train == pytest.approx(round(train_acc * num_train))
    assert test_acc * num_test == pytest.approx(round(test_acc * num_test))
    assert 0.0 <= train_acc <= 1.0 and 0.0 <= test_acc <= 1.0 and seconds > 0.0
    assert Path(result["png"]) == png and png.stat().st_size > 1000


def test_event_prop_latency_mnist_one_epoch(ep_latency, fake_keras, tmp_path, capsys):
    result = ep_latency.main(["--dataset", "mnist", "--epochs", "1", "--num-train", "16",
                              "--num-test", "8", "--batch-size", "8", "--num-hidden", "16",
                              "--out", str(tmp_path)])
    _check_run(result, 16, 8, tmp_path / "latency_mnist.png")
    assert "final test accuracy" in capsys.readouterr().out


def test_eprop_latency_one_epoch_digits_and_mnist(eprop_latency, fake_keras, tmp_path,
                                                  monkeypatch):
    (x_train, _), (x_test, _) = fake_keras[0]
    result = eprop_latency.main(["--dataset", "mnist", "--epochs", "1", "--num-train",
                                 "16", "--num-test", "8", "--batch-size", "8",
                                 "--num-hidden", "16", "--out", str(tmp_path)])
    _check_run(result, 16, 8, tmp_path / "eprop_latency_mnist.png")
    values = np.concatenate([x_train[:16].ravel(), x_test[:8].ravel()]).astype(float)
    latest = 20.0 * np.log(values[values > 51] / (values[values > 51] - 51)).max()
    assert result["timesteps"] == math.ceil(latest) + 1
    # the default dataset runs without Keras
    monkeypatch.setitem(sys.modules, "keras", None)
    result = eprop_latency.main(["--epochs", "1", "--num-train", "32", "--num-test", "16",
                                 "--batch-size", "16", "--num-hidden", "16",
                                 "--out", str(tmp_path)])
    _check_run(result, 32, 16, tmp_path / "eprop_latency_digits.png")


@pytest.mark.parametrize("module,png", [("ep_shd", "shd_event_prop.png"),
                                        ("eprop_shd", "shd_eprop.png")])
def test_shd_examples_one_epoch(module, png, request, fake_tonic, tmp_path, capsys):
    example = request.getfixturevalue(module)
    sets, calls = fake_tonic
    data_dir = str(tmp_path / "data")
    result = example.main(["--data-dir", data_dir, "--epochs", "1", "--batch-size", "4",
                           "--num-hidden", "16", "--out", str(tmp_path)])
    assert calls == [(data_dir, True), (data_dir, False)]
    _check_run(result, 10, 6, tmp_path / png)
    # examples last until the latest input spike (1 ms bins) plus one step
    latest = max(int(ev["t"].max()) // 1000 for ev, _ in sets[True] + sets[False])
    assert result["timesteps"] == latest + 1
    out = capsys.readouterr().out
    assert "SHD: 10 training and 6 test examples of 700 channels, 20 classes" in out
