"""Readout of the (negated) time of the first spike."""
import numpy as np

from .readout import StateReadout
from .var import check_spiking

NO_SPIKE = float(-np.finfo(np.float32).max)


class FirstSpikeTime(StateReadout):
    """``-t`` of the first spike (so that argmax picks the earliest-spiking
    neuron); ``-3.4e38`` (float32 lowest) when a neuron did not spike.
    Var ``TFirstSpike``; on each spike ``TFirstSpike = max(-t, TFirstSpike)``."""

    def add_readout_logic(self, model, **kwargs):
        check_spiking(model, "FirstSpikeTime")
        return self._add_readout_vars(model, [("TFirstSpike", "scalar", NO_SPIKE)],
                                      "TFirstSpike = fmax(-t, TFirstSpike);",
                                      code_field="reset")
