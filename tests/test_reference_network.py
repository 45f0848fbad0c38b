"""Engine vs. the NumPy reference simulator: spike-for-spike equality.

A random two-population LIF network (built-in ``LIF`` driven by ``Ioffset``
and a custom LIF-like model driven by a per-neuron read-only variable) with
a recurrent projection, a feed-forward projection with an axonal delay and a
recurrent projection with per-synapse dendritic delays (plus an axonal delay)
is built through ``ml_genn.genn`` as DENSE and SPARSE, with DeltaCurr and
ExpCurr, batch 1 and 4 (different initial V per batch element), and compared
with ``tests/reference_sim.py``.

Weights are multiples of 1/64 (or 1/256) with moderate magnitudes, so sums of
weights are exact in float32; the remaining arithmetic is mirrored operation
by operation in float32 by the reference.  Each population receives at most
two projections so that the float32 sum ``Isyn`` does not depend on the order
in which the engine visits postsynaptic models.
"""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model,
                          init_postsynaptic, init_sparse_connectivity,
                          init_weight_update)

from reference_sim import LIFPop, Projection, simulate

N_A = 80
N_B = 60
T_SIM = 150.0   # ms; n_steps = T_SIM / dt

# Custom LIF whose offset current is a per-neuron read-only variable; same
# code string as GeNN 5's LIF with ``Ioffset`` replaced by ``Iext``.
LIF_EXT = create_neuron_model(
    "LIFExt",
    params=["C", "TauM", "Vrest", "Vreset", "Vthresh", "TauRefrac"],
    derived_params=[("ExpTC", lambda pars, dt: np.exp(-dt / pars["TauM"])),
                    ("Rmembrane", lambda pars, dt: pars["TauM"] / pars["C"])],
    vars=[("V", "scalar"), ("RefracTime", "scalar"),
          ("Iext", "scalar", VarAccess.READ_ONLY)],
    sim_code="""
    if (RefracTime <= 0.0) {
        scalar alpha = ((Isyn + Iext) * Rmembrane) + Vrest;
        V = alpha - (ExpTC * (alpha - V));
    }
    else {
        RefracTime -= dt;
    }
    """,
    threshold_condition_code="RefracTime <= 0.0 && V >= Vthresh",
    reset_code="""
    V = Vreset;
    RefracTime = TauRefrac;
    """)

A_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": -65.0, "Vreset": -65.0,
            "Vthresh": -50.0, "Ioffset": 0.875, "TauRefrac": 2.0}
B_PARAMS = {"C": 0.5, "TauM": 10.0, "Vrest": -60.0, "Vreset": -62.0,
            "Vthresh": -52.0, "TauRefrac": 1.0}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def engine_spikes(pop, batch_size, dt):
    """Spike recording of ``pop`` as a list (per batch) of (steps, ids)."""
    data = pop.spike_recording_data
    if (batch_size == 1 and len(data) == 2
            and isinstance(data[0], np.ndarray)):
        data = [data]   # tolerate an unwrapped (times, ids) for batch 1
    assert len(data) == batch_size
    out = []
    for b in range(batch_size):
        times, ids = (np.asarray(a) for a in data[b])
        steps = np.rint(times / dt).astype(np.int64)
        assert np.allclose(steps * dt, times, rtol=1e-6, atol=1e-4), \
            "recorded times are not multiples of dt"
        ids = ids.astype(np.int64)
        order = np.lexsort((ids, steps))
        assert np.array_equal(order, np.arange(len(order))), \
            "spike_recording_data not sorted by time then id"
        out.append((steps, ids))
    return out


def assert_same_spikes(eng, ref, label):
    es, ei = eng
    rs, ri = ref
    if len(es) == len(rs) and np.array_equal(es, rs) and np.array_equal(ei, ri):
        return
    n = min(len(es), len(rs))
    diff = np.nonzero((es[:n] != rs[:n]) | (ei[:n] != ri[:n]))[0]
    k = diff[0] if len(diff) else n
    raise AssertionError(
        f"{label}: engine {len(es)} spikes, reference {len(rs)} spikes; "
        f"first difference at index {k}: "
        f"engine {list(zip(es[k:k + 3].tolist(), ei[k:k + 3].tolist()))} vs "
        f"reference {list(zip(rs[k:k + 3].tolist(), ri[k:k + 3].tolist()))}")


def random_weights(rng, n_pre, n_post, prob, lo, hi, denom):
    """Weights k/denom, k integer in [lo, hi] without 0, present with prob."""
    mask = rng.random((n_pre, n_post)) < prob
    k = rng.integers(lo, hi + 1, size=(n_pre, n_post))
    k[k == 0] = 1
    return np.where(mask, k / denom, 0.0).astype(np.float32)


def make_network(psm, batch_size, seed=42):
    """Reference description of the test network."""
    rng = np.random.default_rng(seed)
    # initial V per batch element (exact float32 values)
    v0a = np.round(rng.uniform(-65.0, -50.0, (batch_size, N_A)) * 1024) / 1024
    v0b = np.round(rng.uniform(-62.0, -52.0, (batch_size, N_B)) * 1024) / 1024
    iext = rng.integers(16, 40, N_B) / 64.0     # V_inf in [-55, -47.8]
    pops = {
        "A": LIFPop(N_A, V0=v0a.astype(np.float32), **A_PARAMS),
        "B": LIFPop(N_B, V0=v0b.astype(np.float32), Ioffset=iext.astype(np.float32),
                    **B_PARAMS)}
    if psm == "delta":
        denom, kinds = 16, [("DeltaCurr", None)] * 3
    else:
        denom, kinds = 256, [("ExpCurr", 5.0), ("ExpCurr", 2.0), ("ExpCurr", 3.0)]
    w_aa = random_weights(rng, N_A, N_A, 0.2, -32, 24, denom)
    w_ab = random_weights(rng, N_A, N_B, 0.25, -16, 64, denom)
    w_bb = random_weights(rng, N_B, N_B, 0.2, -40, 40, denom)
    d_bb = np.where(w_bb != 0, rng.integers(0, 8, (N_B, N_B)), 0)
    projs = [
        Projection("A", "A", w_aa, psm=kinds[0][0], tau=kinds[0][1]),
        Projection("A", "B", w_ab, psm=kinds[1][0], tau=kinds[1][1],
                   axonal_delay=3),
        Projection("B", "B", w_bb, psm=kinds[2][0], tau=kinds[2][1],
                   axonal_delay=1, dendritic_delay=d_bb,
                   max_dendritic_delay=8)]
    names = ["AA", "AB", "BB"]
    return pops, projs, names, iext


def _psm_init(pr):
    if pr.psm == "DeltaCurr":
        return init_postsynaptic("DeltaCurr")
    return init_postsynaptic("ExpCurr", {"tau": pr.tau})


def _init_v(v0, batch_size):
    return v0[0] if batch_size == 1 else v0


def build_engine(name, matrix, pops, projs, names, iext, dt, batch_size):
    model = GeNNModel("float", name)
    model.dt = dt
    model.batch_size = batch_size
    model.seed = 1234
    a = pops["A"]
    b = pops["B"]
    pop_a = model.add_neuron_population(
        "A", N_A, "LIF", A_PARAMS,
        {"V": _init_v(a.V0, batch_size), "RefracTime": 0.0})
    pop_b = model.add_neuron_population(
        "B", N_B, LIF_EXT, B_PARAMS,
        {"V": _init_v(b.V0, batch_size), "RefracTime": 0.0,
         "Iext": iext.astype(np.float32)})
    pop_a.spike_recording_enabled = True
    pop_b.spike_recording_enabled = True
    ng = {"A": pop_a, "B": pop_b}
    syns = {}
    for sname, pr in zip(names, projs):
        if matrix == "DENSE":
            g = pr.W.flatten()
            d = None if pr.D is None else pr.D.flatten()
        else:
            pre_i, post_i = np.nonzero(pr.W)
            g = pr.W[pre_i, post_i]
            d = None if pr.D is None else pr.D[pre_i, post_i]
        if d is None:
            wu = init_weight_update("StaticPulse", {}, {"g": g})
        else:
            wu = init_weight_update("StaticPulseDendriticDelay", {},
                                    {"g": g, "d": d.astype(np.uint8)})
        syn = model.add_synapse_population(sname, matrix, ng[pr.pre],
                                           ng[pr.post], wu, _psm_init(pr))
        if matrix == "SPARSE":
            syn.set_sparse_connections(pre_i, post_i)
        syn.axonal_delay_steps = pr.axonal_delay
        if pr.D is not None:
            syn.max_dendritic_delay_timesteps = pr.max_dendritic_delay
        syns[sname] = syn
    return model, ng, syns


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------
CASES = [(m, p, b, 0.25) for m in ("DENSE", "SPARSE")
         for p in ("delta", "exp") for b in (1, 4)]
CASES += [("SPARSE", "delta", 4, 0.1), ("DENSE", "exp", 1, 0.1)]


@pytest.mark.parametrize("matrix,psm,batch_size,dt", CASES)
def test_network_matches_reference(matrix, psm, batch_size, dt):
    n_steps = int(round(T_SIM / dt))
    pops, projs, names, iext = make_network(psm, batch_size)
    ref = simulate(pops, projs, n_steps, dt, batch_size)

    # the test must not be vacuous: plenty of activity, and the synapses
    # must change the outcome
    for b in range(batch_size):
        assert len(ref.spikes["A"][b][0]) > 100
        assert len(ref.spikes["B"][b][0]) > 100
    no_syn = [Projection(p.pre, p.post, np.zeros_like(p.W), psm=p.psm,
                         tau=p.tau) for p in projs]
    ref0 = simulate(pops, no_syn, n_steps, dt, batch_size)
    for name in ("A", "B"):
        assert not np.array_equal(ref0.spikes[name][0][1],
                                  ref.spikes[name][0][1])

    dtname = str(dt).replace(".", "p")
    model, ng, syns = build_engine(
        f"refnet_{matrix}_{psm}_b{batch_size}_dt{dtname}", matrix,
        pops, projs, names, iext, dt, batch_size)
    model.build()
    model.load(num_recording_timesteps=n_steps)

    if matrix == "SPARSE":
        # read-back of the connectivity and weights in the user's order
        for sname, pr in zip(names, projs):
            pre_i, post_i = np.nonzero(pr.W)
            syn = syns[sname]
            got = sorted(zip(np.asarray(syn.get_sparse_pre_inds()).tolist(),
                             np.asarray(syn.get_sparse_post_inds()).tolist()))
            assert got == sorted(zip(pre_i.tolist(), post_i.tolist()))
            syn.vars["g"].pull_from_device()
            np.testing.assert_array_equal(
                np.asarray(syn.vars["g"].values).ravel(), pr.W[pre_i, post_i])

    model.run(n_steps)
    assert model.timestep == n_steps
    model.pull_recording_buffers_from_device()
    for name in ("A", "B"):
        eng = engine_spikes(ng[name], batch_size, dt)
        for b in range(batch_size):
            assert_same_spikes(eng[b], ref.spikes[name][b],
                               f"pop {name} batch {b}")

    # final state matches too
    for name in ("A", "B"):
        ng[name].vars["V"].pull_from_device()
        v = np.asarray(ng[name].vars["V"].view).reshape(batch_size, -1)
        np.testing.assert_array_equal(v, ref.state[name]["V"])


def _build_fixed_prob(name, matrix, batch_size, dt, v0a, v0b, iext):
    model = GeNNModel("float", name)
    model.dt = dt
    model.batch_size = batch_size
    model.seed = 777
    pop_a = model.add_neuron_population(
        "A", N_A, "LIF", A_PARAMS,
        {"V": _init_v(v0a, batch_size), "RefracTime": 0.0})
    pop_b = model.add_neuron_population(
        "B", N_B, LIF_EXT, B_PARAMS,
        {"V": _init_v(v0b, batch_size), "RefracTime": 0.0, "Iext": iext})
    pop_a.spike_recording_enabled = True
    pop_b.spike_recording_enabled = True
    aa = model.add_synapse_population(
        "AA", matrix, pop_a, pop_a,
        init_weight_update("StaticPulseConstantWeight", {"g": -1.5}),
        init_postsynaptic("DeltaCurr"),
        init_sparse_connectivity("FixedProbability", {"prob": 0.1}))
    ab = model.add_synapse_population(
        "AB", matrix, pop_a, pop_b,
        init_weight_update("StaticPulse", {}, {"g": 0.25}),
        init_postsynaptic("ExpCurr", {"tau": 2.0}),
        init_sparse_connectivity("FixedProbability", {"prob": 0.15}))
    ab.axonal_delay_steps = 2
    return model, {"A": pop_a, "B": pop_b}, {"AA": aa, "AB": ab}


@pytest.mark.parametrize("batch_size", [1, 4])
def test_fixed_probability_sparse_and_procedural(batch_size):
    """FixedProbability connectivity built as SPARSE (read back) and as
    PROCEDURAL from the same snippet, seed and populations: both must produce
    the spikes of the reference run on the read-back connectivity."""
    dt = 0.25
    n_steps = int(round(T_SIM / dt))
    rng = np.random.default_rng(3)
    v0a = (np.round(rng.uniform(-65.0, -50.0, (batch_size, N_A)) * 1024)
           / 1024).astype(np.float32)
    v0b = (np.round(rng.uniform(-62.0, -52.0, (batch_size, N_B)) * 1024)
           / 1024).astype(np.float32)
    iext = (rng.integers(16, 40, N_B) / 64.0).astype(np.float32)

    m_sp, ng_sp, syn_sp = _build_fixed_prob(
        f"fixprob_sparse_b{batch_size}", "SPARSE", batch_size, dt, v0a, v0b, iext)
    m_sp.build()
    m_sp.load(num_recording_timesteps=n_steps)
    W = {}
    for sname, (npre, npost, w) in {"AA": (N_A, N_A, -1.5),
                                    "AB": (N_A, N_B, 0.25)}.items():
        pre_i = np.asarray(syn_sp[sname].get_sparse_pre_inds())
        post_i = np.asarray(syn_sp[sname].get_sparse_post_inds())
        assert len(pre_i) > 0
        m = np.zeros((npre, npost), np.float32)
        m[pre_i, post_i] = w
        assert np.count_nonzero(m) == len(pre_i), "duplicate synapses"
        W[sname] = m

    pops = {"A": LIFPop(N_A, V0=v0a, **A_PARAMS),
            "B": LIFPop(N_B, V0=v0b, Ioffset=iext, **B_PARAMS)}
    projs = [Projection("A", "A", W["AA"]),
             Projection("A", "B", W["AB"], psm="ExpCurr", tau=2.0,
                        axonal_delay=2)]
    ref = simulate(pops, projs, n_steps, dt, batch_size)
    for b in range(batch_size):
        assert len(ref.spikes["A"][b][0]) > 100
        assert len(ref.spikes["B"][b][0]) > 100

    m_sp.run(n_steps)
    m_sp.pull_recording_buffers_from_device()
    for name in ("A", "B"):
        eng = engine_spikes(ng_sp[name], batch_size, dt)
        for b in range(batch_size):
            assert_same_spikes(eng[b], ref.spikes[name][b],
                               f"SPARSE pop {name} batch {b}")

    m_pr, ng_pr, _ = _build_fixed_prob(
        f"fixprob_proc_b{batch_size}", "PROCEDURAL", batch_size, dt, v0a, v0b, iext)
    m_pr.build()
    m_pr.load(num_recording_timesteps=n_steps)
    m_pr.run(n_steps)
    m_pr.pull_recording_buffers_from_device()
    for name in ("A", "B"):
        eng = engine_spikes(ng_pr[name], batch_size, dt)
        for b in range(batch_size):
            assert_same_spikes(eng[b], ref.spikes[name][b],
                               f"PROCEDURAL pop {name} batch {b}")


# ---------------------------------------------------------------------------
# self-test of the reference simulator's timing (NumPy only)
# ---------------------------------------------------------------------------
def _first_effect_step(proj_kwargs, max_steps=12):
    """A single source neuron spikes at step 0 (starts above threshold and is
    not driven afterwards); return the first step whose neuron update sees
    the input in the (very slow, never-spiking) target."""
    src = LIFPop(1, V0=-40.0)
    dst = LIFPop(1, TauM=1.0e6, Vthresh=1.0e6, V0=-65.0)
    W = np.array([[8.0]], np.float32)
    for n_steps in range(1, max_steps):
        with_in = simulate({"S": src, "T": dst},
                           [Projection("S", "T", W, **proj_kwargs)], n_steps, 1.0)
        assert with_in.spikes["S"][0][0].tolist() == [0]
        if with_in.state["T"]["V"][0, 0] != np.float32(-65.0):
            return n_steps - 1
    return None


@pytest.mark.parametrize("kwargs,expected", [
    ({}, 1),
    ({"axonal_delay": 3}, 4),
    ({"dendritic_delay": [[2]], "max_dendritic_delay": 4}, 3),
    ({"dendritic_delay": [[0]], "max_dendritic_delay": 4}, 1),
    ({"axonal_delay": 2, "dendritic_delay": [[3]], "max_dendritic_delay": 4}, 6),
    ({"psm": "ExpCurr", "tau": 2.0, "axonal_delay": 1}, 2),
])
def test_reference_latency(kwargs, expected):
    assert _first_effect_step(kwargs) == expected
