"""Integrate-and-fire neuron driven directly by input data."""
from .input import InputBase
from .integrate_fire import IntegrateFire


class IntegrateFireInput(IntegrateFire, InputBase):
    """IF neuron whose input current is the data value ``x``: ``V <- V + x``.

    Static input lives in the variable ``Input``; with ``input_frames > 1``
    the frames live in the extra global parameter ``Input`` (see InputBase).
    """

    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, input_frames=1,
                 input_frame_timesteps=1):
        super().__init__(v_thresh=v_thresh, v_reset=v_reset, v=v, egp_name="Input",
                         input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)

    def get_model(self, population, dt, batch_size):
        return self.create_input_model(super().get_model(population, dt, batch_size),
                                       batch_size, population.shape, "Isyn")
