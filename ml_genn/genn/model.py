"""GeNNModel: describe a network, build it into native code, run it."""
import ctypes
import os
import time

import numpy as np

from .errors import ModelError, RuntimeStateError
from .groups import CurrentSource, CustomUpdate, NeuronGroup, SynapseGroup
from .snippets import (CurrentSourceModel, CustomUpdateModel, NeuronModel,
                       WeightUpdateInit, PostsynapticInit, SparseConnectivityInit,
                       ToeplitzConnectivityInit, _resolve, derived_values)
from .types import SynapseMatrixConnectivity as Conn, SynapseMatrixType, SynapseMatrixWeight

_VALID_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _available_cores():
    """Cores this process may run on (respects CPU affinity and containers)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:           # not on Linux
        return os.cpu_count() or 1


def _default_backend():
    return "cpu"


class GeNNModel:
    """A spiking network model compiled to native code (pygenn-5-like API).

    ``backend``: ``None``/"cpu" (C++, works everywhere) or "cuda".
    ``num_threads``: OpenMP threads for batched runs (default: all cores).
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
        self.model_name = model_name
        self.backend_name = backend
        self.num_threads = num_threads
        self.preferences = preferences
        self.dt = 0.5
        self.batch_size = 1
        self.seed = 0
        self.timing_enabled = False
        self.fuse_postsynaptic_models = False
        self.fuse_pre_post_weight_update_models = False
        self.neuron_populations = {}
        self.synapse_populations = {}
        self.current_sources = {}
        self.custom_updates = {}
        self._built = None
        self._lib = None
        self._loaded = False
        self._arrays = {}
        self._sizes = {}
        self._timestep = 0
        self._step = 0
        self._num_recording_timesteps = 0
        self.source_path = None
        self.build_time = None
        self.cache_hit = None

    # ------------------------------------------------------------------
    # description
    # ------------------------------------------------------------------
    def _check_name(self, name, what):
        if not isinstance(name, str) or not name:
            raise ModelError(f"{what} name must be a non-empty string, got {name!r}")
        taken = (set(self.neuron_populations) | set(self.synapse_populations)
                 | set(self.current_sources) | set(self.custom_updates))
        if name in taken:
            raise ModelError(f"{what} name '{name}' is already used in model "
                             f"'{self.model_name}'; names must be unique")
        from .backends.base import c_ident
        clash = [o for o in taken if c_ident(o) == c_ident(name)]
        if clash:
            raise ModelError(f"{what} name '{name}' maps to the same C identifier as "
                             f"'{clash[0]}'; choose names differing in letters or digits")

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
        if conn == Conn.BITMASK:
            raise ModelError(f"synapse population '{pop_name}': BITMASK is not supported; "
                             "use SPARSE")
        if matrix_type == SynapseMatrixType.DENSE_PROCEDURALG:
            raise ModelError(f"synapse population '{pop_name}': DENSE_PROCEDURALG is not "
                             "supported; use DENSE")
        sg = SynapseGroup(self, pop_name, matrix_type, src, trg, weight_update_init,
                          postsynaptic_init, connectivity_init)
        if matrix_type.weight == SynapseMatrixWeight.KERNEL and sg.kernel_size is None:
            raise ModelError(f"synapse population '{pop_name}': KERNEL weights need a "
                             "connectivity snippet with calc_kernel_size_func")
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
        if not isinstance(group_name, str) or not group_name or \
                not set(group_name) <= _VALID_NAME_CHARS:
            raise ModelError(f"custom update '{cu_name}': group name {group_name!r} must be "
                             "letters, digits and '_'")
        model = _resolve(custom_update_model, "custom_update_models", CustomUpdateModel,
                         "custom update model")
        cu = CustomUpdate(self, cu_name, group_name, model, params or {}, vars or {},
                          var_refs or {}, egp_refs)
        self.custom_updates[cu_name] = cu
        return cu

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
        if not (isinstance(self.dt, (int, float)) and self.dt > 0):
            raise ModelError(f"dt must be a positive number of milliseconds, got {self.dt!r}")
        if not (isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 1):
            raise ModelError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        for sg in self.synapse_populations.values():
            if not isinstance(sg.axonal_delay_steps, (int, np.integer)) or \
                    sg.axonal_delay_steps < 0:
                raise ModelError(f"synapse population '{sg.name}': axonal_delay_steps must be "
                                 f"a non-negative integer, got {sg.axonal_delay_steps!r}")
            if not isinstance(sg.max_dendritic_delay_timesteps, (int, np.integer)) or \
                    sg.max_dendritic_delay_timesteps < 1:
                raise ModelError(f"synapse population '{sg.name}': "
                                 "max_dendritic_delay_timesteps must be an integer >= 1")
            if sg.is_sparse:
                self._sizes[(sg.name, "stride")] = self._sparse_stride(sg)

    def _sparse_stride(self, sg):
        if sg._user_connectivity is not None:
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
        return max(int(ci.snippet.calc_max_row_len_func(sg.src.num_neurons,
                                                        sg.trg.num_neurons, pars)), 1)

    def _make_backend(self):
        if self.backend_name == "cpu":
            from .backends.cpu import CPUBackend
            return CPUBackend(self)
        raise ModelError("the CUDA backend is not available yet; build with backend='cpu' "
                         "(the default)")

    def build(self, path_to_model=".", force_rebuild=False, never_rebuild=False):
        """Generate and compile the model (cached by content)."""
        start = time.perf_counter()
        self._validate()
        backend = self._make_backend()
        source = backend.generate()
        self._backend = backend
        self.source = source
        from .backends.compile import compile_source
        lib_path, src_path, cached = compile_source(self, source, force_rebuild)
        self._built = lib_path
        self.source_path = src_path
        self.cache_hit = cached
        if os.environ.get("ML_GENN_KEEP_SOURCE"):
            keep = os.path.join(path_to_model, f"{self.model_name}_CODE")
            os.makedirs(keep, exist_ok=True)
            with open(os.path.join(keep, "model.cc"), "w") as f:
                f.write(source)
        self.build_time = time.perf_counter() - start

    def load(self, num_recording_timesteps=None):
        """Allocate state, initialise it and bind it to the native library."""
        if self._built is None:
            raise RuntimeStateError("call build() before load()")
        if self._loaded:
            self.unload()
        if any(ng.spike_recording_enabled or ng.spike_event_recording_enabled
               for ng in self.neuron_populations.values()) \
                and not num_recording_timesteps:
            raise RuntimeStateError("spike recording is enabled: pass "
                                    "load(num_recording_timesteps=N)")
        if num_recording_timesteps is not None and (
                not isinstance(num_recording_timesteps, (int, np.integer))
                or num_recording_timesteps < 0):
            raise ModelError("load: num_recording_timesteps must be a non-negative integer, "
                             f"got {num_recording_timesteps!r}")
        self._num_recording_timesteps = int(num_recording_timesteps or 0)
        from .runtime import load_model
        start = time.perf_counter()
        load_model(self)
        self._init_time = time.perf_counter() - start
        self._custom_update_times = {}
        self._loaded = True
        self._timestep = 0
        self._step = 0

    def unload(self):
        """Release the state arrays and the library (build stays cached)."""
        from .runtime import detach_views
        detach_views(self)
        self._lib = None
        self._loaded = False
        self._arrays = {}

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

    def run(self, n_steps):
        """Advance ``n_steps`` time steps entirely in native code."""
        self._check_loaded("run")
        if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool):
            raise ModelError(f"run: n_steps must be an integer number of steps, got "
                             f"{n_steps!r}")
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ModelError(f"run: n_steps must be >= 0, got {n_steps}")
        if n_steps == 0:
            return
        threads = self.num_threads or _available_cores()
        self._lib.mg_run(ctypes.c_uint64(self._timestep), ctypes.c_uint64(self._step),
                         ctypes.c_uint32(n_steps),
                         ctypes.c_uint32(self._num_recording_timesteps), ctypes.c_int(threads))
        self._timestep += n_steps
        self._step += n_steps

    def reset_spike_queues(self):
        """Forget spikes and delayed input still in flight (spike queues,
        spike-like event queues and dendritic delay rings), so the next step
        starts as after load().  Used between independent examples."""
        self._check_loaded("reset_spike_queues")
        for (group, field), arr in self._arrays.items():
            if field in ("spkCnt", "evntCnt", "denDelay"):
                arr[:] = 0

    @property
    def timestep(self):
        return self._timestep

    @timestep.setter
    def timestep(self, value):
        self._timestep = int(value)

    @property
    def t(self):
        return self._timestep * self.dt

    def custom_update(self, group_name):
        """Run every custom update of ``group_name``."""
        self._check_loaded("custom_update")
        fn = self._custom_update_fns.get(group_name)
        if fn is None:
            raise ModelError(f"no custom update group '{group_name}'; groups: "
                             f"{', '.join(sorted(self._custom_update_fns)) or 'none'}")
        start = time.perf_counter()
        fn(ctypes.c_uint64(self._timestep))
        self._custom_update_times[group_name] = (
            self._custom_update_times.get(group_name, 0.0) + time.perf_counter() - start)

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
        """Nothing to copy on the CPU backend; kept for pygenn compatibility."""
        self._check_loaded("pull_recording_buffers_from_device")

    # called by groups -------------------------------------------------
    def _backend_push(self, view):
        pass

    def _backend_pull(self, view):
        pass

    def _rebind(self, view):
        from .runtime import rebind
        rebind(self, view)

    def _upload_sparse(self, sg):
        from .runtime import upload_sparse
        upload_sparse(self, sg)

    def _spike_recording_data(self, ng, events=False):
        from .runtime import decode_spikes
        return decode_spikes(self, ng, "recSpkEvnt" if events else "recSpk")

    def _current_spikes(self, ng):
        self._check_loaded("current_spikes")
        slots = ng.num_delay_slots
        slot = (self._step - 1) % slots if self._step > 0 else 0
        cnt = self._arrays[(ng.name, "spkCnt")].reshape(self.batch_size, slots)[:, slot]
        spk = self._arrays[(ng.name, "spk")].reshape(self.batch_size, slots, ng.num_neurons)
        out = [np.sort(spk[b, slot, :cnt[b]]) for b in range(self.batch_size)]
        return out[0] if self.batch_size == 1 else out
