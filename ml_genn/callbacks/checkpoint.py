"""Checkpoint: save a training network's state every few epochs."""
from .callback import Callback
from ..serialisers import Serialiser, default_serialisers
from ..utils.module import get_object


class Checkpoint(Callback):
    """At the end of every ``epoch_interval``-th epoch (``epoch % interval == 0``)
    call ``compiled_network.save((epoch,), serialiser)``.

    Only training networks have ``save``; with the default ``Numpy``
    serialiser this writes e.g. ``9-Conn_Pop0_Pop1-g.npy``, which
    ``network.load((9,), serialiser)`` restores.
    """

    def __init__(self, serialiser="numpy", epoch_interval: int = 1):
        self.serialiser = get_object(serialiser, Serialiser, "Serialiser",
                                     default_serialisers)
        if int(epoch_interval) < 1:
            raise RuntimeError(f"Checkpoint epoch_interval must be at least 1, got "
                               f"{epoch_interval}")
        self.epoch_interval = int(epoch_interval)
        self._compiled_network = None

    def set_params(self, compiled_network=None, **kwargs):
        self._compiled_network = compiled_network

    def on_epoch_end(self, epoch: int, metrics):
        if epoch % self.epoch_interval == 0:
            if not hasattr(self._compiled_network, "save"):
                raise RuntimeError("Checkpoint needs a compiled network that can be saved "
                                   "(a training network)")
            self._compiled_network.save((epoch,), self.serialiser)
