"""The CUDA runtime: NVRTC-compiled kernels driven through CuPy.

The host keeps NumPy mirrors of every array (what the views show); the
device holds the state the kernels work on.  ``push``/``pull`` copy, as in
pygenn (``push_to_device``, ``pull_from_device``, ``pull_recording_buffers_
from_device``); initialisation, spike decoding and the current spikes pull
what they read themselves.  One time step is captured once as a CUDA graph
(``backend.kernels`` in order) and replayed, so launch overhead does not
dominate small models.  With ``timing_enabled`` steps are launched one by
one between CUDA events instead, and the synapse and neuron kernel times
are added to the model's timers.

``build()`` needs no GPU: it compiles the generated source to PTX for
``ML_GENN_CUDA_ARCH``; ``load()`` compiles a cubin for the GPU it finds.
"""
import hashlib
import threading

import numpy as np

from .errors import ModelError
from .runtime import Runtime

_compiled = {}               # (source sha256, arch) -> PTX text or cubin bytes
_compiled_lock = threading.Lock()


def compile_model(model, source):
    """build() of a CUDA model: PTX for ``ML_GENN_CUDA_ARCH`` (no GPU needed).
    Returns (build key, source path, was it cached)."""
    from .backends.nvrtc import compile_ptx, default_arch
    digest = hashlib.sha256(source.encode()).hexdigest()
    key = (digest, f"compute_{default_arch()}")
    with _compiled_lock:
        cached = key in _compiled
    if not cached:
        ptx = compile_ptx(source, f"{model.model_name}.cu")
        with _compiled_lock:
            _compiled[key] = ptx
    model._built_info = {"sha256": digest}
    return f"cuda:{digest}", None, cached


def _cupy():
    """CuPy with a usable GPU, or a clear error naming the CPU backend."""
    try:
        import cupy
    except ImportError as e:
        raise ModelError("the CUDA backend needs CuPy and NVRTC: pip install "
                         '"ml_genn[cuda]"; or build with backend="cpu"') from e
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:              # no driver, no device
        raise ModelError(f"no CUDA GPU is usable here ({e}); build the model with "
                         'backend="cpu"') from None
    if count < 1:
        raise ModelError('no CUDA GPU is usable here; build the model with backend="cpu"')
    return cupy


def _module(cupy, source):
    """The source compiled for this GPU (a cubin, cached per process)."""
    from .backends.nvrtc import compile_cubin
    major, minor = cupy.cuda.Device().compute_capability[:-1], \
        cupy.cuda.Device().compute_capability[-1]
    arch = f"sm_{major}{minor}"
    key = (hashlib.sha256(source.encode()).hexdigest(), arch)
    with _compiled_lock:
        cubin = _compiled.get(key)
    if cubin is None:
        cubin = compile_cubin(source, "model.cu", arch=arch)
        with _compiled_lock:
            _compiled[key] = cubin
    module = cupy.cuda.function.Module()
    module.load(cubin)
    return module


class CUDARuntime(Runtime):
    """State in device memory, NumPy mirrors on the host."""

    def _open(self):
        from .backends.cuda import BLOCK
        cp = self.cp = _cupy()
        backend = self.model._backend
        module = self._module_handle = _module(cp, self.model.source)
        self._fn = {}
        for name in [k[0] for k in backend.kernels] + ["mg_k_set_array", "mg_k_set_state",
                                                        "mg_k_get_state", "mg_k_sizeof"]:
            self._fn[name] = module.get_function(name)
        self._block = (BLOCK, 1, 1)
        out = cp.zeros(1, dtype=cp.uint64)
        self._launch("mg_k_sizeof", (1, 1), out)
        self.state = cp.zeros(int(out.get()[0]), dtype=cp.uint8)   # members: 0 / nullptr
        self._state_out = cp.zeros(3, dtype=cp.uint64)
        self.device = {}
        self._seed = 0
        self._device_counters = None
        self._graph = None
        self._step_kernels = [k for k in backend.kernels if k[3] == "step"]

    def free_device_mem_bytes(self):
        return int(self.cp.cuda.runtime.memGetInfo()[0])

    def _launch(self, name, grid, *args):
        self._fn[name](tuple(grid) + (1,), self._block, args)

    def close(self):
        super().close()
        self.device = {}
        self._graph = None

    # -- state ------------------------------------------------------------------
    def _bind(self, spec, arr):
        cp = self.cp
        d = cp.asarray(arr) if arr.size else None
        self.device[spec.key] = d
        self._launch("mg_k_set_array", (1, 1), self.state, np.uint32(spec.index),
                     np.uint64(d.data.ptr if d is not None else 0), np.uint64(arr.size))
        self._graph = None          # kernels read the pointers from the struct

    def push(self, key):
        d = self.device.get(key)
        if d is not None:
            d.set(self.arrays[key])

    def pull(self, key):
        d = self.device.get(key)
        if d is not None:
            d.get(out=self.arrays[key])

    def _read_state(self):
        self._launch("mg_k_get_state", (1, 1), self.state, self._state_out)
        timestep, step, error = (int(v) for v in self._state_out.get())
        self._device_counters = (timestep, step)
        return timestep, step, error

    def _write_state(self):
        model = self.model
        self._launch("mg_k_set_state", (1, 1), self.state, np.uint64(self._seed),
                     np.uint64(model._timestep), np.uint64(model._step),
                     np.uint32(model._num_recording_timesteps))
        self._device_counters = (model._timestep, model._step)

    def error(self):
        return self._read_state()[2]

    # -- native operations ------------------------------------------------------
    def _native_init(self, seed, build_connectivity):
        self._seed = seed
        self._write_state()
        for name, gx, gy, phase, condition in self.model._backend.kernels:
            if phase == "init" and (condition is None or build_connectivity[condition]):
                self._launch(name, (gx, gy), self.state)
        self.cp.cuda.Device().synchronize()
        for key in self.arrays:
            self.pull(key)
        return self.error()

    def _capture_step(self):
        """One time step as a CUDA graph (None where capture is unavailable)."""
        cp = self.cp
        stream = cp.cuda.Stream(non_blocking=True)
        try:
            with stream:
                stream.begin_capture()
                for name, gx, gy, _, _ in self._step_kernels:
                    self._launch(name, (gx, gy), self.state)
                return stream, stream.end_capture()
        except Exception:
            return stream, None

    def _run_chunk(self, n_steps, threads, custom_updates=()):
        model = self.model
        if self._device_counters != (model._timestep, model._step):
            self._write_state()          # the user set timestep
        # kernels of the custom updates run after every step (in order)
        after = [(name, gx, gy) for group in custom_updates
                 for name, gx, gy, phase, _ in model._backend.kernels
                 if phase == f"custom:{group}"]
        if ("<model>", "timers") in self.arrays:     # timing_enabled when it was built
            self._run_timed(n_steps, after)
            return self._finish_chunk()
        if self._graph is None:
            self._stream, self._graph = self._capture_step()
        if self._graph is not None:
            with self._stream:
                for _ in range(n_steps):
                    self._graph.launch(self._stream)
                    for name, gx, gy in after:
                        self._launch(name, (gx, gy), self.state)
            self._stream.synchronize()
        else:
            for _ in range(n_steps):
                for name, gx, gy, _, _ in self._step_kernels:
                    self._launch(name, (gx, gy), self.state)
                for name, gx, gy in after:
                    self._launch(name, (gx, gy), self.state)
        return self._finish_chunk()

    def _finish_chunk(self):
        timestep, step, error = self._read_state()
        self.model._counters[0], self.model._counters[1] = timestep, step
        return error

    def _run_timed(self, n_steps, after):
        """Steps launched kernel by kernel between events: the synapse
        kernels' time goes to timers[0], the neuron kernels' to timers[1]
        (the layout the CPU backend fills per batch element; here all batch
        elements run in the same kernels, so batch 0's entries hold it)."""
        cp = self.cp
        split = self.model._backend.num_synapse_step_kernels
        syn, neu = self._step_kernels[:split], self._step_kernels[split:]
        start, middle, end = (cp.cuda.Event() for _ in range(3))
        synapse_ms = neuron_ms = 0.0
        for _ in range(n_steps):
            start.record()
            for name, gx, gy, _, _ in syn:
                self._launch(name, (gx, gy), self.state)
            middle.record()
            for name, gx, gy, _, _ in neu:
                self._launch(name, (gx, gy), self.state)
            end.record()
            for name, gx, gy in after:
                self._launch(name, (gx, gy), self.state)
            end.synchronize()
            synapse_ms += cp.cuda.get_elapsed_time(start, middle)
            neuron_ms += cp.cuda.get_elapsed_time(middle, end)
        timers = self.arrays[("<model>", "timers")]
        timers[0] += synapse_ms / 1000.0
        timers[1] += neuron_ms / 1000.0
        self.push(("<model>", "timers"))       # a pull of every array keeps them

    def _native_custom_update(self, group_name):
        if self._device_counters != (self.model._timestep, self.model._step):
            self._write_state()
        for name, gx, gy, phase, _ in self.model._backend.kernels:
            if phase == f"custom:{group_name}":
                self._launch(name, (gx, gy), self.state)
        return self.error()
