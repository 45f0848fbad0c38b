"""Base class of every neuron type."""
from abc import ABC, abstractmethod

from ..utils.checks import check_no_more_kwargs
from ..utils.module import get_object


class Neuron(ABC):
    """A neuron type: ``get_model`` returns a ``utils.model.NeuronModel``."""

    def __init__(self, readout=None, **kwargs):
        # an unknown keyword argument is a TypeError naming it (not object's)
        check_no_more_kwargs(self, kwargs, Neuron)
        super().__init__(**kwargs)
        self.readout = readout

    @property
    def readout(self):
        return self._readout

    @readout.setter
    def readout(self, r):
        from ..readouts import Readout, default_readouts
        self._readout = get_object(r, Readout, "Readout", default_readouts)

    @abstractmethod
    def get_model(self, population, dt, batch_size):
        """-> utils.model.NeuronModel"""

    def get_readout(self, genn_pop, batch_size, shape):
        if self.readout is None:
            raise RuntimeError("this neuron has no readout; give readout=... to make its "
                               "population an output")
        return self.readout.get_readout(genn_pop, batch_size, shape)
