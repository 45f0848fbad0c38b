"""Readout of the (negated) time of the first spike."""
from copy import deepcopy

import numpy as np

from .readout import Readout
from .var import check_spiking, read_var

NO_SPIKE = float(-np.finfo(np.float32).max)


class FirstSpikeTime(Readout):
    """``-t`` of the first spike (so that argmax picks the earliest-spiking
    neuron); ``-3.4e38`` (float32 lowest) when a neuron did not spike.
    Var ``TFirstSpike``; on each spike ``TFirstSpike = max(-t, TFirstSpike)``."""

    def add_readout_logic(self, model, **kwargs):
        check_spiking(model, "FirstSpikeTime")
        model = deepcopy(model)
        model.add_var("TFirstSpike", "scalar", NO_SPIKE)
        model.append_reset_code("TFirstSpike = fmax(-t, TFirstSpike);")
        return model

    def get_readout(self, genn_pop, batch_size, shape):
        return read_var(genn_pop, "TFirstSpike", batch_size, shape)

    @property
    def reset_vars(self):
        return [("TFirstSpike", "scalar", NO_SPIKE)]
