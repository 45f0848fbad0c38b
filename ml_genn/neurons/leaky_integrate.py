"""Non-spiking leaky integrator (typically an output population)."""
import numpy as np

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import ValueDescriptor
from .neuron import CurrentNeuron


class LeakyIntegrate(CurrentNeuron):
    """``V <- Alpha*V + J + Bias`` with ``Alpha = exp(-dt/tau_mem)`` and
    ``J = Isyn`` (or ``(1 - Alpha)*Isyn`` when ``scale_i``). Never spikes.

    GeNN names: var ``V``; params ``Alpha``, ``Bias``. Output var ``V``.
    """
    v = ValueDescriptor("V")
    bias = ValueDescriptor("Bias")
    tau_mem = ValueDescriptor(("Alpha", lambda val, dt: np.exp(-dt / val)),
                              constraint="positive")

    @network_default_params
    def __init__(self, v=0.0, bias=0.0, tau_mem=20.0, scale_i: bool = False,
                 readout=None, **kwargs):
        super().__init__(readout, **kwargs)
        self.v = v
        self.bias = bias
        self.tau_mem = tau_mem
        self.scale_i = scale_i

    def get_model(self, population, dt, batch_size):
        genn_model = {
            "params": [("Alpha", "scalar"), ("Bias", "scalar")],
            "vars": [("V", "scalar")],
            "sim_code": self.sim_code_for("Isyn")}
        return NeuronModel.from_val_descriptors(genn_model, "V", self, dt)

    def sim_code_for(self, input_current):
        if self.scale_i:
            return f"V = (Alpha * V) + ((1.0 - Alpha) * {input_current}) + Bias;"
        return f"V = (Alpha * V) + {input_current} + Bias;"
