"""Nengo's rectified linear rate neuron."""
import numpy as np

from ..utils.decorators import network_default_params
from ..utils.value import ValueDescriptor
from .nengo_neuron import NengoNeuron, per_neuron


class RectifiedLinear(NengoNeuron):
    """Nengo's ``RectifiedLinear``: ``Out = amplitude * max(J, 0)`` (Hz) with
    ``J = gain * Isyn + bias``.

    Args:
        amplitude: scale of the output.
        gain:      Nengo's gain (number or one per neuron).
        bias:      Nengo's bias current (number or one per neuron).
        readout:   readout of the population, when it is an output.

    GeNN names: params ``Amplitude``, ``Gain``, ``Bias``, ``DtS``; var ``Out``.
    """
    amplitude = ValueDescriptor("Amplitude", constraint="positive")
    model_params = [("Amplitude", "scalar")]

    @network_default_params
    def __init__(self, amplitude: float = 1.0, gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(gain=gain, bias=bias, readout=readout, **kwargs)
        self.amplitude = amplitude

    def update_code(self, current, out):
        return f"{out} = Amplitude * fmax(0.0, {current});\n"

    def rate_function(self, J):
        return np.asarray(self.amplitude, dtype=float) * np.maximum(0.0, J)

    def gain_bias(self, max_rates, intercepts):
        """Nengo's closed form: ``gain = max_rates / (1 - intercepts)``,
        ``bias = -intercepts * gain``."""
        max_rates, intercepts = per_neuron(max_rates, intercepts)
        gain = max_rates / (1 - intercepts)
        return gain, -intercepts * gain

    def max_rates_intercepts(self, gain, bias):
        intercepts = -np.asarray(bias, dtype=float) / gain
        return gain * (1 - intercepts), intercepts
