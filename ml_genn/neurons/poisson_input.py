"""Input neuron emitting Poisson spike trains at the input rate."""
from ..utils.model import NeuronModel
from .input import InputBase, check_signed_spikes
from .neuron import Neuron


class PoissonInput(Neuron, InputBase):
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

    def __init__(self, signed_spikes: bool = False, input_frames=1,
                 input_frame_timesteps=1):
        super().__init__(egp_name="Input", input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)
        check_signed_spikes(signed_spikes, input_frames)
        self.signed_spikes = signed_spikes

    def get_model(self, population, dt, batch_size):
        if self.signed_spikes:
            genn_model = {
                "vars": [("PoissonEvent", "uint8_t")],
                "sim_code": "PoissonEvent = (gennrand_uniform() >= exp(-fabs(Input) * dt))"
                            " ? 1 : 0;",
                "threshold_condition_code": "PoissonEvent != 0 && Input > 0.0",
                "negative_threshold_condition_code": "PoissonEvent != 0 && Input < 0.0"}
            model = NeuronModel(genn_model, None, var_vals={"PoissonEvent": 0})
        else:
            genn_model = {
                "sim_code": "const bool poissonEvent = "
                            "gennrand_uniform() >= exp(-fabs(Input) * dt);",
                "threshold_condition_code": "poissonEvent && Input > 0.0"}
            model = NeuronModel(genn_model, None)
        return self.create_input_model(model, batch_size, population.shape, "Input")
