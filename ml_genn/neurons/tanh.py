"""Nengo's hyperbolic tangent rate neuron."""
import numpy as np

from .nengo_neuron import TauRefRateBase, check_max_rates, per_neuron


class Tanh(TauRefRateBase):
    """Nengo's ``Tanh``: ``Out = (1 / tau_ref) * tanh(J)`` (Hz, tau_ref in
    seconds) with ``J = gain * Isyn + bias``; negative outputs are allowed.

    Args:
        tau_ref: refractory period (ms; Nengo's default 0.0025 s).
        gain:    Nengo's gain (number or one per neuron).
        bias:    Nengo's bias current (number or one per neuron).
        readout: readout of the population, when it is an output.

    GeNN names: params ``TauRef`` (seconds), ``Gain``, ``Bias``, ``DtS``; var ``Out``.
    """
    negative = True

    def update_code(self, current, out):
        return f"{out} = (1.0 / TauRef) * tanh({current});\n"

    def rate_function(self, J):
        return self.inv_tau_ref() * np.tanh(np.asarray(J, dtype=float))

    def gain_bias(self, max_rates, intercepts):
        """Nengo's closed form."""
        max_rates, intercepts = per_neuron(max_rates, intercepts)
        inv_tau_ref = self.inv_tau_ref()
        check_max_rates(type(self).__name__, max_rates, inv_tau_ref)
        inverse = np.arctanh(max_rates / inv_tau_ref)
        gain = inverse / (1.0 - intercepts)
        return gain, -gain * intercepts

    def max_rates_intercepts(self, gain, bias):
        gain = np.asarray(gain, dtype=float)
        return self.inv_tau_ref() * np.tanh(gain + bias), -np.asarray(bias) / gain
