"""Input neuron presenting the data value itself as its (graded) output."""
from ..utils.model import NeuronModel
from .input import InputBase
from .nengo_neuron import OUTPUT_VAR
from .neuron import Neuron


class RateInput(Neuron, InputBase):
    """Each step ``Out = x``, the input data value: the continuous input of a
    Nengo network (a ``Node``). ``graded_output``: the compilers deliver
    ``g * x`` to the next layer every step ``x`` is not 0 (the population
    never spikes).

    Args:
        input_frames:          number of input frames (time-varying input
                               when above 1; see ``InputBase``).
        input_frame_timesteps: steps each frame is presented for.

    GeNN names: var ``Out`` (output) and ``Input`` (static input) or EGP
    ``Input`` (frames).
    """
    graded_output = True

    def __init__(self, input_frames: int = 1, input_frame_timesteps: int = 1):
        super().__init__(egp_name="Input", input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)

    def get_model(self, population, dt, batch_size):
        model = NeuronModel({"vars": [(OUTPUT_VAR, "scalar")],
                             "sim_code": f"{OUTPUT_VAR} = Isyn;"},
                            OUTPUT_VAR, var_vals={OUTPUT_VAR: 0.0})
        return self.create_input_model(model, batch_size, population.shape, "Isyn")
