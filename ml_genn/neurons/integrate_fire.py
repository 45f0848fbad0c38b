"""Non-leaky integrate-and-fire neuron."""
from ..utils.model import NeuronModel
from ..utils.value import ValueDescriptor
from .neuron import CurrentNeuron


class IntegrateFire(CurrentNeuron):
    """``V <- V + Isyn``; spike when ``V >= Vthresh``, then ``V <- Vreset``.

    GeNN names: var ``V``; params ``Vthresh``, ``Vreset``. Output var ``V``.
    """
    v_thresh = ValueDescriptor("Vthresh")
    v_reset = ValueDescriptor("Vreset")
    v = ValueDescriptor("V")

    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, readout=None, **kwargs):
        super().__init__(readout, **kwargs)
        self.v_thresh = v_thresh
        self.v_reset = v_reset
        self.v = v

    def get_model(self, population, dt, batch_size):
        genn_model = {
            "params": [("Vthresh", "scalar"), ("Vreset", "scalar")],
            "vars": [("V", "scalar")],
            "sim_code": self.sim_code_for("Isyn"),
            "threshold_condition_code": "V >= Vthresh",
            "reset_code": "V = Vreset;"}
        return NeuronModel.from_val_descriptors(genn_model, "V", self, dt)

    def sim_code_for(self, input_current):
        return f"V += {input_current};"
