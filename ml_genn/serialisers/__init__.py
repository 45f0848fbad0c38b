"""Serialisers: where checkpoints are stored."""
from .numpy import Numpy
from .serialiser import Serialiser

from ..utils.module import get_module_classes

default_serialisers = get_module_classes(globals(), Serialiser)

__all__ = ["Serialiser", "Numpy", "default_serialisers"]
