"""Readout counting spikes."""
from copy import deepcopy

from .readout import Readout
from .var import check_spiking, read_var


class SpikeCount(Readout):
    """Number of spikes emitted (var ``Scount``, reset to 0)."""

    def add_readout_logic(self, model, **kwargs):
        check_spiking(model, "SpikeCount")
        model = deepcopy(model)
        model.add_var("Scount", "unsigned int", 0)
        model.append_reset_code("Scount++;")
        return model

    def get_readout(self, genn_pop, batch_size, shape):
        return read_var(genn_pop, "Scount", batch_size, shape)

    @property
    def reset_vars(self):
        return [("Scount", "unsigned int", 0)]
