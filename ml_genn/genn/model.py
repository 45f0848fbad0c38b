"""GeNNModel: describe a network, build it into native code, run it."""
import math
import numbers
import os
import stat
import threading
import time
import warnings

import numpy as np

from .errors import ModelError, RuntimeStateError
from .layout import RECORDING_FIELDS
from .locations import check_flag, check_location
from .groups import (CurrentSource, CustomConnectivityUpdate, CustomUpdate, NeuronGroup,
                     SynapseGroup)
from .snippets import (CurrentSourceModel, CustomConnectivityUpdateModel, CustomUpdateModel,
                       NeuronModel,
                       WeightUpdateInit, PostsynapticInit, SparseConnectivityInit,
                       ToeplitzConnectivityInit, _resolve, derived_values)
from .types import SynapseMatrixConnectivity as Conn, SynapseMatrixType, SynapseMatrixWeight, \
    VarLocation


def _available_cores():
    """Cores this process may run on (respects CPU affinity and containers)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:           # not on Linux
        return os.cpu_count() or 1


def _default_threads():
    """Threads when ``num_threads`` is None or -1: ``OMP_NUM_THREADS`` if set
    (its first value, as OpenMP reads it), else every available core."""
    text = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if text:
        if text.isdigit() and 1 <= int(text) <= MAX_THREADS:
            return int(text)
        warnings.warn(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']!r} is not a thread "
                      f"count in 1..{MAX_THREADS}; using all {_available_cores()} available "
                      "cores", RuntimeWarning, stacklevel=3)
    return _available_cores()


def _physical_memory():
    """Bytes of memory this process may use at most (physical memory, or a
    smaller cgroup limit), or None when unknown."""
    limit = None
    try:
        limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) > 0:
            limit = int(text) if limit is None else min(limit, int(text))
    return limit


_gpu_usable = None


def _default_backend():
    """``ML_GENN_BACKEND`` when set ("cpu" or "cuda"); else "cuda" when CuPy is
    installed and sees a GPU, otherwise "cpu"."""
    global _gpu_usable
    chosen = os.environ.get("ML_GENN_BACKEND")
    if chosen:
        if chosen not in ("cpu", "cuda"):
            raise ModelError(f"ML_GENN_BACKEND={chosen!r}: choose 'cpu' or 'cuda'")
        return chosen
    if _gpu_usable is None:
        import importlib.util
        _gpu_usable = False
        if importlib.util.find_spec("cupy") is not None:
            try:
                import cupy
                _gpu_usable = cupy.cuda.runtime.getDeviceCount() > 0
            except Exception:
                pass
    return "cuda" if _gpu_usable else "cpu"


# pygenn 5 GeNNModel keyword arguments (log levels) and backend preferences.
# None of them changes what this engine generates: the CPU backend always
# optimises, never emits debug code and has no device to select.  They are
# accepted so that code written for pygenn/mlGeNN runs unchanged, and ignored.
ACCEPTED_PREFERENCES = (
    "genn_log_level", "code_gen_log_level", "transpiler_log_level", "runtime_log_level",
    "backend_log_level", "log_level", "optimize_code", "debug_code",
    "enable_bitmask_optimisations", "generate_empty_state_push",
    "generate_extra_global_param_pull", "automatic_copy", "generate_line_info",
    "show_ptx_info", "enable_nccl_reductions", "device_select_method", "manual_device_id",
    "block_size_select_method", "manual_block_sizes", "constant_cache_overhead")

MAX_THREADS = 1024
_INDEX_LIMIT = 2 ** 31 - 1     # generated code indexes arrays with 32-bit integers


def _check_num_threads(value):
    """None or -1: all available cores; else an integer in 1..MAX_THREADS."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ModelError(f"num_threads must be None, -1 (all cores) or a positive integer, "
                         f"got {value!r}")
    value = int(value)
    if value == -1:
        return None
    if value < 1 or value > MAX_THREADS:
        raise ModelError(f"num_threads must be None, -1 (all cores) or an integer in "
                         f"1..{MAX_THREADS}, got {value}")
    return value


class GeNNModel:
    """A spiking network model compiled to native code (pygenn-5-like API).

    ``backend``: "cpu" (C++, works everywhere), "cuda" (NVRTC + CuPy; build()
    needs no GPU, load() does) or ``None``: ``ML_GENN_BACKEND`` if set, else
    "cuda" when a GPU is usable, else "cpu".
    ``num_threads``: OpenMP threads for batched runs: ``None`` or ``-1`` use
    ``OMP_NUM_THREADS`` when it is set, else all cores available to the
    process (its CPU affinity); otherwise an integer in 1..1024
    (0, other negative numbers, bools and non-integers raise ``ModelError``).

    ``**preferences``: only pygenn 5's keyword arguments and backend
    preferences are accepted, and all of them are ignored by this engine
    (it always generates optimised code and has no device to select):
    ``genn_log_level``, ``code_gen_log_level``, ``transpiler_log_level``,
    ``runtime_log_level``, ``backend_log_level``, ``log_level``,
    ``optimize_code``, ``debug_code``, ``enable_bitmask_optimisations``,
    ``generate_empty_state_push``, ``generate_extra_global_param_pull``,
    ``automatic_copy``, ``generate_line_info``, ``show_ptx_info``,
    ``enable_nccl_reductions``, ``device_select_method``,
    ``manual_device_id``, ``block_size_select_method``,
    ``manual_block_sizes``, ``constant_cache_overhead``.  Any other keyword
    raises ``TypeError`` naming it.

    Thread safety: ``run``, ``custom_update``, ``load``, ``unload`` and the
    other operations on a loaded model's state are serialised by a lock per
    model.  Ctrl-C during ``run`` raises ``KeyboardInterrupt`` within a
    fraction of a second (the native loop runs in chunks of about 0.1 s);
    ``timestep`` then counts exactly the steps that ran and the model can
    be run further.
    """

    def __init__(self, precision="float", model_name="model", backend=None,
                 time_precision=None, num_threads=None, **preferences):
        if precision not in ("float", "double"):
            raise ModelError(f"precision must be 'float' or 'double', got {precision!r}")
        if time_precision not in (None, "float", "double"):
            raise ModelError(f"time_precision must be 'float' or 'double', got "
                             f"{time_precision!r}")
        backend = backend or _default_backend()
        if backend in ("single_threaded_cpu", "cpu"):
            backend = "cpu"
        elif backend != "cuda":
            raise ModelError(f"unknown backend {backend!r}; choose 'cpu' or 'cuda'")
        self.precision = precision
        self.time_precision = time_precision or precision
        self.model_name = model_name     # checked: see the property
        self.backend_name = backend
        unknown = sorted(set(preferences) - set(ACCEPTED_PREFERENCES))
        if unknown:
            raise TypeError(f"GeNNModel() got unknown keyword argument(s) "
                            f"{', '.join(repr(k) for k in unknown)}; accepted: precision, "
                            "model_name, backend, time_precision, num_threads, and the "
                            "(ignored) pygenn preferences " + ", ".join(ACCEPTED_PREFERENCES))
        _check_num_threads(num_threads)
        self.num_threads = num_threads
        self.preferences = preferences
        # [timestep, step], advanced by the native run loop itself
        self._counters = np.zeros(2, dtype=np.uint64)
        self._counters_ptr = self._counters.ctypes.data     # (.ctypes is slow)
        self._threads, self._threads_for = None, object()   # run()'s thread count
        self._lock = threading.RLock()
        self._chunk = 1          # steps per native call: grows to ~0.1 s of work
        self._built_info = None
        self._built_batch_size = None
        self._built_dt = None
        self.dt = 0.5
        self.batch_size = 1
        self.seed = 0
        self.timing_enabled = False
        self.fuse_postsynaptic_models = False
        self.fuse_pre_post_weight_update_models = False
        # pygenn's memory settings: accepted and remembered (see locations.py)
        self._default_var_location = VarLocation.HOST_DEVICE
        self._default_sparse_connectivity_location = VarLocation.HOST_DEVICE
        self._default_narrow_sparse_ind_enabled = False
        self.neuron_populations = {}
        self.synapse_populations = {}
        self.current_sources = {}
        self.custom_updates = {}
        self.custom_connectivity_updates = {}
        self._built = None
        self._runtime = None
        self._loaded = False
        self._sizes = {}
        self._timestep = 0
        self._step = 0
        self._num_recording_timesteps = 0
        self.source_path = None
        self.build_time = None
        self.cache_hit = None

    # a copy would share the loaded library instance and its state arrays
    # (and, after an unload, drive another model's state): refuse clearly
    def __copy__(self):
        raise TypeError("a GeNNModel cannot be copied: it owns native state; build another "
                        "GeNNModel with the same populations instead")

    def __deepcopy__(self, memo):
        self.__copy__()

    def __reduce_ex__(self, protocol):
        raise TypeError("a GeNNModel cannot be pickled: it owns native state; save its "
                        "variables' values instead")

    # ------------------------------------------------------------------
    # description
    # ------------------------------------------------------------------
    @property
    def model_name(self):
        """The model's name (a C identifier, checked whenever it is set: it is
        written into generated code and names the ``_CODE`` folder)."""
        return self._model_name

    @model_name.setter
    def model_name(self, value):
        from .names import check_name
        check_name(value, "model", only_identifier=True)
        self._model_name = value

    def _check_name(self, name, what):
        if not isinstance(name, str) or not name:
            raise ModelError(f"{what} name must be a non-empty string, got {name!r}")
        from .names import check_name
        check_name(name, what, f"model '{self.model_name}'")
        taken = (set(self.neuron_populations) | set(self.synapse_populations)
                 | set(self.current_sources) | set(self.custom_updates)
                 | set(self.custom_connectivity_updates))
        if name in taken:
            raise ModelError(f"{what} name '{name}' is already used in model "
                             f"'{self.model_name}'; names must be unique")

    @property
    def name(self):
        """The model's name (pygenn's ``name``; ``model_name`` too)."""
        return self.model_name

    @property
    def default_var_location(self):
        return self._default_var_location

    @default_var_location.setter
    def default_var_location(self, location):
        self._check_not_built("setting default_var_location")
        self._default_var_location = check_location(location, "default_var_location")

    @property
    def default_sparse_connectivity_location(self):
        return self._default_sparse_connectivity_location

    @default_sparse_connectivity_location.setter
    def default_sparse_connectivity_location(self, location):
        self._check_not_built("setting default_sparse_connectivity_location")
        self._default_sparse_connectivity_location = check_location(
            location, "default_sparse_connectivity_location")

    @property
    def default_narrow_sparse_ind_enabled(self):
        return self._default_narrow_sparse_ind_enabled

    @default_narrow_sparse_ind_enabled.setter
    def default_narrow_sparse_ind_enabled(self, value):
        self._check_not_built("setting default_narrow_sparse_ind_enabled")
        self._default_narrow_sparse_ind_enabled = check_flag(
            value, "default_narrow_sparse_ind_enabled")

    @property
    def free_device_mem_bytes(self):
        """Free memory of the GPU a CUDA model runs on (0 on the CPU backend,
        which has no device memory, as in pygenn)."""
        self._check_loaded("free_device_mem_bytes")
        free = getattr(self._runtime, "free_device_mem_bytes", None)
        return free() if free is not None else 0

    def _check_not_built(self, what):
        if self._built is not None:
            raise RuntimeStateError(f"{what} must happen before build()")

    def add_neuron_population(self, pop_name, num_neurons, neuron, params=None, vars=None):
        """Add ``num_neurons`` neurons of ``neuron`` (built-in name or model)."""
        self._check_not_built("adding a neuron population")
        self._check_name(pop_name, "neuron population")
        model = _resolve(neuron, "neuron_models", NeuronModel, "neuron model")
        ng = NeuronGroup(self, pop_name, num_neurons, model, params or {}, vars or {})
        self.neuron_populations[pop_name] = ng
        return ng

    def add_synapse_population(self, pop_name, matrix_type, source, target,
                               weight_update_init, postsynaptic_init,
                               connectivity_init=None):
        """Connect ``source`` to ``target`` with the given matrix type and models."""
        self._check_not_built("adding a synapse population")
        self._check_name(pop_name, "synapse population")
        if isinstance(matrix_type, str):
            try:
                matrix_type = SynapseMatrixType[matrix_type]
            except KeyError:
                raise ModelError(f"synapse population '{pop_name}': unknown matrix type "
                                 f"'{matrix_type}'; choose one of "
                                 f"{', '.join(m.name for m in SynapseMatrixType)}") from None
        matrix_type = SynapseMatrixType(matrix_type)
        src, trg = self._population(source, pop_name), self._population(target, pop_name)
        if not isinstance(weight_update_init, WeightUpdateInit):
            raise ModelError(f"synapse population '{pop_name}': weight_update_init must come "
                             "from init_weight_update(...)")
        if not isinstance(postsynaptic_init, PostsynapticInit):
            raise ModelError(f"synapse population '{pop_name}': postsynaptic_init must come "
                             "from init_postsynaptic(...)")
        conn = matrix_type.connectivity
        if conn == Conn.TOEPLITZ and not isinstance(connectivity_init, ToeplitzConnectivityInit):
            raise ModelError(f"synapse population '{pop_name}': TOEPLITZ connectivity needs "
                             "init_toeplitz_connectivity(...)")
        if conn == Conn.PROCEDURAL and not isinstance(connectivity_init, SparseConnectivityInit):
            raise ModelError(f"synapse population '{pop_name}': PROCEDURAL connectivity needs "
                             "init_sparse_connectivity(...)")
        if conn in (Conn.DENSE,) and connectivity_init is not None:
            raise ModelError(f"synapse population '{pop_name}': DENSE connectivity takes no "
                             "connectivity initialiser")
        if conn == Conn.BITMASK and connectivity_init is not None and \
                not isinstance(connectivity_init, SparseConnectivityInit):
            raise ModelError(f"synapse population '{pop_name}': BITMASK connectivity needs "
                             "init_sparse_connectivity(...) (or set_sparse_connections())")
        sg = SynapseGroup(self, pop_name, matrix_type, src, trg, weight_update_init,
                          postsynaptic_init, connectivity_init)
        if matrix_type.weight == SynapseMatrixWeight.KERNEL and sg.kernel_size is None:
            raise ModelError(f"synapse population '{pop_name}': KERNEL weights need a "
                             "connectivity snippet with calc_kernel_size_func")
        if conn == Conn.BITMASK and sg.vars:
            # as in GeNN: a bit per synapse and nothing else
            raise ModelError(f"synapse population '{pop_name}': BITMASK connectivity stores "
                             "no per-synapse state, so its weight update model "
                             f"'{sg.snippet.class_name}' cannot have variables "
                             f"({', '.join(sg.vars)}); use parameters (e.g. "
                             "StaticPulseConstantWeight) or SPARSE/DENSE")
        self.synapse_populations[pop_name] = sg
        src.out_syn.append(sg)
        trg.in_syn.append(sg)
        return sg

    def add_current_source(self, cs_name, current_source_model, pop, params=None,
                           vars=None, var_refs=None):
        self._check_not_built("adding a current source")
        self._check_name(cs_name, "current source")
        model = _resolve(current_source_model, "current_source_models", CurrentSourceModel,
                         "current source model")
        target = self._population(pop, cs_name)
        cs = CurrentSource(self, cs_name, model, target, params or {}, vars or {}, var_refs)
        self.current_sources[cs_name] = cs
        target.current_sources.append(cs)
        return cs

    def add_custom_update(self, cu_name, group_name, custom_update_model, params=None,
                          vars=None, var_refs=None, egp_refs=None):
        """Add an update run by ``custom_update(group_name)``."""
        self._check_not_built("adding a custom update")
        self._check_name(cu_name, "custom update")
        from .names import check_name
        check_name(group_name, "custom update group", f"custom update '{cu_name}'")
        model = _resolve(custom_update_model, "custom_update_models", CustomUpdateModel,
                         "custom update model")
        cu = CustomUpdate(self, cu_name, group_name, model, params or {}, vars or {},
                          var_refs or {}, egp_refs)
        self.custom_updates[cu_name] = cu
        return cu

    def add_custom_connectivity_update(self, cu_name, group_name, syn_group,
                                       custom_conn_update_model, params=None, vars=None,
                                       pre_vars=None, post_vars=None, var_refs=None,
                                       pre_var_refs=None, post_var_refs=None, egp_refs=None):
        """Add an update of ``syn_group``'s SPARSE connectivity, run by
        ``custom_update(group_name)`` (with the custom updates of that group).

        ``row_update_code`` runs once per presynaptic neuron: it may loop
        over the row with ``for_each_synapse { ... }`` (``id_post``,
        ``id_syn``, per-synapse variables and references), call
        ``remove_synapse()`` in it, and ``add_synapse(id_post, values...)``
        outside it (one value per variable of ``vars`` and then per
        reference of ``var_refs``, in declaration order).  Every other
        per-synapse array of the population (its variables, per-synapse
        variables of custom updates on it, of other connectivity updates)
        moves with its synapse; an added synapse's unreferenced ones start
        at 0.  ``var_refs`` may also point at a second SPARSE population
        with the same source and target: its connectivity must equal this
        one's when the update runs, and is changed identically.
        ``syn_group`` may be the population or its name."""
        self._check_not_built("adding a custom connectivity update")
        self._check_name(cu_name, "custom connectivity update")
        from .names import check_name
        check_name(group_name, "custom update group", f"custom connectivity update '{cu_name}'")
        # GeNN has no built-in custom connectivity update models
        model = custom_conn_update_model
        if not isinstance(model, CustomConnectivityUpdateModel):
            raise ModelError(f"custom connectivity update '{cu_name}': expected a model from "
                             "create_custom_connectivity_update_model(...), got "
                             f"{model!r}")
        if isinstance(syn_group, str):
            if syn_group not in self.synapse_populations:
                raise ModelError(f"custom connectivity update '{cu_name}': model "
                                 f"'{self.model_name}' has no synapse population {syn_group!r}")
            syn_group = self.synapse_populations[syn_group]
        ccu = CustomConnectivityUpdate(self, cu_name, group_name, syn_group, model,
                                       params or {}, vars or {}, pre_vars or {},
                                       post_vars or {}, var_refs or {}, pre_var_refs or {},
                                       post_var_refs or {}, egp_refs)
        self.custom_connectivity_updates[cu_name] = ccu
        return ccu

    def _custom_update_group_names(self):
        """Names of the groups run by custom_update(): of custom updates and
        of custom connectivity updates."""
        return sorted({cu.group_name for cu in self.custom_updates.values()}
                      | {c.group_name for c in self.custom_connectivity_updates.values()})

    def _population(self, pop, context):
        if isinstance(pop, NeuronGroup) and pop.genn_model is self:
            return pop
        if isinstance(pop, str) and pop in self.neuron_populations:
            return self.neuron_populations[pop]
        raise ModelError(f"'{context}': {pop!r} is not a neuron population of model "
                         f"'{self.model_name}'")

    # ------------------------------------------------------------------
    # build / load
    # ------------------------------------------------------------------
    def _validate(self):
        dt = self.dt
        if isinstance(dt, bool) or not isinstance(dt, (numbers.Real, np.number)) or \
                not math.isfinite(dt) or dt <= 0:
            raise ModelError(f"dt must be a positive number of milliseconds (finite, not a "
                             f"bool), got {dt!r}")
        # NumPy scalars print as "np.float64(0.5)": generated code needs a float
        self.dt = float(dt)
        if isinstance(self.batch_size, bool) or \
                not isinstance(self.batch_size, (numbers.Integral, np.integer)) or \
                self.batch_size < 1:
            raise ModelError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)) or \
                not 0 <= int(seed) < 2 ** 64:
            raise ModelError(f"seed must be an integer in 0..2**64-1 (0: a random seed), got "
                             f"{seed!r}")
        _check_num_threads(self.num_threads)
        self._validate_builtin_params()
        for sg in self.synapse_populations.values():
            for attr in ("axonal_delay_steps", "back_prop_delay_steps"):
                value = getattr(sg, attr)
                if isinstance(value, (bool, np.bool_)) or \
                        not isinstance(value, (int, np.integer)) or value < 0:
                    raise ModelError(f"synapse population '{sg.name}': {attr} must be "
                                     f"a non-negative integer, got {value!r}")
            if isinstance(sg.max_dendritic_delay_timesteps, (bool, np.bool_)) or \
                    not isinstance(sg.max_dendritic_delay_timesteps, (int, np.integer)) or \
                    sg.max_dendritic_delay_timesteps < 1:
                raise ModelError(f"synapse population '{sg.name}': "
                                 "max_dendritic_delay_timesteps must be an integer >= 1")
            if sg.is_sparse:
                self._sizes[(sg.name, "stride")] = self._sparse_stride(sg)
            elif sg.matrix_type.connectivity == Conn.BITMASK:
                if sg._user_connectivity is not None:
                    from .runtime import check_user_connectivity
                    check_user_connectivity(sg)
                elif sg.connectivity_initialiser is None:
                    raise ModelError(f"synapse population '{sg.name}' is BITMASK: give "
                                     "init_sparse_connectivity(...) or call "
                                     "set_sparse_connections() before build()")

    def _validate_builtin_params(self):
        """Built-in models and snippets: the constraints of builtins/constraints.py."""
        from .builtins.constraints import check
        for g in list(self.neuron_populations.values()) + \
                list(self.current_sources.values()) + list(self.custom_updates.values()):
            check(g.snippet, g.params, f"{g.kind} '{g.name}'")
        for sg in self.synapse_populations.values():
            where = f"synapse population '{sg.name}'"
            check(sg.snippet, sg.params, where)
            check(sg.ps_initialiser.snippet, sg.ps_params, where + " postsynaptic")
            ci = sg.connectivity_initialiser
            if ci is not None:
                check(ci.snippet, ci.params, where + " connectivity",
                      sg.src.num_neurons, sg.trg.num_neurons)
        from .runtime import _all_vars
        from .snippets import VarInit
        for g, field, var in _all_vars(self):
            if isinstance(var.init, VarInit):
                check(var.init.snippet, var.init.params,
                      f"{g.kind} '{g.name}' variable '{field}' initialiser")

    def _check_index_sizes(self, backend):
        """Sizes that would overflow the 32-bit indices of generated code."""
        limit = _INDEX_LIMIT
        for spec in backend.layout:
            if spec.size > limit:
                raise ModelError(f"'{spec.key[0]}': array '{spec.key[1]}' would have "
                                 f"{spec.size} elements, more than generated code can index "
                                 f"({limit}); use fewer neurons, a smaller batch_size or "
                                 "sparser connectivity")
        for sg in self.synapse_populations.values():
            npre, npost = sg.src.num_neurons, sg.trg.num_neurons
            conn = sg.matrix_type.connectivity
            if conn in (Conn.DENSE, Conn.PROCEDURAL, Conn.BITMASK) and npre * npost > limit:
                raise ModelError(f"synapse population '{sg.name}': {npre} x {npost} = "
                                 f"{npre * npost} synapses overflow 32-bit indices "
                                 f"({limit}); use SPARSE connectivity or smaller populations")
            if sg.is_sparse:
                stride = self._sizes.get((sg.name, "stride"), 0)
                if npre * stride * self.batch_size > limit:
                    raise ModelError(f"synapse population '{sg.name}': {npre} rows x {stride} "
                                     f"synapses per row{' x batch' if self.batch_size > 1 else ''}"
                                     f" overflow 32-bit indices ({limit})")
            if sg.kernel_size is not None:
                k = 1
                for d in sg.kernel_size:
                    k *= d
                if k * self.batch_size > limit:
                    raise ModelError(f"synapse population '{sg.name}': kernel of {k} "
                                     f"elements overflows 32-bit indices ({limit})")
        for ng in self.neuron_populations.values():
            if ng.num_neurons * self.batch_size * ng.num_delay_slots > limit:
                raise ModelError(f"neuron population '{ng.name}': {ng.num_neurons} neurons x "
                                 f"batch {self.batch_size} x {ng.num_delay_slots} delay slots "
                                 f"overflow 32-bit indices ({limit})")

    def _sparse_stride(self, sg):
        mc = sg._max_connections
        if mc is not None:
            if isinstance(mc, (bool, np.bool_)) or not isinstance(mc, (int, np.integer)) \
                    or mc < 1:
                raise ModelError(f"synapse population '{sg.name}': max_connections must be "
                                 f"a positive integer or None, got {mc!r}")
            if sg._user_connectivity is not None:
                from .runtime import check_user_connectivity
                check_user_connectivity(sg)
                counts = np.bincount(sg._user_connectivity[0], minlength=sg.src.num_neurons)
                if int(counts.max(initial=0)) > mc:
                    raise ModelError(f"synapse population '{sg.name}': a row given to "
                                     f"set_sparse_connections has {int(counts.max())} "
                                     f"synapses, more than max_connections = {mc}")
            return int(mc)
        if sg._user_connectivity is not None:
            from .runtime import check_user_connectivity
            check_user_connectivity(sg)
            pre = sg._user_connectivity[0]
            counts = np.bincount(pre, minlength=sg.src.num_neurons)
            return max(int(counts.max(initial=0)), 1)
        ci = sg.connectivity_initialiser
        if ci is None:
            raise ModelError(f"synapse population '{sg.name}' is SPARSE: give "
                             "init_sparse_connectivity(...) or call set_sparse_connections() "
                             "before build()")
        if ci.snippet.calc_max_row_len_func is None:
            raise ModelError(f"sparse connectivity snippet '{ci.snippet.class_name}' needs "
                             "calc_max_row_len_func to size SPARSE rows")
        pars = derived_values(ci.snippet, ci.params, self.dt)
        from .snippets import user_count
        return max(user_count(ci.snippet.calc_max_row_len_func(
            sg.src.num_neurons, sg.trg.num_neurons, pars),
            f"synapse population '{sg.name}': calc_max_row_len_func of "
            f"'{ci.snippet.class_name}'"), 1)

    def _make_backend(self):
        if self.backend_name == "cpu":
            from .backends.cpu import CPUBackend
            return CPUBackend(self)
        from .backends.cuda import CUDABackend
        return CUDABackend(self)

    def _runtime_class(self):
        if self.backend_name == "cpu":
            from .runtime import CPURuntime
            return CPURuntime
        from .cuda_runtime import CUDARuntime
        return CUDARuntime

    def build(self, path_to_model=".", force_rebuild=False, never_rebuild=False):
        """Generate and compile the model (cached by content)."""
        start = time.perf_counter()
        self._validate()
        backend = self._make_backend()
        source = backend.generate()
        self._check_index_sizes(backend)
        self._backend = backend
        self._built_batch_size = self.batch_size
        self._built_dt = self.dt
        self.source = source
        if self.backend_name == "cuda":
            from .cuda_runtime import compile_model
            self._built, self.source_path, self.cache_hit = compile_model(self, source)
        else:
            from .backends.compile import compile_source
            lib_path, src_path, cached = compile_source(self, source, force_rebuild)
            self._built = lib_path
            self.source_path = src_path
            self.cache_hit = cached
        if os.environ.get("ML_GENN_KEEP_SOURCE"):
            self._keep_source(path_to_model, source)
        self.build_time = time.perf_counter() - start

    def _keep_source(self, path_to_model, source):
        """Write the source to {path_to_model}/{model_name}_CODE/model.cc, never
        outside that folder: no path separators in the name, no symlinks
        followed, written to a temporary file and renamed into place."""
        from .errors import BuildError
        name = self.model_name
        if not isinstance(name, str) or not name or os.sep in name or \
                (os.altsep and os.altsep in name) or name in (".", ".."):
            raise ModelError(f"ML_GENN_KEEP_SOURCE: model name {name!r} cannot name a folder")
        keep = os.path.join(path_to_model, f"{name}_CODE")
        try:
            os.makedirs(keep, exist_ok=True)     # path_to_model too, if it is new
        except FileExistsError:
            pass          # a file or link there: refused below
        try:
            dfd = os.open(keep, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) |
                          getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            dfd = None
        if dfd is None or not stat.S_ISDIR(os.fstat(dfd).st_mode):
            if dfd is not None:
                os.close(dfd)
            raise BuildError(f"ML_GENN_KEEP_SOURCE: '{keep}' exists and is not a folder (a "
                             "symbolic link or a file); remove it or unset "
                             "ML_GENN_KEEP_SOURCE")
        # everything below is relative to the opened folder: nothing is followed
        tmp = f".model-{os.getpid()}-{threading.get_ident()}.cc.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                         getattr(os, "O_NOFOLLOW", 0), 0o644, dir_fd=dfd)
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(source)
                os.replace(tmp, "model.cc", src_dir_fd=dfd, dst_dir_fd=dfd)
            except BaseException:
                try:
                    os.unlink(tmp, dir_fd=dfd)
                except OSError:
                    pass
                raise
        finally:
            os.close(dfd)

    def load(self, num_recording_timesteps=None):
        """Allocate state, initialise it and bind it to the native library."""
        with self._lock:
            self._load(num_recording_timesteps)

    def _load(self, num_recording_timesteps):
        if self._built is None:
            raise RuntimeStateError("call build() before load()")
        if self._loaded:
            self.unload()
        if self._built_batch_size != self.batch_size:
            raise RuntimeStateError(f"batch_size changed from {self._built_batch_size} to "
                                    f"{self.batch_size} after build(); call build() again")
        if self._built_dt != self.dt:
            # the generated code has the old dt built in; t and recorded spike times
            # would silently disagree with it
            raise RuntimeStateError(f"dt changed from {self._built_dt} to {self.dt!r} after "
                                    "build(); call build() again")
        # the generated code writes recording buffers that were enabled at build()
        if self._backend.layout.records() and not num_recording_timesteps:
            raise RuntimeStateError("spike recording is enabled: pass "
                                    "load(num_recording_timesteps=N)")
        if num_recording_timesteps is not None and (
                isinstance(num_recording_timesteps, bool)
                or not isinstance(num_recording_timesteps, (int, np.integer))
                or num_recording_timesteps < 0):
            raise ModelError("load: num_recording_timesteps must be a non-negative integer, "
                             f"got {num_recording_timesteps!r}")
        n_rec = int(num_recording_timesteps or 0)
        if n_rec >= 2 ** 32:
            raise ModelError(f"load: num_recording_timesteps = {n_rec} is too large (at most "
                             f"{2 ** 32 - 1})")
        layout = self._backend.layout
        for spec in layout:
            if spec.key[1] in RECORDING_FIELDS:
                words = layout.load_size(spec, self, n_rec)
                if words > 2 ** 40:
                    raise ModelError(f"load: recording {n_rec} steps of '{spec.key[0]}' needs "
                                     f"{words * 4} bytes; record fewer steps")
        self._check_memory(n_rec)
        self._num_recording_timesteps = n_rec
        start = time.perf_counter()
        self._counters[:] = 0
        try:
            self._runtime = self._runtime_class()(self)
        except BaseException:
            self.unload()
            raise
        self._init_time = time.perf_counter() - start
        self._custom_update_times = {}
        self._loaded = True
        self._counters[:] = 0
        self._threads_for = object()         # thread count worked out again

    def _check_memory(self, n_rec):
        """A clear error instead of an out-of-memory kill: the state arrays
        (with recording buffers for ``n_rec`` steps) must fit in memory."""
        total = 0
        layout = self._backend.layout
        for spec in layout:
            total += layout.load_size(spec, self, n_rec) * np.dtype(spec.dtype).itemsize
        limit = _physical_memory()
        if limit and total > limit:
            raise ModelError(f"load: the state of model '{self.model_name}' needs "
                             f"{total / 2 ** 30:.1f} GiB but this machine has "
                             f"{limit / 2 ** 30:.1f} GiB of memory; use fewer neurons, a "
                             "smaller batch_size or fewer recorded steps")

    def unload(self):
        """Release the state arrays and the library (build stays cached)."""
        with self._lock:
            from .runtime import detach_views
            detach_views(self)
            runtime, self._runtime = self._runtime, None
            self._loaded = False
            if runtime is not None:
                runtime.close()

    @property
    def _arrays(self):
        """The loaded model's state arrays by (group name, field); empty when
        not loaded."""
        return self._runtime.arrays if self._runtime is not None else {}

    # [timestep, step] live in a small array the native run loop advances
    @property
    def _timestep(self):
        return int(self._counters[0])

    @_timestep.setter
    def _timestep(self, value):
        self._counters[0] = value

    @property
    def _step(self):
        return int(self._counters[1])

    @_step.setter
    def _step(self, value):
        self._counters[1] = value

    # ------------------------------------------------------------------
    # running
    # ------------------------------------------------------------------
    def _check_loaded(self, what):
        if not self._loaded:
            raise RuntimeStateError(f"{what}: the model is not loaded; call build() and "
                                    "load() first")

    def step_time(self):
        """Advance one time step."""
        self.run(1)

    def run(self, n_steps, custom_updates=()):
        """Advance ``n_steps`` time steps in native code.

        The native loop runs in chunks of about 0.1 s (sized from the
        measured speed, growing geometrically from a few steps), so Ctrl-C
        raises ``KeyboardInterrupt`` quickly; the native code itself advances
        ``timestep``, so after an interrupt it counts exactly the steps that
        ran, and the model can be run further with identical results.

        ``custom_updates``: names of custom update groups run, in this order,
        after every step, as ``step_time(); custom_update(name)...`` would,
        without returning to Python between steps (an extension of pygenn's
        API; e.g. a softmax over each step's output). Groups holding custom
        connectivity updates are not allowed here; with ``timing_enabled``
        the steps are run one by one so each group's time is counted."""
        if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool):
            raise ModelError(f"run: n_steps must be an integer number of steps, got "
                             f"{n_steps!r}")
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ModelError(f"run: n_steps must be >= 0, got {n_steps}")
        custom_updates = self._per_step_custom_updates(custom_updates)
        if custom_updates and self.timing_enabled:
            for _ in range(n_steps):
                self.run(1)
                for group_name in custom_updates:
                    self.custom_update(group_name)
            return
        with self._lock:
            self._check_loaded("run")
            if self._timestep + n_steps >= 2 ** 64 or self._step + n_steps >= 2 ** 64:
                raise ModelError(f"run: {n_steps} more steps would overflow the 64-bit step "
                                 "counter")
            if n_steps == 0:
                return
            if self._threads_for != self.num_threads:
                # OpenMP reads OMP_NUM_THREADS once too: worked out once per setting
                # never more threads than batch elements, unless the generated
                # code shares each step of a single batch element among threads
                limit = MAX_THREADS if self._backend.shares_steps else self.batch_size
                self._threads = min(_check_num_threads(self.num_threads) or
                                    _default_threads(), limit)
                self._threads_for = self.num_threads
            threads = self._threads
            from .runtime import check_before_run
            check_before_run(self)
            self._runtime.run(n_steps, threads, custom_updates)

    def _per_step_custom_updates(self, custom_updates):
        """``run()``'s ``custom_updates`` checked: a list of names of custom
        update groups without custom connectivity updates."""
        if isinstance(custom_updates, str):
            custom_updates = [custom_updates]
        try:
            names = list(custom_updates)
        except TypeError:
            raise ModelError(f"run: custom_updates must be a list of custom update group "
                             f"names, got {custom_updates!r}") from None
        groups = self._custom_update_group_names()
        for name in names:
            if not isinstance(name, str) or name not in groups:
                raise ModelError(f"run: no custom update group {name!r}; groups: "
                                 f"{', '.join(groups) or 'none'}")
            if any(c.group_name == name for c in self.custom_connectivity_updates.values()):
                raise ModelError(f"run: custom update group {name!r} holds custom "
                                 "connectivity updates, which cannot run between the steps "
                                 "of run(); call custom_update() after step_time() instead")
        return names

    def reset_spike_queues(self):
        """Forget spikes and delayed input still in flight (spike queues,
        spike-like event queues and dendritic delay rings), so the next step
        starts as after load().  Used between independent examples."""
        with self._lock:
            self._check_loaded("reset_spike_queues")
            self._runtime.reset_spike_queues()

    @property
    def timestep(self):
        return self._timestep

    @timestep.setter
    def timestep(self, value):
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) \
                or not 0 <= int(value) < 2 ** 64:
            raise ModelError(f"timestep must be an integer in 0..2**64-1, got {value!r}")
        with self._lock:
            self._timestep = int(value)

    @property
    def t(self):
        # the dt the loaded code runs with (dt may have been changed since build())
        return self._timestep * (self._built_dt if self._loaded else self.dt)

    def custom_update(self, group_name):
        """Run every custom update of ``group_name``."""
        with self._lock:
            self._check_loaded("custom_update")
            start = time.perf_counter()
            try:
                self._runtime.custom_update(group_name)
            finally:
                if isinstance(group_name, str) and \
                        group_name in self._runtime.custom_update_groups:
                    self._custom_update_times[group_name] = (
                        self._custom_update_times.get(group_name, 0.0)
                        + time.perf_counter() - start)

    # -- timers (timing_enabled = True before build()), in seconds ----------
    def _timer(self, index):
        self._check_loaded("timers")
        arr = self._arrays.get(("<model>", "timers"))
        if arr is None:
            raise RuntimeStateError("timers need timing_enabled = True before build()")
        return float(arr[index::2].sum())

    @property
    def presynaptic_update_time(self):
        """Time in synapse updates (spike propagation, learning, dynamics),
        summed over batch elements."""
        return self._timer(0)

    @property
    def neuron_update_time(self):
        """Time in neuron updates (with postsynaptic models and current
        sources), summed over batch elements."""
        return self._timer(1)

    @property
    def postsynaptic_update_time(self):
        """Included in presynaptic_update_time (one synapse pass per step)."""
        self._timer(0)
        return 0.0

    @property
    def synapse_dynamics_time(self):
        """Included in presynaptic_update_time (one synapse pass per step)."""
        self._timer(0)
        return 0.0

    @property
    def init_time(self):
        self._timer(0)
        return self._init_time

    @property
    def init_sparse_time(self):
        """Included in init_time (connectivity is built in the same pass)."""
        self._timer(0)
        return 0.0

    def get_custom_update_time(self, name):
        """Wall time spent in custom update group ``name``."""
        self._timer(0)
        return self._custom_update_times.get(name, 0.0)

    def pull_recording_buffers_from_device(self):
        """Copy the spike recording buffers from the device (nothing to copy
        on the CPU backend)."""
        with self._lock:
            self._check_loaded("pull_recording_buffers_from_device")
            for key in self._runtime.arrays:
                if key[1] in RECORDING_FIELDS:
                    self._runtime.pull(key)

    # called by groups -------------------------------------------------
    def _backend_push(self, view):
        """Copy a view's host values to the device (nothing on the CPU)."""
        with self._lock:
            if self._runtime is not None:
                self._runtime.push_array(view._array)

    def _backend_pull(self, view):
        """Copy a view's values from the device to the host (nothing on the CPU)."""
        with self._lock:
            if self._runtime is not None:
                self._runtime.pull_array(view._array)

    def _transfer_connectivity(self, sg, direction):
        with self._lock:
            self._check_loaded(f"{direction}_connectivity of '{sg.name}'")
            for field in ("rowLength", "ind"):
                if (sg.name, field) in self._runtime.arrays:
                    getattr(self._runtime, direction)((sg.name, field))
            if direction == "push":
                self._runtime.update_column_views(sg)

    def _rebind(self, view):
        with self._lock:
            if self._runtime is not None:
                self._runtime.rebind(view)

    def _upload_sparse(self, sg):
        with self._lock:
            self._runtime.upload_sparse(sg)

    def _spike_recording_data(self, ng, events=False):
        with self._lock:
            self._check_loaded("spike_event_recording_data" if events
                               else "spike_recording_data")
            return self._runtime.decode_spikes(ng, "recSpkEvnt" if events else "recSpk")

    def _current_spikes(self, ng):
        with self._lock:
            self._check_loaded("current_spikes")
            return self._runtime.current_spikes(ng)
