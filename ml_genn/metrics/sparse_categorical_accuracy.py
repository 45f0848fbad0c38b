"""Accuracy of integer class labels against the argmax of the readout."""
import numpy as np

from .metric import Metric, _reduce


class SparseCategoricalAccuracy(Metric):
    """Fraction of examples with ``argmax(y_pred, axis=1) == y_true``.

    ``y_true``: integer labels ``(n,)``; ``y_pred``: ``(n, classes)``.
    ``RuntimeError`` if their first dimensions differ.
    """

    def __init__(self):
        self.reset()

    def reset(self):
        self.correct = 0
        self.total = 0

    def update(self, y_true, y_pred, communicator=None):
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if y_pred.ndim < 2:
            raise RuntimeError(f"SparseCategoricalAccuracy needs predictions of shape "
                               f"(examples, classes); got {y_pred.shape}")
        if y_true.shape[:1] != y_pred.shape[:1]:
            num_labels = y_true.shape[0] if y_true.ndim else 1
            raise RuntimeError(f"SparseCategoricalAccuracy: {num_labels} labels for "
                               f"{y_pred.shape[0]} predictions")
        pred = np.argmax(y_pred.reshape(y_pred.shape[0], -1), axis=1)
        correct = int(np.sum(pred == y_true.reshape(pred.shape)))
        total = int(len(y_true))
        self.correct += _reduce(correct, communicator)
        self.total += _reduce(total, communicator)

    @property
    def result(self):
        return None if self.total == 0 else self.correct / self.total
