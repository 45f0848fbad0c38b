"""Record the spikes of a population, per example."""
import numpy as np

from ._recording import get_group
from .callback import Callback
from ..utils.filter import ExampleFilter, get_neuron_filter_mask
from ..utils.network import get_underlying_pop


class SpikeRecorder(Callback):
    """Record spikes of ``pop`` (whose ``record_spikes`` must be ``True``).

    Args:
        pop: Population or layer.
        key: key of the data in the dict returned by evaluate/train.
        example_filter: which examples to record (see ``utils.filter``).
        neuron_filter: which neurons to record (see ``utils.filter``).
        record_counts: record per-neuron spike counts instead of spike times.

    ``get_data()`` returns ``(key, data)``: with ``record_counts=False``,
    ``data = (times_list, ids_list)`` with one array per recorded example
    (times in ms, from 0 within each example when time is reset between
    batches; ids are flat neuron indices, events of unselected neurons
    removed); with ``record_counts=True``, a list with one array of spike
    counts (one per selected neuron) per recorded example.

    Spikes are read from the engine's recording buffers at the end of each
    batch (when the step counter is a multiple of the compiled network's
    ``num_recording_timesteps``), so recording spikes does not force the
    network to step one time step at a time. The first ``SpikeRecorder`` in
    a callback list pulls the buffers from the device for all of them.
    """

    def __init__(self, pop, key=None, example_filter=None, neuron_filter=None,
                 record_counts: bool = False):
        self._pop = get_underlying_pop(pop)
        from ..utils.checks import check_key
        self.key = check_key("SpikeRecorder", key)
        self._example_filter = ExampleFilter(example_filter)
        self._neuron_filter = neuron_filter
        self._neuron_mask = (None if self._pop.shape is None
                             else get_neuron_filter_mask(neuron_filter, self._pop.shape))
        self._record_counts = record_counts
        self._pull = False
        self._compiled_network = None

    def set_params(self, data=None, compiled_network=None, num_examples=None, **kwargs):
        if not self._pop.record_spikes:
            raise RuntimeError(f"SpikeRecorder: population '{self._pop.name}' does not "
                               f"record spikes; create it with record_spikes=True")
        if getattr(compiled_network, "num_recording_timesteps", None) is None:
            raise RuntimeError("SpikeRecorder needs a compiled network with "
                               "num_recording_timesteps (spike recording buffers)")
        if self._neuron_mask is None:
            self._neuron_mask = get_neuron_filter_mask(self._neuron_filter, self._pop.shape)
        get_group(compiled_network.neuron_populations, self._pop, "population")
        self._compiled_network = compiled_network
        self._batch_size = compiled_network.genn_model.batch_size
        self._num_examples = num_examples
        self._pull = False
        if self._record_counts:
            self._counts = []
        else:
            self._times = []
            self._ids = []

    def set_first(self):
        self._pull = True

    def on_batch_end(self, batch: int, metrics):
        cn = self._compiled_network
        genn_model = cn.genn_model
        timestep = genn_model.timestep
        if timestep == 0 or timestep % cn.num_recording_timesteps != 0:
            return
        if self._pull:
            genn_model.pull_recording_buffers_from_device()
        mask = self._example_filter.get_batch_mask(batch, self._batch_size,
                                                   self._num_examples)
        if not mask.any():
            return
        recording = cn.neuron_populations[self._pop].spike_recording_data
        num_neurons = len(self._neuron_mask)
        for b in np.nonzero(mask)[0]:
            times, ids = recording[b]
            ids = np.asarray(ids)
            if self._record_counts:
                counts = np.bincount(ids.astype(np.int64), minlength=num_neurons)
                self._counts.append(counts[self._neuron_mask])
            else:
                keep = self._neuron_mask[ids.astype(np.int64)]
                self._times.append(np.asarray(times)[keep])
                self._ids.append(ids[keep])

    def get_data(self):
        if self._record_counts:
            return self.key, self._counts
        return self.key, (self._times, self._ids)
