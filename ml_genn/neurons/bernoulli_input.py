"""Input neuron emitting a spike with probability equal to the input."""
from ..utils.model import NeuronModel
from .input import InputBase, check_signed_spikes
from .neuron import Neuron


class BernoulliInput(Neuron, InputBase):
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

    def __init__(self, signed_spikes: bool = False, input_frames=1,
                 input_frame_timesteps=1):
        super().__init__(egp_name="Input", input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)
        if not isinstance(signed_spikes, bool):
            raise ValueError(f"signed_spikes must be True or False, got {signed_spikes!r}")
        check_signed_spikes(signed_spikes, input_frames)
        self.signed_spikes = signed_spikes

    def get_model(self, population, dt, batch_size):
        if self.signed_spikes:
            genn_model = {
                "vars": [("BernoulliEvent", "uint8_t")],
                "sim_code": "BernoulliEvent = (gennrand_uniform() <= fabs(Input)) ? 1 : 0;",
                "threshold_condition_code": "BernoulliEvent != 0 && Input > 0.0",
                "negative_threshold_condition_code": "BernoulliEvent != 0 && Input < 0.0"}
            model = NeuronModel(genn_model, None, var_vals={"BernoulliEvent": 0})
        else:
            genn_model = {
                "sim_code": "const bool bernoulliEvent = gennrand_uniform() <= fabs(Input);",
                "threshold_condition_code": "bernoulliEvent && Input > 0.0"}
            model = NeuronModel(genn_model, None)
        return self.create_input_model(model, batch_size, population.shape, "Input")
