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


class ValueDescriptor(StoredDescriptor):
    def __init__(self, *genn_names):
        self.genn_names = [(n, None) if isinstance(n, str) else (n[0], n[1])
                           for n in genn_names]

    def __set__(self, instance, value):
        has_transform = any(t is not None for _, t in self.genn_names)
        if has_transform and (isinstance(value, (str, Initializer))):
            raise NotImplementedError(f"'{self.public}' is transformed into GeNN "
                                      f"parameters, so it cannot be an initializer")
        if isinstance(value, str):
            # correct behaviour: instantiate the registered initializer
            from ..initializers import default_initializers
            if value not in default_initializers:
                raise RuntimeError(f"'{self.public}': initializer '{value}' unknown")
            value = default_initializers[value]()
        elif is_value_array(value):
            value = np.asarray(value)
        elif isinstance(value, (Number, np.number, Initializer)):
            value = deepcopy(value)
        elif value is not None:
            raise RuntimeError(f"'{self.public}' must be a number, an array or an "
                               f"Initializer, not {type(value).__name__}")
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
        raise AttributeError(f"{type(inst).__name__} has no attribute '{name}'")
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
