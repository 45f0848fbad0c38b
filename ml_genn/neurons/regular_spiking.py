"""Nengo's RegularSpiking wrapper."""
from ..utils.decorators import network_default_params
from ..utils.value import ValueDescriptor
from .nengo_neuron import RatesToSpikes, regular_spike_code


class RegularSpiking(RatesToSpikes):
    """Nengo's ``RegularSpiking``: a rate neuron of the family made to spike
    at regular intervals. Each step the base neuron's rate goes into
    ``Rate`` (Hz), ``V += dt * Rate`` (dt in seconds), ``n = floor(V)``
    spikes, ``Out = amplitude * n / dt`` and ``V -= n`` (the remainder is
    kept). Several spikes in one step are one ml_genn spike with output
    ``n * amplitude / dt``.

    Args:
        base:      the rate neuron (``LIFRate()``, ``SoftLIFRate()``...).
        amplitude: scale of the output spikes.
        v:         initial voltage (Nengo draws it from U(0, 1)).
        readout:   readout of the population, when it is an output.

    GeNN names: the base's, param ``SpikeAmplitude`` and vars ``Rate``, ``V``.
    """
    v = ValueDescriptor("V")
    wrapper_vars = [("V", "scalar")]

    @network_default_params
    def __init__(self, base, amplitude: float = 1.0, v=0.0, readout=None, **kwargs):
        self._wrap(base, amplitude, readout, **kwargs)
        self.v = v

    def spike_code(self, rate, out):
        return regular_spike_code(rate, "SpikeAmplitude", out)
