"""Losses used by the training compilers."""
from .loss import Loss
from .mean_square_error import MeanSquareError
from .relative_mean_square_error import RelativeMeanSquareError
from .sparse_categorical_crossentropy import SparseCategoricalCrossentropy

from ..utils.module import get_module_classes

default_losses = get_module_classes(globals(), Loss)

__all__ = ["MeanSquareError", "Loss", "RelativeMeanSquareError",
           "SparseCategoricalCrossentropy", "default_losses"]
