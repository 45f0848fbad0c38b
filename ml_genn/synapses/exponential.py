"""Exponentially decaying current synapse."""
import numpy as np

from ..utils.decorators import network_default_params
from ..utils.model import SynapseModel
from ..utils.value import ValueDescriptor
from .synapse import Synapse


class Exponential(Synapse):
    """Each step inject ``inSyn`` (times ``IScale = (tau/dt)(1 - exp(-dt/tau))``
    when ``scale_i``), then ``inSyn *= ExpDecay`` with ``ExpDecay =
    exp(-dt/tau)``. ``tau`` cannot be an initializer."""
    tau = ValueDescriptor(("ExpDecay", lambda val, dt: np.exp(-dt / val)),
                          ("IScale", lambda val, dt: (val / dt) * (1.0 - np.exp(-dt / val))),
                          constraint="positive")

    @network_default_params
    def __init__(self, tau=5.0, scale_i: bool = False):
        super().__init__()
        self.tau = tau
        self.scale_i = scale_i

    def get_model(self, connection, dt, batch_size):
        if self.scale_i:
            genn_model = {"params": [("ExpDecay", "scalar"), ("IScale", "scalar")],
                          "sim_code": "injectCurrent(inSyn * IScale);\ninSyn *= ExpDecay;"}
        else:
            genn_model = {"params": [("ExpDecay", "scalar")],
                          "sim_code": "injectCurrent(inSyn);\ninSyn *= ExpDecay;"}
        return SynapseModel.from_val_descriptors(genn_model, self, dt)
