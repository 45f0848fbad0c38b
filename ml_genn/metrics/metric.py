"""Base class of metrics."""
from abc import ABC, abstractmethod
from typing import Union


class Metric(ABC):
    """Accumulates a score over batches.

    ``update(y_true, y_pred, communicator)`` adds a batch (with a
    communicator, the counts of every rank are summed), ``reset()`` starts
    again and ``result`` is the score so far (``None`` before any update).
    """

    @abstractmethod
    def update(self, y_true, y_pred, communicator):
        ...

    @abstractmethod
    def reset(self):
        ...

    @property
    @abstractmethod
    def result(self):
        ...


MetricType = Union[Metric, str]
MetricsType = Union[dict, MetricType]


def _reduce(value, communicator):
    return value if communicator is None else communicator.reduce_sum(value)
