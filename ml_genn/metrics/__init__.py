"""Metrics scoring readouts against targets."""
from .mean_square_error import MeanSquareError
from .metric import Metric, MetricType, MetricsType
from .sparse_categorical_accuracy import SparseCategoricalAccuracy

from ..utils.module import get_module_classes

default_metrics = get_module_classes(globals(), Metric)

__all__ = ["MeanSquareError", "Metric", "MetricType", "MetricsType",
           "SparseCategoricalAccuracy", "default_metrics"]
