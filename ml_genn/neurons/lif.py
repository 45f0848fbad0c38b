"""Nengo's spiking leaky integrate-and-fire neuron."""
from ..utils.decorators import network_default_params
from .nengo_neuron import LIFSpikingBase


class LIF(LIFSpikingBase):
    """Nengo's spiking ``LIF`` neuron, step for step (times in seconds):

    * ``RefracTime -= dt``; the membrane integrates for ``delta =
      clip(dt - RefracTime, 0, dt)`` (a refractory period that ends inside
      the step leaves a partial step): ``V -= (J - V) * expm1(-delta /
      tau_rc)`` with ``J = gain * Isyn + bias`` held over the step;
    * a spike when ``V > 1``: ``Out = amplitude / dt``, ``V = 0`` and the
      refractory period starts at the exact spike time inside the step,
      ``RefracTime = tau_ref + dt + tau_rc * log1p(-(V - 1) / (J - 1))``;
      otherwise ``Out = 0`` and ``V`` is floored at ``min_voltage``.

    Its rate is :class:`LIFRate`'s. Not ml_genn's :class:`LeakyIntegrateFire`
    (threshold ``Vthresh``, discrete decay ``Alpha``, refractory time in whole
    steps): this class is the Nengo family's LIF (see
    :mod:`ml_genn.neurons.nengo_neuron`); the name is Nengo's.

    Args:
        tau_rc:      membrane time constant (ms; Nengo's 0.02 s).
        tau_ref:     refractory period (ms; Nengo's 0.002 s).
        min_voltage: floor of the voltage (<= 0; ``-inf`` is not allowed, use
                     a large negative number).
        amplitude:   scale of the output spikes.
        v:           initial voltage (Nengo draws it from U(0, 1); give an
                     array or an initializer for that).
        gain:        Nengo's gain (number or one per neuron).
        bias:        Nengo's bias current (number or one per neuron).
        readout:     readout of the population, when it is an output.

    GeNN names: params ``TauRC``, ``TauRef`` (seconds), ``MinVoltage``,
    ``Amplitude``, ``Gain``, ``Bias``, ``DtS``; vars ``Out`` (output),
    ``V``, ``RefracTime`` (seconds).
    """

    @network_default_params
    def __init__(self, tau_rc: float = 20.0, tau_ref: float = 2.0, min_voltage: float = 0.0,
                 amplitude: float = 1.0, v=0.0, gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(tau_rc=tau_rc, tau_ref=tau_ref, min_voltage=min_voltage,
                         amplitude=amplitude, v=v, gain=gain, bias=bias, readout=readout,
                         **kwargs)

    def update_code(self, current, out):
        return self.lif_spiking_code(current, out)
