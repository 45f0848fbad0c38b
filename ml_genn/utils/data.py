"""Dataset helpers: spike-data preprocessing, latency encoders, batching."""
from collections import namedtuple
from math import ceil
from typing import Any, Mapping, Sequence, Union

import numpy as np

PreprocessedSpikes = namedtuple("PreprocessedSpikes", ["end_spikes", "spike_times"])
PreprocessedSpikes.__doc__ = """Spikes of one example, grouped by neuron.

``end_spikes[i]`` is the cumulative spike count of neurons ``0..i`` and
``spike_times`` holds every spike time (ms), ordered by neuron then time, so
neuron ``i`` owns ``spike_times[end_spikes[i - 1]:end_spikes[i]]``.
"""

DataDictType = Mapping[Any, Union[Sequence, np.ndarray]]


# ---------------------------------------------------------------------------
# Spike preprocessing
# ---------------------------------------------------------------------------
def preprocess_spikes(times, ids, num_neurons: int) -> PreprocessedSpikes:
    """Group spikes ``(times[k], ids[k])`` by neuron.

    ``end_spikes = cumsum(bincount(ids, minlength=num_neurons))`` and the times
    are sorted by (id, time). Array-likes are accepted; ids must lie in
    ``[0, num_neurons)`` (``RuntimeError`` otherwise).
    """
    times = np.asarray(times)
    ids = np.asarray(ids)
    if times.shape != ids.shape or times.ndim != 1:
        raise RuntimeError(f"spike times and ids must be 1-D arrays of equal length, got "
                           f"shapes {times.shape} and {ids.shape}")
    if ids.size:
        if not np.issubdtype(ids.dtype, np.integer):
            if not np.all(np.mod(ids, 1) == 0):
                raise RuntimeError("spike ids must be integers")
            ids = ids.astype(np.int64)
        if ids.min() < 0 or ids.max() >= num_neurons:
            raise RuntimeError(f"spike ids must lie in [0, {num_neurons}); got "
                               f"{ids.min()}..{ids.max()}")
    else:
        ids = ids.astype(np.int64)
    end_spikes = np.cumsum(np.bincount(ids, minlength=num_neurons))
    order = np.lexsort((times, ids))
    return PreprocessedSpikes(end_spikes, times[order])


def _tonic_ids(events, ordering, shape):
    if "t" not in ordering or "p" not in ordering:
        raise RuntimeError(f"tonic events must contain time ('t') and polarity ('p'); "
                           f"ordering is '{ordering}'")
    if "x" not in ordering:
        raise RuntimeError(f"tonic events without an 'x' coordinate are not supported "
                           f"(ordering '{ordering}')")
    x = np.asarray(events["x"]).astype(np.int64)
    has_y = "y" in ordering
    y = np.asarray(events["y"]).astype(np.int64) if has_y else None
    if shape[2] == 1:
        return x + y * shape[0] if has_y else x
    p = np.asarray(events["p"]).astype(np.int64)
    if has_y:
        return p + x * shape[2] + y * shape[0] * shape[2]
    return p + x * shape[2]


def preprocess_tonic_spikes(events, ordering, shape, time_scale=1.0 / 1000.0,
                            dt=None, histogram_thresh=None) -> PreprocessedSpikes:
    """Convert Tonic structured events to :class:`PreprocessedSpikes`.

    ``shape`` is Tonic's ``sensor_size`` ``(x, y, p)``. Neuron ids: single
    polarity ``x + y*shape[0]`` (or ``x``); several polarities
    ``p + x*shape[2] + y*shape[0]*shape[2]`` (or ``p + x*shape[2]``). Times are
    multiplied by ``time_scale`` (µs -> ms by default).

    With ``histogram_thresh`` (requires ``dt``), events are binned per neuron
    into time bins ``[k*dt, (k+1)*dt)`` and every (neuron, bin) holding at
    least ``histogram_thresh`` events becomes one spike at ``k*dt``.
    """
    shape = tuple(int(s) for s in shape)
    num_neurons = int(np.prod(shape))
    ids = _tonic_ids(events, ordering, shape)
    times = np.asarray(events["t"]) * time_scale
    if histogram_thresh is not None:
        if dt is None:
            raise RuntimeError("preprocess_tonic_spikes: histogram_thresh needs dt")
        if times.size == 0:
            return preprocess_spikes(np.zeros(0), np.zeros(0, dtype=np.int64), num_neurons)
        bins = np.floor(times / dt).astype(np.int64)
        num_bins = int(bins.max()) + 1
        counts = np.bincount(ids * num_bins + bins, minlength=num_neurons * num_bins)
        hit = np.nonzero(counts >= histogram_thresh)[0]
        ids = hit // num_bins
        times = (hit % num_bins) * dt
    return preprocess_spikes(times, ids, num_neurons)


def preprocess_tonic_spikes_separate(events, ordering, shape, time_scale=1.0 / 1000.0,
                                     dt=None, histogram_thresh=None) -> list:
    """One :class:`PreprocessedSpikes` per polarity (shape ``(x, y, 1)`` each)."""
    shape = tuple(int(s) for s in shape)
    if shape[2] == 1:
        raise RuntimeError("preprocess_tonic_spikes_separate needs a sensor with more "
                           "than one polarity")
    if "p" not in ordering:
        raise RuntimeError(f"tonic events must contain polarity ('p'); ordering is "
                           f"'{ordering}'")
    p = np.asarray(events["p"])
    return [preprocess_tonic_spikes(events[p == pol], ordering, (shape[0], shape[1], 1),
                                    time_scale, dt, histogram_thresh)
            for pol in range(shape[2])]


# ---------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------
def generate_yin_yang_dataset(size: int, scale: float, offset: float = 0.0,
                              bias: bool = True, r_small: float = 0.1,
                              r_big: float = 0.5):
    """The Yin-Yang dataset (Kriener et al. 2021) as latency-coded spikes.

    Points are drawn uniformly inside the big circle by rejection sampling
    (NumPy's global RNG); each example's class is drawn uniformly first (0 =
    yang, 1 = yin, 2 = dots) and points are drawn until one of that class is
    found. A point (x, y) becomes one spike per channel at
    ``offset + scale * v`` with ``v = [0 (bias channel, if bias), x, y, 1-x, 1-y]``.
    Returns ``(list of PreprocessedSpikes, list of int labels)``.
    """
    def dist_right(x, y):
        return np.sqrt((x - 1.5 * r_big) ** 2 + (y - r_big) ** 2)

    def dist_left(x, y):
        return np.sqrt((x - 0.5 * r_big) ** 2 + (y - r_big) ** 2)

    def get_class(x, y):
        d_right = dist_right(x, y)
        d_left = dist_left(x, y)
        if d_right < r_small or d_left < r_small:
            return 2
        is_yin = (d_right <= r_small or (r_small < d_left <= 0.5 * r_big)
                  or (y > r_big and d_right > 0.5 * r_big))
        return int(is_yin)

    def sample(goal):
        while True:
            x, y = np.random.rand(2) * 2.0 * r_big
            if np.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big:
                continue
            c = get_class(x, y)
            if c == goal:
                return x, y, c

    num_channels = 5 if bias else 4
    spikes, labels = [], []
    for _ in range(size):
        x, y, c = sample(np.random.randint(3))
        values = [x, y, 1.0 - x, 1.0 - y]
        if bias:
            values = [0.0] + values
        times = offset + scale * np.asarray(values)
        spikes.append(preprocess_spikes(times, np.arange(num_channels), num_channels))
        labels.append(c)
    return spikes, labels


def linear_latency_encode_data(data, max_time: float, min_time: float = 0.0,
                               thresh: int = 1) -> list:
    """Linear latency code of uint8-range data (one list entry per example).

    Each example is flattened (C order); values ``> thresh`` spike once at
    ``min_time + (255 - v) / 255 * (max_time - min_time)`` (255 -> min_time,
    0 -> max_time); the others never spike.
    """
    time_range = max_time - min_time
    out = []
    for example in data:
        values = np.asarray(example, dtype=np.float64).reshape(-1)
        ids = np.nonzero(values > thresh)[0]
        times = min_time + ((255.0 - values[ids]) / 255.0) * time_range
        out.append(preprocess_spikes(times, ids, values.size))
    return out


def log_latency_encode_data(data, tau_eff: float, thresh: float) -> list:
    """Logarithmic latency code: values ``v > thresh`` spike once at
    ``tau_eff * ln(v / (v - thresh))`` (time to charge an RC neuron)."""
    out = []
    for example in data:
        values = np.asarray(example, dtype=np.float64).reshape(-1)
        ids = np.nonzero(values > thresh)[0]
        v = values[ids]
        times = tau_eff * np.log(v / (v - thresh))
        out.append(preprocess_spikes(times, ids, values.size))
    return out


def get_dataset_size(data: DataDictType):
    """The common length of every entry of ``data``; ``None`` if they differ
    (or if ``data`` is empty)."""
    sizes = {len(v) for v in data.values()}
    return sizes.pop() if len(sizes) == 1 else None


def batch_dataset(data: DataDictType, batch_size: int, size: int) -> list:
    """Split every entry of ``data`` into ``ceil(size / batch_size)`` batches
    (dicts with the same keys); the last batch may be short."""
    num_batches = ceil(size / batch_size)
    return [{k: v[b * batch_size:min((b + 1) * batch_size, size)] for k, v in data.items()}
            for b in range(num_batches)]


def split_dataset(data: DataDictType, split: float):
    """-> ``(first round((1 - split) * N) examples, the rest)``.

    ``split`` must lie in [0, 1] (``RuntimeError`` otherwise); entries of
    different lengths also raise ``RuntimeError``.
    """
    if not 0.0 <= split <= 1.0:
        raise RuntimeError(f"dataset split must lie between 0 and 1, got {split}")
    size = get_dataset_size(data)
    if size is None:
        raise RuntimeError("cannot split a dataset whose entries differ in length")
    n = int(round((1.0 - split) * size))
    return {k: v[:n] for k, v in data.items()}, {k: v[n:] for k, v in data.items()}


def permute_dataset(data: DataDictType, indices) -> dict:
    """Reorder every entry by ``indices`` (fancy indexing for arrays, a list
    otherwise). ``len(indices)`` must equal the dataset size (``RuntimeError``)."""
    size = get_dataset_size(data)
    if size is None or len(indices) != size:
        raise RuntimeError(f"permute_dataset: {len(indices)} indices for a dataset of "
                           f"size {size}")
    return {k: (v[indices] if isinstance(v, np.ndarray) else [v[i] for i in indices])
            for k, v in data.items()}


# ---------------------------------------------------------------------------
# Batched spike buffers (SpikeInput)
# ---------------------------------------------------------------------------
def batch_spikes(spikes, batch_size: int) -> PreprocessedSpikes:
    """Concatenate the spikes of up to ``batch_size`` examples.

    Returns 2-D ``end_spikes`` of shape ``(batch_size, num_neurons)``: each
    example's ends are offset by the spikes of the preceding examples, and
    missing examples are padded with rows equal to the total (no spikes). The
    spike times are concatenated example after example. ``RuntimeError`` if
    there are more examples than ``batch_size`` or their neuron counts differ.
    """
    if isinstance(spikes, PreprocessedSpikes):
        raise TypeError("spike data must be a sequence of PreprocessedSpikes, one per "
                        "example; wrap a single example in a list: [spikes]")
    spikes = list(spikes)
    if len(spikes) == 0:
        raise RuntimeError("batch_spikes needs at least one example")
    for s in spikes:
        if not (hasattr(s, "end_spikes") and hasattr(s, "spike_times")):
            raise TypeError(f"spike data must be a sequence of PreprocessedSpikes (one per "
                            f"example, made by ml_genn.utils.data.preprocess_spikes or "
                            f"preprocess_tonic_spikes), not of {type(s).__name__}")
    if len(spikes) > batch_size:
        raise RuntimeError(f"{len(spikes)} examples of spikes do not fit in a batch of "
                           f"{batch_size}")
    num_neurons = len(spikes[0].end_spikes)
    if any(len(s.end_spikes) != num_neurons for s in spikes):
        raise RuntimeError("all examples of a batch must have the same number of neurons")
    counts = [len(s.spike_times) for s in spikes]
    offsets = np.concatenate(([0], np.cumsum(counts)))
    end_spikes = np.empty((batch_size, num_neurons), dtype=np.int64)
    for i, s in enumerate(spikes):
        end_spikes[i] = np.asarray(s.end_spikes) + offsets[i]
    end_spikes[len(spikes):] = offsets[-1]
    times = np.concatenate([np.asarray(s.spike_times, dtype=np.float64) for s in spikes])
    return PreprocessedSpikes(end_spikes, times)


def calc_start_spikes(end_spikes) -> np.ndarray:
    """Start index of each neuron's spikes: the previous end in flattened
    (batch, neuron) order (0 for the very first)."""
    end_spikes = np.asarray(end_spikes)
    flat = end_spikes.reshape(-1)
    start = np.empty_like(flat)
    if flat.size:
        start[0] = 0
        start[1:] = flat[:-1]
    return start.reshape(end_spikes.shape)


def calc_max_spikes(spikes) -> int:
    """The largest **total** number of spikes in any one example.

    (Upstream documents this as a per-neuron maximum; it is, and always was,
    the per-example total, which is what ``SpikeInput(max_spikes=...)`` needs
    per example.)
    """
    return max((len(s.spike_times) for s in spikes), default=0)


def calc_latest_spike_time(spikes) -> float:
    """The latest spike time over all examples (0.0 if there are no spikes)."""
    latest = [float(np.max(s.spike_times)) for s in spikes if len(s.spike_times)]
    return max(latest, default=0.0)
