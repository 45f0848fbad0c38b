"""Readout counting spikes."""
from .readout import StateReadout
from .var import check_spiking


class SpikeCount(StateReadout):
    """Number of spikes emitted (var ``Scount``, reset to 0)."""

    def add_readout_logic(self, model, **kwargs):
        check_spiking(model, "SpikeCount")
        return self._add_readout_vars(model, [("Scount", "unsigned int", 0)], "Scount++;",
                                      code_field="reset")
