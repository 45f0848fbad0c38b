"""Input neuron emitting Poisson spike trains at the input rate."""
from .random_event_input import RandomEventInput


class PoissonInput(RandomEventInput):
    """Each step, an event happens with probability ``1 - exp(-|x| dt)``
    (``x`` a rate in spikes per ms): a spike when ``x > 0``; with
    ``signed_spikes`` a negative spike (spike-like event) when ``x < 0``.

    Signed spikes keep each step's random draw in a read-write variable
    ``PoissonEvent`` (not present upstream, where the negative condition
    reads a sim-code local): the negative-spike condition is evaluated by the
    outgoing synapses and can only reference neuron variables.
    GeNN names: var ``Input`` (static) or EGP ``Input`` (frames > 1);
    ``PoissonEvent`` when signed.
    """

    event_var = "PoissonEvent"
    event_condition = "gennrand_uniform() >= exp(-fabs(Input) * dt)"
