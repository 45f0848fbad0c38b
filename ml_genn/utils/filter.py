"""Example and neuron filters used by the recording callbacks.

* An *example filter* selects which examples of a dataset (by their global
  index, i.e. ``batch * batch_size + row``) a recorder keeps.
* A *neuron filter* selects which neurons of a population (or which source /
  target neurons of a connection) are kept; it is turned into a flat boolean
  mask over the population in C order.
"""
import logging
from collections.abc import Sequence
from numbers import Integral
from typing import Sequence as SequenceType, Union

import numpy as np

logger = logging.getLogger(__name__)

ExampleFilterType = Union[SequenceType, np.ndarray, np.integer, int, None]
NeuronFilterType = Union[SequenceType, slice, np.ndarray, np.integer, int, None]


def _is_int(value):
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


class ExampleFilter:
    """Which examples to record.

    ``f`` may be:

    * ``None`` -- every example;
    * a sequence/array of booleans -- a mask over the global example index
      (``[True] * 10`` selects the first ten examples; examples past its end
      are not selected);
    * a sequence/array of integers -- the indices of the selected examples (a
      warning is logged when they are not sorted);
    * a single integer -- only that example.

    Other element types (e.g. strings) or objects raise ``RuntimeError``, as do
    negative example indices. An empty sequence selects no example (upstream
    mlGeNN fails on it).
    """

    def __init__(self, f: ExampleFilterType):
        if f is None:
            self._mask = None
        elif _is_int(f):
            if f < 0:
                raise RuntimeError(f"example filter: example index {f} is negative")
            self._mask = np.zeros(int(f) + 1, dtype=bool)
            self._mask[int(f)] = True
        elif isinstance(f, (Sequence, np.ndarray)) and not isinstance(f, str):
            array = np.asarray(f)
            if array.ndim != 1:
                raise RuntimeError(f"example filter must be one-dimensional, got an array "
                                   f"of shape {array.shape}")
            if array.size == 0:
                self._mask = np.zeros(0, dtype=bool)
            elif array.dtype == bool:
                self._mask = array.copy()
            elif np.issubdtype(array.dtype, np.integer):
                if np.any(array < 0):
                    raise RuntimeError("example filter: example indices must not be negative")
                if np.any(array[:-1] > array[1:]):
                    logger.warning("Example filter is not sorted: recorded examples are "
                                   "returned in dataset order, not in filter order")
                self._mask = np.zeros(int(array.max()) + 1, dtype=bool)
                self._mask[array] = True
            else:
                raise RuntimeError(f"Unsupported object type in example filter: elements "
                                   f"must be booleans or integers, not {array.dtype}")
        else:
            raise RuntimeError(f"Unsupported example filter format: {type(f).__name__} "
                               f"(use None, an int, or a sequence of bools or ints)")

    @property
    def mask(self):
        """The boolean mask over global example indices (``None``: all)."""
        return self._mask

    def get_batch_mask(self, batch: int, batch_size: int,
                       num_examples: int = None) -> np.ndarray:
        """Boolean mask of length ``batch_size`` for the rows of batch ``batch``.

        Rows past the end of the filter are not selected. When ``num_examples``
        (the dataset size) is given, padding rows of a short final batch are
        never selected either.
        """
        start = batch * batch_size
        if self._mask is None:
            mask = np.ones(batch_size, dtype=bool)
        else:
            mask = np.zeros(batch_size, dtype=bool)
            part = self._mask[start:start + batch_size]
            mask[:len(part)] = part
        if num_examples is not None:
            valid = max(0, min(batch_size, num_examples - start))
            mask[valid:] = False
        return mask


def _normalise_shape(shape):
    if _is_int(shape):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def get_neuron_filter_mask(f: NeuronFilterType, shape) -> np.ndarray:
    """Flat boolean mask (C order) of the neurons of ``shape`` selected by ``f``.

    ``f`` may be:

    * ``None`` -- all neurons;
    * an ``int`` -- the single neuron with that flat index (advertised by the
      mlGeNN documentation; upstream code rejects it -- here it works);
    * a ``slice`` -- only for 1-D populations (``RuntimeError`` otherwise);
    * a boolean array -- must have exactly ``shape`` (``RuntimeError``);
    * a sequence/array of slices (e.g. ``np.index_exp[2:4, 2:4]``) -- a
      multi-dimensional index;
    * an integer array -- 1-D populations: neuron indices; n-D populations:
      one row of indices per dimension, so ``[[0, 0], [0, 2]]`` in shape
      ``(2, 3)`` selects neurons ``(0, 0)`` and ``(0, 2)``. Out-of-range
      indices or too many rows raise ``IndexError``.

    Anything else raises ``RuntimeError``.
    """
    shape = _normalise_shape(shape)
    mask = np.zeros(shape, dtype=bool)
    if f is None:
        return np.ones(int(np.prod(shape)), dtype=bool)
    if _is_int(f):
        flat = mask.reshape(-1)
        n = flat.size
        if not -n <= int(f) < n:
            raise IndexError(f"neuron filter index {f} is out of range for a population "
                             f"of {n} neurons")
        flat[int(f)] = True
        return flat
    if isinstance(f, slice):
        if len(shape) != 1:
            raise RuntimeError(f"a slice neuron filter is only supported for 1-D "
                               f"populations; this one has shape {shape} (use "
                               f"np.index_exp[...] for several dimensions)")
        mask[f] = True
        return mask
    if isinstance(f, (Sequence, np.ndarray)) and not isinstance(f, str):
        if isinstance(f, np.ndarray):
            array = f
        elif len(f) > 0 and all(isinstance(s, slice) for s in f):
            array = np.empty(len(f), dtype=object)
            array[:] = list(f)
        else:
            array = np.asarray(f)
        if array.dtype == bool:
            if array.shape != shape:
                raise RuntimeError(f"boolean neuron filter has shape {array.shape}; it must "
                                   f"match the population shape {shape}")
            return array.flatten()
        if array.dtype == object:
            if not all(isinstance(s, slice) for s in array.flat):
                raise RuntimeError("object neuron filters may only contain slices (e.g. "
                                   "np.index_exp[2:4, 2:4])")
            mask[tuple(array.flat)] = True
            return mask.flatten()
        if np.issubdtype(array.dtype, np.integer):
            try:
                if len(shape) == 1:
                    mask[array] = True
                else:
                    if array.ndim == 0:
                        raise RuntimeError("an integer neuron filter for a multi-dimensional "
                                           "population needs one row of indices per "
                                           "dimension")
                    mask[tuple(array)] = True
            except IndexError as e:
                raise IndexError(f"neuron filter {f!r} is out of range for a population of "
                                 f"shape {shape} ({e})") from None
            return mask.flatten()
        raise RuntimeError(f"Unsupported neuron filter element type {array.dtype}")
    raise RuntimeError(f"Unsupported neuron filter format: {type(f).__name__}")
