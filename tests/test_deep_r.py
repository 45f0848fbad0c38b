"""Deep-R rewiring (ml_genn.compilers.deep_r) against NumPy references of
its steps (Bellec et al. 2018; spec §7.6)."""
from types import SimpleNamespace

import numpy as np
import pytest

from ml_genn.compilers.deep_r import (DeepR, DeepRInit, RewiringRecord, add_deep_r,
                                      check_deep_r_connection, deep_r_callbacks)
from ml_genn.callbacks import CustomUpdateOnBatchEnd
from ml_genn.genn import (GeNNModel, ModelError, SynapseMatrixType, VarAccess,
                          VarAccessMode, create_custom_update_model, create_neuron_model,
                          create_var_ref, create_weight_update_model, create_wu_var_ref,
                          init_postsynaptic, init_weight_update)
from ml_genn.utils.callback_list import CallbackList

# spikes once (first step), then accumulates its input
ONCE = create_neuron_model("DeepROnce", vars=[("fire", "scalar"), ("x", "scalar")],
                           sim_code="x += Isyn;", threshold_condition_code="fire > 0",
                           reset_code="fire = 0;")
# weights shared by the batch; gradient and a trace per batch element
WU = create_weight_update_model(
    "DeepRWU", vars=[("g", "scalar", VarAccess.READ_ONLY), ("Gradient", "scalar"),
                     ("Trace", "scalar")],
    pre_spike_syn_code="addToPost(g);")
# an optimiser-like custom update with per-synapse state
OPT = create_custom_update_model(
    "DeepROpt", vars=[("M", "scalar")],
    var_refs=[("Gradient", "scalar", VarAccessMode.READ_ONLY)],
    update_code="M += Gradient;")


class _Conn:
    """Stands for a Connection (hashable, with a name)."""

    def __init__(self, name):
        self.name = name


def _model(name, npre, npost, pre, post, g, batch_size=1, max_connections=None, l1=0.0,
           seed=11, rng_seed=7):
    m = GeNNModel("float", name, backend="cpu")
    m.batch_size = batch_size
    m.seed = seed
    a = m.add_neuron_population("a", npre, ONCE, {}, {"fire": 1.0, "x": 0.0})
    b = m.add_neuron_population("b", npost, ONCE, {}, {"fire": 0.0, "x": 0.0})
    sg = m.add_synapse_population(
        "s", "SPARSE", a, b,
        init_weight_update(WU, {}, {"g": g, "Gradient": 0.0, "Trace": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sg.set_sparse_connections(pre, post)
    sg.max_connections = max_connections
    opt = m.add_custom_update("opt", "Learn", OPT, {}, {"M": 0.0},
                              {"Gradient": create_wu_var_ref(sg, "Gradient")})
    d = add_deep_r(sg, m, SimpleNamespace(rng_seed=rng_seed, batch_size=batch_size), l1,
                   create_wu_var_ref(sg, "Gradient"), create_wu_var_ref(sg, "g"))
    m.build()
    m.load()
    return m, b, sg, opt, d


def _random_connections(rng, npre, npost, p):
    pre, post = np.nonzero(rng.random((npre, npost)) < p)
    return pre, post


def _state(sg, opt):
    """{(pre, post): (g, Gradient per batch, Trace per batch, M per batch)}."""
    pre, post = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
    vals = [np.asarray(sg.vars[n].values) for n in ("g", "Gradient", "Trace")]
    vals.append(np.asarray(opt.vars["M"].values))
    out = {}
    for k, (i, j) in enumerate(zip(pre.tolist(), post.tolist())):
        out[(i, j)] = tuple(np.atleast_1d(v[..., k]).tolist() for v in vals)
    assert len(out) == pre.size          # no duplicate synapse
    return out


def _set_state(sg, opt, rng, batch_size, n):
    """Distinct, exactly representable per-synapse values (batch copies differ)."""
    shape = (batch_size, n) if batch_size > 1 else (n,)
    grad = rng.integers(-40, 40, size=shape) * 0.25
    trace = rng.integers(-40, 40, size=shape) * 0.5
    m = rng.integers(-40, 40, size=shape) * 0.125
    sg.vars["Gradient"].values = grad
    sg.vars["Trace"].values = trace
    opt.vars["M"].values = m
    for v in (sg.vars["Gradient"], sg.vars["Trace"], opt.vars["M"]):
        v.push_to_device()
    return grad, trace, m


def test_init_flags_and_determinism():
    rng = np.random.default_rng(3)
    npre, npost = 20, 40                  # 2 words per row, 24 padding bits
    pre, post = _random_connections(rng, npre, npost, 0.3)
    g = rng.integers(-4, 5, size=pre.size) * 0.5   # includes 0 (excitatory)
    assert np.any(g == 0.0)
    m1, _, sg1, _, d1 = _model("deep_r_init_a", npre, npost, pre, post, g, rng_seed=7)
    m2, _, _, _, d2 = _model("deep_r_init_b", npre, npost, pre, post, g, rng_seed=7)
    m3, _, _, _, d3 = _model("deep_r_init_c", npre, npost, pre, post, g, rng_seed=8)
    cb = DeepRInit([d1])
    cb.on_epoch_begin(1)                  # only epoch 0 by default
    assert not d1.get_inhibitory().any()
    cb.on_epoch_begin(0)
    flags = d1.get_inhibitory()
    assert flags.shape == (npre, npost)
    # existing synapses: inhibitory exactly where g < 0
    np.testing.assert_array_equal(flags[pre, post], g < 0.0)
    # potential synapses: random, both signs present
    free = np.ones((npre, npost), dtype=bool)
    free[pre, post] = False
    assert 0 < flags[free].sum() < free.sum()
    # layout: bit j % 32 of word j // 32 of the row; padding bits stay 0
    words = np.asarray(d1.inhibitory.view).reshape(npre, 2)
    cols = np.arange(npost)
    np.testing.assert_array_equal(flags, (words[:, cols // 32] >> (cols % 32)) & 1)
    assert not np.any(words[:, 1] >> np.uint32(npost - 32))
    # same seed, same flags; another seed, other flags
    d2.initialise()
    d3.initialise()
    np.testing.assert_array_equal(d2.get_inhibitory(), flags)
    assert not np.array_equal(d3.get_inhibitory()[free], flags[free])
    np.testing.assert_array_equal(d3.get_inhibitory()[pre, post], g < 0.0)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_l1_remove_and_rewire(batch_size):
    rng = np.random.default_rng(10 + batch_size)
    npre, npost, stride, c = 12, 20, 9, 0.5
    pre, post = _random_connections(rng, npre, npost, 0.3)
    keep = np.ones(pre.size, dtype=bool)
    for i in range(npre):                 # at most 7 per row: room to grow
        keep[np.nonzero(pre == i)[0][7:]] = False
    pre, post = pre[keep], post[keep]
    n = pre.size
    g = rng.integers(-4, 5, size=n) * 0.5
    m, b, sg, opt, d = _model(f"deep_r_flow_{batch_size}", npre, npost, pre, post, g,
                              batch_size=batch_size, max_connections=stride, l1=c)
    d.initialise()
    flags = d.get_inhibitory()
    inh = flags[pre, post]

    # DeepRL1: -C for inhibitory synapses, +C otherwise, in every batch copy
    grad = _set_state(sg, opt, rng, batch_size, n)[0]
    m.custom_update("DeepRL1")
    sg.vars["Gradient"].pull_from_device()
    np.testing.assert_array_equal(sg.vars["Gradient"].values,
                                  grad + np.where(inh, -c, c))
    grad, trace, mom = _set_state(sg, opt, rng, batch_size, n)

    # DeepR1: new weights; remove exactly those whose sign left their flag's
    g_new = g.copy()
    flip = rng.random(n) < 0.3
    g_new[flip] = -g_new[flip]
    g_new[rng.random(n) < 0.1] = 0.0     # zero agrees with either flag
    g_new[(g_new == 0.0) & ~inh & (rng.random(n) < 0.5)] = 0.25   # some stay positive
    sg.vars["g"].values = g_new
    sg.vars["g"].push_to_device()
    removed = (inh & (g_new > 0.0)) | (~inh & (g_new < 0.0))
    assert 0 < removed.sum() < n
    m.custom_update("DeepR1")
    sg.pull_connectivity_from_device()
    for v in (sg.vars["g"], sg.vars["Gradient"], sg.vars["Trace"], opt.vars["M"]):
        v.pull_from_device()
    kept = {}
    for k in np.nonzero(~removed)[0]:
        per_batch = [np.atleast_1d(x[..., k]).tolist() for x in (grad, trace, mom)]
        kept[(int(pre[k]), int(post[k]))] = ([float(g_new[k])], *per_batch)
    assert _state(sg, opt) == kept
    dormant = np.bincount(pre[removed], minlength=npre)
    d.remove.pre_vars["NumDormant"].pull_from_device()
    np.testing.assert_array_equal(d.remove.pre_vars["NumDormant"].values, dormant)
    d.remove.pre_vars["RowSpare"].pull_from_device()
    np.testing.assert_array_equal(d.remove.pre_vars["RowSpare"].values,
                                  stride - np.bincount(pre[~removed], minlength=npre))

    # DeepR2: as many new synapses, at unconnected positions, with zero state
    m.custom_update("DeepR2")
    sg.pull_connectivity_from_device()
    for v in (sg.vars["g"], sg.vars["Gradient"], sg.vars["Trace"], opt.vars["M"]):
        v.pull_from_device()
    state = _state(sg, opt)
    assert len(state) == n
    new = {k: v for k, v in state.items() if k not in kept}
    assert {k: state[k] for k in kept} == kept
    assert len(new) == removed.sum()
    zero = ([0.0], [0.0] * batch_size, [0.0] * batch_size, [0.0] * batch_size)
    assert all(v == zero for v in new.values())
    assert all(0 <= i < npre and 0 <= j < npost for i, j in new)
    assert np.bincount(sg.get_sparse_pre_inds(), minlength=npre).max() <= stride
    assert d.get_rewiring_counts() == (int(removed.sum()), 0)
    np.testing.assert_array_equal(d.get_inhibitory(), flags)   # signs are fixed

    # the rewired connectivity carries spikes
    g_final = rng.integers(1, 9, size=n) * 0.5
    sg.vars["g"].values = g_final
    sg.vars["g"].push_to_device()
    m.run(2)
    ref = np.zeros(npost)
    np.add.at(ref, sg.get_sparse_post_inds(), g_final)
    x = np.asarray(b.vars["x"].view).reshape(batch_size, npost)
    for bi in range(batch_size):
        np.testing.assert_array_equal(x[bi], ref)


def _full_model(name, flips, npre=4, npost=8, seed=11):
    """Every row full (max_connections = npost); ``flips`` change sign."""
    pre, post = np.nonzero(np.ones((npre, npost), dtype=bool))
    g = np.where((pre + post) % 2 == 0, 1.0, -1.0)
    m, _, sg, opt, d = _model(name, npre, npost, pre, post, g, max_connections=npost,
                              seed=seed)
    d.initialise()
    g_new = g.copy()
    for i, j in flips:
        g_new[i * npost + j] *= -1.0
    sg.vars["g"].values = g_new
    sg.vars["g"].push_to_device()
    return m, sg, opt, d, g


@pytest.mark.parametrize("npre, npost, flips", [
    (4, 8, [(0, 0), (2, 7), (3, 3), (3, 4)]),       # first, last and middle columns
    (64, 4, [(37, 1), (37, 2), (50, 0)]),           # few open rows among many
])
def test_only_free_positions_are_filled(npre, npost, flips):
    """With every row full but for the removed synapses, DeepR2 must put
    them back exactly there."""
    m, sg, opt, d, g = _full_model(f"deep_r_forced_{npre}", flips, npre, npost)
    m.custom_update("DeepR1")
    assert sg.get_sparse_pre_inds().size == npre * npost - len(flips)
    m.custom_update("DeepR2")
    state = _state(sg, opt)
    expected = {(i, j): ([0.0] if (i, j) in flips else [g[i * npost + j]], [0.0], [0.0],
                         [0.0])
                for i in range(npre) for j in range(npost)}
    assert state == expected
    assert d.get_rewiring_counts() == (len(flips), 0)


def test_failed_rewirings_are_counted():
    """No spare capacity left for some dormant synapses: they are counted
    as failures and created nowhere."""
    flips = [(0, 1), (1, 2), (1, 5), (2, 6)]
    m, sg, opt, d, g = _full_model("deep_r_fail", flips)
    m.custom_update("DeepR1")
    # only row 1 keeps (one slot of) spare capacity
    spare = d.remove.pre_vars["RowSpare"]
    spare.values = np.array([0, 1, 0, 0])
    spare.push_to_device()
    m.custom_update("DeepR2")
    state = _state(sg, opt)
    assert len(state) == 32 - len(flips) + 1
    new = sorted(k for k in state if state[k][0] == [0.0])
    assert len(new) == 1 and new[0] in [(1, 2), (1, 5)]
    assert d.get_rewiring_counts() == (1, len(flips) - 1)
    np.testing.assert_array_equal(d.plan.pre_vars["NumActivations"].values, [0, 1, 0, 0])


def _rewire_run(name, seed, rng_seed, steps=3):
    rng = np.random.default_rng(0)
    npre, npost = 30, 50
    pre, post = _random_connections(rng, npre, npost, 0.2)
    g = rng.normal(size=pre.size)
    m, _, sg, opt, d = _model(name, npre, npost, pre, post, g, max_connections=25,
                              seed=seed, rng_seed=rng_seed)
    d.initialise()
    counts = []
    for _ in range(steps):
        sg.pull_connectivity_from_device()
        gv = np.asarray(sg.vars["g"].values)
        gv = np.where(rng.random(gv.size) < 0.3, -gv - 0.5 * np.sign(gv), gv)
        sg.vars["g"].values = gv
        sg.vars["g"].push_to_device()
        m.custom_update("DeepR1")
        m.custom_update("DeepR2")
        counts.append(d.get_rewiring_counts())
    sg.pull_connectivity_from_device()
    return (sg.get_sparse_pre_inds().copy(), sg.get_sparse_post_inds().copy(),
            d.get_inhibitory(), counts, pre.size)


def test_same_seed_same_rewiring():
    a = _rewire_run("deep_r_seed_a", 21, 5)
    b = _rewire_run("deep_r_seed_b", 21, 5)
    c = _rewire_run("deep_r_seed_c", 22, 5)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x, y)
    assert a[3] == b[3]
    assert all(n > 0 and f == 0 for n, f in a[3])
    assert a[0].size == a[4]             # the synapse count never changes
    # another engine seed: the same first removals, other new positions
    assert a[3][0] == c[3][0]
    np.testing.assert_array_equal(a[2], c[2])
    assert set(zip(a[0].tolist(), a[1].tolist())) != set(zip(c[0].tolist(), c[1].tolist()))


def test_rows_and_columns_are_uniform():
    """Each dormant synapse goes to a row drawn uniformly among those with
    spare capacity, at a column drawn uniformly among the free ones: with
    every synapse removed each round, row and column counts are uniform."""
    from scipy.stats import chisquare
    rng = np.random.default_rng(9)
    npre, npost, rounds = 16, 64, 10
    pre = np.repeat(np.arange(npre), 4)
    post = np.concatenate([rng.choice(npost, 4, replace=False) for _ in range(npre)])
    g = rng.choice([-1.0, 1.0], size=pre.size)
    m, _, sg, opt, d = _model("deep_r_uniform", npre, npost, pre, post, g,
                              max_connections=npost)
    d.initialise()
    flags = d.get_inhibitory()
    rows, cols = np.zeros(npre), np.zeros(npost)
    for _ in range(rounds):
        sg.pull_connectivity_from_device()
        i, j = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
        sg.vars["g"].values = np.where(flags[i, j], 1.0, -1.0)   # every sign wrong
        sg.vars["g"].push_to_device()
        m.custom_update("DeepR1")
        m.custom_update("DeepR2")
        assert d.get_rewiring_counts() == (pre.size, 0)
        sg.pull_connectivity_from_device()
        rows += np.bincount(sg.get_sparse_pre_inds(), minlength=npre)
        cols += np.bincount(sg.get_sparse_post_inds(), minlength=npost)
    assert rows.sum() == cols.sum() == rounds * pre.size
    assert chisquare(rows).pvalue > 1e-6
    assert chisquare(cols).pvalue > 1e-6


def test_row_choice_among_few_open_rows_is_uniform():
    """Two open rows among many (mostly found by the counting fallback, not
    by rejection): each gets a dormant synapse half of the time."""
    from scipy.stats import binomtest
    npre, npost, rounds = 128, 96, 80
    pre, post = np.arange(npre), np.zeros(npre, dtype=int)
    m, _, sg, opt, d = _model("deep_r_few_rows", npre, npost, pre, post, np.ones(npre),
                              max_connections=npost)
    d.initialise()
    spare = np.zeros(npre, dtype=np.uint32)
    spare[[5, 100]] = 1
    dormant = np.zeros(npre, dtype=np.uint32)
    dormant[0] = 1
    chosen = np.zeros(npre, dtype=int)
    for _ in range(rounds):
        m.custom_update("DeepR1")        # removes nothing
        d.remove.pre_vars["RowSpare"].values = spare
        d.remove.pre_vars["NumDormant"].values = dormant
        d.remove.pre_vars["RowSpare"].push_to_device()
        d.remove.pre_vars["NumDormant"].push_to_device()
        m.custom_update("DeepR2")
        d.plan.pre_vars["NumActivations"].pull_from_device()
        chosen += d.plan.pre_vars["NumActivations"].values
    assert chosen.sum() == rounds and chosen[5] + chosen[100] == rounds
    assert binomtest(int(chosen[5]), rounds).pvalue > 1e-6


def test_callbacks():
    rng = np.random.default_rng(4)
    npre, npost = 10, 12
    pre, post = _random_connections(rng, npre, npost, 0.4)
    g = rng.integers(-4, 5, size=pre.size) * 0.5
    m, _, sg, opt, d = _model("deep_r_callbacks", npre, npost, pre, post, g,
                              max_connections=12, l1=0.25)
    conn = _Conn("Conn")
    before, after = deep_r_callbacks([(conn, d)], {conn: "rewire"},
                                     l1_filter=lambda batch: batch > 0)
    assert [type(c) for c in before] == [CustomUpdateOnBatchEnd]
    assert before[0].name == "DeepRL1"
    assert [type(c) for c in after] == [DeepRInit, CustomUpdateOnBatchEnd,
                                        CustomUpdateOnBatchEnd, RewiringRecord]
    assert [c.name for c in after[1:3]] == ["DeepR1", "DeepR2"]
    net = SimpleNamespace(genn_model=m)
    cbs = CallbackList(before + after, compiled_network=net, num_batches=2)
    cbs.on_epoch_begin(0)
    np.testing.assert_array_equal(d.get_inhibitory()[pre, post], g < 0.0)
    inh = g < 0.0
    gv = np.where(rng.random(g.size) < 0.4, -g, g)
    removed = (inh & (gv > 0)) | (~inh & (gv < 0))
    sg.vars["g"].values = gv
    sg.vars["g"].push_to_device()
    cbs.on_batch_end(0, {})              # no L1 on batch 0; rewiring
    assert d.get_rewiring_counts() == (int(removed.sum()), 0)
    sg.pull_connectivity_from_device()
    assert not sg.vars["Gradient"].values.any()
    cbs.on_batch_end(1, {})              # L1 on batch 1
    flags = d.get_inhibitory()
    sg.pull_connectivity_from_device()
    sg.vars["Gradient"].pull_from_device()
    expect = np.where(flags[sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()], -0.25, 0.25)
    np.testing.assert_array_equal(sg.vars["Gradient"].values, expect)
    data = dict(c.get_data() for c in cbs._callbacks if hasattr(c, "get_data"))
    assert data == {"rewire": [(int(removed.sum()), 0), (0, 0)]}


def test_no_l1_group_without_l1():
    pre, post = np.array([0, 1]), np.array([1, 0])
    m, _, sg, opt, d = _model("deep_r_no_l1", 2, 2, pre, post, np.array([1.0, -1.0]))
    assert d.l1 is None
    with pytest.raises(ModelError, match="DeepRL1"):
        m.custom_update("DeepRL1")
    before, after = deep_r_callbacks([("c", d)], {})
    assert before == [] and len(after) == 3
    assert deep_r_callbacks([], {}) == ([], [])


def test_errors():
    m = GeNNModel("float", "deep_r_errors", backend="cpu")
    a = m.add_neuron_population("a", 3, ONCE, {}, {"fire": 0.0, "x": 0.0})
    b = m.add_neuron_population("b", 3, ONCE, {}, {"fire": 0.0, "x": 0.0})
    wu = init_weight_update(WU, {}, {"g": 1.0, "Gradient": 0.0, "Trace": 0.0})
    dense = m.add_synapse_population("d", "DENSE", a, b, wu, init_postsynaptic("DeltaCurr"))
    sparse = m.add_synapse_population("s", "SPARSE", a, b, wu, init_postsynaptic("DeltaCurr"))
    sparse.set_sparse_connections([0, 1], [1, 2])
    comp = SimpleNamespace(rng_seed=1)
    with pytest.raises(RuntimeError, match="'d'.*DENSE.*FixedProbability"):
        add_deep_r(dense, m, comp, 0.1, create_wu_var_ref(dense, "Gradient"),
                   create_wu_var_ref(dense, "g"))
    with pytest.raises(ValueError, match="l1_strength"):
        add_deep_r(sparse, m, comp, -0.1, create_wu_var_ref(sparse, "Gradient"),
                   create_wu_var_ref(sparse, "g"))
    with pytest.raises(ValueError, match="weight_ref"):
        add_deep_r(sparse, m, comp, 0.1, create_wu_var_ref(sparse, "Gradient"),
                   create_wu_var_ref(dense, "g"))
    with pytest.raises(ValueError, match="delta_weight_ref"):
        add_deep_r(sparse, m, comp, 0.1, create_var_ref(a, "x"),
                   create_wu_var_ref(sparse, "g"))
    with pytest.raises(TypeError, match="synapse population"):
        add_deep_r("s", m, comp, 0.1, None, None)
    conn = _Conn("Hidden-Output")
    with pytest.raises(RuntimeError, match="'Hidden-Output'.*DENSE.*FixedProbability"):
        check_deep_r_connection(conn, SynapseMatrixType.DENSE)
    with pytest.raises(RuntimeError, match="TOEPLITZ"):
        check_deep_r_connection(conn, int(SynapseMatrixType.TOEPLITZ))
    check_deep_r_connection(conn, SynapseMatrixType.SPARSE)
    with pytest.raises(TypeError, match="DeepR handle"):
        RewiringRecord("conn")
    d = add_deep_r(sparse, m, comp, 0.0, create_wu_var_ref(sparse, "Gradient"),
                   create_wu_var_ref(sparse, "g"))
    assert isinstance(d, DeepR)
    with pytest.raises(ValueError, match="'other'.*deep_r_conns"):
        deep_r_callbacks([(conn, d)], {_Conn("other"): "k"})
    with pytest.raises(TypeError, match="DeepR"):
        deep_r_callbacks([(conn, "x")], {})

    m2 = GeNNModel("float", "deep_r_errors_batch", backend="cpu")
    m2.batch_size = 2
    a2 = m2.add_neuron_population("a", 3, ONCE, {}, {"fire": 0.0, "x": 0.0})
    sg2 = m2.add_synapse_population("s", "SPARSE", a2, a2, wu, init_postsynaptic("DeltaCurr"))
    sg2.set_sparse_connections([0], [1])
    with pytest.raises(ValueError, match="'Trace'.*batch"):
        add_deep_r(sg2, m2, comp, 0.1, create_wu_var_ref(sg2, "Gradient"),
                   create_wu_var_ref(sg2, "Trace"))
