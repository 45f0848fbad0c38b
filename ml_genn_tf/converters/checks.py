"""Argument checks shared by the converters: every mistake is reported where
it is made (in the constructor when possible) with the argument's name and
the fix, never as a traceback from deep inside the conversion."""
from difflib import get_close_matches
from numbers import Integral

import numpy as np

from ml_genn.utils.checks import check_finite

from .enum import InputType


def check_bool(owner: str, name: str, value):
    """``True``/``False`` (NumPy bools and the integers 0/1 are accepted)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Integral) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{owner}: {name} must be True or False, got {value!r} "
                     f"({type(value).__name__})")


def check_input_type(owner: str, value):
    """The :class:`InputType` of ``value`` (member or string value)."""
    if isinstance(value, InputType):
        return value
    try:
        return InputType(value)
    except (ValueError, TypeError):
        accepted = ", ".join(repr(t.value) for t in InputType)
        hint = ""
        if isinstance(value, str):
            close = get_close_matches(value.lower(), [t.value for t in InputType], n=1)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        raise ValueError(f"{owner}: input_type must be an InputType or one of {accepted}, "
                         f"got {value!r}{hint}") from None


def check_norm_data(owner: str, norm_data):
    """What can be checked of normalisation data without consuming it:
    ``None``, or a non-empty list/tuple/array/iterable; arrays are checked
    for NaN/inf here (iterables of batches while they are read)."""
    if norm_data is None:
        return None
    if isinstance(norm_data, (str, bytes, dict)):
        raise ValueError(f"{owner}: norm_data must be [data] with data an array of "
                         f"examples, an (x, y) pair or an iterable of batches (e.g. a "
                         f"tf.data.Dataset), got a {type(norm_data).__name__}")
    if isinstance(norm_data, (list, tuple)) and len(norm_data) == 0:
        raise ValueError(f"{owner}: norm_data is empty; pass [data] (e.g. "
                         f"norm_data=[x_train[:256]]) or None for no normalisation")
    src = norm_data[0] if isinstance(norm_data, list) else norm_data
    arrays = []
    if isinstance(src, np.ndarray):
        arrays = [src]
    elif isinstance(src, tuple) and len(src) in (1, 2) and isinstance(src[0], np.ndarray):
        arrays = [src[0]]
    elif not isinstance(src, tuple) and not hasattr(src, "__iter__"):
        raise ValueError(f"{owner}: norm_data must be [data] with data an array of "
                         f"examples, an (x, y) pair or an iterable of batches, got "
                         f"{type(src).__name__}")
    for a in arrays:
        if a.size == 0 or a.ndim == 0:
            raise ValueError(f"{owner}: norm_data contains no examples (array of shape "
                             f"{a.shape}); pass at least one example or None")
        check_finite_data(owner, a)
    return norm_data


def check_finite_data(owner: str, x, what="norm_data"):
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{owner}: {what} must be numeric, got an array of dtype "
                         f"{x.dtype}")
    check_finite(f"{owner}: {what}", x, "normalising")
