"""Determinism, build cache behaviour and runtime bookkeeping of the engine."""
import multiprocessing
import os

import numpy as np
import pytest

from ml_genn.genn import GeNNModel, init_postsynaptic, init_sparse_connectivity, \
    init_var, init_weight_update

LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": -65.0, "Vreset": -65.0, "Vthresh": -50.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}


def noisy_network(name, batch_size=4, num_threads=None, seed=42, rate=40.0):
    """Poisson input -> LIF with random connectivity: uses RNG everywhere."""
    model = GeNNModel("float", name, num_threads=num_threads)
    model.dt = 0.1
    model.batch_size = batch_size
    model.seed = seed
    stim = model.add_neuron_population("Stim", 200, "Poisson", {"rate": rate},
                                       {"timeStepToSpike": 0.0})
    exc = model.add_neuron_population(
        "Exc", 100, "LIF", LIF_PARAMS,
        {"V": init_var("Uniform", {"min": -65.0, "max": -50.0}), "RefracTime": 0.0})
    exc.spike_recording_enabled = True
    stim.spike_recording_enabled = True
    model.add_synapse_population(
        "StimExc", "SPARSE", stim, exc,
        init_weight_update("StaticPulse", {}, {"g": init_var("Normal", {"mean": 2.0, "sd": 0.5})}),
        init_postsynaptic("ExpCurr", {"tau": 5.0}),
        init_sparse_connectivity("FixedProbability", {"prob": 0.2}))
    model.add_synapse_population(
        "ExcExc", "PROCEDURAL", exc, exc,
        init_weight_update("StaticPulseConstantWeight", {"g": 0.5}, {}),
        init_postsynaptic("DeltaCurr"),
        init_sparse_connectivity("FixedProbability", {"prob": 0.1}))
    return model, stim, exc


def run_and_record(model, pops, steps=500):
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    model.pull_recording_buffers_from_device()
    return [p.spike_recording_data for p in pops]


def assert_same_spikes(a, b):
    for pa, pb in zip(a, b):
        assert len(pa) == len(pb)
        for (ta, ia), (tb, ib) in zip(pa, pb):
            np.testing.assert_array_equal(ta, tb)
            np.testing.assert_array_equal(ia, ib)


def test_deterministic_across_runs_and_thread_counts():
    model, stim, exc = noisy_network("det_a", num_threads=1)
    ref = run_and_record(model, [stim, exc])
    # the network is not silent and batch elements differ from each other
    assert all(len(t) > 100 for t, _ in ref[1])
    assert not np.array_equal(ref[0][0][1], ref[0][1][1])
    for threads in (1, 2, 3):
        model, stim, exc = noisy_network("det_a", num_threads=threads)
        assert_same_spikes(ref, run_and_record(model, [stim, exc]))


def test_seed_changes_results_and_step_time_equals_run():
    model, stim, exc = noisy_network("det_b", batch_size=1, seed=1)
    a = run_and_record(model, [stim, exc], steps=200)
    model2, stim2, exc2 = noisy_network("det_b", batch_size=1, seed=2)
    b = run_and_record(model2, [stim2, exc2], steps=200)
    assert not np.array_equal(a[0][0][1], b[0][0][1])
    # 200 calls of step_time() == one run(200)
    model3, stim3, exc3 = noisy_network("det_b", batch_size=1, seed=1)
    model3.build()
    model3.load(num_recording_timesteps=200)
    for _ in range(200):
        model3.step_time()
    assert model3.timestep == 200
    assert model3.t == pytest.approx(20.0)
    assert_same_spikes(a, [stim3.spike_recording_data, exc3.spike_recording_data])


def test_batch_elements_are_independent_copies():
    """Batch element b of a batched model == the same model run with batch 1?
    Not with RNG (streams include the batch index); but with identical
    deterministic inputs every batch element must give identical spikes."""
    model = GeNNModel("float", "batch_copies")
    model.dt = 0.1
    model.batch_size = 3
    pop = model.add_neuron_population("P", 50, "LIF", {**LIF_PARAMS, "Ioffset": 20.0},
                                      {"V": np.linspace(-65, -50, 50), "RefracTime": 0.0})
    pop.spike_recording_enabled = True
    model.add_synapse_population("PP", "DENSE", pop, pop,
                                 init_weight_update("StaticPulse", {}, {"g": 0.25}),
                                 init_postsynaptic("DeltaCurr"))
    model.build()
    model.load(num_recording_timesteps=300)
    model.run(300)
    data = pop.spike_recording_data
    assert len(data[0][0]) > 100
    for t, i in data[1:]:
        np.testing.assert_array_equal(t, data[0][0])
        np.testing.assert_array_equal(i, data[0][1])


def test_second_build_uses_cache_without_compiler(monkeypatch):
    model, _, _ = noisy_network("cache_a")
    model.build()
    model2, stim, exc = noisy_network("cache_a")

    def no_compiler(*args, **kwargs):
        raise AssertionError("the compiler was called for a cached model")
    monkeypatch.setattr("ml_genn.genn.cache.run_compiler", no_compiler)
    model2.build()
    assert model2.cache_hit
    model2.load(num_recording_timesteps=10)
    model2.run(10)
    assert os.path.exists(model2.source_path)
    with open(model2.source_path) as f:
        src = f.read()
    assert "Neuron population 'Exc' (model 'LIF')" in src


def test_corrupt_cache_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("ML_GENN_CACHE_DIR", str(tmp_path))
    model, _, _ = noisy_network("cache_b")
    model.build()
    assert not model.cache_hit
    lib = model._built
    with open(lib, "r+b") as f:       # simulate a partial write
        f.truncate(100)
    model2, stim, exc = noisy_network("cache_b")
    model2.build()
    assert not model2.cache_hit
    model2.load(num_recording_timesteps=50)
    model2.run(50)
    assert os.path.getsize(model2._built) > 100


def _build_in_process(cache_dir, queue):
    os.environ["ML_GENN_CACHE_DIR"] = cache_dir
    model, stim, exc = noisy_network("concurrent")
    data = run_and_record(model, [exc], steps=100)
    queue.put([(t.tolist(), i.tolist()) for t, i in data[0]])


def test_two_processes_build_same_model_concurrently(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_build_in_process, args=(str(tmp_path), queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert results[0] == results[1]
    assert len([f for f in os.listdir(tmp_path) if f.endswith(".so")]) == 1


def test_views_are_zero_copy_and_shaped():
    model = GeNNModel("float", "views")
    model.batch_size = 2
    pop = model.add_neuron_population("P", 10, "LIF", LIF_PARAMS,
                                      {"V": -60.0, "RefracTime": 0.0})
    model.build()
    model.load()
    v = pop.vars["V"]
    assert v.view.shape == (2, 10)
    np.testing.assert_array_equal(v.view, -60.0)
    v.view[1, :] = -55.0
    v.push_to_device()
    assert v.values[1, 0] == -55.0
    model.run(1)        # the native code saw the write: V decayed from -55
    assert -55.0 > v.view[1, 0] > -65.0
    assert v.view[0, 0] != v.view[1, 0]


def test_keep_source_writes_readable_code(tmp_path, monkeypatch):
    monkeypatch.setenv("ML_GENN_KEEP_SOURCE", "1")
    model, _, _ = noisy_network("keep_src")
    model.build(str(tmp_path / "new" / "folder"))        # created as needed
    path = tmp_path / "new" / "folder" / "keep_src_CODE" / "model.cc"
    src = path.read_text()
    assert src == open(model.source_path).read()
    # comments name every population and model the code came from
    for text in ("Neuron population 'Stim' (model 'Poisson')",
                 "Neuron population 'Exc' (model 'LIF')",
                 "Synapse population 'StimExc' ('Stim' -> 'Exc', SPARSE, weight update "
                 "'StaticPulse', postsynaptic 'ExpCurr')",
                 "postsynaptic model 'ExpCurr' of synapse population 'StimExc'",
                 "// sim_code", "// threshold_condition_code", "// reset_code"):
        assert text in src


def test_custom_update_variable_views_follow_the_update_dims():
    """A batch reduction target has one value per element; a plain variable
    of a batched update one per batch element and element."""
    from ml_genn.genn import (CustomUpdateVarAccess, VarAccessMode,
                              create_custom_update_model, create_var_ref)
    model = GeNNModel("float", "cu_views")
    model.batch_size = 4
    pop = model.add_neuron_population("P", 6, "LIF", LIF_PARAMS,
                                      {"V": -65.0, "RefracTime": 0.0})
    cu_model = create_custom_update_model(
        "SumAndDouble", vars=[("S", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM),
                              ("D", "scalar")],
        var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)], update_code="S = X; D = X * 2.0;")
    cu = model.add_custom_update("SD", "Reduce", cu_model, {}, {"S": 0.0, "D": 0.0},
                                 {"X": create_var_ref(pop, "V")})
    model.build()
    model.load()
    v = np.arange(24, dtype=np.float32).reshape(4, 6)
    pop.vars["V"].view[:] = v
    model.custom_update("Reduce")
    np.testing.assert_array_equal(cu.vars["S"].view, v.sum(axis=0))
    np.testing.assert_array_equal(cu.vars["D"].view, 2 * v)


def test_timers_when_timing_is_enabled():
    """pygenn's timer attributes (read by mlGeNN examples with kernel_profiling)."""
    import time
    from ml_genn.genn import RuntimeStateError, create_custom_update_model, create_var_ref
    model, stim, exc = noisy_network("timers", batch_size=2)
    model.timing_enabled = True
    reset = create_custom_update_model("Zero", var_refs=[("X", "scalar")],
                                       update_code="X = 0.0;")
    model.add_custom_update("ZeroV", "Reset", reset, {}, {}, {"X": create_var_ref(exc, "V")})
    model.build()
    model.load(num_recording_timesteps=2000)
    start = time.perf_counter()
    model.run(2000)
    wall = time.perf_counter() - start
    model.custom_update("Reset")
    neuron, synapse = model.neuron_update_time, model.presynaptic_update_time
    assert neuron > 0.0 and synapse > 0.0
    # summed over the 2 batch elements, which may run in parallel
    assert neuron + synapse <= 2 * wall
    assert model.get_custom_update_time("Reset") > 0.0
    assert model.get_custom_update_time("Other") == 0.0
    assert model.init_time > 0.0
    untimed, _, _ = noisy_network("timers_off")
    untimed.build()
    untimed.load(num_recording_timesteps=10)
    with pytest.raises(RuntimeStateError, match="timing_enabled"):
        untimed.neuron_update_time


def _doubling_model(name, batch_size=2, timing=False):
    """x += id + 1 every step; custom update group 'Double': x *= 2."""
    from ml_genn.genn import create_custom_update_model, create_neuron_model, create_var_ref
    model = GeNNModel("float", name)
    model.batch_size = batch_size
    model.timing_enabled = timing
    nm = create_neuron_model("Count", vars=[("x", "scalar")], sim_code="x += id + 1;")
    pop = model.add_neuron_population("P", 3, nm, {}, {"x": 0.0})
    double = create_custom_update_model("Double", var_refs=[("X", "scalar")],
                                        update_code="X *= 2.0;")
    model.add_custom_update("D", "Double", double, {}, {}, {"X": create_var_ref(pop, "x")})
    model.build()
    model.load()
    return model, pop


@pytest.mark.parametrize("timing", [False, True])
def test_run_with_custom_updates_after_every_step(timing):
    """run(n, custom_updates=[...]) is step_time() followed by the custom
    updates, n times: x_{k+1} = 2 * (x_k + id + 1)."""
    model, pop = _doubling_model(f"run_with_updates_{timing}", timing=timing)
    model.run(5, custom_updates=["Double"])
    expected = np.zeros(3)
    for _ in range(5):
        expected = 2.0 * (expected + np.arange(1, 4))
    np.testing.assert_array_equal(pop.vars["x"].view, np.tile(expected, (2, 1)))
    assert model.timestep == 5
    if timing:
        assert model.get_custom_update_time("Double") > 0.0


def test_run_custom_updates_errors():
    from ml_genn.genn import ModelError
    model, _ = _doubling_model("run_with_updates_errors", batch_size=1)
    with pytest.raises(ModelError, match="no custom update group 'Nope'"):
        model.run(2, custom_updates=["Nope"])
    assert model.timestep == 0
