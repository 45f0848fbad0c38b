"""Delta (instantaneous) synapse."""
from ..utils.model import SynapseModel
from .synapse import Synapse


class Delta(Synapse):
    """Each step the accumulated input ``inSyn`` is injected and cleared: a
    voltage jump of ``sum(w)`` in the step after the spike."""

    def __init__(self):
        super().__init__()

    def get_model(self, connection, dt, batch_size):
        return SynapseModel({"sim_code": "injectCurrent(inSyn);\ninSyn = 0.0;"})
