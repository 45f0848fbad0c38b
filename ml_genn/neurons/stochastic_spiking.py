"""Nengo's StochasticSpiking wrapper."""
from .nengo_neuron import RatesToSpikes


class StochasticSpiking(RatesToSpikes):
    """Nengo's ``StochasticSpiking``: a rate neuron of the family made to
    spike by stochastic rounding. With ``e = Rate * dt`` (the base neuron's
    rate in Hz, dt in seconds), ``n = floor(e)`` spikes plus one more with
    probability ``e - floor(e)`` (one ``gennrand_uniform()`` draw per neuron
    per step, from the compiler's seeded RNG), ``Out = amplitude * n / dt``.
    A base with negative rates (``Tanh``) uses ``|Rate|`` and gives the
    output the rate's sign, as Nengo.

    Arguments and GeNN names: :class:`~ml_genn.neurons.nengo_neuron.RatesToSpikes`'
    (``StochasticSpiking(LIFRate(), amplitude=1.0)``).
    """

    def spike_code(self, rate, out):
        magnitude, sign = self.magnitude_and_sign(rate)
        return (f"const scalar eSpikes = DtS * {magnitude};\n"
                f"const scalar qSpikes = floor(eSpikes);\n"
                f"const scalar nSpikes = qSpikes + "
                f"((gennrand_uniform() < (eSpikes - qSpikes)) ? 1.0 : 0.0);\n"
                f"{out} = (SpikeAmplitude / DtS) * nSpikes{sign};\n")
