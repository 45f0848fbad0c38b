"""Built-in models and model features checked against NumPy references."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, create_current_source_model,
                          create_neuron_model)

IF_MODEL = create_neuron_model(
    "IFRecord", params=["Vthr"], vars=[("V", "scalar"), ("LastIsyn", "scalar")],
    sim_code="V += Isyn; LastIsyn = Isyn;", threshold_condition_code="V >= Vthr",
    reset_code="V = 0.0;")


def test_spike_source_array_replays_spike_times():
    rng = np.random.default_rng(3)
    n, dt, steps = 20, 1.0, 100
    per_neuron = [np.sort(rng.choice(np.arange(0, 90), rng.integers(0, 6), replace=False))
                  .astype(float) + rng.uniform(0, 0.9) for _ in range(n)]
    ends = np.cumsum([len(s) for s in per_neuron])
    starts = ends - [len(s) for s in per_neuron]
    model = GeNNModel("float", "ssa")
    model.dt = dt
    pop = model.add_neuron_population("S", n, "SpikeSourceArray", {},
                                      {"startSpike": starts, "endSpike": ends})
    pop.extra_global_params["spikeTimes"].set_init_values(np.concatenate(per_neuron))
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    times, ids = pop.spike_recording_data[0]
    # reference: a spike at ts is emitted at the first step whose t >= ts
    expected = sorted((np.ceil(np.float32(ts)) * dt, i) for i, s in enumerate(per_neuron)
                      for ts in s)
    assert len(expected) > 20
    np.testing.assert_array_equal(times, [e[0] for e in expected])
    np.testing.assert_array_equal(ids, [e[1] for e in expected])


def test_dc_current_source_and_dynamic_parameter():
    model = GeNNModel("float", "dc")
    model.dt = 1.0
    pop = model.add_neuron_population("P", 4, IF_MODEL, {"Vthr": 1e9},
                                      {"V": 0.0, "LastIsyn": 0.0})
    cs = model.add_current_source("Drive", "DC", pop, {"amp": 0.5})
    cs.set_param_dynamic("amp")
    model.build()
    model.load()
    model.run(10)
    np.testing.assert_array_equal(pop.vars["V"].view, 5.0)
    cs.set_dynamic_param_value("amp", 0.25)
    model.run(4)
    np.testing.assert_array_equal(pop.vars["V"].view, 6.0)


def test_custom_current_source_with_per_neuron_variable():
    cs_model = create_current_source_model(
        "Ramp", vars=[("A", "scalar", VarAccess.READ_ONLY)], injection_code="injectCurrent(A * t);")
    model = GeNNModel("float", "ramp")
    model.dt = 1.0
    pop = model.add_neuron_population("P", 3, IF_MODEL, {"Vthr": 1e9},
                                      {"V": 0.0, "LastIsyn": 0.0})
    model.add_current_source("R", cs_model, pop, {}, {"A": np.array([1.0, 2.0, 3.0])})
    model.build()
    model.load()
    model.run(5)     # V = A * (0 + 1 + 2 + 3 + 4)
    np.testing.assert_array_equal(pop.vars["V"].view, [10.0, 20.0, 30.0])


def izhikevich_reference(v, u, a, b, c, d, i_ext, steps, dt):
    """GeNN's Izhikevich update (two half steps for V) in float32."""
    f = np.float32
    v, u = v.astype(f), u.astype(f)
    spikes = []
    for n in range(steps):
        reset = v >= f(30.0)
        v = np.where(reset, f(c), v)
        u = np.where(reset, u + f(d), u)
        for _ in range(2):
            v = v + f(0.5) * (f(0.04) * v * v + f(5.0) * v + f(140.0) - u + f(i_ext)) * f(dt)
        u = u + f(a) * (f(b) * v - u) * f(dt)
        spikes.append(np.nonzero(v >= f(29.99))[0])
    return v, u, spikes


def test_izhikevich_matches_numpy_reference():
    n, steps, dt = 10, 400, 0.5
    v0 = np.linspace(-70.0, -60.0, n)
    u0 = np.full(n, -14.0)
    model = GeNNModel("float", "izk")
    model.dt = dt
    pop = model.add_neuron_population("I", n, "Izhikevich",
                                      {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0},
                                      {"V": v0, "U": u0})
    model.add_current_source("D", "DC", pop, {"amp": 10.0})
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    v_ref, u_ref, spikes = izhikevich_reference(v0, u0, 0.02, 0.2, -65.0, 8.0, 10.0, steps, dt)
    np.testing.assert_allclose(pop.vars["V"].view, v_ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(pop.vars["U"].view, u_ref, rtol=1e-5, atol=1e-4)
    times, ids = pop.spike_recording_data[0]
    ref_t = np.concatenate([np.full(len(s), k * dt) for k, s in enumerate(spikes)])
    assert len(times) > 20
    np.testing.assert_array_equal(times, ref_t)


def test_double_precision_and_legacy_syntax():
    with pytest.warns(FutureWarning, match=r"\$\(name\)"):
        legacy = create_neuron_model("Legacy", params=["Inc"], vars=[("V", "double")],
                                     sim_code="$(V) += $(Inc) * $(dt);")
        model = GeNNModel("double", "legacy")
        model.dt = 0.1
        pop = model.add_neuron_population("P", 2, legacy, {"Inc": 1.0 / 3.0}, {"V": 0.0})
        model.build()
    model.load()
    model.run(30)
    assert pop.vars["V"].view.dtype == np.float64
    expected = 0.0
    for _ in range(30):
        expected += (1.0 / 3.0) * 0.1
    np.testing.assert_array_equal(pop.vars["V"].view, expected)


def test_sim_code_locals_are_visible_in_threshold_and_reset():
    """A local declared in sim_code decides the spike and the reset."""
    model_def = create_neuron_model(
        "LocalSpike", vars=[("X", "scalar", VarAccess.READ_ONLY), ("Count", "scalar")],
        sim_code="const bool fire = X > 0.5;\nscalar bump = X * 2.0;",
        threshold_condition_code="fire",
        reset_code="Count += bump;")
    model = GeNNModel("float", "locals")
    x = np.array([0.0, 1.0, 0.25, 3.0], dtype=np.float32)
    pop = model.add_neuron_population("P", 4, model_def, {}, {"X": x, "Count": 0.0})
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=3)
    model.run(3)
    np.testing.assert_array_equal(pop.vars["Count"].view, np.where(x > 0.5, 3 * 2 * x, 0))
    _, ids = pop.spike_recording_data[0]
    np.testing.assert_array_equal(ids, [1, 3, 1, 3, 1, 3])


def test_compiler_failure_explains_and_attaches_output(monkeypatch):
    """Operator % on a floating-point value is caught by the checker (a
    CodeError, never a compiler error); a compiler failure (here: a bad
    flag in ML_GENN_CXXFLAGS) gives a BuildError with the compiler output
    and the path of the source."""
    from ml_genn.genn import BuildError, CodeError
    bad = create_neuron_model("ModuloOnFloat", vars=[("V", "scalar")],
                              sim_code="V = (scalar)(fmod(V, 2.0) % 3);")
    model = GeNNModel("float", "compile_failure")
    model.add_neuron_population("P", 2, bad, {}, {"V": 0.0})
    with pytest.raises(CodeError, match=r"operator '%' needs integer operands"):
        model.build()
    monkeypatch.setenv("ML_GENN_CXXFLAGS", "-fno-such-flag-for-ml-genn")
    good = create_neuron_model("ModuloOnInt", vars=[("V", "scalar")],
                               sim_code="V = (scalar)((int)V % 3);")
    model = GeNNModel("float", "compile_failure")
    model.add_neuron_population("P", 2, good, {}, {"V": 0.0})
    with pytest.raises(BuildError) as info:
        model.build()
    err = info.value
    assert "the C++ compiler rejected the generated code" in str(err)
    assert err.source_path and err.source_path.endswith(".cc")
    with open(err.source_path) as f:
        assert "% 3" in f.read()
    assert "error" in err.compiler_output and err.compiler_output.strip() in str(err)


def test_literal_suffixes():
    """u/l integer suffixes, f/d floating suffixes and exponents all parse."""
    nm = create_neuron_model(
        "Literals", vars=[("C", "unsigned int"), ("X", "double")],
        sim_code="C += 1u + 0x10u + 2ul; X += 1.5e-3f + 2e3 + .5d;")
    model = GeNNModel("double", "literals")
    pop = model.add_neuron_population("P", 1, nm, {}, {"C": 0, "X": 0.0})
    model.build()
    model.load()
    model.run(2)
    assert pop.vars["C"].view[0] == 2 * 19
    assert pop.vars["X"].view[0] == 2 * (float(np.float32(1.5e-3)) + 2e3 + 0.5)


def test_current_source_num_neurons_is_its_targets():
    from ml_genn.genn import GeNNModel
    model = GeNNModel("float", "cs_num_neurons")
    pop = model.add_neuron_population("P", 7, "Poisson", {"rate": 10.0}, {"timeStepToSpike": 0.0})
    cs = model.add_current_source("CS", "DC", pop, {"amp": 1.0})
    assert cs.num_neurons == 7
