"""The CUDA backend: build without a GPU, clear errors at load without one,
and (on a machine with a GPU) the same results as the C++ backend, spike for
spike.  Every model of the suite is also compiled to PTX by conftest.py."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, init_postsynaptic, init_sparse_connectivity,
                          init_var, init_weight_update)
from ml_genn.genn.errors import ModelError
from ml_genn.genn.model import _default_backend


def _gpu_usable():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


GPU = _gpu_usable()
needs_gpu = pytest.mark.skipif(not GPU, reason="needs a CUDA GPU (run scripts/gpu_check.sh)")

LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": -65.0, "Vreset": -65.0, "Vthresh": -50.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}


def network(backend, name, batch_size=1, precision="float"):
    """Poisson input -> recurrent LIF population (DENSE excitatory, SPARSE
    inhibitory), weights exactly representable so that any order of
    additions gives the same sums; spikes recorded."""
    model = GeNNModel(precision, name, backend=backend)
    model.dt = 1.0
    model.seed = 1234
    model.batch_size = batch_size
    inp = model.add_neuron_population("Inp", 50, "Poisson", {"rate": 80.0}, {"timeStepToSpike": 0.0})
    pop = model.add_neuron_population("Pop", 200, "LIF", LIF_PARAMS,
                                      {"V": init_var("Uniform", {"min": -65.0, "max": -50.0}),
                                       "RefracTime": 0.0})
    pop.spike_recording_enabled = True
    model.add_synapse_population("InpPop", "DENSE", inp, pop,
                                 init_weight_update("StaticPulseConstantWeight", {"g": 2.0}),
                                 init_postsynaptic("ExpCurr", {"tau": 5.0}))
    model.add_synapse_population("PopPop", "SPARSE", pop, pop,
                                 init_weight_update("StaticPulseConstantWeight", {"g": -0.5}),
                                 init_postsynaptic("DeltaCurr"),
                                 init_sparse_connectivity("FixedProbability", {"prob": 0.1}))
    return model, pop


def test_build_needs_no_gpu():
    model, _ = network("cuda", "cuda_build")
    model.build()
    assert model.backend_name == "cuda"
    assert model._built.startswith("cuda:")
    assert 'extern "C" __global__ void mg_k_neuron_update_Pop' in model.source
    kinds = {k[3] for k in model._backend.kernels}
    assert kinds == {"init", "step"}


@pytest.mark.skipif(GPU, reason="a GPU is usable here")
def test_load_without_gpu_names_the_cpu_backend():
    model, _ = network("cuda", "cuda_no_gpu")
    model.build()
    with pytest.raises(ModelError, match='backend="cpu"'):
        model.load(num_recording_timesteps=10)


def test_backend_from_environment(monkeypatch):
    monkeypatch.setenv("ML_GENN_BACKEND", "cuda")
    assert GeNNModel("float", "env_cuda").backend_name == "cuda"
    monkeypatch.setenv("ML_GENN_BACKEND", "cpu")
    assert GeNNModel("float", "env_cpu").backend_name == "cpu"
    monkeypatch.setenv("ML_GENN_BACKEND", "tpu")
    with pytest.raises(ModelError, match="ML_GENN_BACKEND='tpu'"):
        _default_backend()
    monkeypatch.delenv("ML_GENN_BACKEND")
    assert _default_backend() == ("cuda" if GPU else "cpu")


def _run(backend, name, steps=200, batch_size=1):
    model, pop = network(backend, name, batch_size)
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    model.pull_recording_buffers_from_device()
    pop.vars["V"].pull_from_device()
    return pop.spike_recording_data, pop.vars["V"].values


@needs_gpu
@pytest.mark.parametrize("batch_size", [1, 3])
def test_same_spikes_as_the_cpu(batch_size):
    """Same seed: the same Philox streams, the same spike order and, with
    exactly representable weights, the same sums: identical spike trains."""
    cpu = _run("cpu", f"xb_cpu_{batch_size}", batch_size=batch_size)
    gpu = _run("cuda", f"xb_cuda_{batch_size}", batch_size=batch_size)
    cpu_rec, gpu_rec = cpu[0], gpu[0]
    if batch_size == 1:
        cpu_rec, gpu_rec = [cpu_rec], [gpu_rec]
    total = 0
    for (ct, ci), (gt, gi) in zip(cpu_rec, gpu_rec):
        np.testing.assert_array_equal(ct, gt)
        np.testing.assert_array_equal(ci, gi)
        total += ct.size
    assert total > 100          # the network is active
    np.testing.assert_allclose(cpu[1], gpu[1], rtol=1e-5, atol=1e-4)


@needs_gpu
def test_custom_update_reductions_match_the_cpu():
    from ml_genn.genn import (CustomUpdateVarAccess, VarAccessMode,
                              create_custom_update_model, create_var_ref)
    results = {}
    for backend in ("cpu", "cuda"):
        model = GeNNModel("float", f"red_{backend}", backend=backend)
        model.batch_size = 4
        pop = model.add_neuron_population(
            "P", 300, "LIF", LIF_PARAMS,
            {"V": init_var("Uniform", {"min": -70.0, "max": -40.0}), "RefracTime": 0.0})
        # S: the sum of V over the neurons of each batch element
        cu_model = create_custom_update_model(
            "NeuronSum", vars=[("S", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
            var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
            update_code="S = V;")
        model.add_custom_update("Red", "R", cu_model, {}, {"S": 0.0},
                                {"V": create_var_ref(pop, "V")})
        model.seed = 7
        model.build()
        model.load()
        model.custom_update("R")
        cu = model.custom_updates["Red"]
        cu.vars["S"].pull_from_device()
        pop.vars["V"].pull_from_device()
        results[backend] = (cu.vars["S"].values.copy(), pop.vars["V"].values.copy())
    np.testing.assert_array_equal(results["cpu"][1], results["cuda"][1])   # same init
    expected = results["cpu"][1].reshape(4, 300).astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(results["cuda"][0].ravel(), expected, rtol=1e-5)
    np.testing.assert_allclose(results["cpu"][0].ravel(), expected, rtol=1e-5)


def test_parallelism_hint_chooses_the_sparse_thread_mapping():
    from ml_genn.genn import ParallelismHint
    sources = {}
    for hint in (ParallelismHint.PRESYNAPTIC, ParallelismHint.POSTSYNAPTIC):
        model, _ = network("cuda", f"hint_{hint.name}")
        model.synapse_populations["PopPop"].parallelism_hint = hint
        model.build()
        start = model.source.index("void mg_synapse_presynaptic_PopPop")
        sources[hint] = model.source[start:model.source.index("\n    }\n", start)]
    # pre-span: a thread per spike; post-span: a thread per row position
    assert "const unsigned int _i = blockIdx.x * blockDim.x + threadIdx.x;" in \
        sources[ParallelismHint.PRESYNAPTIC]
    assert "const unsigned int _j = blockIdx.x * blockDim.x + threadIdx.x;" in \
        sources[ParallelismHint.POSTSYNAPTIC]


@needs_gpu
def test_timers_measure_kernels_and_keep_the_results():
    """With timing_enabled the steps run kernel by kernel between CUDA
    events: both timers grow, stay below the wall time, and the spikes are
    those of the untimed (graph-replayed) model."""
    import time
    timed, pop = network("cuda", "cuda_timers", batch_size=2)
    timed.timing_enabled = True
    timed.build()
    timed.load(num_recording_timesteps=100)
    start = time.perf_counter()
    timed.run(100)
    wall = time.perf_counter() - start
    synapse, neuron = timed.presynaptic_update_time, timed.neuron_update_time
    assert 0.0 < synapse and 0.0 < neuron and synapse + neuron <= wall
    timed.pull_recording_buffers_from_device()
    plain = _run("cuda", "cuda_untimed", steps=100, batch_size=2)
    for (tt, ti), (pt, pi) in zip(pop.spike_recording_data, plain[0]):
        np.testing.assert_array_equal(tt, pt)
        np.testing.assert_array_equal(ti, pi)
