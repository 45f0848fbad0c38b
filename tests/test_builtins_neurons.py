"""Built-in neuron models of GeNN 5.4 (RulkovMap, Izhikevich,
IzhikevichVariable, TraubMiles) against NumPy references written from
their equations.

The references mirror the arithmetic of the code strings: ``float``
models in float32, operation by operation in the order the code writes
them (derived parameters computed in float64 and then rounded to float32,
as they become float literals), so that results match exactly where no
transcendental function is involved.  GeNN's auto-refractory logic (the
built-ins above keep it) is part of the reference: a spike needs the
threshold condition false before the update and true after it.
"""
import numpy as np

from ml_genn.genn import GeNNModel, VarAccess, create_current_source_model

F = np.float32

# a per-neuron constant input current
PER_NEURON_DC = create_current_source_model(
    "PerNeuronDC", vars=[("amp", "scalar", VarAccess.READ_ONLY)],
    injection_code="injectCurrent(amp);")


def _steps(pop, dt, b=0):
    times, ids = pop.spike_recording_data[b]
    steps = np.rint(np.asarray(times) / dt).astype(np.int64)
    order = np.lexsort((ids, steps))
    return steps[order], np.asarray(ids, dtype=np.int64)[order]


def _ref_events(spikes):
    """[(step, bool array)] -> (steps, ids) sorted by step then id."""
    pairs = [(k, i) for k, s in enumerate(spikes) for i in np.nonzero(s)[0]]
    return (np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64))


# ---------------------------------------------------------------------------
# RulkovMap
# ---------------------------------------------------------------------------
def rulkov_reference(v, pre_v, isyn, Vspike, alpha, y, beta, steps):
    ip0 = F(Vspike * Vspike * alpha)
    ip1 = F(Vspike * y)
    ip2 = F((Vspike * y) + (Vspike * alpha))
    v, pre_v, isyn = F(v).copy(), F(pre_v).copy(), F(isyn)
    spikes, trace = [], []
    for _ in range(steps):
        old = v >= ip2
        below = v <= F(0)
        with np.errstate(divide="ignore"):
            mapped = ip0 / ((F(Vspike) - v) - (F(beta) * isyn)) + ip1
        jump = (v < ip2) & (pre_v <= F(0))
        new_v = np.where(below, mapped, np.where(jump, ip2, F(-Vspike))).astype(F)
        pre_v = v
        v = new_v
        spikes.append((v >= ip2) & ~old)
        trace.append(v)
    return v, pre_v, spikes, np.array(trace)


def test_rulkov_map_matches_reference():
    n, steps, dt = 12, 600, 0.5
    pars = {"Vspike": 60.0, "alpha": 3.0, "y": -2.468, "beta": 0.0165}
    amps = np.linspace(0.0, 30.0, n).astype(F)
    v0 = np.linspace(-60.0, -20.0, n).astype(F)
    model = GeNNModel("float", "builtin_rulkov")
    model.dt = dt
    pop = model.add_neuron_population("R", n, "RulkovMap", pars, {"V": v0, "preV": -60.0})
    model.add_current_source("I", PER_NEURON_DC, pop, {}, {"amp": amps})
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=steps)
    trace = []
    for _ in range(steps):
        model.step_time()
        trace.append(pop.vars["V"].view.copy())

    v_ref, pre_ref, spikes, trace_ref = rulkov_reference(v0, np.full(n, -60.0), amps,
                                                         steps=steps, **pars)
    np.testing.assert_array_equal(np.array(trace), trace_ref)
    ip2 = F(pars["Vspike"] * pars["y"] + pars["Vspike"] * pars["alpha"])
    assert np.count_nonzero(trace_ref == ip2) > 5       # the "spike" branch of the map
    np.testing.assert_array_equal(pop.vars["V"].view, v_ref)
    np.testing.assert_array_equal(pop.vars["preV"].view, pre_ref)
    ref_steps, ref_ids = _ref_events(spikes)
    got_steps, got_ids = _steps(pop, dt)
    np.testing.assert_array_equal(got_steps, ref_steps)
    np.testing.assert_array_equal(got_ids, ref_ids)
    # the drive range covers silent and bursting neurons
    counts = np.bincount(ref_ids, minlength=n)
    assert counts.min() == 0 and counts.max() >= 8, counts


# ---------------------------------------------------------------------------
# Izhikevich and IzhikevichVariable
# ---------------------------------------------------------------------------
def izhikevich_reference(v, u, a, b, c, d, isyn, steps, dt):
    """GeNN's Izhikevich update: reset at the start of the step after a
    spike, V in two half steps, then U, V clipped to 30; threshold 29.99
    with auto-refractory logic."""
    v, u = F(v).copy(), F(u).copy()
    a, b, c, d, isyn, dt = F(a), F(b), F(c), F(d), F(isyn), F(dt)
    spikes = []
    for _ in range(steps):
        old = v >= F(29.99)
        reset = v >= F(30.0)
        v = np.where(reset, c, v).astype(F)
        u = np.where(reset, u + d, u).astype(F)
        for _ in range(2):
            v = v + (F(0.5) * (((((F(0.04) * v) * v) + (F(5.0) * v)) + F(140.0)) - u + isyn)) * dt
        u = u + (a * ((b * v) - u)) * dt
        v = np.minimum(v, F(30.0))
        spikes.append((v >= F(29.99)) & ~old)
    return v, u, spikes


def test_izhikevich_variable_matches_reference_and_izhikevich():
    # regular spiking, intrinsically bursting, chattering, fast spiking,
    # low-threshold spiking, resonator (Izhikevich 2003, fig. 2)
    types = np.array([[0.02, 0.2, -65.0, 8.0], [0.02, 0.2, -55.0, 4.0],
                      [0.02, 0.2, -50.0, 2.0], [0.1, 0.2, -65.0, 2.0],
                      [0.02, 0.25, -65.0, 2.0], [0.1, 0.26, -65.0, 2.0]])
    n, steps, dt = 12, 1000, 0.25
    abcd = np.tile(types, (2, 1))
    amps = np.repeat([6.0, 14.0], 6).astype(F)
    v0 = np.full(n, -65.0, dtype=F)
    u0 = (abcd[:, 1] * v0).astype(F)
    model = GeNNModel("float", "builtin_izk_var")
    model.dt = dt
    var_pop = model.add_neuron_population(
        "IV", n, "IzhikevichVariable", {},
        {"V": v0, "U": u0, "a": abcd[:, 0], "b": abcd[:, 1], "c": abcd[:, 2],
         "d": abcd[:, 3]})
    model.add_current_source("IVin", PER_NEURON_DC, var_pop, {}, {"amp": amps})
    var_pop.spike_recording_enabled = True
    # the parameterised model, one population per neuron type (first drive)
    fixed = []
    for k, (a, b, c, d) in enumerate(types):
        p = model.add_neuron_population(f"I{k}", 1, "Izhikevich",
                                        {"a": a, "b": b, "c": c, "d": d},
                                        {"V": -65.0, "U": F(b * -65.0)})
        model.add_current_source(f"I{k}in", "DC", p, {"amp": 6.0})
        p.spike_recording_enabled = True
        fixed.append(p)
    model.build()
    model.load(num_recording_timesteps=steps)

    # stop right after neuron 0's first spike: V is clipped to 30 there
    _, _, early = izhikevich_reference(v0, u0, *abcd.T, amps, steps, dt)
    first = int(np.nonzero([s[0] for s in early])[0][0])
    model.run(first + 1)
    v_mid, u_mid, _ = izhikevich_reference(v0, u0, *abcd.T, amps, first + 1, dt)
    assert v_mid[0] == F(30.0)
    np.testing.assert_array_equal(var_pop.vars["V"].view, v_mid)
    np.testing.assert_array_equal(var_pop.vars["U"].view, u_mid)
    model.run(steps - first - 1)

    v_ref, u_ref, spikes = izhikevich_reference(v0, u0, *abcd.T, amps, steps, dt)
    np.testing.assert_array_equal(var_pop.vars["V"].view, v_ref)
    np.testing.assert_array_equal(var_pop.vars["U"].view, u_ref)
    ref_steps, ref_ids = _ref_events(spikes)
    got_steps, got_ids = _steps(var_pop, dt)
    np.testing.assert_array_equal(got_steps, ref_steps)
    np.testing.assert_array_equal(got_ids, ref_ids)
    assert np.all(np.bincount(ref_ids, minlength=n) >= 2)
    assert np.all(v_ref <= 30.0)
    # parameters or per-neuron variables: the same neuron
    for k, p in enumerate(fixed):
        np.testing.assert_array_equal(p.vars["V"].view, var_pop.vars["V"].view[k:k + 1])
        np.testing.assert_array_equal(p.vars["U"].view, var_pop.vars["U"].view[k:k + 1])
        s, _ = _steps(p, dt)
        np.testing.assert_array_equal(s, got_steps[got_ids == k])


# ---------------------------------------------------------------------------
# TraubMiles (double precision: NumPy's float64 exp vs the C library's
# differ by at most an ulp, so results agree to ~1e-10, not bitwise)
# ---------------------------------------------------------------------------
def _rates(v):
    def safe(num, den, limit, at):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = num / den
        return np.where(v == at, limit, r)
    am = safe(0.32 * (-52.0 - v), np.exp((-52.0 - v) / 4.0) - 1.0, 1.28, -52.0)
    bm = safe(0.28 * (v + 25.0), np.exp((v + 25.0) / 5.0) - 1.0, 1.4, -25.0)
    ah = 0.128 * np.exp((-48.0 - v) / 18.0)
    bh = 4.0 / (np.exp((-25.0 - v) / 5.0) + 1.0)
    an = safe(0.032 * (-50.0 - v), np.exp((-50.0 - v) / 5.0) - 1.0, 0.16, -50.0)
    bn = 0.5 * np.exp((-55.0 - v) / 40.0)
    return am, bm, ah, bh, an, bn


def traub_miles_reference(v, m, h, n, isyn, p, steps, dt):
    v, m, h, n = (np.array(x, dtype=np.float64) for x in (v, m, h, n))
    mdt = dt / 25.0
    spikes, above = [], np.zeros(v.shape, dtype=np.int64)
    for _ in range(steps):
        old = v >= 0.0
        above += old
        for _ in range(25):
            imem = -(m * m * m * h * p["gNa"] * (v - p["ENa"])
                     + n * n * n * n * p["gK"] * (v - p["EK"])
                     + p["gl"] * (v - p["El"]) - isyn)
            am, bm, ah, bh, an, bn = _rates(v)
            m = m + (am * (1.0 - m) - bm * m) * mdt
            h = h + (ah * (1.0 - h) - bh * h) * mdt
            n = n + (an * (1.0 - n) - bn * n) * mdt
            v = v + imem / p["C"] * mdt
        spikes.append((v >= 0.0) & ~old)
    return v, m, h, n, spikes, above


def test_traub_miles_matches_reference():
    pars = {"gNa": 7.15, "ENa": 50.0, "gK": 1.43, "EK": -95.0, "gl": 0.02672,
            "El": -63.563, "C": 0.143}
    init = {"V": -60.0, "m": 0.0529324, "h": 0.3176767, "n": 0.5961207}
    n, steps, dt = 8, 400, 0.25
    amps = np.linspace(0.0, 0.7, n)
    model = GeNNModel("double", "builtin_traub")
    model.dt = dt
    pop = model.add_neuron_population("T", n, "TraubMiles", pars, init)
    model.add_current_source("I", PER_NEURON_DC, pop, {}, {"amp": amps})
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)

    v, m, h, nn, spikes, above = traub_miles_reference(
        *(np.full(n, init[k]) for k in ("V", "m", "h", "n")), amps, pars, steps, dt)
    for name, ref in (("V", v), ("m", m), ("h", h), ("n", nn)):
        np.testing.assert_allclose(pop.vars[name].view, ref, rtol=1e-7, atol=1e-9,
                                   err_msg=name)
    ref_steps, ref_ids = _ref_events(spikes)
    got_steps, got_ids = _steps(pop, dt)
    np.testing.assert_array_equal(got_steps, ref_steps)
    np.testing.assert_array_equal(got_ids, ref_ids)
    counts = np.bincount(ref_ids, minlength=n)
    assert counts[0] == 0 and counts[-1] >= 5, counts
    # one spike per action potential: V stays >= 0 for several steps, and
    # auto-refractory logic reports only the upward crossing
    assert np.all(above[counts > 0] > counts[counts > 0]), (above, counts)
    isi = np.diff(got_steps[got_ids == n - 1])
    assert isi.min() > 4, isi


def test_spike_source_has_no_state_and_never_spikes_by_itself():
    """GeNN's SpikeSource: an empty model whose threshold is false."""
    from ml_genn.genn import GeNNModel, init_postsynaptic, init_weight_update
    model = GeNNModel("float", "builtin_spike_source")
    src = model.add_neuron_population("Src", 33, "SpikeSource", {}, {})
    src.spike_recording_enabled = True
    assert src.vars == {} and src.params == {}
    dst = model.add_neuron_population("Dst", 2, "LIF", {
        "C": 1.0, "TauM": 20.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0, "Ioffset": 0.0,
        "TauRefrac": 0.0}, {"V": 0.0, "RefracTime": 0.0})
    model.add_synapse_population("S", "DENSE", src, dst,
                                 init_weight_update("StaticPulseConstantWeight", {"g": 5.0}),
                                 init_postsynaptic("DeltaCurr"))
    model.build()
    model.load(num_recording_timesteps=20)
    model.run(20)
    model.pull_recording_buffers_from_device()
    times, ids = src.spike_recording_data[0]
    assert times.size == 0 and ids.size == 0
    assert np.all(dst.vars["V"].values == 0.0)
