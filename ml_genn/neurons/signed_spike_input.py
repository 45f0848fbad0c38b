"""Base of input neurons whose spikes take the sign of their data."""
from .input import InputBase, check_signed_spikes
from .neuron import Neuron


class SignedSpikeInput(Neuron, InputBase):
    """Data in ``Input`` (a static variable, or frames in an extra global
    parameter when ``input_frames > 1``); a spike for positive data and, with
    ``signed_spikes``, a negative spike (spike-like event) for negative data,
    which needs static input (the outgoing synapses evaluate it)."""

    def __init__(self, signed_spikes: bool = False, input_frames=1,
                 input_frame_timesteps=1):
        super().__init__(egp_name="Input", input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)
        check_signed_spikes(signed_spikes, input_frames)
        self.signed_spikes = signed_spikes
