"""The runtime of a loaded model: state arrays, binding them to the native
library, the run loop, custom updates, recording decode.

Isolation: the generated code keeps all state in an instance of its
``mg_model`` struct (created with ``mg_create``, one per :class:`Runtime`),
so one loaded library serves every model built from it and two live
models never share state.  A library is loaded once per process from a
private copy verified against the cache manifest (``cache.load_library``).
"""
import ctypes
import threading
import time
import weakref

import numpy as np

from .errors import ModelError, RuntimeStateError
from .groups import constant_value, is_constant
from .snippets import VarInit, derived_values
from .types import SynapseMatrixConnectivity
from .layout import c_ident, recording_words


_libraries = {}                 # (library path, sha256) -> CDLL, loaded once
_libraries_lock = threading.Lock()


def _library(model):
    """The process's instance of the model's compiled library (ctypes
    signatures set once)."""
    from .cache import load_library
    info = model._built_info
    if not info:
        from .errors import BuildError
        raise BuildError("the model has no verified build; call build() again")
    key = (model._built, info["sha256"])
    with _libraries_lock:
        lib = _libraries.get(key)
        if lib is None:
            lib = load_library(model._built, info["sha256"], info.get("size"))
            lib.mg_create.restype = ctypes.c_void_p
            lib.mg_create.argtypes = []
            lib.mg_destroy.argtypes = [ctypes.c_void_p]
            lib.mg_set_array.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_void_p]
            lib.mg_set_size.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint64]
            lib.mg_get_error.argtypes = [ctypes.c_void_p]
            lib.mg_get_error.restype = ctypes.c_int
            lib.mg_set_seed.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
            lib.mg_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64,
                                   ctypes.c_uint64, ctypes.c_int]
            lib.mg_run.restype = None
            lib.mg_run_with_updates.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int,
                                                ctypes.c_void_p, ctypes.c_int32]
            lib.mg_run_with_updates.restype = None
            lib.mg_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            _libraries[key] = lib
    return lib


def _required_egps(model):
    """EGPs the generated code reads (as the renderer recorded them): (view,
    needed at load, i.e. read by variable initialisation code)."""
    read = model._backend.egps_read
    return [(view, view.owner_var is not None) for view in _all_egps(model)
            if (view.group.name, _egp_field(view)) in read]


def _egp_missing(view, when):
    return RuntimeStateError(
        f"{view.group.kind} '{view.group.name}': extra global parameter "
        f"'{view.name}' is read by the model's code but was never set; set it "
        f"with extra_global_params['{view.name.split('.')[-1]}'].set_init_values(...) "
        f"before {when}")


def _index_checks(model):
    """(group, start var, end var, EGP view) of built-ins whose code reads
    EGP[start .. end-1] (SpikeSourceArray)."""
    out = []
    for ng in model.neuron_populations.values():
        for start, end, egp in getattr(ng.snippet, "index_constraints", ()):
            if start in ng.vars and end in ng.vars and egp in ng.extra_global_params:
                out.append((ng, ng.vars[start], ng.vars[end], ng.extra_global_params[egp]))
    return out


def check_before_run(model, kinds=None):
    """Raise before native code runs when it would read unset EGPs
    (``kinds``: only the EGPs of groups of these kinds).  Index ranges
    (``index_constraints``) are checked by the generated run loop itself,
    which refuses to step (ERROR_INDEX_RANGE); :func:`index_range_error`
    then says which element is wrong."""
    for view, _ in model._required_egps:
        if view.init_values is None and (kinds is None or view.group.kind in kinds):
            raise _egp_missing(view, "run()" if kinds is None else "custom_update()")


def index_range_error(model):
    """The RuntimeStateError naming the first element whose index range
    (``index_constraints``, e.g. SpikeSourceArray's startSpike..endSpike)
    lies outside its EGP."""
    for ng, start, end, egp in model._index_checks:
        n = egp._array.size if egp._array is not None else 0
        s, e = start._array, end._array
        if s is None or e is None:
            continue
        # rows: batch elements (a shared array broadcasts)
        nn = ng.num_neurons
        s2, e2 = s.reshape(-1, nn), e.reshape(-1, nn)
        # EGP[start] is read while start != end, and start only grows
        bad = (s2 > e2) | ((s2 < e2) & (e2 > n))
        if bad.any():
            b, i = (int(x) for x in np.argwhere(bad)[0])
            where = f"neuron {i}" + (f" of batch element {b}" if bad.shape[0] > 1 else "")
            sv, ev = int(s2[min(b, s2.shape[0] - 1), i]), int(e2[min(b, e2.shape[0] - 1), i])
            return RuntimeStateError(
                f"neuron population '{ng.name}' ({ng.snippet.class_name}): {where} has "
                f"{start.name} = {sv}, {end.name} = {ev}, but "
                f"'{egp.name}' holds {n} values; need {start.name} <= {end.name} <= {n}")
    return RuntimeStateError(f"model '{model.model_name}': an index range is outside its "
                             "extra global parameter")


def _check_integer_values(g, var, arr, values):
    """Integer-typed state must get finite values within its type's range;
    single-precision state must not get finite values beyond its range
    (they would silently become infinite)."""
    v = np.asarray(values)
    if v.dtype.kind == "O":             # e.g. Python integers beyond 64 bits
        try:
            v = v.astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            pass
    if v.dtype.kind not in "biuf":
        raise ModelError(f"{g.kind} '{g.name}': initial values of '{var.name}' must be "
                         f"numbers, got an array of dtype {v.dtype}")
    if arr.dtype.kind == "f" and v.dtype.kind == "f" and v.size and \
            arr.dtype.itemsize < v.dtype.itemsize:
        big = np.isfinite(v) & (np.abs(v) > np.finfo(arr.dtype).max)
        if np.any(big):
            raise ModelError(f"{g.kind} '{g.name}': initial value {float(v[big].ravel()[0])!r} of "
                             f"'{var.name}' is out of range for {arr.dtype} (largest "
                             f"{float(np.finfo(arr.dtype).max):.7g}); use precision='double'")
    if arr.dtype.kind not in "iu":
        return
    if v.dtype.kind in "iub":
        bad = v.size and (v.min() < np.iinfo(arr.dtype).min or v.max() > np.iinfo(arr.dtype).max)
    elif v.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = v.size and (not np.all(np.isfinite(v)) or v.min() < np.iinfo(arr.dtype).min
                              or v.max() > np.iinfo(arr.dtype).max)
    else:
        bad = True
    if bad:
        raise ModelError(f"{g.kind} '{g.name}': initial values of '{var.name}' must be "
                         f"finite integers in {np.iinfo(arr.dtype).min}.."
                         f"{np.iinfo(arr.dtype).max} (type {var.type})")


def _check_init_egp_sizes(model):
    """EGPs of variable initialisers read at indices up to a known size
    (Kernel: kernel[id_kernel]) must be at least that long."""
    for g, _, var in _all_vars(model):
        if not isinstance(var.init, VarInit):
            continue
        for egp, size_of in getattr(var.init.snippet, "egp_min_sizes", {}).items():
            view = var.extra_global_params.get(egp)
            dims = getattr(g, size_of, None)
            if view is None or view.init_values is None or dims is None:
                continue
            need = int(np.prod(dims))
            if view.init_values.size < need:
                raise ModelError(f"{g.kind} '{g.name}': extra global parameter "
                                 f"'{view.name}' has {view.init_values.size} values but the "
                                 f"kernel has {need} elements ({' x '.join(map(str, dims))})")


class Runtime:
    """The state of one loaded model and the native calls that work on it.

    Backend-independent: allocation and initialisation of the host (NumPy)
    arrays the views show, the chunked run loop, custom updates, spike
    decoding.  Subclasses implement the native side (``_open``, ``_bind``,
    ``_native_init``, ``_run_chunk``, ``_native_custom_update``, ``error``,
    ``close``) and, where the state lives elsewhere (a GPU), ``push`` and
    ``pull``.  Created by ``GeNNModel.load()``; released by :meth:`close`
    or when garbage collected."""

    def __init__(self, model):
        self.model = model
        self.arrays = {}
        self.specs = {}
        self.custom_update_groups = set(model._custom_update_group_names())
        self._row_order_count = 0     # see _note_row_order
        self._open()
        # initialisation (values of sparse variables) reads arrays through the model
        model._runtime = self
        try:
            self._allocate()
            self._initialise()
        except BaseException:
            self.close()
            raise

    def close(self):
        """Release the native state (the NumPy arrays go with their views)."""
        detach_views(self.model)
        self.arrays = {}

    def push(self, key):
        """Copy host array ``key`` to where the native code reads it."""

    def pull(self, key):
        """Copy array ``key`` from where the native code writes it to the host."""

    def _key_of(self, arr):
        for key, a in self.arrays.items():
            if a is arr:
                return key
        return None

    def push_array(self, arr):
        """``push`` for the array a view shows (found by identity)."""
        key = self._key_of(arr)
        if key is not None:
            self.push(key)
            if (key[0], "delayQueue." + key[1]) in self.arrays:
                # values given from Python hold in every delay slot, as in pygenn,
                # where the array of a delayed variable covers all of them
                self._fill_delay_queue(key[0], "delayQueue." + key[1])

    def pull_array(self, arr):
        """``pull`` for the array a view shows (found by identity)."""
        key = self._key_of(arr)
        if key is not None:
            self.pull(key)

    # -- loading ------------------------------------------------------------
    def _allocate(self):
        model, layout = self.model, self.model._backend.layout
        for spec in layout:
            arr = np.full(layout.load_size(spec, model, model._num_recording_timesteps),
                          spec.fill_value, dtype=spec.dtype)
            self.arrays[spec.key] = arr
            self.specs[spec.key] = spec
        # EGPs given before load
        for view in _all_egps(model):
            if view.init_values is not None:
                self.arrays[(view.group.name, _egp_field(view))] = view.init_values.copy()
        for key, arr in self.arrays.items():
            self._bind(self.specs[key], arr)
        _attach_views(model, self.arrays)

    def _initialise(self):
        """Dynamic parameters, constants and given arrays from Python;
        snippets in native code; then sparse arrays."""
        model = self.model
        for g in _groups(model):
            if g.dynamic_params:
                values = g.derived()
                self.arrays[(g.name, "dyn")][:] = [values[p] for p in g.dyn_slots()]
            if getattr(g, "psm_dynamic_params", None):
                values = derived_values(g.ps_initialiser.snippet, g.ps_params, model.dt)
                self.arrays[(g.name, "psm_dyn")][:] = [values[p] for p in
                                                       g.dyn_slots("psm_dyn")]
        deferred = []
        for g, field, var in _all_vars(model):
            arr = self.arrays.get((g.name, field))
            if arr is None:
                continue
            if is_constant(var.init):
                _check_integer_values(g, var, arr, constant_value(var.init))
                arr[:] = constant_value(var.init)
            elif not isinstance(var.init, VarInit):
                if var.kind == "synapse" and g.is_sparse:
                    deferred.append((g, var))
                else:
                    _assign_array(g, var, arr)
        build_connectivity = np.zeros(max(len(model.synapse_populations), 1), dtype=np.uint8)
        for i, sg in enumerate(model.synapse_populations.values()):
            if sg.is_sparse or sg.matrix_type.connectivity == SynapseMatrixConnectivity.BITMASK:
                if sg._user_connectivity is not None:
                    self.upload_sparse(sg)
                else:
                    build_connectivity[i] = 1
        model._required_egps = _required_egps(model)
        model._index_checks = _index_checks(model)
        for view, at_load in model._required_egps:
            if at_load and view.init_values is None:
                raise _egp_missing(view, "load()")
        _check_init_egp_sizes(model)
        seed = _seed(model)
        for i, sg in enumerate(model.synapse_populations.values()):
            if build_connectivity[i]:
                self._host_connectivity_step(sg, seed, i)
        code = self._native_init(seed, build_connectivity)
        if code:
            from .backends.base import ERROR_ROW
            if code & ERROR_ROW:
                bad = [sg.name for sg in model.synapse_populations.values() if sg.is_sparse]
                raise RuntimeStateError(f"sparse connectivity of {bad} produced a row longer "
                                        "than its calc_max_row_len_func bound; raise the bound")
            raise native_error(model, code, "load() (initialisation code)")
        for g, var in deferred:
            var.values = _expand_sparse_values(g, var)
            self.push_array(var._array)
        self._fill_past_values()
        self._fill_delay_queues()
        self._note_row_order()
        self.update_column_views()

    def update_column_views(self, sg=None):
        """The column view of SPARSE rows that postsynaptic learning walks
        (``colStart``/``remap``, see the backends): for each postsynaptic
        neuron j, the synapse indices onto j, in row-major order, are
        ``remap[colStart[j] .. colStart[j + 1] - 1]``.  Rebuilt from the rows
        on the host whenever the connectivity changes (load, upload_sparse,
        push_connectivity_to_device; call it after anything else that
        changes ``rowLength``/``ind``); ``sg``: one group, else all."""
        groups = [sg] if sg is not None else list(self.model.synapse_populations.values())
        for g in groups:
            if (g.name, "colStart") not in self.arrays:
                continue
            self.pull((g.name, "rowLength"))
            self.pull((g.name, "ind"))
            row_len = self.arrays[(g.name, "rowLength")].astype(np.int64)
            ind = self.arrays[(g.name, "ind")]
            stride = self.model._sizes[(g.name, "stride")]
            starts = np.repeat(np.arange(row_len.size, dtype=np.int64) * stride, row_len)
            syn = starts + (np.arange(row_len.sum()) -
                            np.repeat(np.cumsum(row_len) - row_len, row_len))
            post = ind[syn].astype(np.int64)
            order = np.argsort(post, kind="stable")
            col_start = self.arrays[(g.name, "colStart")]
            col_start[0] = 0
            np.cumsum(np.bincount(post, minlength=g.trg.num_neurons), out=col_start[1:])
            remap = self.arrays[(g.name, "remap")]
            remap[:syn.size] = syn[order]
            remap[syn.size:] = 0
            self.push((g.name, "colStart"))
            self.push((g.name, "remap"))

    def _fill_past_values(self):
        """Values read some steps back (postVar[d]) start as the initial
        value in every kept step."""
        model = self.model
        for sg in model.synapse_populations.values():
            ds, n = sg.max_dendritic_delay_timesteps, sg.trg.num_neurons
            for name, (key, _) in model._backend._past_values(sg).items():
                self.pull(key)
                past = self.arrays[(sg.name, f"pastValues.{name}")].reshape(-1, ds, n)
                past[:] = self.arrays[key].reshape(-1, 1, n)
                self.push((sg.name, f"pastValues.{name}"))

    def _fill_delay_queues(self):
        """Copies of variables per delay slot (read by delayed synapses
        through neuron variable references and pre/post variables) start as
        the initial value in every slot, as GeNN initialises every slot of a
        queued variable: a delayed synapse reads them before the neuron
        update has written its slot."""
        for group, field in list(self.arrays):
            if field.startswith("delayQueue."):
                self._fill_delay_queue(group, field)

    def _fill_delay_queue(self, group, field):
        """Every slot of ``field`` (``delayQueue.<var>``) := the variable's values."""
        model = self.model
        source = field[len("delayQueue."):]
        if group in model.neuron_populations:
            n = model.neuron_populations[group].num_neurons
        else:
            sg = model.synapse_populations[group]
            n = (sg.src if source.startswith("pre_") else sg.trg).num_neurons
        self.pull((group, source))
        values = self.arrays[(group, source)].reshape(-1, 1, n)
        self.arrays[(group, field)].reshape(model.batch_size, -1, n)[:] = values
        self.push((group, field))

    def _host_connectivity_step(self, sg, seed, index):
        """Connectivity snippets with a host part (``host_init``, e.g.
        FixedNumberTotalWithReplacement's row lengths) run it before the rows
        are built; what it returns fills the snippet's extra global
        parameters.  Its random numbers come from the model's seed and the
        synapse population's position, so a seed gives the same network."""
        ci = sg.connectivity_initialiser
        host_init = getattr(ci.snippet, "host_init", None) if ci is not None else None
        if host_init is None:
            return
        rng = np.random.default_rng([seed, index])
        values = host_init(sg.src.num_neurons, sg.trg.num_neurons,
                           derived_values(ci.snippet, ci.params, self.model.dt), rng)
        for name, arr in values.items():
            spec = self.specs[(sg.name, "conn_" + name)]
            arr = np.ascontiguousarray(arr, dtype=spec.dtype)
            self.arrays[spec.key] = arr
            self._bind(spec, arr)

    def _note_row_order(self):
        """SPARSE groups whose steps may be shared among threads (by
        postsynaptic neuron, see the C++ backend) need every row sorted by
        postsynaptic index: record for each whether it is."""
        for sg in self.model.synapse_populations.values():
            key = (sg.name, "rowOrder")
            if key not in self.arrays:
                continue
            self.pull((sg.name, "rowLength"))
            self.pull((sg.name, "ind"))
            row_len = self.arrays[(sg.name, "rowLength")].astype(np.int64)
            ind = self.arrays[(sg.name, "ind")]
            stride = ind.size // row_len.size if row_len.size else 0
            ordered = True
            if stride > 1:
                rows = ind.reshape(row_len.size, stride)
                # position j >= 1 of a row is compared with j - 1 where it holds a synapse
                used = np.arange(1, stride)[None, :] < row_len[:, None]
                ordered = bool(np.all((rows[:, 1:] >= rows[:, :-1]) | ~used))
            # 0: not sorted; else a number never used before by this runtime
            # (the native code works out each row's shares again when it
            # changes: one more than the last value could repeat an earlier one
            # after an unsorted spell, and stale shares would be reused)
            self._row_order_count += 1
            self.arrays[key][0] = self._row_order_count if ordered else 0
            self.push(key)

    # -- running ------------------------------------------------------------
    def run(self, n_steps, threads, custom_updates=()):
        """Run ``n_steps`` in native calls of about 0.1 s each (sized from the
        measured speed), so Ctrl-C raises quickly; the native loop advances
        the model's counters itself, so they count exactly the steps run.
        ``custom_updates``: groups run, in order, after every step."""
        model = self.model
        chunk = model._chunk
        remaining = n_steps
        clock = time.perf_counter
        while remaining:
            c = chunk if chunk < remaining else remaining
            t0 = clock()
            code = 0
            try:
                code = self._run_chunk(c, threads, custom_updates)
            except BaseException as interrupt:
                # Ctrl-C right after the native call: its errors are read now
                # (never left for the next run()) and told with the interrupt
                code = code or self.error()
                if code and hasattr(interrupt, "add_note"):
                    end = model._timestep
                    interrupt.add_note(str(native_error(
                        model, code, f"run() (time steps {end - c} to {end - 1})")))
                raise
            remaining -= c
            if code:
                end = model._timestep
                raise native_error(model, code, f"run() (time steps {end - c} to {end - 1})")
            if c == chunk:
                # aim at ~0.1 s per native call: grow at most 8x, shrink at most 4x
                elapsed = clock() - t0
                factor = 0.1 / elapsed if elapsed > 0 else 8.0
                chunk = max(1, int(chunk * min(8.0, max(0.25, factor))))
                model._chunk = chunk

    def custom_update(self, group_name):
        if not isinstance(group_name, str) or group_name not in self.custom_update_groups:
            raise ModelError(f"no custom update group {group_name!r}; groups: "
                             f"{', '.join(sorted(self.custom_update_groups)) or 'none'}")
        check_before_run(self.model, ("custom update", "custom connectivity update"))
        ccus = [c for c in self.model.custom_connectivity_updates.values()
                if c.group_name == group_name]
        for c in ccus:
            calls = self.arrays.get((c.name, "_calls"))
            if calls is not None:      # a new random stream for every call
                calls[0] += 1
                self.push((c.name, "_calls"))
        code = self._native_custom_update(group_name)
        if ccus:
            self._connectivity_changed(ccus)
        if code:
            raise native_error(self.model, code, f"custom_update('{group_name}')")

    def _connectivity_changed(self, ccus):
        """After custom connectivity updates: what is derived from the rows
        (sorted-row flags of shared steps, column views) is worked out again."""
        self._note_row_order()
        update = getattr(self, "update_column_views", None)
        if update is None:
            return
        changed = {}
        for c in ccus:
            for g in [c.synapse_group] + [c._synapses_of(r.group) for r in c.var_refs.values()]:
                changed[g.name] = g
        for g in changed.values():
            update(g)

    def reset_spike_queues(self):
        for key, arr in self.arrays.items():
            if key[1] in ("spkCnt", "evntCnt", "postEvntCnt", "denDelay"):
                arr[:] = 0
                self.push(key)

    # -- state given or read from Python --------------------------------------
    def rebind(self, view):
        """A view's array was replaced (an EGP set after load): bind the new one."""
        key = (view.group.name, _egp_field(view))
        spec = self.specs.get(key)
        if spec is None:
            return
        arr = view._array
        if arr.dtype != spec.dtype or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr, dtype=spec.dtype)
            view._array = arr
        self.arrays[key] = arr
        self._bind(spec, arr)

    def upload_sparse(self, sg):
        """Connectivity given with set_sparse_connections into the padded rows
        (BITMASK: into the bits)."""
        check_user_connectivity(sg)
        pre, post, _ = sg._user_connectivity
        if sg.matrix_type.connectivity == SynapseMatrixConnectivity.BITMASK:
            bits = pre.astype(np.uint64) * np.uint64(sg.trg.num_neurons) + post
            words = self.arrays[(sg.name, "gp")]
            words[:] = 0
            np.bitwise_or.at(words, (bits >> np.uint64(5)).astype(np.int64),
                             (np.uint32(1) << (bits & np.uint64(31)).astype(np.uint32)))
            self.push((sg.name, "gp"))
            return
        stride = self.model._sizes[(sg.name, "stride")]
        counts = np.bincount(pre, minlength=sg.src.num_neurons)
        if counts.max(initial=0) > stride:
            raise ModelError(f"synapse population '{sg.name}': new connectivity has a row of "
                             f"{counts.max()} synapses but the model was built for {stride}; "
                             "call set_sparse_connections before build()")
        row_len = self.arrays[(sg.name, "rowLength")]
        ind = self.arrays[(sg.name, "ind")]
        row_len[:] = counts
        starts = np.cumsum(counts) - counts
        slot = np.arange(pre.size) - np.repeat(starts, counts)
        ind[pre.astype(np.int64) * stride + slot] = post
        self.push((sg.name, "rowLength"))
        self.push((sg.name, "ind"))
        self._note_row_order()
        self.update_column_views(sg)

    def decode_spikes(self, ng, field="recSpk"):
        """Decode a recording bitfield into per-batch (times, ids)."""
        model = self.model
        what = "spike" if field == "recSpk" else "spike event"
        flag = "spike_recording_enabled" if field == "recSpk" else \
            "spike_event_recording_enabled"
        if not getattr(ng, flag):
            raise RuntimeStateError(f"{what} recording is not enabled for '{ng.name}': set "
                                    f"{flag} = True before build()")
        if (ng.name, field) not in self.arrays:
            raise RuntimeStateError(f"{what} recording of '{ng.name}' was enabled after "
                                    f"build(); set {flag} = True before build()")
        n_rec = model._num_recording_timesteps
        if model._timestep < n_rec:
            raise RuntimeStateError(f"spike_recording_data of '{ng.name}': only "
                                    f"{model._timestep} of the {n_rec} recorded steps have run")
        words = recording_words(ng.num_neurons)
        self.pull((ng.name, field))
        rec = self.arrays[(ng.name, field)].reshape(n_rec, model.batch_size, words)
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
            times = (steps[which] + first) * model._built_dt
            out.append((times.astype(np.float64), ids))
        return out

    def current_spikes(self, ng):
        """The spikes of the last step, per batch element (sorted)."""
        model = self.model
        slots = ng.num_delay_slots
        slot = (model._step - 1) % slots if model._step > 0 else 0
        self.pull((ng.name, "spkCnt"))
        self.pull((ng.name, "spk"))
        cnt = self.arrays[(ng.name, "spkCnt")].reshape(model.batch_size, slots)[:, slot]
        cnt = np.minimum(cnt, ng.num_neurons)
        spk = self.arrays[(ng.name, "spk")].reshape(model.batch_size, slots, ng.num_neurons)
        out = [np.sort(spk[b, slot, :cnt[b]]) for b in range(model.batch_size)]
        return out[0] if model.batch_size == 1 else out


class CPURuntime(Runtime):
    """CPU backend: every array is a NumPy array the native code reads and
    writes in place (views are zero-copy); an instance of the library's
    ``mg_model`` holds pointers to them."""

    def _open(self):
        model = self.model
        lib = self.lib = _library(model)
        handle = lib.mg_create()
        if not handle:
            raise MemoryError(f"model '{model.model_name}': the native state could not be "
                              "allocated")
        self.handle = handle
        self._release = weakref.finalize(self, lib.mg_destroy, handle)
        self._run_fn = lib.mg_run
        self._custom_update_fns = {}
        for group_name in self.custom_update_groups:
            fn = getattr(lib, f"mg_custom_update_{c_ident(group_name)}")
            fn.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64]
            self._custom_update_fns[group_name] = fn

    def close(self):
        """Free the native instance."""
        super().close()
        self._release()

    def error(self):
        """Error bits the native code recorded since the last call (cleared)."""
        return self.lib.mg_get_error(self.handle)

    def _bind(self, spec, arr):
        """Point the instance's array ``spec`` at ``arr`` (and tell it the
        size: generated code checks extra global parameter indices against it)."""
        self.lib.mg_set_array(self.handle, spec.index, arr.ctypes.data if arr.size else None)
        self.lib.mg_set_size(self.handle, spec.index, arr.size)

    def _native_init(self, seed, build_connectivity):
        self.lib.mg_set_seed(self.handle, ctypes.c_uint64(seed))
        self.lib.mg_init(self.handle, build_connectivity.ctypes.data)
        return self.error()

    def _run_chunk(self, n_steps, threads, custom_updates=()):
        model = self.model
        if custom_updates:
            names = model._custom_update_group_names()
            groups = np.array([names.index(g) for g in custom_updates], dtype=np.int32)
            self.lib.mg_run_with_updates(self.handle, model._counters_ptr, n_steps,
                                         model._num_recording_timesteps, threads,
                                         groups.ctypes.data, len(groups))
        else:
            self._run_fn(self.handle, model._counters_ptr, n_steps,
                         model._num_recording_timesteps, threads)
        return self.error()

    def _native_custom_update(self, group_name):
        self._custom_update_fns[group_name](self.handle, ctypes.c_uint64(self.model._timestep),
                                            ctypes.c_uint64(self.model._step))
        return self.error()


def native_error(model, code, when):
    """The RuntimeStateError for error bits reported by generated code."""
    from .backends.base import ERROR_INDEX_RANGE, ERROR_MESSAGES
    if code & ERROR_INDEX_RANGE:
        return index_range_error(model)     # the run loop refused to step
    what = "; ".join(text for bit, text in sorted(ERROR_MESSAGES.items()) if code & bit)
    return RuntimeStateError(f"model '{model.model_name}', during {when}: {what}. The "
                             "model's state may be wrong from then on.")


def _seed(model):
    if model.seed:
        return int(model.seed)
    import secrets
    return secrets.randbits(64)


def _groups(model):
    return (list(model.neuron_populations.values()) + list(model.synapse_populations.values())
            + list(model.current_sources.values()) + list(model.custom_updates.values())
            + list(model.custom_connectivity_updates.values()))


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


def _attach_views(model, arrays):
    for g, field, var in _all_vars(model):
        var._array = arrays.get((g.name, field))
    for view in _all_egps(model):
        view._array = arrays.get((view.group.name, _egp_field(view)))


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
    _check_integer_values(g, var, arr, values)
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


def check_user_connectivity(sg):
    """Indices the native code will trust: within the populations."""
    pre, post, _ = sg._user_connectivity
    for what, idx, n in (("pre", pre, sg.src.num_neurons), ("post", post, sg.trg.num_neurons)):
        if idx.size and int(idx.max()) >= n:
            raise ModelError(f"synapse population '{sg.name}': a {what} index given to "
                             f"set_sparse_connections is out of range 0..{n - 1} (NaN or "
                             "infinite values are not indices)")
