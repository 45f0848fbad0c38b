"""Engine vs. analytic solutions and statistical bounds.

(a) LIF first-spike time and inter-spike interval under constant drive;
(b) post-synaptic current shapes and latencies (ExpCurr, DeltaCurr, axonal
    and dendritic delays) from a SpikeSourceArray;
(c) Poisson firing rate;
(d) moments of the random variable-initialisation snippets;
(e) random connectivity snippets (counts, no autapses, fixed row length);
(f) convolutions (TOEPLITZ Conv2D / AvgPoolConv2D, SPARSE and
    PROCEDURAL_KERNELG Conv2D with kernel weights) vs. a NumPy convolution;
(g) custom-update reductions vs. NumPy.

Every random test runs with a fixed seed, so it is deterministic; the bounds
are wide enough (>= 99.9 %) that a correct engine passes for any seed.
"""
import numpy as np
import pytest
from scipy import stats

from ml_genn.genn import (CustomUpdateVarAccess, GeNNModel, VarAccess,
                          VarAccessMode, create_custom_update_model,
                          create_neuron_model, create_var_ref, init_postsynaptic,
                          init_sparse_connectivity, init_toeplitz_connectivity,
                          init_var, init_weight_update)

from reference_sim import LIFPop, conv2d, simulate, sum_pool2d

# ---------------------------------------------------------------------------
# small custom models
# ---------------------------------------------------------------------------
# records its input current, never spikes
RECORDER = create_neuron_model("Recorder", vars=[("I", "scalar")],
                               sim_code="I = Isyn;")
# integrates its input, never spikes
INTEGRATOR = create_neuron_model("Integrator", vars=[("V", "scalar")],
                                 sim_code="V += Isyn;")
# spikes once, in step 0, if x is 1
ONE_SHOT = create_neuron_model("OneShot", vars=[("x", "scalar")],
                               threshold_condition_code="x > 0.5",
                               reset_code="x = 0.0;")
# no dynamics: a holder for variables
IDLE = create_neuron_model("Idle", vars=[("V", "scalar")])


def _spikes(pop, b=0):
    data = pop.spike_recording_data
    if len(data) == 2 and isinstance(data[0], np.ndarray):
        data = [data]
    times, ids = data[b]
    return np.asarray(times, dtype=np.float64), np.asarray(ids, dtype=np.int64)


def _view(var, shape=None):
    var.pull_from_device()
    v = np.array(var.view, copy=True)
    return v if shape is None else v.reshape(shape)


# ---------------------------------------------------------------------------
# (a) LIF first-spike time
# ---------------------------------------------------------------------------
def test_lif_first_spike_time_and_isi():
    dt = 0.1
    n_steps = 1500
    lif = {"C": 1.0, "TauM": 20.0, "Vrest": -65.0, "Vreset": -65.0,
           "Vthresh": -50.0, "TauRefrac": 2.0}
    ioffsets = [0.7, 0.8, 1.0, 1.5, 3.0]
    model = GeNNModel("float", "analytic_lif")
    model.dt = dt
    pops = []
    for k, i_off in enumerate(ioffsets):
        # several populations differing only in Ioffset (merging candidates)
        p = model.add_neuron_population(f"L{k}", 1, "LIF",
                                        dict(lif, Ioffset=i_off),
                                        {"V": -65.0, "RefracTime": 0.0})
        p.spike_recording_enabled = True
        pops.append(p)
    model.build()
    model.load(num_recording_timesteps=n_steps)
    model.run(n_steps)
    model.pull_recording_buffers_from_device()

    R = lif["TauM"] / lif["C"]
    for i_off, pop in zip(ioffsets, pops):
        times, ids = _spikes(pop)
        frac = (lif["Vthresh"] - lif["Vrest"]) / (i_off * R)
        if frac >= 1.0:
            assert len(times) == 0, f"Ioffset={i_off} is subthreshold"
            continue
        t_star = -lif["TauM"] * np.log(1.0 - frac)
        assert len(times) > 0, f"Ioffset={i_off}: no spike"
        assert np.all(ids == 0)
        # exponential Euler is exact for constant input: the spike is in the
        # step whose update crosses threshold, i.e. recorded t in [t*-dt, t*)
        assert t_star - dt - 1e-3 <= times[0] <= t_star + 1e-3, \
            (i_off, times[0], t_star)
        # refractory period (TauRefrac/dt steps, +1 for float rounding of
        # RefracTime -= dt) then the same charging time again
        isi = np.diff(times)
        lo = lif["TauRefrac"] + t_star - dt - 1e-3
        hi = lif["TauRefrac"] + t_star + 2 * dt + 1e-3
        assert np.all((isi >= lo) & (isi <= hi)), (i_off, isi, lo, hi)

        # and spike-for-spike equal to the float32 reference
        ref = simulate({"L": LIFPop(1, Ioffset=i_off, **lif)}, [], n_steps, dt)
        np.testing.assert_array_equal(np.rint(times / dt).astype(np.int64),
                                      ref.spikes["L"][0][0])


# ---------------------------------------------------------------------------
# (b) postsynaptic currents and delays
# ---------------------------------------------------------------------------
def test_psc_shapes_and_delays():
    dt = 1.0
    n_steps = 20
    tau = 4.0
    w_exp = 2.0
    model = GeNNModel("float", "analytic_psc")
    model.dt = dt
    src = model.add_neuron_population(
        "Src", 2, "SpikeSourceArray", {},
        {"startSpike": np.array([0, 1], dtype=np.uint32),
         "endSpike": np.array([1, 3], dtype=np.uint32)})
    # neuron 0 spikes at t=2, neuron 1 at t=4 and t=7
    src.extra_global_params["spikeTimes"].set_init_values(
        np.array([2.0, 4.0, 7.0], dtype=np.float32))
    src.spike_recording_enabled = True
    rec = {k: model.add_neuron_population(k, 1, RECORDER, {}, {"I": 0.0})
           for k in ("Exp", "Delta", "Axon", "Dend")}
    model.add_synapse_population(
        "SExp", "DENSE", src, rec["Exp"],
        init_weight_update("StaticPulse", {}, {"g": np.array([w_exp, 0.0])}),
        init_postsynaptic("ExpCurr", {"tau": tau}))
    model.add_synapse_population(
        "SDelta", "DENSE", src, rec["Delta"],
        init_weight_update("StaticPulse", {}, {"g": np.array([3.0, 0.5])}),
        init_postsynaptic("DeltaCurr"))
    s_axon = model.add_synapse_population(
        "SAxon", "DENSE", src, rec["Axon"],
        init_weight_update("StaticPulse", {}, {"g": np.array([1.0, 0.0])}),
        init_postsynaptic("DeltaCurr"))
    s_axon.axonal_delay_steps = 3
    s_dend = model.add_synapse_population(
        "SDend", "SPARSE", src, rec["Dend"],
        init_weight_update("StaticPulseDendriticDelay", {},
                           {"g": np.array([1.5, 0.25]),
                            "d": np.array([3, 0], dtype=np.uint8)}),
        init_postsynaptic("DeltaCurr"))
    s_dend.set_sparse_connections(np.array([0, 1]), np.array([0, 0]))
    s_dend.max_dendritic_delay_timesteps = 4
    s_dend.axonal_delay_steps = 1
    model.build()
    model.load(num_recording_timesteps=n_steps)

    trace = {k: np.zeros(n_steps, dtype=np.float32) for k in rec}
    for n in range(n_steps):
        assert model.timestep == n
        model.step_time()
        for k, p in rec.items():
            trace[k][n] = _view(p.vars["I"]).ravel()[0]
    assert model.timestep == n_steps
    assert model.t == pytest.approx(n_steps * dt)

    model.pull_recording_buffers_from_device()
    times, ids = _spikes(src)
    np.testing.assert_allclose(times, [2.0, 4.0, 7.0])
    np.testing.assert_array_equal(ids, [0, 1, 1])

    # DeltaCurr: spike at step s reaches Isyn at step s+1
    exp_delta = np.zeros(n_steps, np.float32)
    exp_delta[3], exp_delta[5], exp_delta[8] = 3.0, 0.5, 0.5
    np.testing.assert_array_equal(trace["Delta"], exp_delta)
    # axonal delay 3: step s+1+3
    exp_axon = np.zeros(n_steps, np.float32)
    exp_axon[6] = 1.0
    np.testing.assert_array_equal(trace["Axon"], exp_axon)
    # axonal delay 1 + dendritic delay d: step s+1+1+d
    exp_dend = np.zeros(n_steps, np.float32)
    exp_dend[2 + 2 + 3] = 1.5      # neuron 0 at t=2, d=3
    exp_dend[4 + 2] = 0.25         # neuron 1 at t=4, d=0
    exp_dend[7 + 2] = 0.25         # neuron 1 at t=7, d=0
    np.testing.assert_array_equal(trace["Dend"], exp_dend)

    # ExpCurr: Isyn(3 + k) = init * w * expDecay^k
    decay = np.exp(-dt / tau)
    init = tau * (1.0 - decay) / dt
    k = np.arange(n_steps - 3)
    np.testing.assert_array_equal(trace["Exp"][:3], 0.0)
    np.testing.assert_allclose(trace["Exp"][3:], init * w_exp * decay ** k,
                               rtol=2e-6)
    # ... and exactly the float32 recurrence inSyn *= expDecay
    in_syn = np.float32(w_exp)
    expect = []
    for _ in k:
        expect.append(np.float32(init) * in_syn)
        in_syn = in_syn * np.float32(decay)
    np.testing.assert_array_equal(trace["Exp"][3:], np.array(expect, np.float32))


# ---------------------------------------------------------------------------
# (c) Poisson rate
# ---------------------------------------------------------------------------
def test_poisson_rate():
    n, rate, dt, n_steps, batch = 1000, 20.0, 1.0, 1000, 2
    model = GeNNModel("float", "analytic_poisson")
    model.dt = dt
    model.batch_size = batch
    model.seed = 2468
    pop = model.add_neuron_population("P", n, "Poisson", {"rate": rate},
                                      {"timeStepToSpike": 0.0})
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=n_steps)
    model.run(n_steps)
    model.pull_recording_buffers_from_device()

    expected = n * rate * n_steps * dt / 1000.0
    z = stats.norm.ppf(0.9995)      # two-sided 99.9 %
    per_batch_ids = []
    for b in range(batch):
        times, ids = _spikes(pop, b)
        assert len(times) == len(ids)
        assert np.all((ids >= 0) & (ids < n))
        # at most one spike per neuron per step
        steps = np.rint(times / dt).astype(np.int64)
        assert len(np.unique(steps * n + ids)) == len(ids)
        count = len(ids)
        assert abs(count - expected) <= z * np.sqrt(expected), (b, count, expected)
        counts = np.bincount(ids, minlength=n)
        fano = counts.var(ddof=1) / counts.mean()
        assert 0.75 < fano < 1.25, fano
        per_batch_ids.append((steps, ids))
    # batch elements are independent realisations
    assert not (np.array_equal(per_batch_ids[0][0], per_batch_ids[1][0])
                and np.array_equal(per_batch_ids[0][1], per_batch_ids[1][1]))


# ---------------------------------------------------------------------------
# (d) var-init moments
# ---------------------------------------------------------------------------
def test_var_init_moments():
    n, batch = 60000, 2
    holder = create_neuron_model(
        "InitHolder",
        vars=[("U", "scalar"), ("U2", "scalar"), ("N", "scalar"),
              ("E", "scalar"), ("NC", "scalar"), ("K", "scalar"),
              ("UR", "scalar", VarAccess.READ_ONLY)])
    model = GeNNModel("float", "analytic_varinit")
    model.dt = 1.0
    model.batch_size = batch
    model.seed = 97531
    pop = model.add_neuron_population("H", n, holder, {}, {
        "U": init_var("Uniform", {"min": -2.0, "max": 3.0}),
        "U2": init_var("Uniform", {"min": -2.0, "max": 3.0}),
        "N": init_var("Normal", {"mean": 1.5, "sd": 0.5}),
        "E": init_var("Exponential", {"lambda": 2.0}),
        "NC": init_var("NormalClipped", {"mean": 0.0, "sd": 1.0,
                                         "min": -1.0, "max": 1.5}),
        "K": init_var("Constant", {"constant": 4.25}),
        "UR": init_var("Uniform", {"min": 0.0, "max": 1.0})})
    model.build()
    model.load()
    z = 4.0

    def check(x, mean, var, mu4, label):
        m = x.size
        assert abs(x.mean() - mean) <= z * np.sqrt(var / m), (label, x.mean(), mean)
        # sd of the sample variance ~ sqrt((mu4 - var^2) / m)
        assert abs(x.var() - var) <= z * np.sqrt((mu4 - var ** 2) / m), \
            (label, x.var(), var)

    U = _view(pop.vars["U"], (batch, n)).astype(np.float64)
    U2 = _view(pop.vars["U2"], (batch, n)).astype(np.float64)
    N = _view(pop.vars["N"], (batch, n)).astype(np.float64)
    E = _view(pop.vars["E"], (batch, n)).astype(np.float64)
    NC = _view(pop.vars["NC"], (batch, n)).astype(np.float64)
    K = _view(pop.vars["K"], (batch, n))
    UR = np.asarray(_view(pop.vars["UR"]), dtype=np.float64)
    assert UR.size == n, "READ_ONLY var must not be duplicated per batch"

    width = 5.0
    assert U.min() >= -2.0 and U.max() <= 3.0
    check(U, 0.5, width ** 2 / 12, width ** 4 / 80, "Uniform")
    check(U2, 0.5, width ** 2 / 12, width ** 4 / 80, "Uniform2")
    check(UR, 0.5, 1 / 12, 1 / 80, "Uniform read-only")
    check(N, 1.5, 0.25, 3 * 0.25 ** 2, "Normal")
    # GeNN's Exponential snippet is ``value = lambda * gennrand_exponential()``
    # (its docs call lambda a rate, but the code scales by it): mean lambda
    check(E, 2.0, 2.0 ** 2, 9 * 2.0 ** 4, "Exponential")
    assert E.min() >= 0.0
    assert NC.min() >= -1.0 and NC.max() <= 1.5
    tn = stats.truncnorm(-1.0, 1.5)
    check(NC, tn.mean(), tn.var(), tn.moment(4) - 4 * tn.mean() * tn.moment(3)
          + 6 * tn.mean() ** 2 * tn.moment(2) - 3 * tn.mean() ** 4, "NormalClipped")
    np.testing.assert_array_equal(K, np.float32(4.25))

    # independence: different vars and different batch elements
    lim = z / np.sqrt(n)
    assert abs(np.corrcoef(U.ravel(), U2.ravel())[0, 1]) < lim
    assert abs(np.corrcoef(U.ravel(), N.ravel())[0, 1]) < lim
    assert abs(np.corrcoef(U[0], U[1])[0, 1]) < lim
    assert abs(np.corrcoef(N[0], N[1])[0, 1]) < lim


# ---------------------------------------------------------------------------
# (e) connectivity snippets
# ---------------------------------------------------------------------------
def test_random_connectivity():
    n_p, n_q, n_s = 500, 800, 600
    p_fp, p_na, num = 0.05, 0.1, 12
    model = GeNNModel("float", "analytic_connect")
    model.dt = 1.0
    model.seed = 1357
    P = model.add_neuron_population("P", n_p, IDLE, {}, {"V": 0.0})
    Q = model.add_neuron_population("Q", n_q, IDLE, {}, {"V": 0.0})
    S = model.add_neuron_population("S", n_s, IDLE, {}, {"V": 0.0})

    def add(name, pre, post, snippet, params):
        return model.add_synapse_population(
            name, "SPARSE", pre, post,
            init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
            init_postsynaptic("DeltaCurr"),
            init_sparse_connectivity(snippet, params))

    fp = add("FP", P, Q, "FixedProbability", {"prob": p_fp})
    na = add("NA", S, S, "FixedProbabilityNoAutapse", {"prob": p_na})
    fn = add("FN", P, Q, "FixedNumberPostWithReplacement", {"num": num})
    oo = add("OO", Q, Q, "OneToOne", {})
    model.build()
    model.load()

    def inds(sg):
        return (np.asarray(sg.get_sparse_pre_inds(), dtype=np.int64),
                np.asarray(sg.get_sparse_post_inds(), dtype=np.int64))

    # FixedProbability: binomial total, no duplicate pairs, in range
    pre, post = inds(fp)
    total = n_p * n_q
    lo, hi = stats.binom.ppf([0.0005, 0.9995], total, p_fp)
    assert lo <= len(pre) <= hi, (len(pre), lo, hi)
    assert pre.min() >= 0 and pre.max() < n_p
    assert post.min() >= 0 and post.max() < n_q
    assert len(np.unique(pre * n_q + post)) == len(pre)
    # row lengths ~ Binomial(n_q, p): check their spread
    rows = np.bincount(pre, minlength=n_p)
    var_expected = n_q * p_fp * (1 - p_fp)
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n_p - 1) / (n_p - 1)
    assert lo * var_expected <= rows.var(ddof=1) <= hi * var_expected * 1.05
    # and targets cover the post population roughly uniformly
    cols = np.bincount(post, minlength=n_q)
    chi2 = ((cols - cols.mean()) ** 2 / cols.mean()).sum()
    assert chi2 <= stats.chi2.ppf(0.999, n_q - 1) * 1.05

    # FixedProbabilityNoAutapse
    pre, post = inds(na)
    total = n_s * (n_s - 1)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], total, p_na)
    assert lo <= len(pre) <= hi, (len(pre), lo, hi)
    assert not np.any(pre == post)
    assert len(np.unique(pre * n_s + post)) == len(pre)

    # FixedNumberPostWithReplacement: exactly num per row
    pre, post = inds(fn)
    np.testing.assert_array_equal(np.bincount(pre, minlength=n_p), num)
    assert post.min() >= 0 and post.max() < n_q

    # OneToOne
    pre, post = inds(oo)
    order = np.argsort(pre)
    np.testing.assert_array_equal(pre[order], np.arange(n_q))
    np.testing.assert_array_equal(post[order], np.arange(n_q))


# ---------------------------------------------------------------------------
# (f) convolutions
# ---------------------------------------------------------------------------
def _conv_model(name, batch):
    model = GeNNModel("float", name)
    model.dt = 1.0
    model.batch_size = batch
    model.seed = 5
    return model


def _run_conv_model(model, cases, batch):
    """cases: list of (src_pop, dst_pop, x (batch, ih, iw, ic), expected
    (batch, oh, ow, oc)). Sources spike at step 0; the integrator holds the
    summed input after step 1."""
    model.build()
    model.load()
    for _ in range(3):
        model.step_time()
    for label, dst, expected in cases:
        n_out = int(np.prod(expected.shape[1:]))
        got = _view(dst.vars["V"], (batch, n_out))
        np.testing.assert_array_equal(
            got, expected.reshape(batch, n_out).astype(np.float32), err_msg=label)


def _spike_input(rng, batch, shape):
    x = (rng.random((batch,) + shape) < 0.4).astype(np.float32)
    return x


def _kernel(rng, kh, kw, ic, oc):
    return (rng.integers(-4, 5, (kh, kw, ic, oc)) / 2.0).astype(np.float32)


def _add_src_dst(model, label, x, n_out, batch):
    n_in = int(np.prod(x.shape[1:]))
    xi = x.reshape(batch, n_in)
    src = model.add_neuron_population(f"Src{label}", n_in, ONE_SHOT, {},
                                      {"x": xi[0] if batch == 1 else xi})
    dst = model.add_neuron_population(f"Dst{label}", n_out, INTEGRATOR, {},
                                      {"V": 0.0})
    return src, dst


TOEPLITZ_CONV = [  # ih, iw, ic, kh, kw, oc, padding
    (6, 6, 1, 3, 3, 2, "valid"),
    (5, 7, 2, 3, 3, 3, "same"),
    (6, 5, 3, 3, 2, 2, "valid"),
    (4, 4, 3, 1, 1, 2, "same"),
    (7, 6, 2, 5, 3, 1, "same"),
]


def test_toeplitz_conv2d():
    batch = 2
    rng = np.random.default_rng(11)
    model = _conv_model("analytic_toeplitz_conv", batch)
    cases = []
    for c, (ih, iw, ic, kh, kw, oc, padding) in enumerate(TOEPLITZ_CONV):
        oh, ow = (ih - kh + 1, iw - kw + 1) if padding == "valid" else (ih, iw)
        ph, pw = (oh - ih + kh - 1) // 2, (ow - iw + kw - 1) // 2
        x = _spike_input(rng, batch, (ih, iw, ic))
        K = _kernel(rng, kh, kw, ic, oc)
        src, dst = _add_src_dst(model, c, x, oh * ow * oc, batch)
        model.add_synapse_population(
            f"Conv{c}", "TOEPLITZ", src, dst,
            init_weight_update("StaticPulse", {}, {"g": K.flatten()}),
            init_postsynaptic("DeltaCurr"),
            init_toeplitz_connectivity("Conv2D", {
                "conv_kh": kh, "conv_kw": kw, "conv_ih": ih, "conv_iw": iw,
                "conv_ic": ic, "conv_oh": oh, "conv_ow": ow, "conv_oc": oc}))
        expected = np.stack([conv2d(x[b], K, (oh, ow), (1, 1), (ph, pw))
                             for b in range(batch)])
        cases.append((f"Conv2D case {c}", dst, expected))
    _run_conv_model(model, cases, batch)


TOEPLITZ_AVGPOOL = [  # ih, iw, ic, pool_k, pool_s, kh, kw, oc, padding
    (8, 8, 1, 2, 2, 3, 3, 2, "valid"),
    (8, 6, 2, 2, 2, 3, 3, 3, "same"),
    (6, 6, 3, 3, 3, 1, 1, 2, "valid"),
    (6, 8, 2, 2, 2, 3, 1, 2, "same"),
]


def test_toeplitz_avg_pool_conv2d():
    """AvgPoolConv2D folds a (non-overlapping) pooling into the convolution;
    the snippet only selects kernel entries, so the 1/(pool_kh*pool_kw)
    scale is the user's business (mlGeNN divides the weights): with the raw
    kernel as ``g`` the result is conv2d(sum_pool(x), K)."""
    batch = 2
    rng = np.random.default_rng(12)
    model = _conv_model("analytic_toeplitz_avgpool", batch)
    cases = []
    for c, (ih, iw, ic, pk, ps, kh, kw, oc, padding) in enumerate(TOEPLITZ_AVGPOOL):
        x = _spike_input(rng, batch, (ih, iw, ic))
        pooled = [sum_pool2d(x[b], (pk, pk), (ps, ps)) for b in range(batch)]
        pih, piw = pooled[0].shape[:2]
        oh, ow = (pih - kh + 1, piw - kw + 1) if padding == "valid" else (pih, piw)
        ph, pw = (oh - pih + kh - 1) // 2, (ow - piw + kw - 1) // 2
        K = _kernel(rng, kh, kw, ic, oc)
        src, dst = _add_src_dst(model, c, x, oh * ow * oc, batch)
        model.add_synapse_population(
            f"Pool{c}", "TOEPLITZ", src, dst,
            init_weight_update("StaticPulse", {}, {"g": K.flatten()}),
            init_postsynaptic("DeltaCurr"),
            init_toeplitz_connectivity("AvgPoolConv2D", {
                "conv_kh": kh, "conv_kw": kw, "pool_kh": pk, "pool_kw": pk,
                "pool_sh": ps, "pool_sw": ps, "pool_ih": ih, "pool_iw": iw,
                "pool_ic": ic, "conv_oh": oh, "conv_ow": ow, "conv_oc": oc}))
        expected = np.stack([conv2d(pooled[b], K, (oh, ow), (1, 1), (ph, pw))
                             for b in range(batch)])
        cases.append((f"AvgPoolConv2D case {c}", dst, expected))
    _run_conv_model(model, cases, batch)


SPARSE_CONV = [  # ih, iw, ic, kh, kw, oc, (sh, sw), (ph, pw), (oh, ow)
    (6, 6, 2, 3, 3, 2, (1, 1), (0, 0), (4, 4)),
    (7, 7, 1, 3, 3, 2, (2, 2), (1, 1), (4, 4)),
    (6, 5, 3, 2, 3, 2, (2, 1), (0, 1), (3, 5)),
    (5, 7, 2, 3, 3, 3, (1, 1), (1, 1), (5, 7)),
]


def _conv2d_sparse_params(ih, iw, ic, kh, kw, oc, s, p, o):
    return {"conv_kh": kh, "conv_kw": kw, "conv_sh": s[0], "conv_sw": s[1],
            "conv_padh": p[0], "conv_padw": p[1], "conv_ih": ih,
            "conv_iw": iw, "conv_ic": ic, "conv_oh": o[0], "conv_ow": o[1],
            "conv_oc": oc}


def test_sparse_conv2d_kernel_init():
    """SPARSE ``Conv2D`` connectivity with per-synapse weights initialised
    from the kernel through the ``Kernel`` var-init snippet."""
    batch = 2
    rng = np.random.default_rng(13)
    model = _conv_model("analytic_sparse_conv", batch)
    cases = []
    for c, (ih, iw, ic, kh, kw, oc, s, p, o) in enumerate(SPARSE_CONV):
        x = _spike_input(rng, batch, (ih, iw, ic))
        K = _kernel(rng, kh, kw, ic, oc)
        src, dst = _add_src_dst(model, c, x, o[0] * o[1] * oc, batch)
        sg = model.add_synapse_population(
            f"SConv{c}", "SPARSE", src, dst,
            init_weight_update("StaticPulse", {}, {"g": init_var("Kernel")}),
            init_postsynaptic("DeltaCurr"),
            init_sparse_connectivity(
                "Conv2D", _conv2d_sparse_params(ih, iw, ic, kh, kw, oc, s, p, o)))
        sg.vars["g"].extra_global_params["kernel"].set_init_values(K.flatten())
        expected = np.stack([conv2d(x[b], K, o, s, p) for b in range(batch)])
        cases.append((f"sparse Conv2D case {c}", dst, expected))
    _run_conv_model(model, cases, batch)


def test_procedural_kernelg_conv2d():
    """PROCEDURAL_KERNELG: Conv2D connectivity regenerated on the fly with the
    kernel as shared weights (mlGeNN's choice for convolutions)."""
    batch = 2
    rng = np.random.default_rng(14)
    model = _conv_model("analytic_prockernel_conv", batch)
    cases = []
    for c, (ih, iw, ic, kh, kw, oc, s, p, o) in enumerate(SPARSE_CONV):
        x = _spike_input(rng, batch, (ih, iw, ic))
        K = _kernel(rng, kh, kw, ic, oc)
        src, dst = _add_src_dst(model, c, x, o[0] * o[1] * oc, batch)
        model.add_synapse_population(
            f"PConv{c}", "PROCEDURAL_KERNELG", src, dst,
            init_weight_update("StaticPulse", {}, {"g": K.flatten()}),
            init_postsynaptic("DeltaCurr"),
            init_sparse_connectivity(
                "Conv2D", _conv2d_sparse_params(ih, iw, ic, kh, kw, oc, s, p, o)))
        expected = np.stack([conv2d(x[b], K, o, s, p) for b in range(batch)])
        cases.append((f"procedural-kernel Conv2D case {c}", dst, expected))
    _run_conv_model(model, cases, batch)


# ---------------------------------------------------------------------------
# (g) custom-update reductions
# ---------------------------------------------------------------------------
def _reduction_values(rng, batch, n):
    v = rng.integers(-200, 60, (batch, n)) / 8.0
    v[2] = -np.abs(v[2]) - 1.0      # batch element with all-negative values
    v[:, 0] = -np.abs(v[:, 0]) - 0.5  # neuron with all-negative values
    return v.astype(np.float32)


def test_custom_update_reductions():
    batch, n = 4, 50
    rng = np.random.default_rng(21)
    model = GeNNModel("float", "analytic_reduce")
    model.dt = 1.0
    model.batch_size = batch
    pop = model.add_neuron_population("P", n, IDLE, {}, {"V": 0.0})

    def reduce_model(name, access):
        return create_custom_update_model(
            name, vars=[("R", "scalar", access)],
            var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)],
            update_code="R = X;")

    cus = {}
    for label, access in [("BSum", CustomUpdateVarAccess.REDUCE_BATCH_SUM),
                          ("BMax", CustomUpdateVarAccess.REDUCE_BATCH_MAX),
                          ("NSum", CustomUpdateVarAccess.REDUCE_NEURON_SUM),
                          ("NMax", CustomUpdateVarAccess.REDUCE_NEURON_MAX)]:
        cus[label] = model.add_custom_update(
            label, "Reduce", reduce_model(f"Red{label}", access), {},
            {"R": 0.0}, {"X": create_var_ref(pop, "V")})
    scale = create_custom_update_model(
        "Scale", vars=[("Y", "scalar")],
        var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)],
        update_code="Y = X * 2.0;")
    cus["Scale"] = model.add_custom_update(
        "Scale", "Reduce", scale, {}, {"Y": 0.0}, {"X": create_var_ref(pop, "V")})
    zero = create_custom_update_model(
        "Zero", var_refs=[("X", "scalar", VarAccessMode.READ_WRITE)],
        update_code="X = 0.0;")
    model.add_custom_update("Zero", "Zero", zero, {}, {},
                            {"X": create_var_ref(pop, "V")})
    model.build()
    model.load()

    for trial in range(2):   # reductions must not accumulate across calls
        v = _reduction_values(rng, batch, n)
        pop.vars["V"].view[:] = v
        pop.vars["V"].push_to_device()
        model.custom_update("Reduce")
        np.testing.assert_array_equal(
            _view(cus["BSum"].vars["R"]).ravel(), v.sum(axis=0))
        np.testing.assert_array_equal(
            _view(cus["BMax"].vars["R"]).ravel(), v.max(axis=0))
        np.testing.assert_array_equal(
            _view(cus["NSum"].vars["R"]).ravel(), v.sum(axis=1))
        np.testing.assert_array_equal(
            _view(cus["NMax"].vars["R"]).ravel(), v.max(axis=1))
        np.testing.assert_array_equal(
            _view(cus["Scale"].vars["Y"], (batch, n)), v * 2.0)

    model.custom_update("Zero")
    np.testing.assert_array_equal(_view(pop.vars["V"], (batch, n)), 0.0)


def test_custom_update_reduce_sum_var_ref():
    """A ``REDUCE_SUM`` var reference into a non-batched variable (the
    variable of an update attached to a read-only, shared neuron variable)
    sums the batch."""
    batch, n = 3, 40
    rng = np.random.default_rng(22)
    holder = create_neuron_model(
        "SharedHolder", vars=[("V", "scalar"),
                              ("S", "scalar", VarAccess.READ_ONLY)])
    model = GeNNModel("float", "analytic_reduce_ref")
    model.dt = 1.0
    model.batch_size = batch
    pop = model.add_neuron_population("P", n, holder, {}, {"V": 0.0, "S": 1.0})
    # attached to a shared (non-batched) var => its own var is non-batched
    acc_model = create_custom_update_model(
        "Acc", vars=[("A", "scalar")],
        var_refs=[("S", "scalar", VarAccessMode.READ_ONLY)],
        update_code="A = S;")
    acc = model.add_custom_update("Acc", "Init", acc_model, {}, {"A": 0.0},
                                  {"S": create_var_ref(pop, "S")})
    red_model = create_custom_update_model(
        "RedRef",
        var_refs=[("X", "scalar", VarAccessMode.READ_ONLY),
                  ("T", "scalar", VarAccessMode.REDUCE_SUM)],
        update_code="T = X;")
    model.add_custom_update("RedRef", "Reduce", red_model, {}, {},
                            {"X": create_var_ref(pop, "V"),
                             "T": create_var_ref(acc, "A")})
    model.build()
    model.load()
    a = _view(acc.vars["A"])
    assert a.size == n, "update on a shared var must not be batched"
    model.custom_update("Init")
    np.testing.assert_array_equal(_view(acc.vars["A"]).ravel(), 1.0)

    v = _reduction_values(rng, batch, n)
    pop.vars["V"].view[:] = v
    pop.vars["V"].push_to_device()
    model.custom_update("Reduce")
    np.testing.assert_array_equal(_view(acc.vars["A"]).ravel(), v.sum(axis=0))
