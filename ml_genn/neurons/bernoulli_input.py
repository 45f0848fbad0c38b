"""Input neuron emitting a spike with probability equal to the input."""
from .random_event_input import RandomEventInput


class BernoulliInput(RandomEventInput):
    """Each step, an event happens with probability ``min(|x|, 1)`` (``x`` a
    spike probability per time step, independent of ``dt``): a spike when
    ``x > 0``; with ``signed_spikes`` a negative spike (spike-like event,
    delivering ``-w`` downstream) when ``x < 0``.

    The expected number of spikes in ``n`` steps is exactly ``n min(|x|, 1)``,
    so the spike rate is proportional to the input, as for an
    integrate-and-fire input (``IntegrateFireInput``: ``V += x``). This is
    the rate code of inputs normalised to ``[0, 1]`` (e.g. converted ANNs).
    :class:`PoissonInput` instead treats ``x`` as a rate in spikes/ms and
    spikes with probability ``1 - exp(-|x| dt)``, which compresses large
    inputs (``x = 1``, ``dt = 1``: 0.63).

    The draw is ``u <= |x|`` with ``u`` uniform in ``(0, 1]``: never a spike
    for ``x = 0``, always one for ``|x| >= 1``. NaN inputs never spike.
    Signed spikes keep each step's draw in a read-write variable
    ``BernoulliEvent`` (the negative-spike condition is evaluated by the
    outgoing synapses and can only reference neuron variables); they need
    static input (``input_frames == 1``).
    GeNN names: var ``Input`` (static) or EGP ``Input`` (frames > 1);
    ``BernoulliEvent`` when signed.
    """

    event_var = "BernoulliEvent"
    event_condition = "gennrand_uniform() <= fabs(Input)"

    def __init__(self, signed_spikes: bool = False, input_frames=1,
                 input_frame_timesteps=1):
        if not isinstance(signed_spikes, bool):
            raise ValueError(f"signed_spikes must be True or False, got {signed_spikes!r}")
        super().__init__(signed_spikes, input_frames, input_frame_timesteps)
