"""Initializers: values sampled per neuron or synapse by the engine."""
from .initializer import Initializer
from .normal import Normal
from .uniform import Uniform
from .wrapper import Wrapper

from ..utils.module import get_module_classes

default_initializers = get_module_classes(globals(), Initializer)

__all__ = ["Initializer", "Normal", "Uniform", "Wrapper", "default_initializers"]
