"""Nengo's adaptive non-spiking LIF neuron."""
from ..utils.decorators import network_default_params
from .nengo_neuron import Adaptation, LIFRateBase


class AdaptiveLIFRate(Adaptation, LIFRateBase):
    """Nengo's ``AdaptiveLIFRate``: :class:`LIFRate` driven by ``J - n``, with
    the adaptation ``n += (dt / tau_n) * (inc_n * Out - n)`` after each step
    (dt in seconds).

    Args:
        tau_n:     adaptation time constant (ms; Nengo's 1 s).
        inc_n:     adaptation increment.
        tau_rc:    membrane time constant (ms).
        tau_ref:   refractory period (ms).
        amplitude: scale of the output.
        n:         initial adaptation.
        gain:      Nengo's gain (number or one per neuron).
        bias:      Nengo's bias current (number or one per neuron).
        readout:   readout of the population, when it is an output.

    GeNN names: those of :class:`LIFRate`, params ``TauN`` (seconds),
    ``IncN`` and var ``N``.
    """
    model_params = LIFRateBase.model_params + Adaptation.adaptation_params
    state_vars = list(Adaptation.adaptation_vars)

    @network_default_params
    def __init__(self, tau_n: float = 1000.0, inc_n: float = 0.01, tau_rc: float = 20.0,
                 tau_ref: float = 2.0, amplitude: float = 1.0, n=0.0, gain=1.0, bias=0.0,
                 readout=None, **kwargs):
        super().__init__(tau_rc=tau_rc, tau_ref=tau_ref, amplitude=amplitude, gain=gain,
                         bias=bias, readout=readout, **kwargs)
        self.tau_n = tau_n
        self.inc_n = inc_n
        self.n = n

    def update_code(self, current, out):
        return self.adapted_code(self.lif_rate_code, current, out)
