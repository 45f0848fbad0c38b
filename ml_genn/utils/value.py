"""Parameter values of neurons, synapses and connectivity.

A ``ValueDescriptor`` maps one Python attribute to one or more GeNN names,
optionally through ``transform(value, dt)`` (e.g. ``tau_mem`` -> ``Alpha``).
"""
from copy import deepcopy
from numbers import Number
from typing import Sequence, Union

import numpy as np

from ..initializers import Initializer
from .snippet import StoredDescriptor

Value = Union[Number, Sequence[Number], np.ndarray, Initializer]
InitValue = Union[Value, str]


def is_value_constant(value):
    return isinstance(value, (Number, np.number)) and not isinstance(value, np.ndarray)


def is_value_array(value):
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str)


def is_value_initializer(value):
    return isinstance(value, Initializer)


_CONSTRAINTS = {None: (lambda a: np.ones(np.shape(a), dtype=bool), ""),
                "non_negative": (lambda a: a >= 0, "greater than or equal to 0"),
                "positive": (lambda a: a > 0, "greater than 0")}


def check_value(owner, name, value, constraint=None):
    """Numbers and numeric arrays must be finite (and satisfy ``constraint``:
    ``None``, ``"non_negative"`` or ``"positive"``): ``ValueError`` naming
    ``owner.name`` otherwise; a non-numeric array is a ``TypeError``.
    Initializers and ``None`` are not checked here."""
    if value is None or isinstance(value, (Initializer, str)):
        return
    test, what = _CONSTRAINTS[constraint]
    if is_value_array(value):
        arr = np.asarray(value)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                       or arr.dtype == np.bool_):
            raise TypeError(f"{owner}: {name} must be numeric, got an array of "
                            f"{arr.dtype}")
        if np.iscomplexobj(arr):
            raise TypeError(f"{owner}: {name} must be real, got an array of {arr.dtype}")
        bad = ~np.isfinite(arr) if np.issubdtype(arr.dtype, np.floating) \
            else np.zeros(arr.shape, dtype=bool)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{owner}: {name} contains {int(bad.sum())} NaN/inf "
                             f"value(s) (first at index {first}); every value must be "
                             "finite")
        ok = test(arr)
        if not np.all(ok):
            first = tuple(int(i) for i in np.argwhere(~np.asarray(ok))[0])
            raise ValueError(f"{owner}: every value of {name} must be {what}; "
                             f"{name}{list(first)} = {arr[first]!r}")
        return
    if isinstance(value, complex) or np.iscomplexobj(value):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    if not test(value):
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")


class ValueDescriptor(StoredDescriptor):
    """One Python attribute -> GeNN name(s), with a check of the value.

    Numbers and arrays must be finite; ``constraint`` (keyword only) may
    also demand ``"non_negative"`` or ``"positive"`` values (e.g. time
    constants), checked when the attribute is set."""

    def __init__(self, *genn_names, constraint=None):
        if constraint not in _CONSTRAINTS:
            raise ValueError(f"unknown constraint {constraint!r}")
        self.constraint = constraint
        self.genn_names = [(n, None) if isinstance(n, str) else (n[0], n[1])
                           for n in genn_names]

    def __set__(self, instance, value):
        has_transform = any(t is not None for _, t in self.genn_names)
        if has_transform and (isinstance(value, (str, Initializer))):
            from ..initializers import default_initializers
            if isinstance(value, str) and value not in default_initializers:
                raise TypeError(f"'{self.public}' must be a number (or an array of numbers), "
                                f"not the string {value!r}")
            raise NotImplementedError(f"'{self.public}' is transformed into GeNN "
                                      f"parameters, so it cannot be an initializer")
        if isinstance(value, str):
            # correct behaviour: instantiate the registered initializer
            from ..initializers import default_initializers
            if value not in default_initializers:
                raise RuntimeError(f"'{self.public}': initializer '{value}' unknown")
            value = default_initializers[value]()
        elif is_value_array(value):
            try:
                value = np.asarray(value)
            except ValueError as e:         # ragged nested lists
                raise ValueError(f"{type(instance).__name__}: {self.public} must be a number "
                                 f"or a rectangular array ({e})") from None
        elif isinstance(value, (Number, np.number, Initializer)):
            value = deepcopy(value)
        elif value is not None:
            raise RuntimeError(f"'{self.public}' must be a number, an array or an "
                               f"Initializer, not {type(value).__name__}")
        check_value(type(instance).__name__, self.public, value, self.constraint)
        setattr(instance, self.name, value)

    def get_transformed(self, instance, dt):
        value = self.__get__(instance, type(instance))
        return {n: (value if t is None else t(value, dt)) for n, t in self.genn_names}


def _descriptors(obj):
    seen = {}
    for cls in reversed(type(obj).__mro__):
        for name, attr in vars(cls).items():
            if isinstance(attr, ValueDescriptor):
                seen[name] = attr
    return seen


def get_genn_var_name(inst, name):
    """First untransformed GeNN name of attribute ``name`` (``v`` -> ``V``)."""
    attr = None
    for cls in type(inst).__mro__:
        if name in vars(cls):
            attr = vars(cls)[name]
            break
    if attr is None:
        known = sorted(a for a, d in _descriptors(inst).items()
                       if any(t is None for _, t in d.genn_names))
        raise AttributeError(f"{type(inst).__name__} has no attribute '{name}'; its "
                             f"variables are {', '.join(known) or 'none'} (give a GeNN "
                             "name such as 'V' or 'VAvg' as genn_var= instead)")
    if not isinstance(attr, ValueDescriptor):
        raise RuntimeError(f"'{name}' of {type(inst).__name__} is not a model value")
    for n, t in attr.genn_names:
        if t is None:
            return n
    raise RuntimeError(f"'{name}' of {type(inst).__name__} only exists transformed "
                       "(e.g. a time constant turned into a decay factor)")


def get_values(inst, name_types, dt, vals=None):
    """GeNN values of ``inst``'s descriptors whose names appear in ``name_types``."""
    vals = {} if vals is None else vals
    wanted = {nt[0] for nt in name_types}
    for desc in _descriptors(inst).values():
        for n, v in desc.get_transformed(inst, dt).items():
            if n in wanted:
                vals[n] = v
    return vals


def set_values(inst, vals):
    """Assign ``{genn_name: value}`` through the descriptors that own those names."""
    for attr_name, desc in _descriptors(inst).items():
        for n, _ in desc.genn_names:
            if n in vals:
                setattr(inst, attr_name, vals[n])
