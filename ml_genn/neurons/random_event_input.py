"""Input neurons that spike when a random event happens (one draw per step)."""
from ..utils.model import NeuronModel
from .signed_spike_input import SignedSpikeInput


class RandomEventInput(SignedSpikeInput):
    """Each step an event happens when :attr:`event_condition` (a code
    expression drawing ``gennrand_uniform()`` and reading ``Input``) holds:
    a spike when ``Input > 0``; with ``signed_spikes`` a negative spike
    (spike-like event) when ``Input < 0``.  Subclasses say how likely the
    event is.

    Signed spikes keep each step's draw in the read-write variable
    :attr:`event_var`: the negative-spike condition is evaluated by the
    outgoing synapses and can only reference neuron variables.
    GeNN names: var ``Input`` (static) or EGP ``Input`` (frames > 1);
    :attr:`event_var` when signed.
    """
    #: name of the variable holding the draw when spikes are signed
    event_var = "Event"
    #: code expression, true when this step's event happens
    event_condition = "false"

    def get_model(self, population, dt, batch_size):
        var = self.event_var
        if self.signed_spikes:
            genn_model = {
                "vars": [(var, "uint8_t")],
                "sim_code": f"{var} = ({self.event_condition}) ? 1 : 0;",
                "threshold_condition_code": f"{var} != 0 && Input > 0.0",
                "negative_threshold_condition_code": f"{var} != 0 && Input < 0.0"}
            model = NeuronModel(genn_model, None, var_vals={var: 0})
        else:
            local = var[0].lower() + var[1:]
            genn_model = {
                "sim_code": f"const bool {local} = {self.event_condition};",
                "threshold_condition_code": f"{local} && Input > 0.0"}
            model = NeuronModel(genn_model, None)
        return self.create_input_model(model, batch_size, population.shape, "Input")
