"""Nengo's spiking rectified linear neuron (integrate and fire)."""
from ..utils.decorators import network_default_params
from ..utils.value import ValueDescriptor
from .nengo_neuron import NengoNeuron, regular_spike_code
from .rectified_linear import RectifiedLinear


class SpikingRectifiedLinear(RectifiedLinear):
    """Nengo's ``SpikingRectifiedLinear``: each step ``V += max(J, 0) * dt``
    (dt in seconds), ``n = floor(V)`` spikes, ``Out = amplitude * n / dt``,
    ``V -= n``. Its rate is :class:`RectifiedLinear`'s. Several spikes in
    one step are one ml_genn spike with output ``n * amplitude / dt``.

    Args:
        amplitude: scale of the output spikes.
        v:         initial voltage (Nengo draws it from U(0, 1); give an
                   array or an initializer for that).
        gain:      Nengo's gain (number or one per neuron).
        bias:      Nengo's bias current (number or one per neuron).
        readout:   readout of the population, when it is an output.

    GeNN names: those of :class:`RectifiedLinear` and var ``V``.
    """
    v = ValueDescriptor("V")
    spiking = True
    state_vars = [("V", "scalar")]

    @network_default_params
    def __init__(self, amplitude: float = 1.0, v=0.0, gain=1.0, bias=0.0, readout=None,
                 **kwargs):
        # not RectifiedLinear.__init__: network_default_params would apply
        # this class's network defaults (v included) to it a second time
        NengoNeuron.__init__(self, gain=gain, bias=bias, readout=readout, **kwargs)
        self.amplitude = amplitude
        self.v = v

    def update_code(self, current, out):
        return regular_spike_code(f"fmax({current}, 0.0)", "Amplitude", out)
