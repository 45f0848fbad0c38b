"""Hostile and mistaken inputs to the engine's build cache, loader, run loop
and value checks (issue 7).  Anything that could crash runs in a subprocess."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from ml_genn.genn import (BuildError, GeNNModel, ModelError, RuntimeStateError, VarAccess,
                          create_neuron_model, init_postsynaptic, init_sparse_connectivity,
                          init_toeplitz_connectivity, init_var, init_weight_update)
from ml_genn.genn import cache as cache_mod

LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": -65.0, "Vreset": -65.0, "Vthresh": -50.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}
LIF_VARS = {"V": -65.0, "RefracTime": 0.0}

# Integer-valued and deterministic: exact in float32, so results can be
# compared exactly between differently chunked runs.
COUNTER = create_neuron_model(
    "Counter", params=["Limit"],
    vars=[("V", "scalar"), ("count", "scalar"), ("I", "scalar", VarAccess.READ_ONLY)],
    sim_code="V += I; count += 1.0;",
    threshold_condition_code="V >= Limit",
    reset_code="V = 0.0;")


def counter_model(name="counter", n=64, batch_size=1, **kwargs):
    model = GeNNModel("float", name, **kwargs)
    model.dt = 1.0
    model.batch_size = batch_size
    pop = model.add_neuron_population("P", n, COUNTER, {"Limit": 20.0},
                                      {"V": 0.0, "count": 0.0,
                                       "I": np.arange(n, dtype=np.float32) % 7 + 1})
    pop.spike_recording_enabled = True
    return model, pop


def lif_model(name="lif", **pop_kwargs):
    model = GeNNModel("float", name)
    pop = model.add_neuron_population("P", 10, "LIF", pop_kwargs.get("params", LIF_PARAMS),
                                      pop_kwargs.get("vars", LIF_VARS))
    return model, pop


def run_python(code, tmp_path, timeout=300):
    env = dict(os.environ, ML_GENN_CACHE_DIR=str(tmp_path / "cache"))
    header = "import sys; sys.path.insert(0, %r)\n" % os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-c", header + textwrap.dedent(code)],
                          capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("ML_GENN_CACHE_DIR", str(d))
    return d


def _entries(d, suffix):
    return sorted(f for f in os.listdir(d) if f.endswith(suffix))


# ---------------------------------------------------------------------------
# build cache trust
# ---------------------------------------------------------------------------
def test_cache_directory_is_created_private(cache):
    model, _ = lif_model("priv")
    model.build()
    assert (os.stat(cache).st_mode & 0o777) == 0o700
    assert os.path.dirname(model._built) == str(cache)


def test_world_writable_cache_directory_is_not_used(cache, monkeypatch):
    os.makedirs(cache)
    os.chmod(cache, 0o777)
    monkeypatch.setattr(cache_mod, "_warned", set())
    model, pop = lif_model("open_dir")
    with pytest.warns(cache_mod.CacheTrustWarning, match=r"writable by group or others.*"
                      r"chmod 700.*ML_GENN_CACHE_DIR"):
        model.build()
    assert os.path.dirname(model._built) != str(cache)
    assert _entries(cache, ".so") == []
    model.load()
    model.run(5)
    assert model.timestep == 5


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="changing a directory's owner needs root")
def test_cache_directory_owned_by_someone_else_is_not_used(cache, monkeypatch):
    os.makedirs(cache, mode=0o700)
    os.chown(cache, 65534, 65534)
    monkeypatch.setattr(cache_mod, "_warned", set())
    model, _ = lif_model("foreign_dir")
    with pytest.warns(cache_mod.CacheTrustWarning, match="owned by user id 65534, not by you"):
        model.build()
    assert not model._built.startswith(str(cache))


def test_manifest_writable_by_others_is_not_trusted(cache):
    model, _ = lif_model("open_manifest")
    model.build()
    manifest = model._built[:-3] + ".json"
    os.chmod(manifest, 0o666)
    model2, _ = lif_model("open_manifest")
    model2.build()
    assert not model2.cache_hit           # rebuilt, not loaded
    assert (os.stat(manifest).st_mode & 0o022) == 0
    model2.load()
    model2.run(3)


def test_library_writable_by_group_is_rebuilt(cache):
    model, _ = lif_model("open_lib")
    model.build()
    os.chmod(model._built, 0o775)
    model2, _ = lif_model("open_lib")
    model2.build()
    assert not model2.cache_hit
    model2.load()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="changing a file's owner needs root")
def test_library_owned_by_someone_else_is_never_loaded(cache):
    model, _ = lif_model("foreign_lib")
    model.build()
    os.chown(model._built, 65534, 65534)
    with pytest.raises(BuildError, match="owned by user id 65534.*chmod 700|"
                       "owned by user id 65534"):
        model.load()
    model2, _ = lif_model("foreign_lib")
    model2.build()                        # rejected at lookup: rebuilt and replaced
    assert not model2.cache_hit
    assert os.stat(model2._built).st_uid == os.geteuid()
    model2.load()


def test_symlinked_library_is_not_loaded(cache):
    model, _ = lif_model("link_lib")
    model.build()
    elsewhere = str(cache.parent / "elsewhere.so")
    os.rename(model._built, elsewhere)
    os.symlink(elsewhere, model._built)
    model2, _ = lif_model("link_lib")
    model2.build()
    assert not model2.cache_hit
    assert not os.path.islink(model2._built)


def test_symlink_at_lock_path_does_not_truncate_its_target(cache, monkeypatch):
    os.makedirs(cache, mode=0o700)
    victim = cache.parent / "victim.txt"
    victim.write_text("precious data\n")
    model, _ = lif_model("lock_link")
    from ml_genn.genn.backends import compile as comp
    cxx = cache_mod.find_cxx()
    key = cache_mod.BuildCache().key(model._make_backend().generate(),
                                     comp.cxx_command(cxx), comp.compiler_id(cxx))
    os.symlink(victim, cache / (key + ".lock"))
    monkeypatch.setattr(cache_mod, "_warned", set())
    with pytest.warns(cache_mod.CacheTrustWarning, match="lock file .* symbolic link"):
        model.build()
    assert victim.read_text() == "precious data\n"
    model.load()
    model.run(2)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_build_leaves_no_stray_files(cache, monkeypatch, exc):
    def interrupted(command, source_path, what):
        out = command[command.index("-o") + 1]
        with open(out, "wb") as f:        # a partial output
            f.write(b"\0" * 10)
        raise exc("interrupted")
    monkeypatch.setattr(cache_mod, "run_compiler", interrupted)
    model, _ = lif_model("interrupted")
    with pytest.raises(exc):
        model.build()
    left = sorted(os.listdir(cache))
    assert [f for f in left if not f.endswith((".cc", ".lock"))] == [], left
    monkeypatch.undo()
    monkeypatch.setenv("ML_GENN_CACHE_DIR", str(cache))
    model.build()
    model.load()


def test_library_changed_after_build_is_not_loaded(cache):
    model, _ = lif_model("changed")
    model.build()
    with open(model._built, "ab") as f:
        f.write(b"\0")
    with pytest.raises(BuildError, match="changed after it was built.*force_rebuild"):
        model.load()
    assert not model._loaded
    model.build(force_rebuild=True)
    model.load()
    model.run(1)


def test_keep_source_never_follows_a_symlinked_folder(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("ML_GENN_KEEP_SOURCE", "1")
    target = tmp_path / "target"
    target.mkdir()
    os.symlink(target, tmp_path / "linked_CODE")
    model, _ = lif_model("linked")
    with pytest.raises(BuildError, match="linked_CODE.*not a folder.*symbolic link"):
        model.build(str(tmp_path))
    assert list(target.iterdir()) == []
    model2, _ = lif_model("plain")
    model2.build(str(tmp_path))
    assert (tmp_path / "plain_CODE" / "model.cc").read_text() == model2.source


# ---------------------------------------------------------------------------
# isolation
# ---------------------------------------------------------------------------
def test_two_models_of_one_library_have_their_own_state(tmp_path):
    code = """
        import gc, numpy as np
        from tests.test_hardening_runtime import counter_model
        a, pa = counter_model("iso")
        b, pb = counter_model("iso")
        c, pc = counter_model("iso")
        for m in (a, b, c):
            m.build()
        assert a._built == b._built                  # one compiled library
        a.load(num_recording_timesteps=10)
        b.load(num_recording_timesteps=10)
        pb.vars["V"].view[:] = 5.0
        a.run(100)
        assert np.all(pb.vars["count"].view == 0.0), "running a changed b"
        assert np.all(pb.vars["V"].view == 5.0)
        assert np.all(pa.vars["count"].view == 100.0)
        a.unload(); del a, pa; gc.collect()
        b.run(50)                                    # would crash if it shared a's state
        c.load(num_recording_timesteps=10)           # reuses a's instance
        pc.vars["V"].view[:] = 5.0
        c.run(50)
        assert np.array_equal(pb.vars["V"].view, pc.vars["V"].view)
        assert np.all(pb.vars["count"].view == 50.0)
        print("OK")
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def test_reloading_reuses_one_library_instance(cache, monkeypatch):
    calls = []
    real = cache_mod.load_library

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)
    monkeypatch.setattr(cache_mod, "load_library", counting)
    model, pop = counter_model("reload")
    model.build()
    for _ in range(5):
        model.load(num_recording_timesteps=4)
        model.run(4)
    assert len(calls) <= 1
    np.testing.assert_array_equal(pop.vars["count"].view, 4.0)


# ---------------------------------------------------------------------------
# run loop
# ---------------------------------------------------------------------------
def test_step_counts_are_64_bit(cache):
    import ctypes
    model, pop = counter_model("wide", n=4)
    model.build()
    model.load(num_recording_timesteps=8)
    assert model._lib.mg_run.argtypes[1] is ctypes.c_uint64
    model.timestep = 2 ** 32 - 2
    model.run(5)
    assert model.timestep == 2 ** 32 + 3
    with pytest.raises(ModelError, match="overflow the 64-bit step counter"):
        model.run(2 ** 64)
    for bad in (1.5, True, -1, "10"):
        with pytest.raises(ModelError, match="n_steps"):
            model.run(bad)
    with pytest.raises(ModelError, match="timestep must be an integer"):
        model.timestep = -1


def test_ctrl_c_interrupts_run_quickly_and_keeps_the_model_consistent(tmp_path):
    code = """
        import json, os, signal, threading, time
        import numpy as np
        from tests.test_hardening_runtime import counter_model
        model, pop = counter_model("sigint", n=4000)
        model.build()
        model.load(num_recording_timesteps=50)
        sent = []
        def interrupt():
            time.sleep(0.5)
            sent.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=interrupt, daemon=True).start()
        try:
            model.run(10 ** 12)
            raise SystemExit("run() was not interrupted")
        except KeyboardInterrupt:
            latency = time.perf_counter() - sent[0]
        steps = model.timestep
        counts = pop.vars["count"].view.copy()
        model.run(60)
        ref, rpop = counter_model("sigint", n=4000)
        ref.build()
        ref.load(num_recording_timesteps=50)
        ref.run(steps + 60)
        same_state = all(np.array_equal(pop.vars[v].view, rpop.vars[v].view)
                         for v in ("V", "count"))
        (t1, i1), = pop.spike_recording_data
        (t2, i2), = rpop.spike_recording_data
        print(json.dumps({"latency": latency, "steps": steps,
                          "counts_ok": bool(np.all(counts == steps)),
                          "same_state": same_state,
                          "same_spikes": bool(np.array_equal(t1, t2) and np.array_equal(i1, i2)
                                              and len(t1) > 0),
                          "timestep": model.timestep}))
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["latency"] < 2.0
    assert 0 < out["steps"] < 2 ** 24
    assert out["counts_ok"], out          # timestep == steps that actually ran
    assert out["timestep"] == out["steps"] + 60
    assert out["same_state"] and out["same_spikes"], out


def test_two_threads_running_one_model_are_serialised(cache):
    model, pop = counter_model("threads", n=256, batch_size=2, num_threads=2)
    model.build()
    model.load(num_recording_timesteps=10)
    errors = []

    def work():
        try:
            for _ in range(20):
                model.run(50)
        except Exception as e:            # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert model.timestep == 3000
    np.testing.assert_array_equal(pop.vars["count"].view, 3000.0)
    ref, rpop = counter_model("threads", n=256, batch_size=2, num_threads=2)
    ref.build()
    ref.load(num_recording_timesteps=10)
    ref.run(3000)
    np.testing.assert_array_equal(pop.vars["V"].view, rpop.vars["V"].view)


def test_sizes_beyond_32_bit_indices_are_rejected_at_build(cache):
    model = GeNNModel("float", "huge_dense")
    a = model.add_neuron_population("A", 70000, "LIF", LIF_PARAMS, LIF_VARS)
    b = model.add_neuron_population("B", 70000, "LIF", LIF_PARAMS, LIF_VARS)
    model.add_synapse_population("AB", "DENSE", a, b,
                                 init_weight_update("StaticPulse", {}, {"g": 0.0}),
                                 init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match="'AB'.*overflow 32-bit indices|AB.*more than "
                       "generated code can index"):
        model.build()
    model = GeNNModel("float", "huge_pop")
    model.batch_size = 4
    model.add_neuron_population("P", 2 ** 30, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(ModelError, match="'P'.*(overflow 32-bit|more than generated code)"):
        model.build()


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [float("nan"), float("inf"), 0.0, -0.1, True, "0.1"])
def test_bad_dt(dt):
    model, _ = lif_model("bad_dt")
    model.dt = dt
    with pytest.raises(ModelError, match=r"dt must be a positive number of milliseconds "
                       r"\(finite, not a bool\)"):
        model.build()


@pytest.mark.parametrize("batch", [True, 0, 2.0])
def test_bad_batch_size(batch):
    model, _ = lif_model("bad_batch")
    model.batch_size = batch
    with pytest.raises(ModelError, match="batch_size must be a positive integer"):
        model.build()


@pytest.mark.parametrize("seed", [-1, 2 ** 64, 1.5, True, "7"])
def test_bad_seed(seed):
    model, _ = lif_model("bad_seed")
    model.seed = seed
    with pytest.raises(ModelError, match=r"seed must be an integer in 0..2\*\*64-1"):
        model.build()


@pytest.mark.parametrize("threads", [0, -2, 2000, 1.5, True, "4"])
def test_bad_num_threads(threads):
    with pytest.raises(ModelError, match="num_threads must be None, -1"):
        GeNNModel("float", "bad_threads", num_threads=threads)


def test_num_threads_minus_one_means_all_cores(cache):
    model, pop = counter_model("all_cores", batch_size=3, num_threads=-1)
    model.build()
    model.load(num_recording_timesteps=5)
    model.run(5)
    np.testing.assert_array_equal(pop.vars["count"].view, 5.0)
    model.num_threads = 0                 # changed after construction: checked in run()
    with pytest.raises(ModelError, match="num_threads"):
        model.run(1)


@pytest.mark.parametrize("n_rec", [True, 2 ** 32, -1, 2.0])
def test_bad_num_recording_timesteps(cache, n_rec):
    model, _ = counter_model("bad_rec", n=4)
    model.build()
    with pytest.raises(ModelError, match="num_recording_timesteps"):
        model.load(num_recording_timesteps=n_rec)


@pytest.mark.parametrize("param,value,rule", [
    ("TauM", float("nan"), "finite number > 0"),
    ("TauM", -20.0, "finite number > 0"),
    ("C", 0.0, "finite number > 0"),
    ("TauRefrac", -1.0, "finite number >= 0"),
    ("Vthresh", float("inf"), "finite number"),
])
def test_builtin_neuron_parameters_are_checked(param, value, rule):
    model, _ = lif_model("bad_lif", params={**LIF_PARAMS, param: value})
    with pytest.raises(ModelError, match=rf"neuron population 'P' \(model 'LIF'\): parameter "
                       rf"'{param}' = .* {rule}"):
        model.build()


def _synapse_model(name, wu=None, ps=None, conn=None, matrix="SPARSE", n_pre=10, n_post=10):
    model = GeNNModel("float", name)
    a = model.add_neuron_population("A", n_pre, "LIF", LIF_PARAMS, LIF_VARS)
    b = model.add_neuron_population("B", n_post, "LIF", LIF_PARAMS, LIF_VARS)
    model.add_synapse_population(
        "AB", matrix, a, b, wu or init_weight_update("StaticPulse", {}, {"g": 1.0}),
        ps or init_postsynaptic("DeltaCurr"),
        conn if conn is not None else (init_sparse_connectivity("OneToOne", {})
                                       if matrix == "SPARSE" else None))
    return model


@pytest.mark.parametrize("kwargs,match", [
    ({"ps": init_postsynaptic("ExpCurr", {"tau": 0.0})}, r"model 'ExpCurr'.*'tau' = 0.0"),
    ({"conn": init_sparse_connectivity("FixedProbability", {"prob": 1.5})},
     r"model 'FixedProbability'.*'prob' = 1.5 must be a probability"),
    ({"conn": init_sparse_connectivity("FixedNumberPostWithReplacement", {"num": -3})},
     r"'num' = -3 must be a non-negative integer"),
    ({"wu": init_weight_update("StaticPulse", {}, {
        "g": init_var("Normal", {"mean": 0.0, "sd": -1.0})})},
     r"variable 'g' initialiser \(model 'Normal'\): parameter 'sd' = -1.0"),
    ({"wu": init_weight_update("StaticPulse", {}, {
        "g": init_var("Uniform", {"min": 1.0, "max": 0.0})})},
     r"'min' = 1.0 must be <= parameter 'max' = 0.0"),
    ({"wu": init_weight_update("StaticPulse", {}, {
        "g": init_var("Exponential", {"lambda": 0.0})})}, r"'lambda' = 0.0"),
    ({"wu": init_weight_update("StaticPulse", {}, {
        "g": init_var("NormalClipped", {"mean": 0.0, "sd": 1.0, "min": 50.0, "max": 60.0})})},
     r"NormalClipped.*loop"),
    ({"conn": init_sparse_connectivity("Conv2D", {
        "conv_kh": 3, "conv_kw": 3, "conv_sh": 1, "conv_sw": 1, "conv_padh": 1, "conv_padw": 1,
        "conv_ih": 4, "conv_iw": 4, "conv_ic": 1, "conv_oh": 4, "conv_ow": 4, "conv_oc": 1})},
     r"conv_ih \* conv_iw \* conv_ic = 16 must equal the number of source neurons \(10\)"),
])
def test_builtin_snippet_parameters_are_checked(kwargs, match):
    model = _synapse_model("bad_snippet", **kwargs)
    with pytest.raises(ModelError, match=match):
        model.build()


def test_toeplitz_sizes_must_match_the_populations():
    conn = init_toeplitz_connectivity("Conv2D", {
        "conv_kh": 3, "conv_kw": 3, "conv_ih": 4, "conv_iw": 4, "conv_ic": 1,
        "conv_oh": 4, "conv_ow": 4, "conv_oc": 2})
    model = _synapse_model("bad_toeplitz", conn=conn, matrix="TOEPLITZ", n_pre=16, n_post=16)
    with pytest.raises(ModelError, match="conv_oh \\* conv_ow \\* conv_oc = 32 must equal "
                       "the number of target neurons \\(16\\)"):
        model.build()


@pytest.mark.parametrize("model_name,params,match", [
    ("Poisson", {"rate": -5.0}, r"'rate' = -5.0 must be a finite number >= 0"),
])
def test_builtin_poisson_rate(model_name, params, match):
    model = GeNNModel("float", "bad_poisson")
    model.add_neuron_population("S", 5, model_name, params, {"timeStepToSpike": 0.0})
    with pytest.raises(ModelError, match=match):
        model.build()


@pytest.mark.parametrize("cs,params,match", [
    ("GaussianNoise", {"mean": 0.0, "sd": -1.0}, r"current source 'N' \(model "
     r"'GaussianNoise'\): parameter 'sd' = -1.0"),
    ("DC", {"amp": float("inf")}, r"model 'DC'\): parameter 'amp' = inf must be a finite"),
])
def test_builtin_current_source_parameters(cs, params, match):
    model, pop = lif_model("bad_cs")
    model.add_current_source("N", cs, pop, params)
    with pytest.raises(ModelError, match=match):
        model.build()


def test_nan_in_integer_initial_values(cache):
    model = GeNNModel("float", "nan_int")
    model.add_neuron_population("S", 3, "SpikeSourceArray", {},
                                {"startSpike": np.array([0, np.nan, 1]), "endSpike": 1})
    model.build()
    with pytest.raises(ModelError, match="'startSpike' must be finite integers"):
        model.load()


# ---------------------------------------------------------------------------
# extra global parameters
# ---------------------------------------------------------------------------
def test_spike_source_array_without_spike_times(tmp_path):
    code = """
        import numpy as np
        from ml_genn.genn import GeNNModel, RuntimeStateError
        model = GeNNModel("float", "ssa_unset")
        pop = model.add_neuron_population("S", 3, "SpikeSourceArray", {},
                                          {"startSpike": [0, 1, 2], "endSpike": [1, 2, 3]})
        model.build()
        model.load()
        try:
            model.run(10)
        except RuntimeStateError as e:
            print("ERR", e)
        pop.extra_global_params["spikeTimes"].set_init_values([1.0, 2.0, 3.0])
        model.run(10)
        print("RAN", model.timestep)
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ERR neuron population 'S': extra global parameter 'spikeTimes' is read" in r.stdout
    assert "set_init_values" in r.stdout and "before run()" in r.stdout
    assert "RAN 10" in r.stdout


def test_spike_source_array_indices_beyond_spike_times(tmp_path):
    code = """
        import numpy as np
        from ml_genn.genn import GeNNModel, RuntimeStateError
        model = GeNNModel("float", "ssa_oob")
        pop = model.add_neuron_population("S", 2, "SpikeSourceArray", {},
                                          {"startSpike": [0, 5], "endSpike": [1, 10 ** 9]})
        pop.extra_global_params["spikeTimes"].set_init_values([1.0])
        model.build()
        model.load()
        for attempt in range(2):
            try:
                model.run(10)
            except RuntimeStateError as e:
                print("ERR", e)
            pop.vars["endSpike"].view[:] = [1, 3]   # start 5 > end 3: would wrap around
        pop.vars["startSpike"].view[:] = [0, 1]
        pop.vars["endSpike"].view[:] = [1, 1]
        model.run(10)
        print("RAN", model.timestep)
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    errs = [l for l in r.stdout.splitlines() if l.startswith("ERR")]
    assert len(errs) == 2
    assert "'S' (SpikeSourceArray): neuron 1 has startSpike = 5, endSpike = 1000000000" \
        in errs[0] and "'spikeTimes' holds 1 values" in errs[0]
    assert "endSpike = 3" in errs[1]
    assert "RAN 10" in r.stdout


def test_user_model_egp_must_be_set_before_run(tmp_path):
    code = """
        from ml_genn.genn import GeNNModel, RuntimeStateError, create_neuron_model
        tab = create_neuron_model("Tab", vars=[("V", "scalar")],
                                  extra_global_params=[("table", "scalar*"),
                                                       ("unused", "scalar*")],
                                  sim_code="V = table[0];")
        model = GeNNModel("float", "egp_user")
        pop = model.add_neuron_population("T", 2, tab, {}, {"V": 0.0})
        model.build()
        model.load()
        try:
            model.run(1)
        except RuntimeStateError as e:
            print("ERR", e)
        pop.extra_global_params["table"].set_init_values([3.0])
        model.run(1)                    # 'unused' is not read: need not be set
        print("V", pop.vars["V"].view.tolist())
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ERR neuron population 'T': extra global parameter 'table' is read" in r.stdout
    assert "V [3.0, 3.0]" in r.stdout


def test_kernel_egp_shorter_than_the_kernel(cache):
    conn = init_toeplitz_connectivity("Conv2D", {
        "conv_kh": 3, "conv_kw": 3, "conv_ih": 4, "conv_iw": 4, "conv_ic": 1,
        "conv_oh": 4, "conv_ow": 4, "conv_oc": 1})
    model = _synapse_model("kernel_short", matrix="TOEPLITZ", n_pre=16, n_post=16, conn=conn,
                           wu=init_weight_update("StaticPulse", {},
                                                 {"g": init_var("Kernel", {})}))
    model.synapse_populations["AB"].vars["g"].extra_global_params["kernel"] \
        .set_init_values(np.ones(4))
    model.build()
    with pytest.raises(ModelError, match=r"'g.kernel' has 4 values but the kernel has 9 "
                       r"elements \(3 x 3 x 1 x 1\)"):
        model.load()


def test_kernel_initialiser_needs_its_egp_before_load(cache):
    conn = init_toeplitz_connectivity("Conv2D", {
        "conv_kh": 3, "conv_kw": 3, "conv_ih": 4, "conv_iw": 4, "conv_ic": 1,
        "conv_oh": 4, "conv_ow": 4, "conv_oc": 1})
    model = _synapse_model("kernel_egp", matrix="TOEPLITZ", n_pre=16, n_post=16, conn=conn,
                           wu=init_weight_update("StaticPulse", {},
                                                 {"g": init_var("Kernel", {})}))
    model.build()
    with pytest.raises(RuntimeStateError, match=r"'g.kernel' is read .* before load\(\)"):
        model.load()


# ---------------------------------------------------------------------------
# unknown options and other crash paths
# ---------------------------------------------------------------------------
def test_unknown_preference_is_a_type_error():
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) 'optimise_code'.*"
                       r"accepted: .*num_threads.*optimize_code"):
        GeNNModel("float", "prefs", optimise_code=True)
    GeNNModel("float", "prefs", optimize_code=True, genn_log_level=1)   # pygenn's: ignored


def test_state_queries_in_the_wrong_state(cache):
    model, pop = counter_model("wrong_state", n=4)
    with pytest.raises(RuntimeStateError, match="not loaded"):
        pop.current_spikes
    with pytest.raises(RuntimeStateError, match="not loaded"):
        model.run(1)
    model.build()
    with pytest.raises(RuntimeStateError, match="num_recording_timesteps"):
        model.load()
    model.load(num_recording_timesteps=10)
    with pytest.raises(RuntimeStateError, match="only 0 of the 10 recorded steps"):
        pop.spike_recording_data
    with pytest.raises(ModelError, match="no custom update group 'Missing'"):
        model.custom_update("Missing")
    model.unload()
    with pytest.raises(RuntimeStateError, match="not loaded"):
        model.run(1)
    with pytest.raises(RuntimeStateError, match="no storage"):
        pop.vars["V"].view


def test_batch_size_changed_after_build(cache):
    model, pop = counter_model("rebatch", n=4, batch_size=4)
    model.build()
    model.batch_size = 1                  # would under-size arrays the code writes
    with pytest.raises(RuntimeStateError, match="batch_size changed from 4 to 1 after build"):
        model.load(num_recording_timesteps=4)


def test_recording_disabled_after_build_still_needs_buffers(tmp_path):
    code = """
        from tests.test_hardening_runtime import counter_model
        from ml_genn.genn import RuntimeStateError
        model, pop = counter_model("rec_off", n=4)
        model.build()
        pop.spike_recording_enabled = False
        try:
            model.load()
        except RuntimeStateError as e:
            print("ERR", e)
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ERR" in r.stdout and "num_recording_timesteps" in r.stdout


def test_out_of_range_sparse_connections(cache):
    model = _synapse_model("bad_sparse", conn=None)
    sg = model.synapse_populations["AB"]
    with pytest.raises(ModelError, match="post index out of range 0..9"):
        sg.set_sparse_connections([0, 1], [3, 10])
    with pytest.raises(ModelError, match="pre index out of range"):
        sg.set_sparse_connections([-1], [3])



def test_non_integer_sparse_indices(cache):
    model = _synapse_model("nan_sparse", conn=None)
    sg = model.synapse_populations["AB"]
    with pytest.raises(ModelError, match=r"'AB': pre_indices must be integer neuron indices"
                                         r".*NaN/inf or fractions"):
        sg.set_sparse_connections([0, np.nan], [3, 4])
    with pytest.raises(ModelError, match=r"post_indices must be integer neuron indices"):
        sg.set_sparse_connections([0, 1], [0.5, 2])
    with pytest.raises(ModelError, match=r"post_indices must be integer.*dtype <U1"):
        sg.set_sparse_connections([0], ["a"])
    sg.set_sparse_connections(np.array([0.0, 1.0]), np.array([2.0, 3.0]))   # whole floats


def test_rejected_connectivity_keeps_the_loaded_one(cache):
    model = _synapse_model("keep_sparse", conn=None)
    sg = model.synapse_populations["AB"]
    sg.set_sparse_connections([0, 1], [2, 3])
    model.build()
    model.load()
    with pytest.raises(ModelError, match=r"row of 2 synapses but the model was built for 1"):
        sg.set_sparse_connections([0, 0], [2, 3])
    model.load()       # the connectivity given before build still loads
    assert list(sg.get_sparse_post_inds()) == [2, 3]
