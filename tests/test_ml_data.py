"""ml_genn.utils.data: spike preprocessing, encoders, batching, datasets."""
import numpy as np
import pytest

from ml_genn.utils.data import (PreprocessedSpikes, batch_dataset, batch_spikes,
                                calc_latest_spike_time, calc_max_spikes, calc_start_spikes,
                                generate_yin_yang_dataset, get_dataset_size,
                                linear_latency_encode_data, log_latency_encode_data,
                                permute_dataset, preprocess_spikes, preprocess_tonic_spikes,
                                preprocess_tonic_spikes_separate, split_dataset)


def _neuron_spikes(p, i):
    """Times owned by neuron i, read the documented way."""
    start = 0 if i == 0 else p.end_spikes[i - 1]
    return list(p.spike_times[start:p.end_spikes[i]])


# ---------------------------------------------------------------------------
# preprocess_spikes
# ---------------------------------------------------------------------------
def test_preprocess_spikes_groups_by_neuron_then_time():
    times = np.array([5.0, 1.0, 3.0, 2.0, 4.0, 0.5])
    ids = np.array([2, 0, 2, 0, 3, 2])
    p = preprocess_spikes(times, ids, 5)
    assert isinstance(p, PreprocessedSpikes)
    np.testing.assert_array_equal(p.end_spikes, [2, 2, 5, 6, 6])
    np.testing.assert_array_equal(p.spike_times, [1.0, 2.0, 0.5, 3.0, 5.0, 4.0])
    assert _neuron_spikes(p, 0) == [1.0, 2.0]
    assert _neuron_spikes(p, 1) == []
    assert _neuron_spikes(p, 2) == [0.5, 3.0, 5.0]
    assert _neuron_spikes(p, 3) == [4.0]
    assert _neuron_spikes(p, 4) == []


def test_preprocess_spikes_random_matches_reference():
    rng = np.random.default_rng(1)
    n = 17
    ids = rng.integers(0, n, 200)
    times = rng.uniform(0, 100, 200)
    p = preprocess_spikes(times, ids, n)
    assert p.end_spikes[-1] == 200
    for i in range(n):
        assert _neuron_spikes(p, i) == sorted(times[ids == i])


def test_preprocess_spikes_accepts_lists_and_empty():
    p = preprocess_spikes([1.0, 0.0], [1, 1], 3)
    np.testing.assert_array_equal(p.end_spikes, [0, 2, 2])
    np.testing.assert_array_equal(p.spike_times, [0.0, 1.0])
    e = preprocess_spikes(np.zeros(0), np.zeros(0, dtype=int), 4)
    np.testing.assert_array_equal(e.end_spikes, [0, 0, 0, 0])
    assert len(e.spike_times) == 0


def test_preprocess_spikes_errors():
    with pytest.raises(RuntimeError, match=r"\[0, 3\)"):
        preprocess_spikes(np.array([1.0]), np.array([3]), 3)
    with pytest.raises(RuntimeError):
        preprocess_spikes(np.array([1.0]), np.array([-1]), 3)
    with pytest.raises(RuntimeError, match="equal length"):
        preprocess_spikes(np.array([1.0, 2.0]), np.array([0]), 3)


# ---------------------------------------------------------------------------
# batch_spikes / calc_start_spikes / calc_max_spikes / latest time
# ---------------------------------------------------------------------------
def _examples():
    a = preprocess_spikes(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 0]), 3)
    b = preprocess_spikes(np.array([4.0, 5.0]), np.array([1, 1]), 3)
    return a, b


def test_batch_spikes_offsets_and_padding():
    a, b = _examples()
    batched = batch_spikes([a, b], 3)
    np.testing.assert_array_equal(batched.end_spikes,
                                  [[2, 2, 3], [3, 5, 5], [5, 5, 5]])
    np.testing.assert_array_equal(batched.spike_times, [1.0, 3.0, 2.0, 4.0, 5.0])
    start = calc_start_spikes(batched.end_spikes)
    np.testing.assert_array_equal(start, [[0, 2, 2], [3, 3, 5], [5, 5, 5]])
    # every (example, neuron) reads back exactly its own spikes
    for ex, p in enumerate([a, b]):
        for i in range(3):
            got = batched.spike_times[start[ex, i]:batched.end_spikes[ex, i]]
            assert list(got) == _neuron_spikes(p, i)
    # padding row has no spikes
    assert np.all(start[2] == batched.end_spikes[2])


def test_batch_spikes_full_batch_and_errors():
    a, b = _examples()
    full = batch_spikes([a, b], 2)
    assert full.end_spikes.shape == (2, 3)
    with pytest.raises(RuntimeError, match="batch of 1"):
        batch_spikes([a, b], 1)
    c = preprocess_spikes(np.array([1.0]), np.array([0]), 4)
    with pytest.raises(RuntimeError, match="same number of neurons"):
        batch_spikes([a, c], 2)


def test_calc_start_spikes_1d():
    np.testing.assert_array_equal(calc_start_spikes(np.array([2, 2, 5, 6])), [0, 2, 2, 5])


def test_calc_max_spikes_is_per_example_total_and_latest_time():
    a, b = _examples()
    assert calc_max_spikes([a, b]) == 3       # total of example a, not per neuron (2)
    assert calc_latest_spike_time([a, b]) == 5.0
    empty = preprocess_spikes(np.zeros(0), np.zeros(0, dtype=int), 3)
    assert calc_latest_spike_time([empty, a]) == 3.0
    assert calc_latest_spike_time([empty]) == 0.0


# ---------------------------------------------------------------------------
# latency encoders
# ---------------------------------------------------------------------------
def test_linear_latency_encode_against_formula():
    data = np.array([[[0, 1, 2], [128, 255, 3]],
                     [[255, 255, 0], [10, 0, 200]]], dtype=np.uint8)
    max_time, min_time, thresh = 20.0, 2.0, 1
    enc = linear_latency_encode_data(data, max_time, min_time, thresh)
    assert len(enc) == 2
    for example, p in zip(data, enc):
        flat = example.flatten().astype(float)
        assert len(p.end_spikes) == flat.size
        for i, v in enumerate(flat):
            got = _neuron_spikes(p, i)
            if v > thresh:
                expected = min_time + (255.0 - v) / 255.0 * (max_time - min_time)
                assert got == pytest.approx([expected])
            else:
                assert got == []
    # extremes: 255 spikes at min_time
    assert _neuron_spikes(enc[0], 4) == pytest.approx([min_time])


def test_linear_latency_defaults():
    enc = linear_latency_encode_data(np.array([[0, 2, 255]], dtype=np.uint8), 10.0)
    assert _neuron_spikes(enc[0], 0) == []
    assert _neuron_spikes(enc[0], 1) == pytest.approx([253.0 / 255.0 * 10.0])
    assert _neuron_spikes(enc[0], 2) == pytest.approx([0.0])


def test_log_latency_encode_against_formula():
    data = np.array([[10, 51, 52, 255], [0, 100, 200, 60]], dtype=np.uint8)
    tau_eff, thresh = 20.0, 51
    enc = log_latency_encode_data(data, tau_eff, thresh)
    for example, p in zip(data, enc):
        for i, v in enumerate(example.astype(float)):
            got = _neuron_spikes(p, i)
            if v > thresh:
                assert got == pytest.approx([tau_eff * np.log(v / (v - thresh))])
            else:
                assert got == []


# ---------------------------------------------------------------------------
# tonic events
# ---------------------------------------------------------------------------
def _events(fields, rows):
    dtype = [(f, np.int64) for f in fields]
    return np.array([tuple(r) for r in rows], dtype=dtype)


def test_tonic_single_polarity_2d():
    ordering = "xytp"
    ev = _events(ordering, [(1, 2, 3000, 0), (0, 0, 1000, 0), (3, 1, 2000, 0)])
    shape = (4, 3, 1)
    p = preprocess_tonic_spikes(ev, ordering, shape)
    assert len(p.end_spikes) == 12
    assert _neuron_spikes(p, 1 + 2 * 4) == pytest.approx([3.0])
    assert _neuron_spikes(p, 0) == pytest.approx([1.0])
    assert _neuron_spikes(p, 3 + 1 * 4) == pytest.approx([2.0])


def test_tonic_multi_polarity_2d_and_1d():
    ordering = "txyp"
    ev = _events(ordering, [(1000, 1, 2, 1), (2000, 3, 0, 0)])
    shape = (4, 3, 2)
    p = preprocess_tonic_spikes(ev, ordering, shape, time_scale=1.0)
    assert len(p.end_spikes) == 24
    assert _neuron_spikes(p, 1 + 1 * 2 + 2 * 4 * 2) == [1000.0]
    assert _neuron_spikes(p, 0 + 3 * 2) == [2000.0]
    ev1 = _events("xtp", [(5, 10, 1), (2, 20, 0)])
    p1 = preprocess_tonic_spikes(ev1, "xtp", (8, 1, 2), time_scale=0.5)
    assert _neuron_spikes(p1, 1 + 5 * 2) == [5.0]
    assert _neuron_spikes(p1, 0 + 2 * 2) == [10.0]
    ev2 = _events("xtp", [(5, 10, 0)])
    p2 = preprocess_tonic_spikes(ev2, "xtp", (8, 1, 1), time_scale=1.0)
    assert _neuron_spikes(p2, 5) == [10.0]


def test_tonic_errors():
    ev = _events("xyt", [(0, 0, 1)])
    with pytest.raises(RuntimeError, match="polarity"):
        preprocess_tonic_spikes(ev, "xyt", (2, 2, 1))
    ev = _events("ytp", [(0, 1, 0)])
    with pytest.raises(RuntimeError, match="'x'"):
        preprocess_tonic_spikes(ev, "ytp", (2, 2, 1))


def test_tonic_histogram_threshold():
    ordering = "xtp"
    # neuron 0: 3 events in bin 0 (t in [0, 2) ms), 1 event in bin 2
    # neuron 1: 2 events in bin 1
    ev = _events(ordering, [(0, 100, 0), (0, 500, 0), (0, 1900, 0), (0, 4500, 0),
                            (1, 2100, 0), (1, 3900, 0)])
    p = preprocess_tonic_spikes(ev, ordering, (2, 1, 1), dt=2.0, histogram_thresh=2)
    assert _neuron_spikes(p, 0) == [0.0]
    assert _neuron_spikes(p, 1) == [2.0]
    p3 = preprocess_tonic_spikes(ev, ordering, (2, 1, 1), dt=2.0, histogram_thresh=3)
    assert _neuron_spikes(p3, 0) == [0.0] and _neuron_spikes(p3, 1) == []
    with pytest.raises(RuntimeError, match="dt"):
        preprocess_tonic_spikes(ev, ordering, (2, 1, 1), histogram_thresh=2)


def test_tonic_separate_polarities():
    ordering = "xytp"
    ev = _events(ordering, [(1, 0, 1000, 0), (1, 0, 2000, 1), (0, 1, 3000, 1)])
    parts = preprocess_tonic_spikes_separate(ev, ordering, (2, 2, 2))
    assert len(parts) == 2
    assert len(parts[0].end_spikes) == 4
    assert _neuron_spikes(parts[0], 1) == [1.0]
    assert _neuron_spikes(parts[1], 1) == [2.0]
    assert _neuron_spikes(parts[1], 0 + 1 * 2) == [3.0]
    with pytest.raises(RuntimeError, match="polarity"):
        preprocess_tonic_spikes_separate(ev, ordering, (2, 2, 1))


# ---------------------------------------------------------------------------
# Yin-Yang
# ---------------------------------------------------------------------------
def _yin_yang_class(x, y, r_small=0.1, r_big=0.5):
    """Independent restatement of the Kriener et al. regions."""
    d_r = np.hypot(x - 1.5 * r_big, y - r_big)
    d_l = np.hypot(x - 0.5 * r_big, y - r_big)
    if d_r < r_small or d_l < r_small:
        return 2
    yin = d_r <= r_small or (r_small < d_l <= 0.5 * r_big) or (y > r_big and d_r > 0.5 * r_big)
    return 1 if yin else 0


def test_yin_yang_dataset():
    np.random.seed(3)
    spikes, labels = generate_yin_yang_dataset(300, scale=30.0, offset=2.0)
    assert len(spikes) == len(labels) == 300
    assert set(labels) == {0, 1, 2}
    counts = np.bincount(labels)
    assert counts.min() > 60            # classes drawn uniformly, not by area
    for p, c in zip(spikes, labels):
        assert len(p.end_spikes) == 5
        np.testing.assert_array_equal(p.end_spikes, [1, 2, 3, 4, 5])
        t = np.asarray(p.spike_times)
        assert t[0] == pytest.approx(2.0)                 # bias channel
        x, y = (t[1] - 2.0) / 30.0, (t[2] - 2.0) / 30.0
        assert t[3] == pytest.approx(2.0 + 30.0 * (1.0 - x))
        assert t[4] == pytest.approx(2.0 + 30.0 * (1.0 - y))
        assert np.hypot(x - 0.5, y - 0.5) <= 0.5 + 1e-9
        assert _yin_yang_class(x, y) == c
    nb, _ = generate_yin_yang_dataset(5, scale=1.0, bias=False)
    assert all(len(p.end_spikes) == 4 for p in nb)


# ---------------------------------------------------------------------------
# dataset dicts
# ---------------------------------------------------------------------------
def test_get_dataset_size():
    assert get_dataset_size({"a": np.zeros((10, 3))}) == 10
    assert get_dataset_size({"a": np.zeros(10), "b": list(range(10))}) == 10
    assert get_dataset_size({"a": np.zeros(10), "b": list(range(9))}) is None


def test_split_dataset():
    data = {"x": np.arange(10), "y": list(range(10))}
    left, right = split_dataset(data, 0.0)
    assert len(left["x"]) == 10 and len(right["x"]) == 0
    left, right = split_dataset(data, 1.0)
    assert len(left["x"]) == 0 and len(right["y"]) == 10
    left, right = split_dataset(data, 0.1)
    np.testing.assert_array_equal(left["x"], np.arange(9))
    assert right["y"] == [9]
    for bad in (10.0, -1.0):
        with pytest.raises(RuntimeError):
            split_dataset(data, bad)
    with pytest.raises(RuntimeError):
        split_dataset({"x": np.arange(3), "y": [1]}, 0.5)


def test_batch_dataset():
    data = {"x": np.arange(10), "y": list(range(10))}
    batches = batch_dataset(data, 4, 10)
    assert len(batches) == 3
    np.testing.assert_array_equal(batches[0]["x"], [0, 1, 2, 3])
    assert batches[2]["y"] == [8, 9]
    assert len(batch_dataset(data, 5, 10)) == 2


def test_permute_dataset():
    data = {"x": np.arange(5) * 10, "y": ["a", "b", "c", "d", "e"]}
    out = permute_dataset(data, np.array([4, 0, 3, 1, 2]))
    np.testing.assert_array_equal(out["x"], [40, 0, 30, 10, 20])
    assert out["y"] == ["e", "a", "d", "b", "c"]
    with pytest.raises(RuntimeError):
        permute_dataset(data, [0, 1])
