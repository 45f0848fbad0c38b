"""Population-like groups of a model and their runtime views.

Each group holds its description (model, parameter values, initial values)
and, once the model is loaded, NumPy arrays shared with the native code
(zero copy on the CPU backend).
"""
import numbers

import numpy as np

from .errors import ModelError, RuntimeStateError
from .snippets import VarInit, check_names, derived_values
from .types import (SynapseMatrixConnectivity, VarAccessDim, custom_update_var_dims,
                    var_dims)


def numpy_dtype(ctype, precision):
    from .types import NUMERIC_TYPES
    t = ctype.replace("const ", "").strip().rstrip("*").strip()
    name = NUMERIC_TYPES[t]
    if name is None:
        name = "float32" if precision == "float" else "float64"
    return np.dtype(name)


def is_constant(value):
    """A plain number, or init_var("Constant", ...)."""
    if isinstance(value, (numbers.Number, np.number)) and not isinstance(value, bool):
        return True
    if isinstance(value, bool):
        return True
    return isinstance(value, VarInit) and value.snippet.class_name == "Constant"


def constant_value(value):
    if isinstance(value, VarInit):
        return value.params["constant"]
    return value


class ArrayView:
    """Base of variables and EGPs: a NumPy array once the model is loaded."""

    def __init__(self, group, name, ctype):
        self.group = group
        self.name = name
        self.type = ctype
        self._array = None

    @property
    def _loaded_array(self):
        if self._array is None:
            raise RuntimeStateError(
                f"'{self.group.name}.{self.name}' has no storage yet: call "
                "model.build() and model.load() first")
        return self._array

    def push_to_device(self):
        """Copy host values to the device (nothing to do on the CPU backend)."""
        self.group.genn_model._backend_push(self)

    def pull_from_device(self):
        """Copy device values to the host (nothing to do on the CPU backend)."""
        self.group.genn_model._backend_pull(self)


class Variable(ArrayView):
    """A state variable: ``view`` (zero-copy), ``values`` (copy)."""

    def __init__(self, group, name, ctype, access, init, count, kind="neuron"):
        super().__init__(group, name, ctype)
        self.access = access
        self.init = init
        self.count = count            # number of elements per batch copy
        self.kind = kind
        self.extra_global_params = {}
        if isinstance(init, VarInit):
            for egp in init.snippet.extra_global_params:
                self.extra_global_params[egp.name] = ExtraGlobalParameter(
                    group, f"{name}.{egp.name}", egp.type, owner_var=self)
            for egp_name, egp_value in init.extra_global_params.items():
                self.extra_global_params[egp_name].set_init_values(egp_value)

    @property
    def dims(self):
        """Axes of this variable; custom-update variables drop axes from
        those of the update they belong to."""
        if self.kind == "custom":
            return custom_update_var_dims(self.access, self.group.update_dims())
        return var_dims(self.access)

    @property
    def batched(self):
        return bool(self.dims & VarAccessDim.BATCH) and \
            self.group.genn_model.batch_size > 1

    @property
    def per_element(self):
        return bool(self.dims & VarAccessDim.ELEMENT)

    @property
    def view(self):
        arr = self._loaded_array
        if self.batched and self.per_element:
            return arr.reshape(self.group.genn_model.batch_size, -1)
        return arr

    current_view = view

    @property
    def values(self):
        """A copy in user order (sparse synapse variables: one per synapse)."""
        view = self.view
        if self.kind == "synapse" and self.group.is_sparse:
            sel = self.group._sparse_synapse_indices()
            return view[..., sel].copy()
        return view.copy()

    current_values = values

    @values.setter
    def values(self, vals):
        vals = np.asarray(vals)
        sparse = self.kind == "synapse" and self.group.is_sparse
        target_shape = self.values.shape if sparse else self.view.shape
        try:
            np.broadcast_to(vals, target_shape)
        except ValueError:
            raise ModelError(f"variable '{self.name}' of '{self.group.name}': cannot set "
                             f"{vals.shape} values; "
                             f"expected shape {target_shape} (or one that broadcasts to it)"
                             ) from None
        if sparse:
            self.view[..., self.group._sparse_synapse_indices()] = vals
        else:
            self.view[...] = vals

    def set_init_values(self, values):
        """Replace the initial value before load()."""
        self.init = values

    def set_values(self, values):
        self.values = values
        self.push_to_device()


class ExtraGlobalParameter(ArrayView):
    """A user-sized array (``scalar*``) visible to code by name."""

    def __init__(self, group, name, ctype, owner_var=None):
        super().__init__(group, name, ctype)
        self.owner_var = owner_var
        self.init_values = None

    def set_init_values(self, values):
        dtype = numpy_dtype(self.type, self.group.genn_model.precision)
        self.init_values = np.ascontiguousarray(np.asarray(values, dtype=dtype).ravel())
        if self.group.genn_model._loaded:
            self._array = self.init_values.copy()
            self.group.genn_model._rebind(self)

    @property
    def view(self):
        return self._loaded_array

    @property
    def values(self):
        return self._loaded_array.copy()

    @values.setter
    def values(self, vals):
        self.set_init_values(vals)


class Group:
    """Common part: name, model snippet, parameters, dynamic parameters."""
    kind = "group"

    def __init__(self, model, name, snippet, params):
        self.genn_model = model
        self.name = name
        self.snippet = snippet
        self.model = snippet          # pygenn name: the group's neuron/WU/... model
        self.params = dict(params)
        self.dynamic_params = []
        self._check_params()
        self.extra_global_params = {e.name: ExtraGlobalParameter(self, e.name, e.type)
                                    for e in snippet.extra_global_params}

    def _check_params(self):
        check_names(self._owner(), [p.name for p in self.snippet.params], self.params,
                    "parameter")
        for k, v in self.params.items():
            if not isinstance(v, (numbers.Number, np.number)):
                raise ModelError(f"{self.kind} '{self.name}': parameter '{k}' must be a "
                                 f"number, got {type(v).__name__}; per-element values "
                                 "belong in a variable")

    def _owner(self):
        return f"{self.kind} '{self.name}' ({self.snippet.class_name})"

    def set_param_dynamic(self, name, dynamic=True):
        """Make a parameter changeable after build (``set_dynamic_param_value``)."""
        self._set_dynamic(self.params, self.dynamic_params, name, dynamic,
                          "set_param_dynamic", "parameter")

    def set_dynamic_param_value(self, name, value):
        self._set_dynamic_value(self.params, self.dynamic_params, "dyn", name, value,
                                "set_param_dynamic", "parameter")

    def _set_dynamic(self, params, dynamic_params, name, dynamic, setter, what):
        self.genn_model._check_not_built(f"{setter} on '{self.name}'")
        if name not in params:
            raise ModelError(f"{self.kind} '{self.name}' has no {what} '{name}'")
        if dynamic and name not in dynamic_params:
            dynamic_params.append(name)
        elif not dynamic and name in dynamic_params:
            dynamic_params.remove(name)

    def _set_dynamic_value(self, params, dynamic_params, field, name, value, setter, what):
        if name not in dynamic_params:
            raise ModelError(f"{what} '{name}' of '{self.name}' is not dynamic: call "
                             f"{setter}('{name}') before build()")
        arr = self.genn_model._arrays.get((self.name, field))
        if arr is None:
            raise RuntimeStateError(f"setting the dynamic {what} '{name}' of '{self.name}' "
                                    "needs a loaded model")
        arr[dynamic_params.index(name)] = value
        params[name] = value

    def derived(self):
        return derived_values(self.snippet, self.params, self.genn_model.dt)

    def _make_vars(self, decls, values, count_fn, kind, what="variable"):
        values = dict(values or {})
        check_names(self._owner(), [v.name for v in decls], values, what, "initial value")
        out = {}
        for v in decls:
            init = values[v.name]
            if not (is_constant(init) or isinstance(init, VarInit)):
                init = np.asarray(init)
                if init.dtype == object:
                    raise ModelError(f"{self.kind} '{self.name}': {what} '{v.name}' has an "
                                     "initial value that is not numeric")
            out[v.name] = Variable(self, v.name, v.type, v.access, init, count_fn, kind)
        return out


class NeuronGroup(Group):
    kind = "neuron population"

    def __init__(self, model, name, num_neurons, snippet, params, vars):
        if not isinstance(num_neurons, (numbers.Integral, np.integer)) or num_neurons <= 0:
            raise ModelError(f"neuron population '{name}': the number of neurons must be a "
                             f"positive integer, got {num_neurons!r}")
        self.num_neurons = int(num_neurons)
        super().__init__(model, name, snippet, params)
        self.vars = self._make_vars(snippet.vars, vars, self.num_neurons, "neuron")
        self.spike_recording_enabled = False
        self.spike_event_recording_enabled = False
        self.in_syn = []
        self.out_syn = []
        self.current_sources = []

    @property
    def size(self):
        return self.num_neurons

    @property
    def num_delay_slots(self):
        return max([sg.axonal_delay_steps for sg in self.out_syn], default=0) + 1

    @property
    def spike_recording_data(self):
        """Per batch element, ``(times, ids)`` sorted by time then id."""
        return self.genn_model._spike_recording_data(self)

    @property
    def spike_event_recording_data(self):
        """Per batch element, ``(times, ids)`` of spike-like events."""
        return self.genn_model._spike_recording_data(self, events=True)

    @property
    def current_spikes(self):
        return self.genn_model._current_spikes(self)


class SynapseGroup(Group):
    kind = "synapse population"

    def __init__(self, model, name, matrix_type, src, trg, wu, ps, connectivity):
        self.matrix_type = matrix_type
        self.src = src
        self.trg = trg
        self.wu_initialiser = wu
        self.ps_initialiser = ps
        self.connectivity_initialiser = connectivity
        super().__init__(model, name, wu.snippet, wu.params)
        self.ps_params = dict(ps.params)
        self.axonal_delay_steps = 0
        self.max_dendritic_delay_timesteps = 1
        self.post_target_var = "Isyn"
        self.pre_target_var = "Isyn"
        self._user_connectivity = None
        self.vars = self._make_vars(wu.snippet.vars, wu.vars, None, "synapse")
        self.psm_vars = self._make_vars(ps.snippet.vars, ps.vars, trg.num_neurons, "psm",
                                        "postsynaptic variable")
        self.psm_extra_global_params = {e.name: ExtraGlobalParameter(self, e.name, e.type)
                                        for e in ps.snippet.extra_global_params}
        self.pre_vars = self._make_vars(wu.snippet.pre_vars, wu.pre_vars, src.num_neurons,
                                        "pre", "presynaptic variable")
        self.post_vars = self._make_vars(wu.snippet.post_vars, wu.post_vars, trg.num_neurons,
                                         "post", "postsynaptic variable")
        self.psm_dynamic_params = []
        self.kernel_size = None
        if connectivity is not None and hasattr(connectivity.snippet, "calc_kernel_size_func") \
                and connectivity.snippet.calc_kernel_size_func is not None:
            self.kernel_size = [int(k) for k in connectivity.snippet.calc_kernel_size_func(
                derived_values(connectivity.snippet, connectivity.params, model.dt))]

    @property
    def is_sparse(self):
        return self.matrix_type.connectivity == SynapseMatrixConnectivity.SPARSE

    @property
    def weight_kind(self):
        return self.matrix_type.weight

    # -- sparse connectivity ------------------------------------------
    def set_sparse_connections(self, pre_indices, post_indices):
        """Give SPARSE connectivity explicitly, as matching index arrays."""
        if not self.is_sparse:
            raise ModelError(f"set_sparse_connections on '{self.name}': only SPARSE synapse "
                             f"populations have explicit connections (this one is "
                             f"{self.matrix_type.name})")
        pre = np.asarray(pre_indices).ravel()
        post = np.asarray(post_indices).ravel()
        for what, idx in (("pre_indices", pre), ("post_indices", post)):
            if idx.size and idx.dtype.kind not in "iu" and not (
                    idx.dtype.kind == "f" and np.all(np.isfinite(idx))
                    and np.all(idx == np.floor(idx))):
                raise ModelError(f"set_sparse_connections on '{self.name}': {what} must be "
                                 f"integer neuron indices (got dtype {idx.dtype}"
                                 f"{' with NaN/inf or fractions' if idx.dtype.kind == 'f' else ''})")
        if pre.shape != post.shape:
            raise ModelError(f"set_sparse_connections on '{self.name}': pre_indices "
                             f"({pre.size}) and post_indices ({post.size}) differ in length")
        if pre.size and (pre.min() < 0 or pre.max() >= self.src.num_neurons):
            raise ModelError(f"set_sparse_connections on '{self.name}': pre index out of "
                             f"range 0..{self.src.num_neurons - 1}")
        if post.size and (post.min() < 0 or post.max() >= self.trg.num_neurons):
            raise ModelError(f"set_sparse_connections on '{self.name}': post index out of "
                             f"range 0..{self.trg.num_neurons - 1}")
        # Stable sort by row keeps the user's order within a row.
        order = np.argsort(pre, kind="stable")
        previous = self._user_connectivity
        self._user_connectivity = (pre[order].astype(np.uint32),
                                   post[order].astype(np.uint32), order)
        if self.genn_model._loaded:
            try:
                self.genn_model._upload_sparse(self)
            except BaseException:
                self._user_connectivity = previous   # rejected: keep what is loaded
                raise

    def _row_lengths(self):
        return self.genn_model._arrays[(self.name, "rowLength")]

    def _sparse_synapse_indices(self):
        row_len = self._row_lengths().astype(np.int64)
        stride = self.genn_model._sizes[(self.name, "stride")]
        starts = np.repeat(np.arange(row_len.size, dtype=np.int64) * stride, row_len)
        offsets = np.arange(row_len.sum()) - np.repeat(np.cumsum(row_len) - row_len, row_len)
        return starts + offsets

    def get_sparse_pre_inds(self):
        row_len = self._row_lengths()
        return np.repeat(np.arange(row_len.size, dtype=np.uint32), row_len)

    def get_sparse_post_inds(self):
        ind = self.genn_model._arrays[(self.name, "ind")]
        return ind[self._sparse_synapse_indices()].copy()

    def pull_connectivity_from_device(self):
        """Nothing to do on the CPU backend (kept for pygenn compatibility)."""

    def push_connectivity_to_device(self):
        """Nothing to do on the CPU backend (kept for pygenn compatibility)."""

    def set_wu_param_dynamic(self, name, dynamic=True):
        self.set_param_dynamic(name, dynamic)

    def set_ps_param_dynamic(self, name, dynamic=True):
        self._set_dynamic(self.ps_params, self.psm_dynamic_params, name, dynamic,
                          "set_ps_param_dynamic", "postsynaptic parameter")

    def set_ps_dynamic_param_value(self, name, value):
        self._set_dynamic_value(self.ps_params, self.psm_dynamic_params, "psm_dyn", name,
                                value, "set_ps_param_dynamic", "postsynaptic parameter")


class CurrentSource(Group):
    kind = "current source"

    def __init__(self, model, name, snippet, target, params, vars, var_refs=None):
        super().__init__(model, name, snippet, params)
        self.target = target
        self.target_var = "Isyn"
        self.vars = self._make_vars(snippet.vars, vars, target.num_neurons, "neuron")
        self.var_refs = dict(var_refs or {})


class CustomUpdate(Group):
    kind = "custom update"

    def __init__(self, model, name, group_name, snippet, params, vars, var_refs,
                 egp_refs=None):
        super().__init__(model, name, snippet, params)
        self.group_name = group_name
        self.var_refs = dict(var_refs or {})
        self.egp_refs = dict(egp_refs or {})
        check_names(f"custom update '{name}' ({snippet.class_name})",
                    [r.name for r in snippet.var_refs], self.var_refs, "variable reference")
        sizes = {r.size for r in self.var_refs.values()}
        if len(sizes) > 1:
            raise ModelError(f"custom update '{name}': all variable references must have "
                             f"the same number of elements, got {sorted(sizes)}")
        self.size = sizes.pop() if sizes else 1
        self.vars = self._make_vars(snippet.vars, vars, self.size, "custom")

    def update_dims(self):
        """ELEMENT, plus BATCH when any referenced variable is batched."""
        dims = VarAccessDim.ELEMENT
        if self.genn_model.batch_size > 1 and any(
                ref.variable_dims() & VarAccessDim.BATCH for ref in self.var_refs.values()):
            dims |= VarAccessDim.BATCH
        return dims
