"""Callbacks that trigger a group of GeNN custom updates."""
from .callback import Callback


class CustomUpdate(Callback):
    """Base: run custom-update group ``name`` when ``filter_fn(n)`` allows.

    ``n`` is the batch, epoch or timestep index of the triggering hook;
    ``filter_fn=None`` runs the update every time.
    """

    def __init__(self, name: str, filter_fn=None):
        self.name = name
        self.filter_fn = filter_fn
        self._compiled_network = None

    def set_params(self, compiled_network=None, **kwargs):
        self._compiled_network = compiled_network

    def _custom_update(self, n: int):
        if self.filter_fn is None or self.filter_fn(n):
            if self._compiled_network is None:
                raise RuntimeError(f"{type(self).__name__}('{self.name}') has no compiled "
                                   f"network: use it through a CallbackList")
            self._compiled_network.genn_model.custom_update(self.name)


class CustomUpdateOnBatchBegin(CustomUpdate):
    """Run the custom update at the start of each (selected) batch."""

    def on_batch_begin(self, batch: int):
        self._custom_update(batch)


class CustomUpdateOnBatchEnd(CustomUpdate):
    """Run the custom update at the end of each (selected) batch."""

    def on_batch_end(self, batch: int, metrics):
        self._custom_update(batch)


class CustomUpdateOnEpochBegin(CustomUpdate):
    """Run the custom update at the start of each (selected) epoch."""

    def on_epoch_begin(self, epoch: int):
        self._custom_update(epoch)


class CustomUpdateOnEpochEnd(CustomUpdate):
    """Run the custom update at the end of each (selected) epoch."""

    def on_epoch_end(self, epoch: int, metrics):
        self._custom_update(epoch)


class CustomUpdateOnTimestepBegin(CustomUpdate):
    """Run the custom update before each (selected) time step."""

    def on_timestep_begin(self, timestep: int):
        self._custom_update(timestep)


class CustomUpdateOnTimestepEnd(CustomUpdate):
    """Run the custom update after each (selected) time step."""

    def on_timestep_end(self, timestep: int):
        self._custom_update(timestep)
