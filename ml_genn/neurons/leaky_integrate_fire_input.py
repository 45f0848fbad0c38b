"""Leaky integrate-and-fire neuron driven directly by input data."""
from ..utils.decorators import network_default_params
from .input import InputBase
from .leaky_integrate_fire import LeakyIntegrateFire


class LeakyIntegrateFireInput(LeakyIntegrateFire, InputBase):
    """LIF neuron whose input current is the data value ``x`` (see InputBase).

    Network default parameters keyed on ``LeakyIntegrateFireInput`` apply
    (upstream [quirk]: there they can never take effect, because this
    constructor forwards every argument explicitly).
    """

    @network_default_params
    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, tau_mem=20.0,
                 tau_refrac=None, relative_reset: bool = True,
                 integrate_during_refrac: bool = True, scale_i: bool = False,
                 input_frames=1, input_frame_timesteps=1):
        super().__init__(v_thresh=v_thresh, v_reset=v_reset, v=v, tau_mem=tau_mem,
                         tau_refrac=tau_refrac, relative_reset=relative_reset,
                         integrate_during_refrac=integrate_during_refrac,
                         scale_i=scale_i, egp_name="Input", input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)

    def get_model(self, population, dt, batch_size):
        return self.create_input_model(super().get_model(population, dt, batch_size),
                                       batch_size, population.shape, "Isyn")
