"""Nengo's sigmoid rate neuron."""
import numpy as np

from .nengo_neuron import TauRefRateBase, check_max_rates, per_neuron


class Sigmoid(TauRefRateBase):
    """Nengo's ``Sigmoid``: ``Out = (1 / tau_ref) / (1 + exp(-J))`` (Hz, tau_ref
    in seconds) with ``J = gain * Isyn + bias``; the maximum rate is
    ``1 / tau_ref``.

    Args:
        tau_ref: refractory period (ms; Nengo's default 0.0025 s).
        gain:    Nengo's gain (number or one per neuron).
        bias:    Nengo's bias current (number or one per neuron).
        readout: readout of the population, when it is an output.

    GeNN names: params ``TauRef`` (seconds), ``Gain``, ``Bias``, ``DtS``; var ``Out``.
    """

    def update_code(self, current, out):
        return f"{out} = (1.0 / TauRef) / (1.0 + exp(-{current}));\n"

    def rate_function(self, J):
        return self.inv_tau_ref() / (1 + np.exp(-np.asarray(J, dtype=float)))

    def gain_bias(self, max_rates, intercepts):
        """Nengo's closed form (``intercepts`` are where the rate is half the
        maximum ``1 / tau_ref``)."""
        max_rates, intercepts = per_neuron(max_rates, intercepts)
        inv_tau_ref = self.inv_tau_ref()
        check_max_rates(type(self).__name__, max_rates, inv_tau_ref)
        inverse = -np.log(inv_tau_ref / max_rates - 1.0)
        gain = inverse / (1.0 - intercepts)
        return gain, inverse - gain

    def max_rates_intercepts(self, gain, bias):
        inverse = np.asarray(gain, dtype=float) + bias
        return self.inv_tau_ref() / (1 + np.exp(-inverse)), 1 - inverse / gain
