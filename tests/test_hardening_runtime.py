"""Hostile and mistaken inputs to the engine's build cache, loader, run loop
and value checks (issue 7).  Anything that could crash runs in a subprocess."""
import json
import os
import re
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from ml_genn.genn import (BuildError, GeNNModel, ModelError, RuntimeStateError, VarAccess,
                          create_neuron_model, create_var_ref, init_postsynaptic,
                          init_sparse_connectivity, init_toeplitz_connectivity, init_var,
                          init_weight_update)
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


def _processes_mentioning(text):
    """PIDs whose command line contains ``text`` (read from /proc: no pgrep
    needed on the machine)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass        # the process ended meanwhile
    return found


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
        c.load(num_recording_timesteps=10)           # the library a used, new state
        pc.vars["V"].view[:] = 5.0
        c.run(50)
        assert np.array_equal(pb.vars["V"].view, pc.vars["V"].view)
        assert np.all(pb.vars["count"].view == 50.0)
        print("OK")
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def test_reloading_loads_the_library_once(cache, monkeypatch):
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
    assert model._runtime.lib.mg_run.argtypes[2] is ctypes.c_uint64
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


@pytest.mark.parametrize("env, num_threads, batch_size, expected", [
    ("1", None, 4, 1),             # OMP_NUM_THREADS is honoured ...
    ("3,2", -1, 4, 3),             # ... its first value, as OpenMP reads it
    ("8", None, 2, 2),             # never more threads than batch elements
    ("1", 2, 4, 2),                # an explicit num_threads wins
    (None, None, 64, "cores"),     # unset: every available core
])
def test_thread_count_honours_omp_num_threads(cache, monkeypatch, env, num_threads,
                                              batch_size, expected):
    from ml_genn.genn.model import _available_cores
    if env is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", env)
    model, pop = counter_model("omp_threads", batch_size=batch_size, num_threads=num_threads)
    model.build()
    model.load(num_recording_timesteps=4)
    seen = []
    runtime = model._runtime
    native = runtime._run_fn
    runtime._run_fn = lambda handle, counters, n, num_rec, threads: (
        seen.append(threads), native(handle, counters, n, num_rec, threads))
    model.run(4)
    want = min(_available_cores(), batch_size) if expected == "cores" else expected
    assert seen and set(seen) == {want}
    np.testing.assert_array_equal(pop.vars["count"].view, 4.0)


def test_bad_omp_num_threads_warns_and_uses_all_cores(cache, monkeypatch):
    from ml_genn.genn.model import _available_cores, _default_threads
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    with pytest.warns(RuntimeWarning, match=r"OMP_NUM_THREADS='lots' is not a thread count"):
        assert _default_threads() == _available_cores()


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


def _kernel_model(name):
    """A 4x4 -> 4x4 Toeplitz 3x3 convolution whose weights come from the
    Kernel initialiser (its EGP 'kernel' left unset)."""
    conn = init_toeplitz_connectivity("Conv2D", {
        "conv_kh": 3, "conv_kw": 3, "conv_ih": 4, "conv_iw": 4, "conv_ic": 1,
        "conv_oh": 4, "conv_ow": 4, "conv_oc": 1})
    return _synapse_model(name, matrix="TOEPLITZ", n_pre=16, n_post=16, conn=conn,
                          wu=init_weight_update("StaticPulse", {},
                                                {"g": init_var("Kernel", {})}))


def test_kernel_egp_shorter_than_the_kernel(cache):
    model = _kernel_model("kernel_short")
    model.synapse_populations["AB"].vars["g"].extra_global_params["kernel"] \
        .set_init_values(np.ones(4))
    model.build()
    with pytest.raises(ModelError, match=r"'g.kernel' has 4 values but the kernel has 9 "
                       r"elements \(3 x 3 x 1 x 1\)"):
        model.load()


def test_kernel_initialiser_needs_its_egp_before_load(cache):
    model = _kernel_model("kernel_egp")
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


# ---------------------------------------------------------------------------
# errors found by generated code at run time: never a signal, always an
# exception (review of issue 7).  Each of these killed the process before
# (SIGFPE, SIGILL, SIGABRT, SIGSEGV) or corrupted memory silently.
# ---------------------------------------------------------------------------
NATIVE_ERROR_CASES = {
    "int_div_zero": ("vars=[('V', 'scalar'), ('k', 'int')], sim_code='k = 10 / k; V = k;'",
                     "{'V': 0.0, 'k': 0}", "integer division or remainder by zero"),
    "int_mod_zero": ("vars=[('V', 'scalar'), ('k', 'int')], sim_code='k = 7 % k; V = k;'",
                     "{'V': 0.0, 'k': 0}", "integer division or remainder by zero"),
    "int_div_assign_zero": ("vars=[('V', 'scalar'), ('k', 'int'), ('j', 'int')], "
                            "sim_code='k /= j; j %= j; V = k;'",
                            "{'V': 0.0, 'k': 5, 'j': 0}", "division or remainder by zero"),
    "assert": ("vars=[('V', 'scalar')], sim_code='assert(V > 1.0);'", "{'V': 0.0}",
               "an assert(...) in a code string failed"),
    "egp_too_short": ("vars=[('V', 'scalar')], extra_global_params=[('e', 'scalar*')], "
                      "sim_code='V = e[id + 5];'", "{'V': 0.0}",
                      "extra global parameter was indexed outside its size"),
    "egp_write_too_short": ("vars=[('V', 'scalar')], extra_global_params=[('e', 'scalar*')], "
                            "sim_code='e[id + 5] = V;'", "{'V': 0.0}",
                            "extra global parameter was indexed outside its size"),
    "egp_negative": ("vars=[('V', 'scalar'), ('k', 'int')], "
                     "extra_global_params=[('e', 'scalar*')], sim_code='V = e[k];'",
                     "{'V': 0.0, 'k': -1000000}",
                     "extra global parameter was indexed outside its size"),
}


@pytest.mark.parametrize("case", sorted(NATIVE_ERROR_CASES))
def test_native_errors_raise_instead_of_crashing(tmp_path, case):
    decl, init, words = NATIVE_ERROR_CASES[case]
    code = f"""
        import numpy as np
        from ml_genn.genn import GeNNModel, RuntimeStateError, create_neuron_model
        nm = create_neuron_model("N", {decl})
        model = GeNNModel("float", "native_{case}")
        pop = model.add_neuron_population("P", 3, nm, {{}}, {init})
        if "{case}".startswith("egp"):
            pop.extra_global_params["e"].set_init_values([1.0, 2.0, 3.0])
        model.build()
        model.load()
        try:
            model.run(3)
            print("NO ERROR")
        except RuntimeStateError as e:
            print("ERR", e)
        print("TIMESTEP", model.timestep)
        try:
            model.run(2)        # still usable: reports again, never crashes
        except RuntimeStateError:
            print("AGAIN", model.timestep)
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert "ERR model 'native_" in r.stdout, r.stdout + r.stderr
    assert words in r.stdout
    # raised after the native call in which it happened; timestep counts the
    # steps that ran, and the message names them
    steps = int(re.search(r"TIMESTEP (\d+)", r.stdout).group(1))
    assert 1 <= steps <= 3
    assert f"during run() (time steps 0 to {steps - 1})" in r.stdout
    again = int(re.search(r"AGAIN (\d+)", r.stdout).group(1))
    assert steps < again <= steps + 2


def test_int_min_divided_by_minus_one_does_not_trap(tmp_path):
    code = """
        from ml_genn.genn import GeNNModel, create_neuron_model
        nm = create_neuron_model("N", vars=[("V", "scalar"), ("k", "int"), ("j", "int")],
                                 sim_code="k = k / j; j = j % j; V = k;")
        model = GeNNModel("float", "intmin")
        pop = model.add_neuron_population("P", 1, nm, {}, {"V": 0.0, "k": -2 ** 31, "j": -1})
        model.build(); model.load(); model.run(1)
        print("K", int(pop.vars["k"].view[0]), int(pop.vars["j"].view[0]))
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "K -2147483648 0" in r.stdout


@pytest.mark.parametrize("matrix", ["SPARSE", "PROCEDURAL"])
def test_add_synapse_beyond_the_target_population(tmp_path, matrix):
    code = f"""
        from ml_genn.genn import (GeNNModel, RuntimeStateError, create_sparse_connect_init_snippet,
                                  init_postsynaptic, init_sparse_connectivity,
                                  init_weight_update)
        from tests.test_hardening_runtime import LIF_PARAMS
        snip = create_sparse_connect_init_snippet(
            "Next", row_build_code="addSynapse(id_pre + 1);",
            calc_max_row_len_func=lambda num_pre, num_post, pars: 1)
        model = GeNNModel("float", "next_{matrix}")
        a = model.add_neuron_population("A", 4, "LIF", LIF_PARAMS, {{"V": 0.0, "RefracTime": 0.0}})
        b = model.add_neuron_population("B", 4, "LIF", LIF_PARAMS, {{"V": 0.0, "RefracTime": 0.0}})
        model.add_synapse_population("S", "{matrix}", a, b,
                                     init_weight_update("StaticPulse", {{}}, {{"g": 1.0}}),
                                     init_postsynaptic("DeltaCurr"),
                                     init_sparse_connectivity(snip, {{}}))
        model.build()
        try:
            model.load()
            model.run(20)
            print("NO ERROR")
        except RuntimeStateError as e:
            print("ERR", e)
    """
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ERR model 'next_" in r.stdout, r.stdout
    assert "addSynapse(...) was called with a postsynaptic or kernel index outside" in r.stdout
    assert ("during load()" if matrix == "SPARSE" else "during run()") in r.stdout


def test_custom_update_native_errors_are_raised(cache):
    from ml_genn.genn import create_custom_update_model
    model = GeNNModel("float", "cu_div")
    pop = model.add_neuron_population("P", 2, "LIF", LIF_PARAMS, LIF_VARS)
    cu = create_custom_update_model("Div", vars=[("k", "int")], var_refs=[("V", "scalar")],
                                    update_code="k = 1 / k; V = k;")
    model.add_custom_update("C", "G", cu, {}, {"k": 0}, {"V": create_var_ref(pop, "V")})
    model.build()
    model.load()
    with pytest.raises(RuntimeStateError, match=r"during custom_update\('G'\): an integer "
                                                r"division or remainder by zero"):
        model.custom_update("G")
    model.run(1)       # the error was reported once; the model runs on


# ---------------------------------------------------------------------------
# values that reached g++ or C++ conversions unchecked
# ---------------------------------------------------------------------------
def test_parameter_beyond_float_range_is_a_model_error_not_a_build_error(cache):
    nm = create_neuron_model("Big", params=["a"], vars=[("V", "scalar")], sim_code="V = a;")
    model = GeNNModel("float", "big_param")
    model.add_neuron_population("P", 1, nm, {"a": 1e300}, {"V": 0.0})
    with pytest.raises(ModelError, match=r"neuron population 'P' \(model 'Big'\): parameter "
                                         r"'a' = 1e\+300: .*out of range for single precision"
                                         r".*precision='double'"):
        model.build()
    model = GeNNModel("double", "big_param_double")
    pop = model.add_neuron_population("P", 1, nm, {"a": 1e300}, {"V": 0.0})
    model.build(); model.load(); model.run(1)
    assert pop.vars["V"].view[0] == 1e300


@pytest.mark.parametrize("dt", [1e300, 3.5e38])
def test_dt_beyond_float_range(cache, dt):
    model, _ = lif_model("big_dt")
    model.dt = dt
    with pytest.raises(ModelError, match=r"dt = .*out of range for single precision"):
        model.build()


@pytest.mark.parametrize("values, words", [
    ({"n": 1e20, "u": 1}, r"parameter 'n' = 1e\+20: .*out of range for int|'n' = 1e\+20"),
    ({"n": 1, "u": -1}, r"parameter 'u' = -1: -1 is out of range for unsigned int"),
    ({"n": 2 ** 40, "u": 1}, r"parameter 'n' = 1099511627776: .*out of range for int"),
    ({"n": 1.5, "u": 1}, r"parameter 'n' = 1.5: 1.5 is not an integer, but the type is int"),
    ({"n": float("nan"), "u": 1}, r"parameter 'n' = nan: nan is not an integer"),
    ({"n": 1, "u": float("inf")}, r"parameter 'u' = inf: inf is not an integer"),
])
def test_integer_parameters_must_fit_their_type(cache, values, words):
    nm = create_neuron_model("Ints", params=[("n", "int"), ("u", "unsigned int")],
                             vars=[("V", "scalar")], sim_code="V = n + u;")
    model = GeNNModel("float", "int_params")
    model.add_neuron_population("P", 1, nm, values, {"V": 0.0})
    with pytest.raises(ModelError, match=words):
        model.build()


def test_derived_parameters_follow_their_dynamic_parameters():
    """LIF's ExpTC and Rmembrane are computed from TauM (and C): with TauM
    dynamic they are recomputed whenever it is set (a dynamic TauM was once
    accepted and silently ignored by them), against the LIF equations in
    NumPy (double precision, no spike: V relaxes towards Vrest + Ioffset * R)."""
    params = {"C": 2.0, "TauM": 20.0, "Vrest": -60.0, "Vreset": -60.0, "Vthresh": 100.0,
              "Ioffset": 1.5, "TauRefrac": 0.0}
    model = GeNNModel("double", "dyn_derived")
    model.dt = 0.5
    pop = model.add_neuron_population("P", 3, "LIF", params,
                                      {"V": [-60.0, -50.0, -40.0], "RefracTime": 0.0})
    pop.set_param_dynamic("TauM")
    pop.set_param_dynamic("C")
    model.build()
    model.load()
    v = np.array([-60.0, -50.0, -40.0])

    def reference(v, tau, c, steps):
        alpha = params["Ioffset"] * tau / c + params["Vrest"]
        for _ in range(steps):
            v = alpha - np.exp(-0.5 / tau) * (alpha - v)
        return v
    for tau, c in ((20.0, 2.0), (5.0, 2.0), (5.0, 0.5), (40.0, 0.5)):
        pop.set_dynamic_param_value("TauM", tau)
        pop.set_dynamic_param_value("C", c)
        model.run(30)
        v = reference(v, tau, c, 30)
        np.testing.assert_allclose(pop.vars["V"].values, v, rtol=1e-12)
    # a chain of derived parameters (k from a, m from k) follows too
    from ml_genn.genn import create_neuron_model
    chain = create_neuron_model(
        "Chain", params=["a", "b"], vars=[("x", "scalar")],
        derived_params=[("k", lambda p, dt: 2.0 * p["a"]), ("m", lambda p, dt: p["k"] + p["b"])],
        sim_code="x += m;")
    model = GeNNModel("double", "dyn_chain")
    pop = model.add_neuron_population("P", 2, chain, {"a": 1.0, "b": 0.25}, {"x": 0.0})
    pop.set_param_dynamic("a")
    model.build()
    model.load()
    model.run(3)                                   # 3 x (2 + 0.25)
    pop.set_dynamic_param_value("a", 10.0)
    model.run(2)                                   # 2 x (20 + 0.25)
    np.testing.assert_allclose(pop.vars["x"].values, 3 * 2.25 + 2 * 20.25, rtol=1e-12)


def test_dynamic_postsynaptic_parameter_matches_a_model_built_with_its_value():
    """ExpCurr's tau feeds expDecay and init: set dynamically to 2 ms it
    gives, step for step, what a model built with tau = 2 ms gives."""
    def run(name, tau, dynamic):
        model = GeNNModel("double", name)
        model.dt = 0.5
        src = model.add_neuron_population("S", 1, "SpikeSourceArray", {},
                                          {"startSpike": 0, "endSpike": 3})
        src.extra_global_params["spikeTimes"].set_init_values([0.0, 1.0, 4.0])
        pop = model.add_neuron_population("P", 1, "LIF", {**LIF_PARAMS, "Vthresh": 1e9},
                                          LIF_VARS)
        sg = model.add_synapse_population(
            "SP", "DENSE", src, pop, init_weight_update("StaticPulseConstantWeight",
                                                        {"g": 3.0}),
            init_postsynaptic("ExpCurr", {"tau": tau}))
        if dynamic:
            sg.set_ps_param_dynamic("tau")
        model.build()
        model.load()
        if dynamic:
            sg.set_ps_dynamic_param_value("tau", 2.0)
        trace = []
        for _ in range(20):
            model.step_time()
            trace.append(pop.vars["V"].values[0])
        return np.array(trace)
    dynamic, static, other = run("ps_dyn", 8.0, True), run("ps_static", 2.0, False), \
        run("ps_other", 8.0, False)
    np.testing.assert_array_equal(dynamic, static)
    assert not np.allclose(dynamic, other)


def test_derived_parameters_reading_every_parameter_follow_too():
    """A derived parameter that reads the parameters through items() (or
    fails when evaluated for the check) counts as computed from each of
    them: it follows a dynamic one instead of keeping its build value."""
    from ml_genn.genn import create_neuron_model
    summed = create_neuron_model(
        "Summed", params=["a", "b"], vars=[("x", "scalar")],
        derived_params=[("k", lambda p, dt: sum(v for n, v in p.items() if n in "ab"))],
        sim_code="x += k;")
    model = GeNNModel("double", "dyn_items")
    pop = model.add_neuron_population("P", 1, summed, {"a": 1.0, "b": 2.0}, {"x": 0.0})
    pop.set_param_dynamic("a")
    model.build()
    model.load()
    model.run(2)                                    # 2 x 3
    pop.set_dynamic_param_value("a", 5.0)
    model.run(1)                                    # 1 x 7
    assert pop.vars["x"].values[0] == 13.0


def test_integer_derived_parameters_cannot_follow_a_dynamic_parameter():
    from ml_genn.genn import create_neuron_model
    counted = create_neuron_model(
        "Counted", params=["a"], vars=[("x", "scalar")],
        derived_params=[("n", lambda p, dt: int(p["a"]), "unsigned int")],
        sim_code="x += n;")
    model = GeNNModel("float", "dyn_int_derived")
    pop = model.add_neuron_population("P", 1, counted, {"a": 2.0}, {"x": 0.0})
    with pytest.raises(ModelError, match="'n' computed from it are integers"):
        pop.set_param_dynamic("a")


def test_dynamic_parameter_values_are_checked(cache):
    model, pop = lif_model("dyn_values")
    pop.set_param_dynamic("Vthresh")
    pop.set_param_dynamic("TauRefrac")
    model.build()
    model.load()
    for bad in ("abc", [1, 2], None, True, 1 + 2j):
        with pytest.raises(ModelError, match=r"dynamic parameter 'Vthresh' must be a real "
                                             "number"):
            pop.set_dynamic_param_value("Vthresh", bad)
    with pytest.raises(ModelError, match=r"'TauRefrac' = -1.0 must be a finite number >= 0"):
        pop.set_dynamic_param_value("TauRefrac", -1.0)
    with pytest.raises(ModelError, match=r"'Vthresh' = nan must be a finite number"):
        pop.set_dynamic_param_value("Vthresh", float("nan"))
    pop.set_dynamic_param_value("Vthresh", np.float32(-55.0))
    assert model._arrays[("P", "dyn")][pop.dynamic_params.index("Vthresh")] == -55.0


# ---------------------------------------------------------------------------
# runtime views: values and EGPs
# ---------------------------------------------------------------------------
def test_egp_values_are_checked(cache):
    model = GeNNModel("float", "egp_values")
    pop = model.add_neuron_population("S", 3, "SpikeSourceArray", {},
                                      {"startSpike": [0, 1, 2], "endSpike": [1, 2, 3]})
    egp = pop.extra_global_params["spikeTimes"]
    for bad, words in (("abc", "expected numbers, got str"),
                       (None, "expected numbers, got NoneType"),
                       ({"a": 1}, "expected numbers, got dict"),
                       ([1 + 2j], "expected numbers, got an array of dtype complex"),
                       ([object()], "expected numbers, got an array of dtype object")):
        with pytest.raises(ModelError, match=r"extra global parameter 'spikeTimes' of 'S': "
                                             + re.escape(words)):
            egp.set_init_values(bad)
    nm = create_neuron_model("E", vars=[("V", "scalar")],
                             extra_global_params=[("e", "unsigned int*")], sim_code="V = e[0];")
    p = model.add_neuron_population("P", 1, nm, {}, {"V": 0.0})
    e = p.extra_global_params["e"]
    for bad, words in (([np.nan], "the type is uint32 but the values include NaN"),
                       ([1.7], "the type is uint32 but the values include NaN, infinite or "
                               "fractional"),
                       ([-1], "values must lie in 0..4294967295"),
                       ([2 ** 40], "values must lie in 0..4294967295")):
        with pytest.raises(ModelError, match=r"extra global parameter 'e' of 'P': " +
                           re.escape(words)):
            e.set_init_values(bad)
    e.set_init_values([3.0, 4])          # whole numbers are fine
    assert e.init_values.tolist() == [3, 4]


def test_variable_values_are_checked(cache):
    model = GeNNModel("float", "var_values")
    pop = model.add_neuron_population("S", 3, "SpikeSourceArray", {},
                                      {"startSpike": [0, 1, 2], "endSpike": [1, 2, 3]})
    pop.extra_global_params["spikeTimes"].set_init_values([1.0, 2.0, 3.0])
    model.build()
    model.load()
    var = pop.vars["startSpike"]
    with pytest.raises(ModelError, match=r"variable 'startSpike' of 'S': expected numbers, "
                                         r"got an array of dtype <U1"):
        var.values = ["a", "b", "c"]
    with pytest.raises(ModelError, match=r"variable 'startSpike' of 'S': the type is uint32 "
                                         r"but the values include NaN"):
        var.values = [np.nan, 0, 1]
    with pytest.raises(ModelError, match=r"values must lie in 0..4294967295"):
        var.values = [-1, 0, 1]
    with pytest.raises(ModelError, match=r"cannot set \(5,\) values; expected shape \(3,\)"):
        var.values = np.zeros(5)
    var.values = [0, 0, 0]
    np.testing.assert_array_equal(var.view, [0, 0, 0])


# ---------------------------------------------------------------------------
# custom update references
# ---------------------------------------------------------------------------
def test_custom_update_reference_mistakes():
    from ml_genn.genn import create_custom_update_model, create_wu_var_ref
    model = GeNNModel("float", "cu_refs")
    a = model.add_neuron_population("A", 4, "LIF", LIF_PARAMS, LIF_VARS)
    b = model.add_neuron_population("B", 2, "LIF", LIF_PARAMS, LIF_VARS)
    sg = model.add_synapse_population("S", "DENSE", b, b,
                                      init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                      init_postsynaptic("DeltaCurr"))
    cu = create_custom_update_model("CU", var_refs=[("X", "scalar"), ("Y", "scalar")],
                                    update_code="X = Y;")
    with pytest.raises(ModelError, match=r"custom update 'C1': all variable references must "
                                         r"have the same shape .*'X': 4 elements, 'Y': the "
                                         r"synapses of 'S'"):
        model.add_custom_update("C1", "G", cu, {}, {}, {"X": create_var_ref(a, "V"),
                                                       "Y": create_wu_var_ref(sg, "g")})
    with pytest.raises(ModelError, match=r"custom update 'C2': variable reference 'Y' must "
                                         r"come from create_var_ref\(...\).*got str"):
        model.add_custom_update("C2", "G", cu, {}, {}, {"X": create_var_ref(b, "V"), "Y": "V"})
    other = GeNNModel("float", "cu_refs_other")
    c = other.add_neuron_population("C", 2, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(ModelError, match=r"custom update 'C3': variable reference 'Y' points "
                                         r"at 'C', which belongs to another model"):
        model.add_custom_update("C3", "G", cu, {}, {}, {"X": create_var_ref(b, "V"),
                                                       "Y": create_var_ref(c, "V")})
    assert not model.custom_updates


@pytest.mark.parametrize("dt", [np.float64(0.5), np.float32(0.25), np.int64(1)])
def test_numpy_scalar_dt_builds(cache, dt):
    """A NumPy dt was pasted into the C++ as 'np.float64(0.5)' (BuildError)."""
    model, pop = counter_model("np_dt")
    model.dt = dt
    model.build()
    model.load(num_recording_timesteps=4)
    model.run(4)
    assert model.t == 4 * float(dt)
    np.testing.assert_array_equal(pop.vars["count"].view, 4.0)


def test_state_larger_than_memory_is_a_model_error(cache, monkeypatch):
    """A clear error at load() instead of the out-of-memory killer."""
    from ml_genn.genn import model as model_mod
    model, pop = counter_model("too_big", n=4096)
    model.build()
    monkeypatch.setattr(model_mod, "_physical_memory", lambda: 64 * 1024)
    with pytest.raises(ModelError, match=r"load: the state of model 'too_big' needs .* GiB "
                                         r"but this machine has .* GiB of memory"):
        model.load(num_recording_timesteps=10)
    assert not model._loaded
    monkeypatch.undo()
    # recording buffers count too: 2**31 steps of 4096 neurons is 1 TiB
    with pytest.raises(ModelError, match=r"needs .* GiB|record fewer steps"):
        model.load(num_recording_timesteps=2 ** 31)
    model.load(num_recording_timesteps=10)
    model.run(10)


@pytest.mark.parametrize("result", [float("nan"), None, "3", 2.5, -5, True])
def test_calc_max_row_len_func_result_is_checked(cache, result):
    from ml_genn.genn import create_sparse_connect_init_snippet
    snip = create_sparse_connect_init_snippet(
        "Junk", row_build_code="addSynapse(0);",
        calc_max_row_len_func=lambda num_pre, num_post, pars: result)
    model, pop = lif_model("row_len")
    model.add_synapse_population("S", "SPARSE", pop, pop,
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"),
                                 init_sparse_connectivity(snip, {}))
    with pytest.raises(ModelError, match=r"synapse population 'S': calc_max_row_len_func of "
                                         r"'Junk' must return a non-negative integer, got "):
        model.build()


@pytest.mark.parametrize("sizes, words", [
    ([0, 3], "every kernel dimension) must return a positive integer, got 0"),
    ([2.5, 2], "must return a positive integer, got 2.5"),
    ([float("nan"), 2], "must return a positive integer, got nan"),
    ("ab", "must return a list of positive integers, got 'ab'"),
    ([], "must return at least one kernel dimension"),
])
def test_calc_kernel_size_func_result_is_checked(sizes, words):
    from ml_genn.genn import create_sparse_connect_init_snippet
    snip = create_sparse_connect_init_snippet(
        "Kern", row_build_code="addSynapse(0, 0, 0);",
        calc_max_row_len_func=lambda num_pre, num_post, pars: 1,
        calc_kernel_size_func=lambda pars: sizes)
    model, pop = lif_model("kernel_size")
    with pytest.raises(ModelError, match=r"synapse population 'S': calc_kernel_size_func of "
                                         r"'Kern' " + r".*" + re.escape(words)):
        model.add_synapse_population("S", "PROCEDURAL_KERNELG", pop, pop,
                                     init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                     init_postsynaptic("DeltaCurr"),
                                     init_sparse_connectivity(snip, {}))
    assert "S" not in model.synapse_populations


def test_variable_initial_values_are_checked_at_load(cache):
    model, pop = lif_model("init_values")
    with pytest.raises(ModelError, match=r"variable 'V' has an initial value that is not "
                                         "numeric"):
        model.add_neuron_population("Q", 2, "LIF", LIF_PARAMS, {"V": "abc",
                                                                "RefracTime": 0.0})
    pop.vars["V"].set_init_values(["x"] * 10)
    model.build()
    with pytest.raises(ModelError, match=r"neuron population 'P': initial values of 'V' must "
                                         r"be numbers, got an array of dtype <U1"):
        model.load()
    pop.vars["V"].set_init_values(1e300)
    with pytest.raises(ModelError, match=r"initial value 1e\+300 of 'V' is out of range for "
                                         r"float32.*precision='double'"):
        model.load()
    pop.vars["V"].set_init_values(2 ** 70)        # a big, but representable, value
    model.load()
    assert pop.vars["V"].view[0] == np.float32(2 ** 70)


def test_additional_input_initial_value_is_checked(cache):
    nm = create_neuron_model("AddIn", vars=[("V", "scalar")],
                             additional_input_vars=[("Ix", "int", 1e20)], sim_code="V = Ix;")
    model = GeNNModel("float", "add_in")
    model.add_neuron_population("P", 1, nm, {}, {"V": 0.0})
    with pytest.raises(ModelError, match=r"neuron population 'P' \(model 'AddIn'\): initial "
                                         r"value of the additional input variable 'Ix': .*out "
                                         r"of range for int"):
        model.build()


def test_dt_changed_after_build(cache):
    """The generated code has dt built in: changing it afterwards made t and
    recorded spike times silently disagree with the simulation."""
    model, pop = counter_model("dt_change")
    pop.spike_recording_enabled = True
    model.build()
    model.dt = 0.5
    with pytest.raises(RuntimeStateError, match=r"dt changed from 1.0 to 0.5 after build\(\); "
                                                r"call build\(\) again"):
        model.load(num_recording_timesteps=4)
    model.dt = 1.0
    model.load(num_recording_timesteps=4)
    model.dt = 0.25                      # while loaded: t keeps the dt that runs
    model.run(4)
    assert model.t == 4.0
    (times, ids), = pop.spike_recording_data
    assert times.size and times.max() <= 3.0 and np.all(times == np.round(times))


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_folder_planted_at_a_cache_entry_path(cache, which):
    """A folder where the source, library, manifest or lock belongs made
    build() fail with a raw IsADirectoryError; now it builds privately."""
    from ml_genn.genn.backends.compile import compiler_id, cxx_command
    from ml_genn.genn.backends.cpu import CPUBackend
    model, _ = lif_model("planted")
    model._validate()
    source = CPUBackend(model).generate()
    cxx = cache_mod.find_cxx()
    bc = cache_mod.BuildCache()
    key = bc.key(source, cxx_command(cxx), compiler_id(cxx))
    os.makedirs(bc.paths(key, ".cc")[which])
    with pytest.warns(cache_mod.CacheTrustWarning, match=r"cache entry .* cannot be written"):
        model.build()
    model.load()
    model.run(2)
    assert os.path.dirname(model._built) != str(cache)


def test_sparse_indices_need_a_loaded_sparse_population(cache):
    """get_sparse_pre_inds()/post_inds() failed with a raw KeyError."""
    model, pop = lif_model("sparse_inds")
    s = model.add_synapse_population("S", "SPARSE", pop, pop,
                                     init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                     init_postsynaptic("DeltaCurr"),
                                     init_sparse_connectivity("OneToOne", {}))
    d = model.add_synapse_population("D", "DENSE", pop, pop,
                                     init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                     init_postsynaptic("DeltaCurr"))
    for call in (s.get_sparse_pre_inds, s.get_sparse_post_inds):
        with pytest.raises(RuntimeStateError, match=r"sparse connectivity of 'S': the model "
                                                    r"is not loaded"):
            call()
    model.build()
    model.load()
    np.testing.assert_array_equal(s.get_sparse_post_inds(), np.arange(10))
    with pytest.raises(ModelError, match=r"'D' is DENSE: only SPARSE synapse populations"):
        d.get_sparse_pre_inds()


def test_bools_are_not_counts():
    model = GeNNModel("float", "bool_counts")
    with pytest.raises(ModelError, match=r"neuron population 'P': the number of neurons must "
                                         r"be a positive integer, got True"):
        model.add_neuron_population("P", True, "LIF", LIF_PARAMS, LIF_VARS)
    a = model.add_neuron_population("A", 2, "LIF", LIF_PARAMS, LIF_VARS)
    sg = model.add_synapse_population("S", "DENSE", a, a,
                                      init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                      init_postsynaptic("DeltaCurr"))
    sg.axonal_delay_steps = True
    with pytest.raises(ModelError, match=r"'S': axonal_delay_steps must be a non-negative "
                                         r"integer, got True"):
        model.build()
    sg.axonal_delay_steps = 0
    sg.max_dendritic_delay_timesteps = True
    with pytest.raises(ModelError, match=r"'S': max_dendritic_delay_timesteps must be an "
                                         r"integer >= 1"):
        model.build()


def test_dendritic_delay_beyond_the_ring_is_reported(cache):
    """A delay >= max_dendritic_delay_timesteps wrapped around the ring and
    silently arrived at the wrong step."""
    model = GeNNModel("float", "den_delay")
    model.dt = 1.0
    a = model.add_neuron_population("A", 3, "Poisson", {"rate": 1000.0},
                                    {"timeStepToSpike": 0.0})
    b = model.add_neuron_population("B", 2, "LIF", LIF_PARAMS, LIF_VARS)
    sg = model.add_synapse_population(
        "S", "DENSE", a, b,
        init_weight_update("StaticPulseDendriticDelay", {}, {"g": 1.0,
                                                             "d": [0, 3] * 3}),
        init_postsynaptic("DeltaCurr"))
    sg.max_dendritic_delay_timesteps = 3
    model.build()
    model.load()
    with pytest.raises(RuntimeStateError, match=r"addToPostDelay\(...\) was called with a "
                                                r"delay outside 0 .. "
                                                r"max_dendritic_delay_timesteps - 1"):
        model.run(10)
    sg.vars["d"].values = [0, 2] * 3          # within the ring: runs
    model.run(10)


def test_custom_update_egp_references_and_dict_arguments_are_checked():
    """Missing EGP references failed with a KeyError at build(); a string
    where a dict belongs with 'dictionary update sequence element'."""
    from ml_genn.genn import create_custom_update_model, create_egp_ref
    nm = create_neuron_model("WithE", vars=[("V", "scalar")],
                             extra_global_params=[("e", "scalar*")], sim_code="V += e[0];")
    cu = create_custom_update_model("CU", var_refs=[("X", "scalar")],
                                    extra_global_param_refs=[("r", "scalar*")],
                                    update_code="X = r[id];")
    model = GeNNModel("float", "egp_refs")
    pop = model.add_neuron_population("P", 3, nm, {}, {"V": 0.0})
    ref = {"X": create_var_ref(pop, "V")}
    with pytest.raises(ModelError, match=r"custom update 'C' \(CU\): missing value for extra "
                                         r"global parameter reference\(s\) 'r'"):
        model.add_custom_update("C", "G", cu, {}, {}, ref)
    with pytest.raises(ModelError, match=r"custom update 'C' \(CU\): unknown extra global "
                                         r"parameter reference\(s\) 'zz'"):
        model.add_custom_update("C", "G", cu, {}, {}, ref, {"r": create_egp_ref(pop, "e"),
                                                           "zz": create_egp_ref(pop, "e")})
    with pytest.raises(ModelError, match=r"custom update 'C': egp_refs must be a dict of "
                                         r"name -> value, got str"):
        model.add_custom_update("C", "G", cu, {}, {}, ref, "r")
    with pytest.raises(ModelError, match=r"neuron population 'Q': params must be a dict of "
                                         r"name -> value, got str"):
        model.add_neuron_population("Q", 1, "LIF", "TauM", LIF_VARS)
    with pytest.raises(ModelError, match=r"neuron population 'Q': the initial variable values "
                                         r"must be a dict"):
        model.add_neuron_population("Q", 1, "LIF", LIF_PARAMS, [("V", 0.0)])
    assert set(model.neuron_populations) == {"P"} and not model.custom_updates


def test_a_model_cannot_be_copied_or_pickled(cache):
    """copy.copy(model) shared the library instance: after unloading the
    original, the copy ran on the state of the next model loaded."""
    import copy
    import pickle
    model, _ = lif_model("no_copy")
    model.build()
    model.load()
    for make in (copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match=r"a GeNNModel cannot be copied: it owns native "
                                             r"state"):
            make(model)
    with pytest.raises(TypeError, match=r"a GeNNModel cannot be pickled"):
        pickle.dumps(model)
    model.run(2)


def test_interrupting_python_stops_the_whole_compiler(tmp_path):
    """SIGINT to Python alone (a Jupyter interrupt, kill -INT) killed the
    'c++' driver but left cc1plus compiling on as an orphan (and its
    temporary files in /tmp)."""
    import signal
    import time
    code = """
        import sys
        from ml_genn.genn import GeNNModel
        from tests.test_hardening_runtime import LIF_PARAMS, LIF_VARS
        model = GeNNModel("float", "interrupted_cxx")
        for i in range(60):
            model.add_neuron_population(f"P{i}", 10, "LIF", LIF_PARAMS, LIF_VARS)
        print("BUILDING", flush=True)
        try:
            model.build()
            print("BUILT", flush=True)
        except KeyboardInterrupt:
            print("INTERRUPTED", flush=True)
    """
    env = dict(os.environ, ML_GENN_CACHE_DIR=str(tmp_path / "cache"))
    header = "import sys; sys.path.insert(0, %r)\n" % os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", header + textwrap.dedent(code)],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "BUILDING"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=120)[0]
    if "BUILT" in out:
        pytest.skip("the build finished before the interrupt")
    assert "INTERRUPTED" in out
    # killed processes take a moment to go (longer on a loaded machine)
    deadline = time.monotonic() + 20
    while (left := _processes_mentioning(str(tmp_path / "cache"))) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], "compiler processes left running: " + " ".join(left)
    assert not any(f.startswith(".build-") for f in os.listdir(tmp_path / "cache"))


def test_builtin_convolutions_skip_the_per_synapse_check_user_snippets_keep_it(cache):
    """Built-in Toeplitz convolutions are in range by their constraints (no
    check in the innermost loop); a user's diagonal code is checked."""
    from ml_genn.genn import create_toeplitz_connect_init_snippet

    def conv_model(name, conn):
        model = GeNNModel("float", name)
        a = model.add_neuron_population("A", 4 * 4 * 1, "Poisson", {"rate": 100.0},
                                        {"timeStepToSpike": 0.0})
        b = model.add_neuron_population("B", 4 * 4 * 2, "LIF", LIF_PARAMS, LIF_VARS)
        model.add_synapse_population(
            "AB", "TOEPLITZ", a, b,
            init_weight_update("StaticPulse", {}, {"g": init_var("Constant", {"constant": 1.0})}),
            init_postsynaptic("DeltaCurr"), conn)
        model.build()
        return open(model.source_path).read()

    builtin = conv_model("conv_builtin", init_toeplitz_connectivity("Conv2D", {
        "conv_kh": 3, "conv_kw": 3, "conv_ih": 4, "conv_iw": 4, "conv_ic": 1,
        "conv_oh": 4, "conv_ow": 4, "conv_oc": 2}))
    assert "mg_fail(16)" not in builtin
    user = create_toeplitz_connect_init_snippet(
        "Shift", diagonal_build_code="for_each_synapse { addSynapse(id_pre + 1, 0, 0, 0, 0); }",
        calc_max_row_len_func=lambda num_pre, num_post, pars: 1,
        calc_kernel_size_func=lambda pars: [1, 1, 1, 1])
    assert "mg_fail(16)" in conv_model("conv_user", init_toeplitz_connectivity(user, {}))


def test_only_egps_the_code_reads_must_be_set(cache):
    """What the renderer saw the code read, not a text search: an EGP named
    only in a comment need not be set; one that is read must be."""
    nm = create_neuron_model(
        "EgpComment", vars=[("V", "scalar")], extra_global_params=[("w", "scalar*"),
                                                                   ("u", "scalar*")],
        sim_code="V += u[0]; // w is not used any more")
    model = GeNNModel("float", "egp_comment")
    pop = model.add_neuron_population("P", 2, nm, {}, {"V": 0.0})
    model.build()
    model.load()
    with pytest.raises(RuntimeStateError, match=r"'u' is read by the model's code but was "
                                                r"never set"):
        model.run(1)
    pop.extra_global_params["u"].set_init_values(np.array([2.0], dtype=np.float32))
    model.run(3)
    np.testing.assert_array_equal(pop.vars["V"].view, 6.0)
