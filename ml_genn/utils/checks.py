"""Argument checks shared by the API: clear errors naming the argument and the fix."""
import inspect
from difflib import get_close_matches
import math
from numbers import Integral, Real

import numpy as np


def check_positive_int(owner: str, name: str, value, hint: str = ""):
    """``value`` must be an integer >= 1 (``bool`` is not an integer here).

    ``TypeError`` for a non-integer, ``ValueError`` for one below 1.
    NumPy integers are accepted; the value is returned as a Python ``int``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be a positive integer, got {value!r} "
                        f"({type(value).__name__}){hint}")
    if value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer (1 or more), got "
                         f"{value!r}{hint}")
    return int(value)


def check_non_negative_int(owner: str, name: str, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be a non-negative integer, got {value!r} "
                        f"({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_positive_finite(owner: str, name: str, value):
    """``value`` must be a real number, finite and > 0; returned as a float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a positive number, got {value!r} "
                        f"({type(value).__name__})")
    if not math.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a finite number greater than 0, got "
                         f"{value!r}")
    return float(value)


def check_finite(what: str, arr, before: str):
    """NaN/inf in a numeric array: a ``ValueError`` naming ``what``, how
    many values and the first index, and the fix (done ``before`` ...)."""
    if arr.dtype.kind in "fc":
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{what} contains NaN/inf values ({int(bad.sum())}, first at "
                             f"index {first}); replace them (e.g. with np.nan_to_num) "
                             f"before {before}")


def accepted_arguments(func, skip=("self",)):
    """Names of ``func``'s named parameters (no ``*args``/``**kwargs``)."""
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params
            if p.name not in skip and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def unknown_argument_error(owner: str, unknown, accepted, hint: str = ""):
    """A ``TypeError`` naming the unknown keyword arguments (each with the
    closest accepted name, if any) and the accepted ones."""
    accepted = list(accepted)
    parts = []
    for name in sorted(unknown, key=str):
        close = get_close_matches(str(name), accepted, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    plural = "s" if len(parts) > 1 else ""
    return TypeError(f"{owner} got unexpected keyword argument{plural} "
                     f"{', '.join(parts)}; accepted arguments: "
                     f"{', '.join(accepted) or 'none'}{hint}")


def reject_unknown_kwargs(owner: str, kwargs, accepted):
    """Raise :func:`unknown_argument_error` if ``kwargs`` is not empty."""
    if kwargs:
        raise unknown_argument_error(owner, kwargs, accepted)


def check_no_more_kwargs(obj, kwargs, cls):
    """Raise a ``TypeError`` if ``kwargs`` would reach ``object.__init__``.

    Cooperative ``__init__`` methods pass unknown keyword arguments along the
    MRO; when no class after ``cls`` takes them, they were a mistake."""
    if not kwargs:
        return
    mro = type(obj).__mro__
    rest = mro[mro.index(cls) + 1:]
    if all(c.__init__ is object.__init__ or c.__module__ in ("abc", "builtins")
           for c in rest):
        raise unknown_argument_error(f"{type(obj).__name__}()", kwargs,
                                     accepted_arguments(type(obj).__init__))


def check_key(owner: str, key):
    """A recorder's ``key``: None or any hashable value (it keys a dict)."""
    try:
        hash(key)
    except TypeError:
        raise TypeError(f"{owner}: key must be hashable (a string, a number, a tuple, "
                        f"...), got {type(key).__name__} {key!r}") from None
    return key


def checkpoint_keys(keys, owner: str) -> tuple:
    """``keys`` of save/load: a tuple (or list) of key components, e.g.
    ``(epoch,)``. A bare string would be split into its characters and a
    number is not a sequence, so both are refused with the fix."""
    if isinstance(keys, (tuple, list)):
        return tuple(keys)
    raise TypeError(f"{owner}: keys must be a tuple of key components such as (epoch,) or "
                    f"('best',), not {type(keys).__name__} {keys!r}; write ({keys!r},)")
