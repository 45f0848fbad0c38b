"""Built-in postsynaptic, weight update and current source models of GeNN
5.4 (ExpCond, StaticGraded, STDP, PoissonExp) against NumPy references
written from their equations and from the execution order (synapse update
of step n delivers what the sources emitted at step n - 1, then the neuron
update: postsynaptic models, current sources, sim code, threshold).

float32 references follow the code strings operation by operation; where
a transcendental function (exp, tanh) is involved NumPy's float32 version
may differ from the C library's by an ulp, so those comparisons allow a
relative error of a few ulps.
"""
import numpy as np
from scipy import stats

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model, create_var_ref,
                          init_postsynaptic, init_weight_update)

F = np.float32


def spike_source(model, name, trains):
    """A SpikeSourceArray population replaying ``trains[b][i]`` (spike steps
    of neuron i in batch element b; dt must be 1)."""
    batch, n = len(trains), len(trains[0])
    times, starts, ends = [], np.zeros((batch, n), np.uint32), np.zeros((batch, n), np.uint32)
    for b in range(batch):
        for i in range(n):
            starts[b, i] = len(times)
            times += sorted(trains[b][i])
            ends[b, i] = len(times)
    pop = model.add_neuron_population(
        name, n, "SpikeSourceArray", {},
        {"startSpike": starts if batch > 1 else starts[0],
         "endSpike": ends if batch > 1 else ends[0]})
    pop.extra_global_params["spikeTimes"].set_init_values(np.array(times, dtype=F))
    return pop


def random_trains(rng, batch, n, steps, count):
    return [[sorted(rng.choice(steps, count, replace=False).tolist()) for _ in range(n)]
            for _ in range(batch)]


def spike_matrix(trains, steps):
    """bool [batch, steps, n]"""
    batch, n = len(trains), len(trains[0])
    out = np.zeros((batch, steps, n), bool)
    for b in range(batch):
        for i in range(n):
            out[b, trains[b][i], i] = True
    return out


# ---------------------------------------------------------------------------
# ExpCond
# ---------------------------------------------------------------------------
# records its input and lets it move V (so the conductance sees a changing V)
COND_TARGET = create_neuron_model(
    "CondTarget", params=["k"], vars=[("V", "scalar"), ("I", "scalar")],
    sim_code="I = Isyn; V += k * Isyn;")


def test_exp_cond_matches_reference():
    rng = np.random.default_rng(11)
    n_pre, n_post, steps, batch = 6, 5, 60, 2
    tau, E, k = 4.0, -80.0, 0.01
    trains = random_trains(rng, batch, n_pre, steps - 5, 8)
    w = (rng.integers(1, 9, size=(n_pre, n_post)) / 16).astype(F)
    v0 = rng.uniform(-70.0, -50.0, size=n_post).astype(F)
    model = GeNNModel("float", "builtin_expcond")
    model.dt = 1.0
    model.batch_size = batch
    src = spike_source(model, "Src", trains)
    post = model.add_neuron_population("Post", n_post, COND_TARGET, {"k": k},
                                       {"V": v0, "I": 0.0})
    model.add_synapse_population(
        "S", "DENSE", src, post,
        init_weight_update("StaticPulse", {}, {"g": w.ravel()}),
        init_postsynaptic("ExpCond", {"tau": tau, "E": E},
                          var_refs={"V": create_var_ref(post, "V")}))
    model.build()
    model.load()

    decay = F(np.exp(-1.0 / tau))
    spk = spike_matrix(trains, steps)
    in_syn = np.zeros((batch, n_post), F)
    v = np.tile(v0, (batch, 1))
    i_rec = np.zeros((batch, n_post), F)
    for step in range(steps):
        if step > 0:
            for b in range(batch):
                for i in np.nonzero(spk[b, step - 1])[0]:
                    in_syn[b] += w[i]
        isyn = F(0) + in_syn * (F(E) - v)         # injectCurrent(inSyn * (E - V))
        in_syn = in_syn * decay
        i_rec = isyn
        v = v + F(k) * isyn
        model.step_time()
        if step in (10, steps - 1):
            np.testing.assert_array_equal(post.vars["I"].view.reshape(batch, n_post), i_rec)
            np.testing.assert_array_equal(post.vars["V"].view.reshape(batch, n_post), v)
    assert np.all(i_rec < 0)        # E below V: the conductance pulls V down
    assert not np.array_equal(i_rec[0], i_rec[1])


# ---------------------------------------------------------------------------
# StaticGraded
# ---------------------------------------------------------------------------
# V ramps linearly (per-neuron start and slope) and is seen by the synapses
RAMP = create_neuron_model(
    "Ramp", vars=[("V", "scalar"), ("slope", "scalar", VarAccess.READ_ONLY)],
    sim_code="V += slope;")
ACCUMULATOR = create_neuron_model(
    "Accumulator", vars=[("Acc", "scalar")], sim_code="Acc += Isyn;")


def test_static_graded_matches_reference():
    rng = np.random.default_rng(5)
    n_pre, n_post, steps, dt = 7, 4, 40, 0.5
    Epre, Vslope = -50.0, 8.0
    v0 = rng.uniform(-70.0, -40.0, size=n_pre).astype(F)
    slope = rng.uniform(-1.5, 1.5, size=n_pre).astype(F)
    g = rng.uniform(-0.5, 2.0, size=(n_pre, n_post)).astype(F)     # some negative: clipped
    model = GeNNModel("float", "builtin_graded")
    model.dt = dt
    pre = model.add_neuron_population("Pre", n_pre, RAMP, {}, {"V": v0, "slope": slope})
    pre.spike_event_recording_enabled = True
    post = model.add_neuron_population("Post", n_post, ACCUMULATOR, {}, {"Acc": 0.0})
    model.add_synapse_population(
        "S", "DENSE", pre, post,
        init_weight_update("StaticGraded", {"Epre": Epre, "Vslope": Vslope}, {"g": g.ravel()},
                           pre_var_refs={"V": create_var_ref(pre, "V")}),
        init_postsynaptic("DeltaCurr"))
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)

    v = v0.copy()
    acc = np.zeros(n_post, F)
    events = np.zeros(n_pre, bool)
    ev_ref = []
    for step in range(steps):
        in_syn = np.zeros(n_post, F)
        for i in np.nonzero(events)[0]:          # events of step - 1, V of step - 1
            in_syn += np.maximum(F(0), g[i] * np.tanh((v[i] - F(Epre)) / F(Vslope)) * F(dt))
        acc += F(0) + in_syn
        v = v + slope
        events = v > F(Epre)
        ev_ref += [(step, i) for i in np.nonzero(events)[0]]
    np.testing.assert_allclose(post.vars["Acc"].view, acc, rtol=2e-6)
    times, ids = pre.spike_event_recording_data[0]
    order = np.lexsort((ids, times))
    np.testing.assert_array_equal(np.rint(np.asarray(times)[order] / dt), [e[0] for e in ev_ref])
    np.testing.assert_array_equal(np.asarray(ids)[order], [e[1] for e in ev_ref])
    assert 0 < len(ev_ref) < n_pre * steps and np.all(acc > 0)


# ---------------------------------------------------------------------------
# STDP (DENSE)
# ---------------------------------------------------------------------------
STDP_PARS = {"tauPlus": 12.0, "tauMinus": 25.0, "Aplus": 0.15, "Aminus": 0.12,
             "Wmin": 0.0, "Wmax": 0.8}


def stdp_reference(g, pre_spk, post_spk, p):
    """GeNN's additive nearest-spike STDP on spike steps (dt = 1): a
    presynaptic spike at step s depresses by Aminus * exp(-(s - s_post) /
    tauMinus) for the last postsynaptic spike s_post < s; a postsynaptic
    spike at s potentiates by Aplus * exp(-(s - s_pre) / tauPlus) for the
    last presynaptic spike s_pre < s; clipped to [Wmin, Wmax] after each
    change.  Spikes of step s are processed in step s + 1: presynaptic
    first, then postsynaptic.  Also returns how often each bound clipped."""
    g = g.copy()
    steps, n_pre = pre_spk.shape
    n_post = post_spk.shape[1]
    last_pre = np.full(n_pre, -np.inf)
    last_post = np.full(n_post, -np.inf)
    lo, hi = F(p["Wmin"]), F(p["Wmax"])
    clipped = [0, 0]

    def update(old, new, upd):
        clipped[0] += np.count_nonzero(upd & (new < lo))
        clipped[1] += np.count_nonzero(upd & (new > hi))
        return np.where(upd, np.maximum(lo, np.minimum(hi, new)), old)

    for s in range(steps):
        # spike times are recorded in the neuron update of step s ...
        last_pre[pre_spk[s]] = s
        last_post[post_spk[s]] = s
        # ... and processed in the synapse update of step s + 1
        for i in np.nonzero(pre_spk[s])[0]:
            d = (s - last_post).astype(F)
            g[i] = update(g[i], g[i] - F(p["Aminus"]) * np.exp(-d / F(p["tauMinus"])), d > 0)
        for j in np.nonzero(post_spk[s])[0]:
            d = (s - last_pre).astype(F)
            g[:, j] = update(g[:, j], g[:, j] + F(p["Aplus"]) * np.exp(-d / F(p["tauPlus"])),
                             d > 0)
    return g, clipped


def test_stdp_dense_matches_reference():
    rng = np.random.default_rng(21)
    n_pre, n_post, steps, batch = 6, 5, 120, 2
    pre_trains = random_trains(rng, batch, n_pre, steps - 1, 12)
    post_trains = random_trains(rng, batch, n_post, steps - 1, 12)
    g0 = rng.choice([0.05, 0.4, 0.75], size=(n_pre, n_post)).astype(F)
    model = GeNNModel("float", "builtin_stdp")
    model.dt = 1.0
    model.batch_size = batch
    pre = spike_source(model, "Pre", pre_trains)
    post = spike_source(model, "Post", post_trains)
    syn = model.add_synapse_population(
        "S", "DENSE", pre, post, init_weight_update("STDP", STDP_PARS, {"g": g0.ravel()}),
        init_postsynaptic("DeltaCurr"))
    # the rule on one pair, by hand: pre at 10, post at 13 (+ Aplus e^(-3/tauPlus)),
    # pre at 20 (- Aminus e^(-7/tauMinus)), pre and post together at 30 (nothing)
    one_pre = spike_source(model, "OnePre", [[[10, 20, 30]]] * batch)
    one_post = spike_source(model, "OnePost", [[[13, 30]]] * batch)
    one = model.add_synapse_population(
        "One", "DENSE", one_pre, one_post,
        init_weight_update("STDP", STDP_PARS, {"g": 0.4}), init_postsynaptic("DeltaCurr"))
    model.build()
    model.load()
    model.run(steps + 1)

    got = syn.vars["g"].view.reshape(batch, n_pre, n_post)
    pre_spk, post_spk = spike_matrix(pre_trains, steps), spike_matrix(post_trains, steps)
    for b in range(batch):
        ref, clipped = stdp_reference(g0, pre_spk[b], post_spk[b], STDP_PARS)
        np.testing.assert_allclose(got[b], ref, rtol=1e-6, atol=1e-7)
        assert (ref != g0).mean() > 0.9
        assert min(clipped) > 0, clipped         # both bounds were hit
    assert not np.array_equal(got[0], got[1])
    p = STDP_PARS
    expected = 0.4 + p["Aplus"] * np.exp(-3 / p["tauPlus"]) - p["Aminus"] * np.exp(-7 / p["tauMinus"])
    np.testing.assert_allclose(one.vars["g"].view, expected, rtol=1e-6)


# ---------------------------------------------------------------------------
# PoissonExp
# ---------------------------------------------------------------------------
def _poisson_exp_derived(weight, tau, rate, dt):
    decay = np.exp(-dt / tau)
    return F(decay), F(weight * (1.0 - decay) * (tau / dt))


# Recovers each step's number of input spikes k from the injected current:
# I_n = I_(n-1) * ExpDecay + Init * k_n, and histograms k.
POISSON_COUNTER = create_neuron_model(
    "PoissonCounter", params=["ED", "Init"],
    vars=[("prevI", "scalar"), ("maxErr", "scalar"), ("H0", "scalar"), ("H1", "scalar"),
          ("H2", "scalar"), ("H3", "scalar"), ("H4", "scalar"), ("H5", "scalar"),
          ("H6", "scalar")],
    sim_code="""
        const scalar kf = (Isyn - (prevI * ED)) / Init;
        const scalar k = rint(kf);
        maxErr = fmax(maxErr, fabs(kf - k));
        if (k == 0.0) { H0 += 1.0; }
        else if (k == 1.0) { H1 += 1.0; }
        else if (k == 2.0) { H2 += 1.0; }
        else if (k == 3.0) { H3 += 1.0; }
        else if (k == 4.0) { H4 += 1.0; }
        else if (k == 5.0) { H5 += 1.0; }
        else { H6 += 1.0; }
        prevI = Isyn;
        """)


def test_poisson_exp_counts_and_current():
    n, steps, dt = 2000, 250, 0.5
    cases = [(0.7, 2.0, 400.0), (-1.5, 5.0, 2000.0)]     # (weight, tauSyn, rate Hz)
    model = GeNNModel("float", "builtin_poisson_exp")
    model.dt = dt
    model.seed = 424242
    pops, sources = [], []
    for k, (w, tau, rate) in enumerate(cases):
        ed, init = _poisson_exp_derived(w, tau, rate, dt)
        pop = model.add_neuron_population(
            f"C{k}", n, POISSON_COUNTER, {"ED": float(ed), "Init": float(init)},
            {v: 0.0 for v in ("prevI", "maxErr", "H0", "H1", "H2", "H3", "H4", "H5", "H6")})
        sources.append(model.add_current_source(f"P{k}", "PoissonExp", pop,
                                                {"weight": w, "tauSyn": tau, "rate": rate},
                                                {"current": 0.0}))
        pops.append(pop)
    model.build()
    model.load()
    model.run(steps)

    for (w, tau, rate), pop, cs in zip(cases, pops, sources):
        ed, _ = _poisson_exp_derived(w, tau, rate, dt)
        # the current is exactly "previous current * ExpDecay + Init * integer"
        assert pop.vars["maxErr"].view.max() < 1e-2
        # the current variable holds the last injected current, decayed
        np.testing.assert_array_equal(cs.vars["current"].view, pop.vars["prevI"].view * ed)
        hist = np.array([pop.vars[f"H{k}"].view.sum() for k in range(7)])
        assert hist.sum() == n * steps
        lam = rate * dt / 1000.0
        pmf = stats.poisson.pmf(np.arange(6), lam)
        expected = n * steps * np.append(pmf, 1.0 - pmf.sum())
        keep = expected >= 20                # pool the sparse tail into the last kept bin
        obs = np.append(hist[keep], hist[~keep].sum())
        exp_ = np.append(expected[keep], expected[~keep].sum())
        if exp_[-1] == 0:
            obs, exp_ = obs[:-1], exp_[:-1]
        chi2 = ((obs - exp_) ** 2 / exp_).sum()
        assert stats.chi2.sf(chi2, len(obs) - 1) > 1e-4, (rate, obs, exp_)
