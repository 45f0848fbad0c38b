"""Mean squared error between targets and readouts."""
import numpy as np

from .metric import Metric, _reduce


class MeanSquareError(Metric):
    """The mean of ``(y_true - y_pred)**2`` over every element of every
    example seen so far (``RuntimeError`` if the shapes differ).

    This is the true mean squared error at every batch size. (Upstream sums
    per-batch means and divides by the number of examples, which is only
    correct for batch size 1 and ``batch_size`` times too small otherwise.)
    """

    def __init__(self):
        self.reset()

    def reset(self):
        self.sum = 0.0
        self.total = 0

    def update(self, y_true, y_pred, communicator=None):
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if y_true.shape != y_pred.shape:
            raise RuntimeError(f"MeanSquareError: targets of shape {y_true.shape} and "
                               f"predictions of shape {y_pred.shape} differ")
        sq = float(np.sum((y_true.astype(np.float64) - y_pred.astype(np.float64)) ** 2))
        self.update_squared_error(sq, int(y_true.size), communicator)

    def update_squared_error(self, squared_error: float, count: int, communicator=None):
        """Add ``count`` values whose squared errors sum to ``squared_error``
        (training networks pass the error the ``MeanSquareError`` loss summed
        over every step of the output trace)."""
        self.sum += _reduce(float(squared_error), communicator)
        self.total += _reduce(int(count), communicator)

    @property
    def result(self):
        return None if self.total == 0 else self.sum / self.total
