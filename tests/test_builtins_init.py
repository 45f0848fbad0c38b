"""Built-in variable initialisers and sparse connectivity snippets of GeNN 5.4
(NormalClippedDelay, Gamma, Binomial, Uninitialised,
FixedNumberTotalWithReplacement's row code, the connectivity Uninitialised),
the registries' pygenn-style access and the parameter constraints of the
built-ins added with them.

Distributions are checked with goodness-of-fit tests (Kolmogorov-Smirnov,
chi-square) at a fixed seed; with the sample sizes used, a correct sampler
fails with probability < 1e-4 per check at any seed, while a wrong
parameterisation (scale for rate, a missing / dt, an off-by-one) is
rejected by many orders of magnitude.
"""
import numpy as np
import pytest
from scipy import stats

from ml_genn.genn import (GeNNModel, ModelError, create_neuron_model,
                          create_sparse_connect_init_snippet, init_postsynaptic,
                          init_sparse_connectivity, init_toeplitz_connectivity, init_var,
                          init_weight_update)
from ml_genn.genn import builtins
from ml_genn.genn.builtins.connectivity_snippets import (FixedNumberTotalWithReplacement,
                                                         fixed_number_total_row_lengths)

P_MIN = 1e-4


def _chi2_discrete(samples, pmf_func, support_hi):
    """Chi-square goodness of fit of integer samples to a pmf, pooling
    values into bins with an expected count >= 20."""
    samples = np.asarray(samples, dtype=np.int64)
    m = samples.size
    ks = np.arange(support_hi + 1)
    pmf = pmf_func(ks)
    obs = np.bincount(samples, minlength=support_hi + 1)[:support_hi + 1]
    assert obs.sum() == m, "samples outside the support"
    bins_o, bins_e, acc_o, acc_e = [], [], 0, 0.0
    for o, e in zip(obs, pmf * m):
        acc_o += o
        acc_e += e
        if acc_e >= 20:
            bins_o.append(acc_o)
            bins_e.append(acc_e)
            acc_o, acc_e = 0, 0.0
    bins_o[-1] += acc_o
    bins_e[-1] += acc_e
    bins_o, bins_e = np.array(bins_o, float), np.array(bins_e)
    bins_e *= m / bins_e.sum()
    chi2 = ((bins_o - bins_e) ** 2 / bins_e).sum()
    return stats.chi2.sf(chi2, len(bins_o) - 1)


GAMMA_CASES = [(0.4, 2.0), (1.0, 1.0), (3.5, 0.5)]            # shape a, scale b
BINOMIAL_CASES = [(20, 0.3), (64, 0.9), (65, 0.5), (5000, 0.4), (1000000, 0.002),
                  (100000, 0.9999), (0, 0.5), (30, 0.0), (30, 1.0)]
DELAY = {"mean": 3.0, "sd": 1.5, "min": 0.5, "max": 6.0}      # ms; dt = 0.5


def test_gamma_binomial_normal_clipped_delay_distributions():
    n = 20000
    variables = {}
    for k, (a, b) in enumerate(GAMMA_CASES):
        variables[f"G{k}"] = ("scalar", init_var("Gamma", {"a": a, "b": b}))
    for k, (bn, bp) in enumerate(BINOMIAL_CASES):
        variables[f"B{k}"] = ("unsigned int", init_var("Binomial", {"n": bn, "p": bp}))
    variables["D"] = ("uint8_t", init_var("NormalClippedDelay", DELAY))
    variables["DS"] = ("scalar", init_var("NormalClippedDelay", DELAY))
    holder = create_neuron_model("InitHolder2", vars=[(k, t) for k, (t, _) in variables.items()])
    model = GeNNModel("float", "builtin_init_dists")
    model.dt = 0.5
    model.seed = 8642
    pop = model.add_neuron_population("H", n, holder, {},
                                      {k: v for k, (_, v) in variables.items()})
    model.build()
    model.load()

    for k, (a, b) in enumerate(GAMMA_CASES):
        x = np.asarray(pop.vars[f"G{k}"].view, dtype=np.float64)
        assert x.min() > 0.0
        p = stats.kstest(x, stats.gamma(a, scale=b).cdf).pvalue
        assert p > P_MIN, (a, b, p)
        # the scale, not the rate: mean a * b
        assert abs(x.mean() - a * b) < 5 * np.sqrt(a) * b / np.sqrt(n)

    for k, (bn, bp) in enumerate(BINOMIAL_CASES):
        x = np.asarray(pop.vars[f"B{k}"].view, dtype=np.int64)
        if bp in (0.0, 1.0) or bn == 0:
            np.testing.assert_array_equal(x, round(bn * bp))
            continue
        assert x.min() >= 0 and x.max() <= bn
        p = _chi2_discrete(x, lambda ks: stats.binom.pmf(ks, bn, bp), bn
                           if bn <= 5000 else int(x.max()))
        assert p > P_MIN, (bn, bp, p)
        mean, sd = bn * bp, np.sqrt(bn * bp * (1 - bp))
        assert abs(x.mean() - mean) < 5 * sd / np.sqrt(n), (bn, bp, x.mean())

    # NormalClippedDelay: rint(N(mean/dt, sd/dt) clipped to [min/dt, max/dt]) steps
    lo, hi, mu, sd = (DELAY[k] / 0.5 for k in ("min", "max", "mean", "sd"))
    tn = stats.truncnorm((lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd)

    def pmf(ks):
        return np.clip(tn.cdf(ks + 0.5) - tn.cdf(ks - 0.5), 0.0, None)
    d = np.asarray(pop.vars["D"].view, dtype=np.int64)
    ds = np.asarray(pop.vars["DS"].view, dtype=np.float64)
    assert d.min() >= lo and d.max() <= hi
    np.testing.assert_array_equal(ds, np.rint(ds))     # whole steps
    assert _chi2_discrete(d, pmf, int(hi)) > P_MIN
    assert _chi2_discrete(ds, pmf, int(hi)) > P_MIN


UNINIT_MODEL = create_neuron_model("Bump", vars=[("V", "scalar")], sim_code="V += 1.0;")


def test_uninitialised_variable_and_connectivity():
    model = GeNNModel("float", "builtin_uninit")
    model.dt = 1.0
    pop = model.add_neuron_population("P", 5, UNINIT_MODEL, {},
                                      {"V": init_var("Uninitialised")})
    src = model.add_neuron_population(
        "Src", 4, create_neuron_model("Always", threshold_condition_code="true"), {}, {})
    acc = model.add_neuron_population(
        "Acc", 3, create_neuron_model("Acc", vars=[("A", "scalar")], sim_code="A += Isyn;"),
        {}, {"A": 0.0})
    syn = model.add_synapse_population(
        "S", "SPARSE", src, acc, init_weight_update("StaticPulse", {}, {"g": 1.0}),
        init_postsynaptic("DeltaCurr"), init_sparse_connectivity("Uninitialised"))
    pre, post = np.array([0, 0, 1, 3, 3, 3]), np.array([0, 2, 2, 0, 1, 2])
    syn.set_sparse_connections(pre, post)
    model.build()
    model.load()
    np.testing.assert_array_equal(pop.vars["V"].view, 0.0)     # documented: zero here
    pop.vars["V"].view[:] = np.arange(5)
    pop.vars["V"].push_to_device()
    model.run(3)                 # the sources spike every step, delivered from step 1
    np.testing.assert_array_equal(pop.vars["V"].view, np.arange(5) + 3)
    np.testing.assert_array_equal(acc.vars["A"].view, 2 * np.bincount(post, minlength=3))
    order = np.lexsort((syn.get_sparse_post_inds(), syn.get_sparse_pre_inds()))
    np.testing.assert_array_equal(np.asarray(syn.get_sparse_pre_inds())[order], pre)
    np.testing.assert_array_equal(np.asarray(syn.get_sparse_post_inds())[order], post)


def _two_pops(name):
    model = GeNNModel("float", name)
    model.dt = 1.0
    idle = create_neuron_model("Idle2", vars=[("V", "scalar")])
    a = model.add_neuron_population("A", 50, idle, {}, {"V": 0.0})
    b = model.add_neuron_population("B", 40, idle, {}, {"V": 0.0})
    return model, a, b


def test_uninitialised_connectivity_needs_user_connections():
    model, a, b = _two_pops("builtin_uninit_conn_err")
    model.add_synapse_population(
        "S", "SPARSE", a, b, init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
        init_postsynaptic("DeltaCurr"), init_sparse_connectivity("Uninitialised"))
    with pytest.raises(ModelError, match="set_sparse_connections"):
        model.build()


def test_fixed_number_pre_with_replacement_builds_by_columns():
    """Each postsynaptic neuron draws `num` presynaptic partners uniformly
    with replacement (col_build_code): columns of exactly `num` synapses,
    partners uniform, rows sorted by postsynaptic index."""
    num_pre, num_post, num = 64, 400, 30
    model = GeNNModel("float", "builtin_fixed_pre")
    model.seed = 9
    idle = create_neuron_model("Idle5", vars=[("V", "scalar")])
    a = model.add_neuron_population("A", num_pre, idle, {}, {"V": 0.0})
    b = model.add_neuron_population("B", num_post, idle, {}, {"V": 0.0})
    syn = model.add_synapse_population(
        "S", "SPARSE", a, b, init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
        init_postsynaptic("DeltaCurr"),
        init_sparse_connectivity("FixedNumberPreWithReplacement", {"num": num}))
    model.build()
    model.load()
    pre = np.asarray(syn.get_sparse_pre_inds(), dtype=np.int64)
    post = np.asarray(syn.get_sparse_post_inds(), dtype=np.int64)
    np.testing.assert_array_equal(np.bincount(post, minlength=num_post), num)
    assert stats.chisquare(np.bincount(pre, minlength=num_pre)).pvalue > P_MIN
    # with replacement: repeated partners in a column as often as chance says
    # (P(no repeat among num draws of num_pre) per column)
    repeats = sum(len(np.unique(pre[post == j])) < num for j in range(num_post))
    p_none = np.prod(1.0 - np.arange(num) / num_pre)
    assert stats.binomtest(repeats, num_post, 1.0 - p_none).pvalue > P_MIN
    order = np.argsort(pre, kind="stable")
    lengths = np.bincount(pre, minlength=num_pre)
    starts = np.cumsum(lengths) - lengths
    assert all(np.all(np.diff(post[order][s:s + n]) >= 0) for s, n in zip(starts, lengths))


def test_fixed_number_total_row_lengths_and_row_code():
    """The two halves of FixedNumberTotalWithReplacement: the host draw of
    the row lengths and the row code (fed here with a fixed row length
    through a parameter)."""
    rng = np.random.default_rng(17)
    num_pre, num_post, total = 300, 200, 30000
    lengths = fixed_number_total_row_lengths(num_pre, num_post, {"num": total},
                                             rng)["preCalcRowLength"]
    assert lengths.sum() == total and lengths.shape == (num_pre,)
    # Multinomial(total, 1/num_pre): each row Binomial(total, 1/num_pre)
    p = _chi2_discrete(lengths, lambda ks: stats.binom.pmf(ks, total, 1 / num_pre),
                       int(lengths.max()))
    assert p > P_MIN
    bound = FixedNumberTotalWithReplacement.calc_max_row_len_func(num_pre, num_post,
                                                                  {"num": total})
    assert lengths.max() <= bound < 2 * total / num_pre

    code = FixedNumberTotalWithReplacement.row_build_code
    fixed_rows = create_sparse_connect_init_snippet(
        "FixedRowSortedUniform", params=[("rowLen", "unsigned int")],
        row_build_code=code.replace("preCalcRowLength[(id_pre * num_threads) + id_thread]",
                                    "rowLen"),
        calc_max_row_len_func=lambda npre, npost, pars: int(pars["rowLen"]))
    assert fixed_rows.row_build_code != code
    row_len = 40
    model = GeNNModel("float", "builtin_fixed_total_rows")
    model.dt = 1.0
    model.seed = 555
    idle = create_neuron_model("Idle3", vars=[("V", "scalar")])
    a = model.add_neuron_population("A", 500, idle, {}, {"V": 0.0})
    b = model.add_neuron_population("B", 64, idle, {}, {"V": 0.0})
    syn = model.add_synapse_population(
        "S", "SPARSE", a, b, init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
        init_postsynaptic("DeltaCurr"), init_sparse_connectivity(fixed_rows, {"rowLen": row_len}))
    model.build()
    model.load()
    pre = np.asarray(syn.get_sparse_pre_inds(), dtype=np.int64)
    post = np.asarray(syn.get_sparse_post_inds(), dtype=np.int64)
    np.testing.assert_array_equal(np.bincount(pre, minlength=500), row_len)
    assert post.min() >= 0 and post.max() < 64
    # targets come out sorted within each row (sorted uniforms) ...
    order = np.argsort(pre, kind="stable")
    rows = post[order].reshape(500, row_len)
    assert np.all(np.diff(rows, axis=1) >= 0)
    # ... and uniform over the targets
    counts = np.bincount(post, minlength=64)
    assert stats.chisquare(counts).pvalue > P_MIN
    # the smallest of row_len uniform targets: P(min >= j) = (1 - j/64)^row_len
    def min_pmf(ks):
        return (1.0 - ks / 64) ** row_len - (1.0 - (ks + 1) / 64) ** row_len
    assert _chi2_discrete(rows[:, 0], min_pmf, 63) > P_MIN


def _fixed_total(name, seed, num_pre=300, num_post=64, total=12000):
    model = GeNNModel("float", name)
    model.seed = seed
    idle = create_neuron_model("Idle4", vars=[("V", "scalar")])
    a = model.add_neuron_population("A", num_pre, idle, {}, {"V": 0.0})
    b = model.add_neuron_population("B", num_post, idle, {}, {"V": 0.0})
    syn = model.add_synapse_population(
        "S", "SPARSE", a, b, init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
        init_postsynaptic("DeltaCurr"),
        init_sparse_connectivity("FixedNumberTotalWithReplacement", {"num": total}))
    model.build()
    model.load()
    return (np.asarray(syn.get_sparse_pre_inds(), dtype=np.int64),
            np.asarray(syn.get_sparse_post_inds(), dtype=np.int64))


def test_fixed_number_total_with_replacement_end_to_end():
    """The host step draws the row lengths (a Multinomial over the rows),
    the row code the targets: exactly `num` synapses, rows Binomial(num,
    1/num_pre) long, targets uniform and sorted in each row; the model's
    seed fixes the network."""
    num_pre, num_post, total = 300, 64, 12000
    pre, post = _fixed_total("builtin_fixed_total_a", 21)
    assert pre.size == total and post.min() >= 0 and post.max() < num_post
    lengths = np.bincount(pre, minlength=num_pre)
    p = _chi2_discrete(lengths, lambda ks: stats.binom.pmf(ks, total, 1 / num_pre),
                       int(lengths.max()))
    assert p > P_MIN
    assert stats.chisquare(np.bincount(post, minlength=num_post)).pvalue > P_MIN
    order = np.argsort(pre, kind="stable")
    starts = np.cumsum(lengths) - lengths
    rows_sorted = [np.all(np.diff(post[order][s:s + n]) >= 0) for s, n in zip(starts, lengths)]
    assert all(rows_sorted)
    again = _fixed_total("builtin_fixed_total_b", 21)
    other = _fixed_total("builtin_fixed_total_c", 22)
    np.testing.assert_array_equal(again[0], pre)
    np.testing.assert_array_equal(again[1], post)
    assert not np.array_equal(np.bincount(other[0], minlength=num_pre), lengths)


# every GeNN 5.4 built-in named in the issue, by registry
GENN_54 = {
    "neuron_models": ["RulkovMap", "Izhikevich", "IzhikevichVariable", "LIF",
                      "SpikeSource", "SpikeSourceArray", "Poisson", "TraubMiles"],
    "postsynaptic_models": ["DeltaCurr", "ExpCurr", "ExpCond"],
    "weight_update_models": ["StaticPulse", "StaticPulseConstantWeight",
                             "StaticPulseDendriticDelay", "StaticGraded", "STDP"],
    "current_source_models": ["DC", "GaussianNoise", "PoissonExp"],
    "init_var_snippets": ["Constant", "Kernel", "Uniform", "Normal", "NormalClipped",
                          "NormalClippedDelay", "Exponential", "Gamma", "Binomial",
                          "Uninitialised"],
    "init_sparse_connectivity_snippets": [
        "OneToOne", "FixedProbability", "FixedProbabilityNoAutapse",
        "FixedNumberPostWithReplacement", "FixedNumberPreWithReplacement",
        "FixedNumberTotalWithReplacement", "Conv2D", "Uninitialised"],
    "init_toeplitz_connectivity_snippets": ["Conv2D", "AvgPoolConv2D"],
}


def test_registries_have_genn_names_and_pygenn_access():
    for reg_name, names in GENN_54.items():
        reg = getattr(builtins, reg_name)
        for name in names:
            model = reg[name]
            assert model.class_name == name
            assert getattr(reg, name) is model        # neuron_models.RulkovMap
            assert getattr(reg, name)() is model      # pygenn: neuron_models.RulkovMap()
    assert builtins.var_init_snippets is builtins.init_var_snippets
    with pytest.raises(AttributeError, match="RulkovMap"):
        builtins.neuron_models.Rulkov
    # the objects still work wherever a model is expected
    init_var(builtins.init_var_snippets.Gamma, {"a": 1.0, "b": 1.0})
    init_toeplitz_connectivity(builtins.init_toeplitz_connectivity_snippets.AvgPoolConv2D(),
                               {k: 1 for k in ("conv_kh", "conv_kw", "pool_kh", "pool_kw",
                                               "pool_sh", "pool_sw", "pool_ih", "pool_iw",
                                               "pool_ic", "conv_oh", "conv_ow", "conv_oc")})
    with pytest.raises(ModelError, match="Gamma"):
        init_var("Gama", {"a": 1.0, "b": 1.0})


# (what, built-in, params, other values, matched text)
BAD = [
    ("neuron", "RulkovMap", {"Vspike": 60.0, "alpha": float("nan"), "y": -2.468,
                             "beta": 0.0165}, "alpha"),
    ("neuron", "TraubMiles", {"gNa": 7.15, "ENa": 50.0, "gK": 1.43, "EK": -95.0,
                              "gl": 0.02672, "El": -63.563, "C": 0.0}, "'C'"),
    ("psm", "ExpCond", {"tau": 0.0, "E": 0.0}, "tau"),
    ("wu", "STDP", {"tauPlus": 10.0, "tauMinus": 10.0, "Aplus": 0.1, "Aminus": 0.1,
                    "Wmin": 1.0, "Wmax": 0.0}, "Wmin"),
    ("wu", "STDP", {"tauPlus": -1.0, "tauMinus": 10.0, "Aplus": 0.1, "Aminus": 0.1,
                    "Wmin": 0.0, "Wmax": 1.0}, "tauPlus"),
    ("wu", "StaticGraded", {"Epre": -50.0, "Vslope": 0.0}, "Vslope"),
    ("cs", "PoissonExp", {"weight": 1.0, "tauSyn": 5.0, "rate": -3.0}, "rate"),
    ("cs", "PoissonExp", {"weight": 1.0, "tauSyn": 0.0, "rate": 3.0}, "tauSyn"),
    ("var", "Gamma", {"a": 0.0, "b": 1.0}, "'a'"),
    ("var", "Gamma", {"a": 1.0, "b": -1.0}, "'b'"),
    ("var", "Binomial", {"n": 10, "p": 1.5}, "'p'"),
    ("var", "Binomial", {"n": 2.5, "p": 0.5}, "'n'"),
    ("var", "NormalClippedDelay", {"mean": 1.0, "sd": 1.0, "min": 3.0, "max": 2.0}, "min"),
    ("var", "NormalClippedDelay", {"mean": 100.0, "sd": 1.0, "min": 0.0, "max": 2.0},
     "share"),
]


@pytest.mark.parametrize("what, name, params, text", BAD,
                         ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_builtin_constraints(what, name, params, text):
    model = GeNNModel("float", "builtin_bad")
    model.dt = 1.0
    holder = create_neuron_model("Holder4", vars=[("V", "scalar")])
    if what == "neuron":
        model.add_neuron_population("P", 2, name, params,
                                    {"V": 0.0, "preV": 0.0} if name == "RulkovMap" else
                                    {"V": 0.0, "m": 0.0, "h": 0.0, "n": 0.0})
    elif what == "var":
        model.add_neuron_population("P", 2, holder, {}, {"V": init_var(name, params)})
    else:
        a = model.add_neuron_population("A", 2, holder, {}, {"V": 0.0})
        b = model.add_neuron_population("B", 2, holder, {}, {"V": 0.0})
        if what == "cs":
            model.add_current_source("C", name, b, params, {"current": 0.0})
        elif what == "psm":
            from ml_genn.genn import create_var_ref
            model.add_synapse_population(
                "S", "DENSE", a, b, init_weight_update("StaticPulse", {}, {"g": 1.0}),
                init_postsynaptic(name, params, var_refs={"V": create_var_ref(b, "V")}))
        else:
            wu = (init_weight_update(name, params, {"g": 1.0}) if name == "STDP" else
                  init_weight_update(name, params, {"g": 1.0},
                                     pre_var_refs={"V": "V"}))
            model.add_synapse_population("S", "DENSE", a, b, wu,
                                         init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match=text):
        model.build()
