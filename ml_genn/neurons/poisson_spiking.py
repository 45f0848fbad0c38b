"""Nengo's PoissonSpiking wrapper."""
from .nengo_neuron import RatesToSpikes

#: The Poisson mean is drawn in chunks of at most this size (Knuth's method
#: per chunk; sums of Poisson numbers are Poisson)
POISSON_CHUNK = 10.0


class PoissonSpiking(RatesToSpikes):
    """Nengo's ``PoissonSpiking``: a rate neuron of the family made to spike
    with Poisson statistics: each step ``n ~ Poisson(Rate * dt)`` spikes (the
    base neuron's rate in Hz, dt in seconds) and ``Out = amplitude * n /
    dt``. Drawn from the compiler's seeded RNG by Knuth's multiplication
    method, in chunks of mean at most 10 (cost grows with the mean). A base
    with negative rates (``Tanh``) uses ``|Rate|`` and gives the output the
    rate's sign, as Nengo.

    Arguments and GeNN names: :class:`~ml_genn.neurons.nengo_neuron.RatesToSpikes`'
    (``PoissonSpiking(LIFRate(), amplitude=1.0)``).
    """

    def spike_code(self, rate, out):
        magnitude, sign = self.magnitude_and_sign(rate)
        return (f"scalar lamPoisson = DtS * {magnitude};\n"
                f"scalar nSpikes = 0.0;\n"
                f"while (lamPoisson > 0.0) {{\n"
                f"    const scalar chunk = fmin(lamPoisson, {POISSON_CHUNK});\n"
                f"    lamPoisson -= chunk;\n"
                f"    const scalar limit = exp(-chunk);\n"
                f"    scalar p = gennrand_uniform();\n"
                f"    while (p > limit) {{\n"
                f"        nSpikes += 1.0;\n"
                f"        p *= gennrand_uniform();\n"
                f"    }}\n"
                f"}}\n"
                f"{out} = (SpikeAmplitude / DtS) * nSpikes{sign};\n")
