"""Input neuron that spikes on every step its input is positive."""
from ..utils.model import NeuronModel
from .signed_spike_input import SignedSpikeInput


class BinarySpikeInput(SignedSpikeInput):
    """Spike on every step where the input ``x > 0``.

    With ``signed_spikes``, a "negative spike" (spike-like event, delivering
    ``-w`` downstream) is emitted on every step where ``x < 0``. Signed spikes
    need a static input (``input_frames == 1``): the negative condition is
    evaluated by the outgoing synapses and can only see neuron variables.
    GeNN names: var ``Input`` (static) or EGP ``Input`` (frames > 1).
    """

    def get_model(self, population, dt, batch_size):
        genn_model = {"threshold_condition_code": "Input > 0.0"}
        if self.signed_spikes:
            genn_model["negative_threshold_condition_code"] = "Input < 0.0"
        return self.create_input_model(NeuronModel(genn_model, None), batch_size,
                                       population.shape, "Input")
