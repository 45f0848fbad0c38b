"""Record a weight-update variable of a dense connection every time step."""
import numpy as np

from ._recording import PerExampleRecorder, get_group, var_layout
from .callback import Callback
from ..genn import SynapseMatrixConnectivity
from ..utils.filter import ExampleFilter, get_neuron_filter_mask
from ..utils.network import get_underlying_conn


class ConnVarRecorder(PerExampleRecorder, Callback):
    """Record weight-update variable ``genn_var`` (``"g"``, ``"d"``,
    ``"Gradient"``, ``"DeltaG"``, ...) of ``conn`` (Connection or Layer)
    after every time step.

    Only DENSE connectivity is supported (``NotImplementedError``);
    ``RuntimeError`` if the synapse group has no such variable. Each step
    stores the ``(num_src, num_trg)`` matrix masked by the source and target
    neuron filters. ``get_data()`` returns ``(key, list)`` with one
    ``(timesteps, n_src_sel, n_trg_sel)`` array per recorded example;
    variables shared by the batch are repeated for every selected example.
    """

    def __init__(self, conn, genn_var, key=None, example_filter=None,
                 src_neuron_filter=None, trg_neuron_filter=None):
        self._conn = get_underlying_conn(conn)
        self._var = genn_var
        from ..utils.checks import check_key
        self.key = check_key("ConnVarRecorder", key)
        self._example_filter = ExampleFilter(example_filter)
        self._src_filter = src_neuron_filter
        self._trg_filter = trg_neuron_filter

    def set_params(self, data=None, compiled_network=None, num_examples=None, **kwargs):
        sg = get_group(compiled_network.connection_populations, self._conn, "connection")
        connectivity = int(getattr(sg.matrix_type, "value", sg.matrix_type))
        if not connectivity & int(SynapseMatrixConnectivity.DENSE):
            raise NotImplementedError(f"ConnVarRecorder only supports DENSE connectivity; "
                                      f"'{self._conn.name}' uses {sg.matrix_type!s}")
        if self._var not in sg.vars:
            raise RuntimeError(f"ConnVarRecorder: connection '{self._conn.name}' has no "
                               f"variable '{self._var}'; it has "
                               f"{', '.join(sorted(sg.vars)) or 'none'}")
        src_shape = self._conn.source().shape
        trg_shape = self._conn.target().shape
        self._src_mask = get_neuron_filter_mask(self._src_filter, src_shape)
        self._trg_mask = get_neuron_filter_mask(self._trg_filter, trg_shape)
        self._num_src = len(self._src_mask)
        self._num_trg = len(self._trg_mask)
        self._genn_var = sg.vars[self._var]
        batch_size = compiled_network.genn_model.batch_size
        self._batched, _ = var_layout(self._genn_var, batch_size)
        self._reset_recording(batch_size, num_examples)

    def on_timestep_end(self, timestep: int):
        if self._batch_count == 0:
            return
        self._genn_var.pull_from_device()
        view = np.asarray(self._genn_var.view)
        rows = view.reshape((self._batch_size if self._batched else 1),
                            self._num_src, self._num_trg)
        rows = self._select_rows(rows, self._batched)
        rows = rows[:, self._src_mask][:, :, self._trg_mask]
        self._store(rows)   # boolean indexing / repeat made a copy
