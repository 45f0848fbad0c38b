"""Nengo's non-spiking leaky integrate-and-fire neuron."""
from ..utils.decorators import network_default_params
from .nengo_neuron import LIFRateBase


class LIFRate(LIFRateBase):
    """Nengo's ``LIFRate``: the steady-state rate of a LIF neuron,
    ``Out = amplitude / (tau_ref + tau_rc * log1p(1 / (J - 1)))`` (Hz, times
    in seconds) for ``J > 1``, 0 otherwise, with ``J = gain * Isyn + bias``.

    Not ml_genn's :class:`LeakyIntegrateFire` (a spiking LIF with its own
    threshold and reset): this is the Nengo family (see
    :mod:`ml_genn.neurons.nengo_neuron`).

    Args:
        tau_rc:    membrane time constant (ms; Nengo's 0.02 s).
        tau_ref:   refractory period (ms; Nengo's 0.002 s).
        amplitude: scale of the output.
        gain:      Nengo's gain (number or one per neuron).
        bias:      Nengo's bias current (number or one per neuron).
        readout:   readout of the population, when it is an output.

    GeNN names: params ``TauRC``, ``TauRef`` (seconds), ``Amplitude``,
    ``Gain``, ``Bias``, ``DtS`` (dt in seconds); var ``Out`` (output).
    """

    @network_default_params
    def __init__(self, tau_rc: float = 20.0, tau_ref: float = 2.0, amplitude: float = 1.0,
                 gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(tau_rc=tau_rc, tau_ref=tau_ref, amplitude=amplitude, gain=gain,
                         bias=bias, readout=readout, **kwargs)

    def update_code(self, current, out):
        return self.lif_rate_code(current, out)
