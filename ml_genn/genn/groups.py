"""Population-like groups of a model and their runtime views.

Each group holds its description (model, parameter values, initial values)
and, once the model is loaded, NumPy arrays shared with the native code
(zero copy on the CPU backend).
"""
import numbers
from collections.abc import Mapping

import numpy as np

from .errors import ModelError, RuntimeStateError
from .locations import CustomConnectivityLocations, GroupLocations, SynapseLocations
from .snippets import VarInit, check_names, derived_users, derived_values, dynamic_slots
from .types import (SynapseMatrixConnectivity, SynapseMatrixWeight, VarAccessDim,
                    custom_update_var_dims, var_dims)


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


def checked_values(values, dtype, what):
    """``values`` as a NumPy array that converts to ``dtype`` without loss of
    meaning: numbers only (no strings, None, objects or complex numbers);
    for integer types, finite integers within the type's range."""
    if values is None or isinstance(values, (str, bytes, dict)):
        raise ModelError(f"{what}: expected numbers, got {type(values).__name__}")
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as e:
        raise ModelError(f"{what}: expected an array of numbers ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise ModelError(f"{what}: expected numbers, got an array of dtype {arr.dtype}")
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and arr.size:
        info = np.iinfo(dtype)
        if arr.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                ok = bool(np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)))
            if not ok:
                raise ModelError(f"{what}: the type is {dtype} but the values include NaN, "
                                 "infinite or fractional numbers")
        lo, hi = arr.min(), arr.max()
        if lo < info.min or hi > info.max:
            raise ModelError(f"{what}: values must lie in {info.min}..{info.max} (type "
                             f"{dtype}), got {lo}..{hi}")
    return arr


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
            mt = getattr(self.group, "matrix_type", None)
            if (mt is not None and mt.weight == SynapseMatrixWeight.PROCEDURAL
                    and self.name in self.group.vars):
                raise RuntimeStateError(
                    f"'{self.group.name}.{self.name}' has no storage: synapse population "
                    f"'{self.group.name}' is {mt.name}, so its variables are computed from "
                    "their initialisers wherever they are used (DENSE or SPARSE keep them)")
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
        if self.group.kind == "custom connectivity update":
            # one copy shared by the batch: connectivity is shared by it too
            return var_dims(self.access) & ~VarAccessDim.BATCH
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

    def _sparse_rows(self):
        """The SPARSE synapse population whose padded rows this variable is
        stored in (its own, or the one a custom update's references point
        at), or None."""
        if self.kind == "synapse":
            return self.group if self.group.is_sparse else None
        if self.kind == "custom" and isinstance(self.group.size, tuple) and self.per_element:
            sg = next(r.group for r in self.group.var_refs.values() if r.kind == "wu")
            return sg if sg.is_sparse else None
        return None

    @property
    def values(self):
        """A copy in user order (sparse synapse variables: one per synapse)."""
        view = self.view
        rows = self._sparse_rows()
        if rows is not None:
            return view[..., rows._sparse_synapse_indices()].copy()
        return view.copy()

    current_values = values

    @values.setter
    def values(self, vals):
        vals = checked_values(vals, self._loaded_array.dtype,
                              f"variable '{self.name}' of '{self.group.name}'")
        rows = self._sparse_rows()
        target_shape = self.values.shape if rows is not None else self.view.shape
        try:
            np.broadcast_to(vals, target_shape)
        except ValueError:
            raise ModelError(f"variable '{self.name}' of '{self.group.name}': cannot set "
                             f"{vals.shape} values; "
                             f"expected shape {target_shape} (or one that broadcasts to it)"
                             ) from None
        with self.group.genn_model._lock:      # not while another thread runs the model
            if rows is not None:
                self.view[..., rows._sparse_synapse_indices()] = vals
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
        arr = checked_values(values, dtype, f"extra global parameter '{self.name}' of "
                                            f"'{self.group.name}'")
        self.init_values = np.ascontiguousarray(arr.astype(dtype).ravel())
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


def _as_dict(value, owner, what):
    """``value`` (None or a mapping of names) as a dict."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ModelError(f"{owner}: {what} must be a dict of name -> value, got "
                         f"{type(value).__name__}")
    return dict(value)


class Group(GroupLocations):
    """Common part: name, model snippet, parameters, dynamic parameters."""
    kind = "group"

    @property
    def name(self):
        """The group's name, checked when it was added (read-only: the model's
        tables and the generated code are keyed by it)."""
        return self._name

    def __init__(self, model, name, snippet, params):
        self.genn_model = model
        self._name = name
        self.snippet = snippet
        self.model = snippet          # pygenn name: the group's neuron/WU/... model
        self.params = _as_dict(params, f"{self.kind} '{name}'", "params")
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
        """Make a parameter changeable after build (``set_dynamic_param_value``).

        Derived parameters computed from it (LIF's ``ExpTC`` from ``TauM``,
        Poisson's ``isi`` from ``rate``...) become dynamic with it and are
        recomputed whenever it is set (GeNN keeps their initial values)."""
        self._set_dynamic(self.params, self.dynamic_params, name, dynamic,
                          "set_param_dynamic", "parameter", self.snippet)

    def set_dynamic_param_value(self, name, value):
        self._set_dynamic_value(self.params, self.dynamic_params, "dyn", name, value,
                                "set_param_dynamic", "parameter")

    def _set_dynamic(self, params, dynamic_params, name, dynamic, setter, what, snippet=None):
        self.genn_model._check_not_built(f"{setter} on '{self.name}'")
        if name not in params:
            raise ModelError(f"{self.kind} '{self.name}' has no {what} '{name}'")
        users = derived_users(snippet, params, name, self._dt()) if dynamic and snippet else []
        types = {d.name: d.type for d in getattr(snippet, "derived_params", ())}
        integer = [u for u in users if types[u] not in ("scalar", "float", "double")]
        if integer:
            raise ModelError(f"{self.kind} '{self.name}': {what} '{name}' of model "
                             f"'{snippet.class_name}' cannot be dynamic: the derived "
                             f"parameter(s) {', '.join(repr(u) for u in integer)} computed from "
                             "it are integers, and dynamic values are held as scalars")
        if dynamic and name not in dynamic_params:
            dynamic_params.append(name)
            # in name order, whatever the order of the calls: the generated
            # code (and so the build cache) does not depend on it
            dynamic_params.sort()
        elif not dynamic and name in dynamic_params:
            dynamic_params.remove(name)

    def _set_dynamic_value(self, params, dynamic_params, field, name, value, setter, what):
        if name not in dynamic_params:
            raise ModelError(f"{what} '{name}' of '{self.name}' is not dynamic: call "
                             f"{setter}('{name}') before build()")
        if isinstance(value, (bool, np.bool_)) or \
                not isinstance(value, (numbers.Real, np.number)) or \
                (isinstance(value, np.number) and value.dtype.kind == "c"):
            raise ModelError(f"{self.kind} '{self.name}': the value of the dynamic {what} "
                             f"'{name}' must be a real number, got {value!r}")
        snippet = self.ps_initialiser.snippet if field == "psm_dyn" else self.snippet
        from .builtins.constraints import check
        check(snippet, {**params, name: value}, f"{self.kind} '{self.name}'")
        with self.genn_model._lock:
            arr = self.genn_model._arrays.get((self.name, field))
            if arr is None:
                raise RuntimeStateError(f"setting the dynamic {what} '{name}' of "
                                        f"'{self.name}' needs a loaded model")
            # the derived parameters computed from it follow it
            values = derived_values(snippet, {**params, name: value}, self._dt())
            arr[:] = [values[p] for p in self.dyn_slots(field)]
            self.genn_model._runtime.push((self.name, field))
            params[name] = value

    def dyn_slots(self, field="dyn"):
        """Names in the ``dyn`` (``psm_dyn``) array: see :func:`dynamic_slots`."""
        if field == "psm_dyn":
            return dynamic_slots(self.ps_initialiser.snippet, self.ps_params,
                                 self.psm_dynamic_params, self._dt())
        return dynamic_slots(self.snippet, self.params, self.dynamic_params, self._dt())

    def _dt(self):
        """dt of the loaded code (it has dt built in), else the model's dt."""
        m = self.genn_model
        return m._built_dt if m._loaded else m.dt

    def derived(self):
        return derived_values(self.snippet, self.params, self._dt())

    def _make_vars(self, decls, values, count_fn, kind, what="variable"):
        values = _as_dict(values, f"{self.kind} '{self.name}'", f"the initial {what} values")
        check_names(self._owner(), [v.name for v in decls], values, what, "initial value")
        out = {}
        for v in decls:
            init = values[v.name]
            if not (is_constant(init) or isinstance(init, VarInit)):
                init = np.asarray(init)
                if init.dtype.kind not in "biuf" and not (
                        init.dtype == object and all(isinstance(x, numbers.Number)
                                                     for x in init.ravel())):
                    raise ModelError(f"{self.kind} '{self.name}': {what} '{v.name}' has an "
                                     "initial value that is not numeric")
            out[v.name] = Variable(self, v.name, v.type, v.access, init, count_fn, kind)
        return out


class NeuronGroup(Group):
    kind = "neuron population"

    def __init__(self, model, name, num_neurons, snippet, params, vars):
        if isinstance(num_neurons, (bool, np.bool_)) or \
                not isinstance(num_neurons, (numbers.Integral, np.integer)) or num_neurons <= 0:
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
        """Slots of the spike queue (and of spike times and delayed variables):
        the largest axonal delay of an outgoing synapse population or
        back-propagation delay of an incoming one, plus one."""
        return max([sg.axonal_delay_steps for sg in self.out_syn]
                   + [sg.back_prop_delay_steps for sg in self.in_syn], default=0) + 1

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


class SynapseGroup(SynapseLocations, Group):
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
        # GPU thread mapping of SPARSE propagation (None: chosen by row length)
        self.parallelism_hint = None
        self.num_threads_per_spike = 1
        # postsynaptic spikes reach post_spike_syn_code this many steps later
        self.back_prop_delay_steps = 0
        self.max_dendritic_delay_timesteps = 1
        self.post_target_var = "Isyn"
        self.pre_target_var = "Isyn"
        self._user_connectivity = None
        # padded row length of SPARSE rows (None: from the connectivity snippet's
        # calc_max_row_len_func or the longest row given); room for add_synapse
        self._max_connections = None
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
            from .snippets import user_count
            what = (f"synapse population '{name}': calc_kernel_size_func of "
                    f"'{connectivity.snippet.class_name}'")
            sizes = connectivity.snippet.calc_kernel_size_func(
                derived_values(connectivity.snippet, connectivity.params, model.dt))
            if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
                raise ModelError(f"{what} must return a list of positive integers, got "
                                 f"{sizes!r}")
            self.kernel_size = [user_count(k, what + " (every kernel dimension)", 1)
                                for k in sizes]
            if not self.kernel_size:
                raise ModelError(f"{what} must return at least one kernel dimension")

    @property
    def max_connections(self):
        """Padded length of SPARSE rows (room for ``add_synapse``): the value
        set, else, once built, the length the rows got (the connectivity
        snippet's bound or the longest row given); None before that."""
        if self._max_connections is not None:
            return self._max_connections
        if self.genn_model._built is None:
            return None
        return self.genn_model._sizes.get((self.name, "stride"))

    @max_connections.setter
    def max_connections(self, value):
        self._max_connections = value

    @property
    def is_sparse(self):
        return self.matrix_type.connectivity == SynapseMatrixConnectivity.SPARSE

    @property
    def weight_kind(self):
        return self.matrix_type.weight

    # -- sparse connectivity ------------------------------------------
    def set_sparse_connections(self, pre_indices, post_indices):
        """Give SPARSE (or BITMASK) connectivity explicitly, as matching index arrays."""
        if not (self.is_sparse or
                self.matrix_type.connectivity == SynapseMatrixConnectivity.BITMASK):
            raise ModelError(f"set_sparse_connections on '{self.name}': only SPARSE synapse "
                             f"populations (and BITMASK ones) have explicit connections (this "
                             f"one is {self.matrix_type.name})")
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
        if not self.is_sparse:
            raise ModelError(f"'{self.name}' is {self.matrix_type.name}: only SPARSE synapse "
                             "populations have sparse indices")
        arr = self.genn_model._arrays.get((self.name, "rowLength"))
        if arr is None:       # (load() itself uses it before the model counts as loaded)
            self.genn_model._check_loaded(f"sparse connectivity of '{self.name}'")
        return arr

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
        sel = self._sparse_synapse_indices()
        return self.genn_model._arrays[(self.name, "ind")][sel].copy()

    def pull_connectivity_from_device(self):
        """Copy the connectivity (row lengths, indices) from the device (nothing
        to do on the CPU backend)."""
        self.genn_model._transfer_connectivity(self, "pull")

    def push_connectivity_to_device(self):
        """Copy the connectivity (row lengths, indices) to the device (nothing
        to do on the CPU backend)."""
        self.genn_model._transfer_connectivity(self, "push")

    def set_wu_param_dynamic(self, name, dynamic=True):
        self.set_param_dynamic(name, dynamic)

    def set_wu_dynamic_param_value(self, name, value):
        self.set_dynamic_param_value(name, value)

    def set_ps_param_dynamic(self, name, dynamic=True):
        self._set_dynamic(self.ps_params, self.psm_dynamic_params, name, dynamic,
                          "set_ps_param_dynamic", "postsynaptic parameter",
                          self.ps_initialiser.snippet)

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
        self.var_refs = _as_dict(var_refs, f"current source '{name}'", "var_refs")

    @property
    def num_neurons(self):
        """Neurons of the target population (one current source each)."""
        return self.target.num_neurons


class CustomUpdate(Group):
    kind = "custom update"

    def __init__(self, model, name, group_name, snippet, params, vars, var_refs,
                 egp_refs=None):
        super().__init__(model, name, snippet, params)
        self.group_name = group_name
        self.var_refs = _as_dict(var_refs, f"custom update '{name}'", "var_refs")
        self.egp_refs = _as_dict(egp_refs, f"custom update '{name}'", "egp_refs")
        check_names(f"custom update '{name}' ({snippet.class_name})",
                    [r.name for r in snippet.var_refs], self.var_refs, "variable reference")
        check_names(f"custom update '{name}' ({snippet.class_name})",
                    [r.name for r in snippet.extra_global_param_refs], self.egp_refs,
                    "extra global parameter reference")
        from .references import EGPRef, VarRef
        for refs, cls, what, makers in (
                (self.var_refs, VarRef, "variable reference",
                 "create_var_ref(...), create_wu_var_ref(...), create_psm_var_ref(...) or "
                 "create_out_post_var_ref(...)"),
                (self.egp_refs, EGPRef, "extra global parameter reference",
                 "create_egp_ref(...)")):
            for ref_name, ref in refs.items():
                if not isinstance(ref, cls):
                    raise ModelError(f"custom update '{name}': {what} '{ref_name}' must come "
                                     f"from {makers}, got {type(ref).__name__}")
                if getattr(ref.group, "genn_model", None) is not model:
                    raise ModelError(f"custom update '{name}': {what} '{ref_name}' points at "
                                     f"'{ref.group.name}', which belongs to another model, "
                                     f"not to '{model.model_name}'")

        def describe(size):
            return f"the synapses of '{size[1]}'" if isinstance(size, tuple) else \
                f"{size} elements"
        sizes = {r.size for r in self.var_refs.values()}
        if len(sizes) > 1:
            got = ", ".join(f"'{k}': {describe(r.size)}" for k, r in self.var_refs.items())
            raise ModelError(f"custom update '{name}': all variable references must have "
                             f"the same shape (the same number of neurons, or the synapses "
                             f"of one synapse population), got {got}")
        self.size = sizes.pop() if sizes else 1
        self.vars = self._make_vars(snippet.vars, vars, self.size, "custom")

    def update_dims(self):
        """ELEMENT, plus BATCH when any referenced variable is batched."""
        dims = VarAccessDim.ELEMENT
        if self.genn_model.batch_size > 1 and any(
                ref.variable_dims() & VarAccessDim.BATCH for ref in self.var_refs.values()):
            dims |= VarAccessDim.BATCH
        return dims


class CustomConnectivityUpdate(CustomConnectivityLocations, Group):
    """A custom connectivity update attached to a SPARSE synapse population.

    ``row_update_code`` runs once per presynaptic neuron (a loop on the CPU,
    a thread per row on a GPU); ``host_update_code`` runs once before the
    rows and sees whole arrays: pre/post and per-synapse variables and the
    connectivity (``row_length[i]``, ``ind[i * row_stride + j]``, writes
    range-checked).  Its own variables (``vars`` per synapse, ``pre_vars``,
    ``post_vars``) are never duplicated across the batch (connectivity is
    shared by every batch element)."""
    kind = "custom connectivity update"

    def __init__(self, model, name, group_name, synapse_group, snippet, params, vars,
                 pre_vars, post_vars, var_refs, pre_var_refs, post_var_refs, egp_refs):
        super().__init__(model, name, snippet, params)
        self.group_name = group_name
        if not isinstance(synapse_group, SynapseGroup) or \
                synapse_group.genn_model is not model:
            raise ModelError(f"custom connectivity update '{name}': {synapse_group!r} is not "
                             f"a synapse population of model '{model.model_name}'")
        if not synapse_group.is_sparse:
            raise ModelError(f"custom connectivity update '{name}': synapse population "
                             f"'{synapse_group.name}' is {synapse_group.matrix_type.name}; "
                             "custom connectivity updates need SPARSE connectivity")
        self.synapse_group = synapse_group
        owner = f"custom connectivity update '{name}' ({snippet.class_name})"
        npre, npost = synapse_group.src.num_neurons, synapse_group.trg.num_neurons
        self.vars = self._make_vars(snippet.vars, vars, None, "synapse")
        self.pre_vars = self._make_vars(snippet.pre_vars, pre_vars, npre, "neuron",
                                        "presynaptic variable")
        self.post_vars = self._make_vars(snippet.post_vars, post_vars, npost, "neuron",
                                         "postsynaptic variable")
        from .references import EGPRef, VarRef
        self.var_refs = _as_dict(var_refs, owner, "var_refs")
        self.pre_var_refs = _as_dict(pre_var_refs, owner, "pre_var_refs")
        self.post_var_refs = _as_dict(post_var_refs, owner, "post_var_refs")
        self.egp_refs = _as_dict(egp_refs, owner, "egp_refs")
        for decls, refs, what in ((snippet.var_refs, self.var_refs, "variable reference"),
                                  (snippet.pre_var_refs, self.pre_var_refs,
                                   "presynaptic variable reference"),
                                  (snippet.post_var_refs, self.post_var_refs,
                                   "postsynaptic variable reference"),
                                  (snippet.extra_global_param_refs, self.egp_refs,
                                   "extra global parameter reference")):
            check_names(owner, [r.name for r in decls], refs, what)
            cls = EGPRef if decls is snippet.extra_global_param_refs else VarRef
            for ref_name, ref in refs.items():
                if not isinstance(ref, cls):
                    raise ModelError(f"{owner}: {what} '{ref_name}' must come from "
                                     f"{'create_egp_ref' if cls is EGPRef else 'create_*_var_ref'}"
                                     f"(...), got {type(ref).__name__}")
                if getattr(ref.group, "genn_model", None) is not model:
                    raise ModelError(f"{owner}: {what} '{ref_name}' points at "
                                     f"'{ref.group.name}', which belongs to another model")
        for ref_name, ref in self.var_refs.items():
            if ref.kind != "wu" or getattr(ref, "transpose_group", None) is not None:
                raise ModelError(f"{owner}: variable reference '{ref_name}' must point at a "
                                 "per-synapse variable (create_wu_var_ref(...), no transpose)")
            target = self._synapses_of(ref.group)
            if target is None or not target.is_sparse or target.src is not \
                    synapse_group.src or target.trg is not synapse_group.trg:
                raise ModelError(f"{owner}: variable reference '{ref_name}' points at "
                                 f"'{ref.group.name}', whose synapses are not those of "
                                 f"'{synapse_group.name}' (or of a SPARSE synapse population "
                                 f"from '{synapse_group.src.name}' to "
                                 f"'{synapse_group.trg.name}' holding the same connectivity)")
        for refs, n, what in ((self.pre_var_refs, npre, "presynaptic"),
                              (self.post_var_refs, npost, "postsynaptic")):
            for ref_name, ref in refs.items():
                if ref.kind in ("wu", "den_delay", "spike_count") or ref.size != n:
                    raise ModelError(f"{owner}: {what} variable reference '{ref_name}' must "
                                     f"point at a variable with one value per neuron of the "
                                     f"{what} population ({n} neurons), e.g. "
                                     "create_var_ref(population, name)")

    @staticmethod
    def _synapses_of(group):
        """The synapse population whose synapses ``group``'s per-synapse
        variables follow (itself, or the target of a custom update on them)."""
        if isinstance(group, SynapseGroup):
            return group
        size = getattr(group, "size", None)
        if isinstance(size, tuple) and len(size) == 2 and size[0] == "wu":
            return group.genn_model.synapse_populations.get(size[1])
        return None

    # per-synapse variables follow the synapse population's rows
    is_sparse = True

    @property
    def _user_connectivity(self):
        return self.synapse_group._user_connectivity

    def _row_lengths(self):
        return self.synapse_group._row_lengths()

    def _sparse_synapse_indices(self):
        return self.synapse_group._sparse_synapse_indices()
