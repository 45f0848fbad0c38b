"""Base class of readouts: how an output population's value is read."""
from abc import ABC, abstractmethod


class Readout(ABC):
    @abstractmethod
    def add_readout_logic(self, model, **kwargs):
        """Return a modified deep copy of the NeuronModel."""

    @abstractmethod
    def get_readout(self, genn_pop, batch_size, shape):
        """Pull the readout variable -> array of shape (batch_size,) + shape."""

    @property
    def reset_vars(self):
        return []
