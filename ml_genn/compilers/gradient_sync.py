"""Data-parallel training: gradients summed over the ranks of a communicator."""
import numpy as np

from ..callbacks import Callback


class AllReduceGradients(Callback):
    """At the end of every batch (after the batch reduction, before the
    optimiser) replace each listed gradient variable by its sum over all
    ranks, so every rank applies the same update and the learned values
    stay identical everywhere.

    Each rank simulates its own share of the batch (``Compiler`` divides
    ``batch_size`` by the number of ranks), so the sum over ranks is the
    gradient of the whole batch.

    Args:
        gradients: ``[(engine custom update or group, variable name)]``
        communicator: the ``Communicator`` of the compiled network
        filter_fn: optional ``filter_fn(batch) -> bool``; batches for which
            it is false are skipped (e.g. EventProp applies no update at the
            end of the first batch of an epoch)
    """

    def __init__(self, gradients, communicator, filter_fn=None):
        self.gradients = list(gradients)
        self.communicator = communicator
        self.filter_fn = filter_fn

    def on_batch_end(self, batch: int, metrics):
        if self.filter_fn is not None and not self.filter_fn(batch):
            return
        for group, name in self.gradients:
            var = group.vars[name]
            var.pull_from_device()
            view = var.view
            summed = self.communicator.reduce_sum(np.ascontiguousarray(view))
            view[...] = np.asarray(summed, dtype=view.dtype).reshape(view.shape)
            var.push_to_device()
