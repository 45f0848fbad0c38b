"""Small records passed from connectivity/initializers to compilers."""
import math
from collections import namedtuple
from numbers import Number

ConnectivitySnippet = namedtuple("ConnectivitySnippet",
                                 ["snippet", "matrix_type", "weight", "delay", "pre_ind",
                                  "post_ind", "trainable"],
                                 defaults=[None, None, True])

InitializerSnippet = namedtuple("InitializerSnippet", ["snippet", "param_vals", "egp_vals"],
                                defaults=[{}, {}])


class StoredDescriptor:
    """A descriptor keeping attribute ``x`` of an instance as ``_x``."""

    def __set_name__(self, owner, name):
        self.name = f"_{name}"
        self.public = name

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return getattr(instance, self.name)


class ConstantValueDescriptor(StoredDescriptor):
    """A parameter that must be a plain number (stored as ``_<name>``)."""

    def __set__(self, instance, value):
        if not isinstance(value, Number):
            raise RuntimeError(f"'{self.public}' must be a number, got "
                               f"{type(value).__name__}")
        if isinstance(value, complex) or not math.isfinite(float(value.real)):
            raise ValueError(f"{type(instance).__name__}: '{self.public}' must be a finite "
                             f"real number, got {value!r}")
        setattr(instance, self.name, value)
