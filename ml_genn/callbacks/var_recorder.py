"""Record a neuron variable of a population every time step."""
import numpy as np

from ._recording import PerExampleRecorder, get_group, var_layout, warn_shared_neuron
from .callback import Callback
from ..utils.filter import ExampleFilter, get_neuron_filter_mask
from ..utils.network import get_underlying_pop
from ..utils.value import get_genn_var_name


class VarRecorder(PerExampleRecorder, Callback):
    """Record a state variable of ``pop`` after every time step.

    Give either ``var`` (the Python attribute of the neuron, e.g. ``"v"``,
    mapped to its GeNN name, ``"V"``) or ``genn_var`` (a raw GeNN name such as
    ``"Scount"`` or ``"VAvg"``); ``RuntimeError`` if neither is given or the
    compiled model has no such variable.

    ``get_data()`` returns ``(key, list)`` with one ``(timesteps,
    n_selected_neurons)`` array per recorded example, in dataset order.
    Variables shared by the batch (e.g. per-neuron thresholds) are repeated
    for every selected example; variables shared by all neurons ignore the
    neuron filter (with a warning) and have one column.

    Unlike upstream, recording also works when the compiled network never
    calls ``on_batch_begin`` (batch 0 is assumed), and padding rows of a
    short final batch are skipped when the network passes ``num_examples``.
    """

    def __init__(self, pop, var=None, key=None, example_filter=None, neuron_filter=None,
                 genn_var=None):
        self._pop = get_underlying_pop(pop)
        if genn_var is not None:
            self._var = genn_var
        elif var is not None:
            self._var = get_genn_var_name(self._pop.neuron, var)
        else:
            raise RuntimeError("VarRecorder needs either var (a neuron attribute such as "
                               "'v') or genn_var (a GeNN variable name such as 'V')")
        from ..utils.checks import check_key
        self.key = check_key("VarRecorder", key)
        self._example_filter = ExampleFilter(example_filter)
        self._neuron_filter = neuron_filter
        self._neuron_mask = (None if self._pop.shape is None
                             else get_neuron_filter_mask(neuron_filter, self._pop.shape))

    def set_params(self, data=None, compiled_network=None, num_examples=None, **kwargs):
        genn_pop = get_group(compiled_network.neuron_populations, self._pop, "population")
        if self._var not in genn_pop.vars:
            raise RuntimeError(f"VarRecorder: the compiled model of population "
                               f"'{self._pop.name}' has no variable '{self._var}'; it has "
                               f"{', '.join(sorted(genn_pop.vars)) or 'none'}")
        if self._neuron_mask is None:
            self._neuron_mask = get_neuron_filter_mask(self._neuron_filter, self._pop.shape)
        self._genn_var = genn_pop.vars[self._var]
        batch_size = compiled_network.genn_model.batch_size
        self._batched, self._per_neuron = var_layout(self._genn_var, batch_size)
        if not self._per_neuron:
            warn_shared_neuron(f"variable '{self._var}' of '{self._pop.name}'",
                               self._neuron_filter is not None)
        self._reset_recording(batch_size, num_examples)

    def on_timestep_end(self, timestep: int):
        if self._batch_count == 0:
            return
        self._genn_var.pull_from_device()
        view = np.asarray(self._genn_var.view)
        rows = view.reshape((self._batch_size if self._batched else 1), -1)
        rows = self._select_rows(rows, self._batched)
        if self._per_neuron:
            rows = rows[:, self._neuron_mask]
        self._store(rows)   # boolean indexing / repeat made a copy
