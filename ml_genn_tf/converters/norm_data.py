"""Normalisation data: reading it in batches, and the largest activation of
every planned population over it (what the normalising converters scale
thresholds and alphas by)."""
import numpy as np

import keras

from .checks import check_finite_data
from .keras_graph import describe


def _to_numpy(x):
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def _is_array_like(x):
    return isinstance(x, np.ndarray) or (hasattr(x, "numpy") and hasattr(x, "shape")
                                         and hasattr(x, "dtype"))


def _check_norm_shape(x, input_shape):
    if input_shape is None:
        return
    if x.ndim != len(input_shape) + 1 or tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(f"normalisation data has shape {tuple(x.shape)}, but the model "
                         f"input expects (batch,) + {tuple(input_shape)}")


def iter_norm_batches(norm_data, input_shape=None, max_batch=256):
    """Yield the ``x`` arrays of normalisation data, each ``(n,) + input_shape``.

    Accepted forms (upstream passes ``[dataset]``): a list/tuple whose first
    element is the data source, or the data source itself. A data source is
    an array of examples, an ``(x, y)`` tuple, or an iterable (e.g. a
    ``tf.data.Dataset``) of ``x`` or ``(x, y)`` batches. Arrays are cut into
    batches of at most ``max_batch`` examples. ``ValueError`` if an ``x``
    batch does not have the model's input shape.
    """
    src = norm_data
    if isinstance(src, list) and len(src) > 0:
        src = src[0]
    elif isinstance(src, tuple) and len(src) > 0 and not _is_array_like(src[0]):
        src = src[0]
    if isinstance(src, tuple) and len(src) in (1, 2) and _is_array_like(src[0]):
        src = src[0]
    if _is_array_like(src):
        x = _to_numpy(src)
        _check_norm_shape(x, input_shape)
        check_finite_data("normalisation data", x, "norm_data")
        for i in range(0, len(x), max_batch):
            yield x[i:i + max_batch]
        return
    if not hasattr(src, "__iter__"):
        raise ValueError(f"normalisation data must be an array of examples, an (x, y) pair "
                         f"or an iterable of batches, got {type(src).__name__}")
    for i, item in enumerate(src):
        x = item[0] if isinstance(item, (tuple, list)) else item
        x = _to_numpy(x)
        _check_norm_shape(x, input_shape)
        check_finite_data("normalisation data", x, f"norm_data (batch {i})")
        yield x


def norm_maxima(plan, norm_data, owner, abs_input=False):
    """Max over the normalisation data of every population's activation.

    -> ``(maxima, input_max)``: ``maxima`` maps each non-input planned
    population of ``plan`` (a :class:`~.network_plan.NetworkPlan`) to the
    max of its activation (ReLU output, or pre-activation for linear/softmax
    outputs); ``input_max`` is the max of ``x`` (or of ``|x|`` with
    ``abs_input``)."""
    if len(plan.input_tensors) != 1:
        raise NotImplementedError(f"{owner}: normalisation data (norm_data) is only supported "
                                  f"for models with one input (this one has "
                                  f"{len(plan.input_tensors)}); convert it without norm_data")
    input_shape = tuple(plan.input_tensors[0].shape[1:])
    pops = [p for p in plan.pops if not p.is_input]
    tensors, index, pop_index = [], {}, {}
    for p in pops:
        t = p.norm_tensor() if callable(p.norm_tensor) else p.norm_tensor
        if id(t) not in index:
            index[id(t)] = len(tensors)
            tensors.append(t)
        pop_index[p] = index[id(t)]
    norm_model = (keras.Model(inputs=plan.input_tensors[0], outputs=tensors) if tensors
                  else None)
    maxima = [-np.inf] * len(tensors)
    input_max = -np.inf
    seen = False
    for x in iter_norm_batches(norm_data, input_shape):
        if len(x) == 0:
            continue
        seen = True
        x = x.astype(np.float32)
        input_max = max(input_max, float(np.max(np.abs(x) if abs_input else x)))
        if norm_model is None:
            continue
        outs = norm_model(x, training=False)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        for i, o in enumerate(outs):
            maxima[i] = max(maxima[i], float(np.max(keras.ops.convert_to_numpy(o))))
    if not seen:
        raise ValueError("the normalisation data contains no examples")
    for p, i in pop_index.items():
        if not np.isfinite(maxima[i]):
            raise ValueError(f"{describe(p.layer)}: its largest activation over the "
                             f"normalisation data is {maxima[i]} (the Keras model "
                             f"overflows); check the model's weights and the data's scale")
    return {p: maxima[i] for p, i in pop_index.items()}, input_max
