"""State arrays, binding them to the native library, recording decode."""
import ctypes

import numpy as np

from .errors import ModelError, RuntimeStateError
from .groups import constant_value, is_constant
from .snippets import VarInit


def _fill_value(spec, dtype):
    if spec.fill == "-max":
        return np.finfo(dtype).min
    return spec.fill


def load_model(model):
    """Allocate every array, bind pointers, initialise state."""
    backend = model._backend
    lib = ctypes.CDLL(model._built)
    lib.mg_set_array.argtypes = [ctypes.c_uint, ctypes.c_void_p]
    lib.mg_set_seed.argtypes = [ctypes.c_uint64]
    lib.mg_run.argtypes = [ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32,
                           ctypes.c_int]
    lib.mg_init.argtypes = [ctypes.c_void_p]
    model._lib = lib
    model._arrays = {}
    model._specs = {}
    for spec in backend.arrays:
        size = spec.size
        if spec.key[1] in ("recSpk", "recSpkEvnt"):
            ng = model.neuron_populations[spec.key[0]]
            size = model._num_recording_timesteps * model.batch_size * \
                ((ng.num_neurons + 31) // 32)
        arr = np.full(size, _fill_value(spec, spec.dtype), dtype=spec.dtype)
        model._arrays[spec.key] = arr
        model._specs[spec.key] = spec
    # EGPs given before load
    for view in _all_egps(model):
        if view.init_values is not None:
            model._arrays[(view.group.name, _egp_field(view))] = view.init_values.copy()
    for key, arr in model._arrays.items():
        lib.mg_set_array(model._specs[key].index, arr.ctypes.data if arr.size else None)
    _attach_views(model)
    # dynamic parameters start at their given values
    for g in _groups(model):
        if g.dynamic_params:
            model._arrays[(g.name, "dyn")][:] = [g.params[p] for p in g.dynamic_params]
        if getattr(g, "psm_dynamic_params", None):
            model._arrays[(g.name, "psm_dyn")][:] = [g.ps_params[p] for p in
                                                     g.psm_dynamic_params]
    # constants and arrays first; snippets in native code; then sparse arrays
    deferred = []
    for g, field, var in _all_vars(model):
        arr = model._arrays.get((g.name, field))
        if arr is None:
            continue
        if is_constant(var.init):
            arr[:] = constant_value(var.init)
        elif not isinstance(var.init, VarInit):
            if var.kind == "synapse" and g.is_sparse:
                deferred.append((g, var))
            else:
                _assign_array(g, var, arr)
    build_connectivity = np.zeros(max(len(model.synapse_populations), 1), dtype=np.uint8)
    for i, sg in enumerate(model.synapse_populations.values()):
        if sg.is_sparse:
            if sg._user_connectivity is not None:
                upload_sparse(model, sg)
            else:
                build_connectivity[i] = 1
    lib.mg_set_seed(ctypes.c_uint64(_seed(model)))
    lib.mg_init(build_connectivity.ctypes.data)
    if lib.mg_get_error():
        bad = [sg.name for sg in model.synapse_populations.values() if sg.is_sparse]
        raise RuntimeStateError(f"sparse connectivity of {bad} produced a row longer than "
                                "its calc_max_row_len_func bound; raise the bound")
    for g, var in deferred:
        var.values = _expand_sparse_values(g, var)
    model._custom_update_fns = {}
    for group_name in {cu.group_name for cu in model.custom_updates.values()}:
        from .backends.base import c_ident
        fn = getattr(lib, f"mg_custom_update_{c_ident(group_name)}")
        fn.argtypes = [ctypes.c_uint64]
        model._custom_update_fns[group_name] = fn


def _seed(model):
    if model.seed:
        return int(model.seed)
    import secrets
    return secrets.randbits(64)


def _groups(model):
    return (list(model.neuron_populations.values()) + list(model.synapse_populations.values())
            + list(model.current_sources.values()) + list(model.custom_updates.values()))


def _all_vars(model):
    for g in _groups(model):
        for v in g.vars.values():
            yield g, v.name, v
        for attr, prefix in (("psm_vars", "psm_"), ("pre_vars", "pre_"), ("post_vars", "post_")):
            for v in getattr(g, attr, {}).values():
                yield g, prefix + v.name, v


def _egp_field(view):
    if view.owner_var is not None:
        return view.name          # "var.egp"
    if view.group.kind == "synapse population" and view in \
            view.group.psm_extra_global_params.values():
        return "psm_" + view.name
    return view.name


def _all_egps(model):
    """Every EGP: of groups, of postsynaptic models and of variable initialisers."""
    for g in _groups(model):
        yield from g.extra_global_params.values()
        yield from getattr(g, "psm_extra_global_params", {}).values()
    for _, _, var in _all_vars(model):
        yield from var.extra_global_params.values()


def _attach_views(model):
    for g, field, var in _all_vars(model):
        var._array = model._arrays.get((g.name, field))
    for view in _all_egps(model):
        view._array = model._arrays.get((view.group.name, _egp_field(view)))


def detach_views(model):
    """Views of an unloaded model have no storage (reading them raises)."""
    for _, _, var in _all_vars(model):
        var._array = None
    for view in _all_egps(model):
        view._array = None


def _assign_array(g, var, arr):
    """Per-element values (shared by every batch element) or one set per
    batch element."""
    values = np.asarray(var.init).ravel()
    batch = g.genn_model.batch_size
    if values.size == arr.size:
        arr[:] = values
    elif batch > 1 and values.size * batch == arr.size:
        arr[:] = np.tile(values, batch)
    else:
        raise ModelError(f"{g.kind} '{g.name}': initial values of '{var.name}' have "
                         f"{values.size} elements but {arr.size} are needed"
                         + (f" (or {arr.size // g.genn_model.batch_size} shared by every batch "
                            "element)" if g.genn_model.batch_size > 1 else ""))


def _expand_sparse_values(sg, var):
    values = np.asarray(var.init)
    n = int(sg._row_lengths().sum())
    if values.size == 1:
        return np.full(n, values.item())
    if values.shape[-1] != n:
        raise ModelError(f"synapse population '{sg.name}': '{var.name}' has {values.shape[-1]} "
                         f"values but there are {n} synapses")
    order = sg._user_connectivity[2] if sg._user_connectivity is not None else None
    return values[..., order] if order is not None else values


def upload_sparse(model, sg):
    pre, post, _ = sg._user_connectivity
    stride = model._sizes[(sg.name, "stride")]
    counts = np.bincount(pre, minlength=sg.src.num_neurons)
    if counts.max(initial=0) > stride:
        raise ModelError(f"synapse population '{sg.name}': new connectivity has a row of "
                         f"{counts.max()} synapses but the model was built for {stride}; "
                         "call set_sparse_connections before build()")
    row_len = model._arrays[(sg.name, "rowLength")]
    ind = model._arrays[(sg.name, "ind")]
    row_len[:] = counts
    starts = np.cumsum(counts) - counts
    slot = np.arange(pre.size) - np.repeat(starts, counts)
    ind[pre.astype(np.int64) * stride + slot] = post


def rebind(model, view):
    from .runtime import _egp_field
    key = (view.group.name, _egp_field(view))
    spec = model._specs[key]
    model._arrays[key] = view._array
    model._lib.mg_set_array(spec.index, view._array.ctypes.data)


def decode_spikes(model, ng, field="recSpk"):
    """Decode a recording bitfield into per-batch (times, ids)."""
    what = "spike" if field == "recSpk" else "spike event"
    flag = "spike_recording_enabled" if field == "recSpk" else "spike_event_recording_enabled"
    model._check_loaded(flag.replace("_enabled", "_data"))
    if not getattr(ng, flag):
        raise RuntimeStateError(f"{what} recording is not enabled for '{ng.name}': set "
                                f"{flag} = True before build()")
    if (ng.name, field) not in model._arrays:
        raise RuntimeStateError(f"{what} recording of '{ng.name}' was enabled after build(); "
                                f"set {flag} = True before build()")
    n_rec = model._num_recording_timesteps
    if model._timestep < n_rec:
        raise RuntimeStateError(f"spike_recording_data of '{ng.name}': only "
                                f"{model._timestep} of the {n_rec} recorded steps have run")
    words = (ng.num_neurons + 31) // 32
    rec = model._arrays[(ng.name, field)].reshape(n_rec, model.batch_size, words)
    # the ring holds steps [timestep - n_rec, timestep); slot = step % n_rec
    first = model._timestep - n_rec
    rec = np.roll(rec, -(first % n_rec), axis=0) if first % n_rec else rec
    out = []
    for b in range(model.batch_size):
        # only unpack the words that hold at least one spike
        steps, word = np.nonzero(rec[:, b, :])
        packed = np.ascontiguousarray(rec[steps, b, word]).view(np.uint8).reshape(-1, 4)
        which, bit = np.nonzero(np.unpackbits(packed, axis=1, bitorder="little"))
        ids = word[which].astype(np.int64) * 32 + bit
        times = (steps[which] + first) * model.dt
        out.append((times.astype(np.float64), ids))
    return out
