"""Input neuron replaying pre-recorded spikes."""
import numpy as np

from ..genn import VarAccess
from ..utils.data import batch_spikes, calc_start_spikes
from ..utils.model import NeuronModel
from .input import Input
from .neuron import Neuron


class SpikeInput(Neuron, Input):
    """Replays spikes given as ``utils.data.PreprocessedSpikes`` (one per
    example of the batch). A spike with time ``ts`` (relative to the start of
    the example) is emitted at the first step with ``t >= ts``; at most one
    spike per neuron per step, so overdue spikes follow on consecutive steps.

    ``max_spikes`` is the size of the spike-time buffer shared by the whole
    batch: it must hold all spikes of a batch.
    GeNN names: vars ``StartSpike``, ``EndSpike``; EGP ``SpikeTimes``.
    """

    def __init__(self, max_spikes=1000000):
        super().__init__()
        from ..utils.checks import check_non_negative_int
        self.max_spikes = check_non_negative_int("SpikeInput", "max_spikes", max_spikes)

    def get_model(self, population, dt, batch_size):
        genn_model = {
            "vars": [("StartSpike", "unsigned int"),
                     ("EndSpike", "unsigned int", VarAccess.READ_ONLY_DUPLICATE)],
            "extra_global_params": [("SpikeTimes", "scalar*")],
            "threshold_condition_code":
                "StartSpike != EndSpike && t >= SpikeTimes[StartSpike]",
            "reset_code": "StartSpike++;"}
        return NeuronModel(genn_model, None, var_vals={"StartSpike": 0, "EndSpike": 0},
                           egp_vals={"SpikeTimes": np.zeros(self.max_spikes,
                                                            dtype=np.float32)})

    def set_input(self, genn_pop, batch_size: int, shape, input):
        batched = batch_spikes(input, batch_size)
        end_spikes = np.asarray(batched.end_spikes)
        start_spikes = calc_start_spikes(end_spikes)
        spike_times = batched.spike_times
        num = int(np.prod(shape))
        if end_spikes.shape[-1] != num:
            raise RuntimeError(f"spikes are for {end_spikes.shape[-1]} neurons but the "
                               f"population has {num}")
        spike_times = np.asarray(spike_times)
        if spike_times.size and not np.all(np.isfinite(spike_times)):
            raise ValueError("spike times contain NaN/inf; every spike time must be finite")
        if len(spike_times) > self.max_spikes:
            raise RuntimeError(f"a batch holds {len(spike_times)} spikes but SpikeInput's "
                               f"buffer holds max_spikes={self.max_spikes}; raise "
                               "max_spikes (e.g. batch_size * calc_max_spikes(data))")
        start_var = genn_pop.vars["StartSpike"]
        end_var = genn_pop.vars["EndSpike"]
        start_var.view[...] = np.reshape(start_spikes, start_var.view.shape)
        end_var.view[...] = np.reshape(end_spikes, end_var.view.shape)
        start_var.push_to_device()
        end_var.push_to_device()
        egp = genn_pop.extra_global_params["SpikeTimes"]
        egp.view[:len(spike_times)] = spike_times
        egp.push_to_device()
