"""Base class of readouts: how an output population's value is read."""
from abc import ABC, abstractmethod
from copy import deepcopy

import numpy as np


def read_var(genn_pop, var_name, batch_size, shape):
    """Pull ``var_name`` and return a copy shaped ``(batch_size,) + shape``."""
    var = genn_pop.vars[var_name]
    var.pull_from_device()
    return np.reshape(np.array(var.view, copy=True), (batch_size,) + tuple(shape))


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


class StateReadout(Readout):
    """A readout kept in variables it adds to the neuron model.

    ``readout_vars`` are ``(name, type, initial value)``; the first is the
    value returned, all are reset between examples."""

    def _add_readout_vars(self, model, readout_vars, code, code_field="sim"):
        self._readout_vars = list(readout_vars)
        model = deepcopy(model)
        for name, vtype, init in self._readout_vars:
            model.add_var(name, vtype, init)
        (model.append_sim_code if code_field == "sim" else model.append_reset_code)(code)
        return model

    def get_readout(self, genn_pop, batch_size, shape):
        return read_var(genn_pop, self._readout_vars[0][0], batch_size, shape)

    @property
    def reset_vars(self):
        return list(self._readout_vars)
