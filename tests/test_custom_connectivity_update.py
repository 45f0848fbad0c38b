"""Custom connectivity updates (create_custom_connectivity_update_model,
add_custom_connectivity_update) against NumPy references."""
import numpy as np
import pytest

from ml_genn.genn import (CodeError, GeNNModel, ModelError, RuntimeStateError, VarAccess,
                          create_custom_connectivity_update_model,
                          create_neuron_model, create_var_ref, create_weight_update_model,
                          create_wu_var_ref, init_postsynaptic, init_weight_update)

NPRE, NPOST = 6, 8

# spikes once (first step), then accumulates its input
ONCE = create_neuron_model("Once", vars=[("fire", "scalar"), ("x", "scalar")],
                           sim_code="x += Isyn;", threshold_condition_code="fire > 0",
                           reset_code="fire = 0;")
WU = create_weight_update_model(
    "WU", vars=[("g", "scalar", VarAccess.READ_ONLY), ("d", "scalar"),
                ("e", "scalar", VarAccess.READ_ONLY)],
    pre_spike_syn_code="addToPost(g);")

DEEP_R = create_custom_connectivity_update_model(
    "DeepR", params=["thr"], var_refs=[("g", "scalar")],
    row_update_code="""
    for_each_synapse {
        if (g < thr) {
            remove_synapse();
        }
    }""")


def _connections(seed=1, p=0.5):
    rng = np.random.default_rng(seed)
    mask = rng.random((NPRE, NPOST)) < p
    pre, post = np.nonzero(mask)
    return pre, post


def _model(name, batch_size=1, max_connections=NPOST, pre=None, post=None, g=None):
    m = GeNNModel("float", name, backend="cpu")
    m.batch_size = batch_size
    a = m.add_neuron_population("a", NPRE, ONCE, {}, {"fire": 1.0, "x": 0.0})
    b = m.add_neuron_population("b", NPOST, ONCE, {}, {"fire": 0.0, "x": 0.0})
    if pre is None:
        pre, post = _connections()
    if g is None:
        g = np.arange(pre.size, dtype=float)
    sg = m.add_synapse_population(
        "s", "SPARSE", a, b,
        init_weight_update(WU, {}, {"g": g, "d": 10.0 * g, "e": g + 0.5}),
        init_postsynaptic("DeltaCurr"))
    sg.set_sparse_connections(pre, post)
    sg.max_connections = max_connections
    return m, a, b, sg


def _synapses(sg, *names):
    """{(pre, post): (values of names...)}."""
    pre, post = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
    vals = [np.asarray(sg.vars[n].values) for n in names]
    out = {}
    for k, (i, j) in enumerate(zip(pre, post)):
        out[(int(i), int(j))] = tuple(v[..., k].tolist() for v in vals)
    assert len(out) == pre.size
    return out


@pytest.mark.parametrize("batch_size", [1, 2])
def test_remove_below_threshold(batch_size):
    pre, post = _connections()
    g = np.arange(pre.size, dtype=float)
    m, a, b, sg = _model(f"ccu_remove_{batch_size}", batch_size, pre=pre, post=post, g=g)
    # another connectivity update's per-synapse variable moves with its synapse too
    tag_model = create_custom_connectivity_update_model("Tag", vars=[("m", "scalar")])
    tag = m.add_custom_connectivity_update("tag", "Other", sg, tag_model, {}, {"m": 3.0 * g})
    m.add_custom_connectivity_update("prune", "Prune", sg, DEEP_R, {"thr": 7.0},
                                     var_refs={"g": create_wu_var_ref(sg, "g")})
    m.build()
    m.load()
    if batch_size > 1:       # batched 'd': distinct copies per batch element
        d = sg.vars["d"].values
        d[1] += 1000.0
        sg.vars["d"].values = d
    m.custom_update("Prune")
    got = _synapses(sg, "g", "d", "e")
    keep = g >= 7.0
    want_d = [10.0 * g[k] for k in range(g.size)]
    expected = {}
    for k in np.nonzero(keep)[0]:
        d = want_d[k] if batch_size == 1 else [want_d[k], want_d[k] + 1000.0]
        expected[(int(pre[k]), int(post[k]))] = (g[k], d, g[k] + 0.5)
    assert got == expected
    np.testing.assert_array_equal(tag.vars["m"].values, 3.0 * sg.vars["g"].values)
    # rows stay CSR-consistent: lengths equal the kept synapses per row
    np.testing.assert_array_equal(np.bincount(sg.get_sparse_pre_inds(), minlength=NPRE),
                                  np.bincount(pre[keep], minlength=NPRE))
    # the next spikes travel the new connectivity
    m.run(2)
    x = b.vars["x"].view.reshape(batch_size, NPOST)
    ref = np.zeros(NPOST)
    np.add.at(ref, post[keep], g[keep])
    for bi in range(batch_size):
        np.testing.assert_allclose(x[bi], ref)


def test_add_synapses_and_propagate():
    pre, post = _connections(seed=3, p=0.3)
    m, a, b, sg = _model("ccu_add", pre=pre, post=post, max_connections=NPOST)
    model = create_custom_connectivity_update_model(
        "Grow", vars=[("age", "scalar")], var_refs=[("g", "scalar")],
        pre_vars=[("added", "unsigned int")],
        row_update_code="""
        // connect to every postsynaptic neuron j with (id_pre + j) % 3 == 0 not yet connected
        for (unsigned int j = 0; j < num_post; j++) {
            if ((id_pre + j) % 3 != 0) continue;
            bool found = false;
            for_each_synapse {
                age += 1.0;
                if (id_post == j) { found = true; break; }
            }
            if (!found) {
                add_synapse(j, 2.0, 100.0 + id_pre * 10 + j);
                added++;
            }
        }
        """)
    ccu = m.add_custom_connectivity_update("grow", "Grow", sg, model, {},
                                           {"age": 0.0}, {"added": 0},
                                           var_refs={"g": create_wu_var_ref(sg, "g")})
    m.build()
    m.load()
    m.custom_update("Grow")
    conn = set(zip(pre.tolist(), post.tolist()))
    g0 = {(int(i), int(j)): float(k) for k, (i, j) in enumerate(zip(pre, post))}
    expected = dict(g0)
    added = np.zeros(NPRE, dtype=int)
    for i in range(NPRE):
        for j in range(NPOST):
            if (i + j) % 3 == 0 and (i, j) not in conn:
                expected[(i, j)] = 100.0 + i * 10 + j
                added[i] += 1
    got = _synapses(sg, "g", "d")
    assert {k: v[0] for k, v in got.items()} == expected
    # unreferenced synapse variables of added synapses start at 0
    for k, v in got.items():
        assert v[1] == (10.0 * g0[k] if k in g0 else 0.0)
    np.testing.assert_array_equal(ccu.pre_vars["added"].values, added)
    # own per-synapse variable, in the same order as the synapses
    assert ccu.vars["age"].values.shape == (len(expected),)
    m.run(2)
    ref = np.zeros(NPOST)
    for (i, j), w in expected.items():
        ref[j] += w
    np.testing.assert_allclose(b.vars["x"].view, ref)


def test_second_group_sharing_connectivity():
    pre, post = _connections(seed=5)
    sel = post < NPOST - 2           # the last two columns are free for add_synapse
    pre, post = pre[sel], post[sel]
    g = np.arange(pre.size, dtype=float)
    m, a, b, sg = _model("ccu_shared", pre=pre, post=post, g=g)
    c = m.add_neuron_population("c", NPOST, ONCE, {}, {"fire": 0.0, "x": 0.0})
    h = 1.0 + (np.arange(pre.size) % 4)
    sg2 = m.add_synapse_population(
        "s2", "SPARSE", a, c, init_weight_update(WU, {}, {"g": h, "d": 0.0, "e": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sg2.set_sparse_connections(pre, post)
    sg2.max_connections = NPOST
    with pytest.raises(ModelError, match="not those of"):
        # another target population: not the same connectivity
        m.add_custom_connectivity_update(
            "x", "X", sg, DEEP_R, {"thr": 1.0}, var_refs={"g": create_wu_var_ref(sg2, "g")})
    sg3 = m.add_synapse_population(
        "s3", "SPARSE", a, b, init_weight_update(WU, {}, {"g": h, "d": 0.0, "e": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sg3.set_sparse_connections(pre, post)
    sg3.max_connections = NPOST
    sg3.post_target_var = "Isyn"
    model = create_custom_connectivity_update_model(
        "Swap", params=["thr"], var_refs=[("g", "scalar"), ("h", "scalar")],
        row_update_code="""
        for_each_synapse {
            if (g < thr) {
                h = -h;
            }
            else if (h > 2.5) {
                remove_synapse();
            }
        }
        add_synapse(num_post - 1 - (id_pre % 2), 50.0, 0.25);
        """)
    m.add_custom_connectivity_update("swap", "Swap", sg, model, {"thr": 5.0},
                                     var_refs={"g": create_wu_var_ref(sg, "g"),
                                               "h": create_wu_var_ref(sg3, "g")})
    m.build()
    m.load()
    m.custom_update("Swap")
    exp1, exp3 = {}, {}
    for k, (i, j) in enumerate(zip(pre.tolist(), post.tolist())):
        if g[k] < 5.0:
            exp1[(i, j)], exp3[(i, j)] = g[k], -h[k]
        elif h[k] <= 2.5:
            exp1[(i, j)], exp3[(i, j)] = g[k], h[k]
    for i in range(NPRE):
        j = NPOST - 1 - (i % 2)
        exp1[(i, j)], exp3[(i, j)] = 50.0, 0.25
    assert {k: v[0] for k, v in _synapses(sg, "g").items()} == exp1
    assert {k: v[0] for k, v in _synapses(sg3, "g").items()} == exp3
    # the same rows in the same order in both populations
    np.testing.assert_array_equal(sg.get_sparse_post_inds(), sg3.get_sparse_post_inds())
    # the unreferenced population is untouched
    assert {k: v[0] for k, v in _synapses(sg2, "g").items()} == \
        {(int(i), int(j)): h[k] for k, (i, j) in enumerate(zip(pre, post))}
    # both populations propagate over the new connectivity (into b: the sum)
    m.run(2)
    ref = np.zeros(NPOST)
    for (i, j), w in list(exp1.items()) + list(exp3.items()):
        ref[j] += w
    np.testing.assert_allclose(b.vars["x"].view, ref, rtol=1e-6)
    ref_c = np.zeros(NPOST)
    np.add.at(ref_c, post, h)
    np.testing.assert_allclose(c.vars["x"].view, ref_c, rtol=1e-6)


@pytest.mark.parametrize("field", ["row_update_code", "host_update_code"])
def test_shared_connectivity_must_match(field):
    """Populations updated together must hold the same rows (here the same
    synapses, rows in the other order): the update is refused, nothing moves."""
    pre, post = _connections(seed=5)
    m, a, b, sg = _model("ccu_mismatch", pre=pre, post=post)
    sg2 = m.add_synapse_population(
        "s2", "SPARSE", a, b, init_weight_update(WU, {}, {"g": 1.0, "d": 0.0, "e": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sg2.set_sparse_connections(pre[::-1].copy(), post[::-1].copy())
    sg2.max_connections = NPOST
    code = {"row_update_code": "for_each_synapse { h = g; }",
            "host_update_code": """
            for (unsigned int i = 0; i < num_pre; i++) {
                for (unsigned int j = 0; j < row_length[i]; j++) {
                    h[(i * row_stride) + j] = g[(i * row_stride) + j];
                }
                if (row_length[i] > 0) { row_length[i]--; }
            }"""}[field]
    model = create_custom_connectivity_update_model(
        "Two", var_refs=[("g", "scalar"), ("h", "scalar")], **{field: code})
    m.add_custom_connectivity_update("two", "Two", sg, model, {},
                                     var_refs={"g": create_wu_var_ref(sg, "g"),
                                               "h": create_wu_var_ref(sg2, "g")})
    m.build()
    m.load()
    with pytest.raises(RuntimeStateError, match="connectivity differs"):
        m.custom_update("Two")
    order = np.argsort(pre[::-1], kind="stable")
    for s, p, q in ((sg, pre, post), (sg2, pre[::-1][order], post[::-1][order])):
        np.testing.assert_array_equal(s.get_sparse_pre_inds(), p)
        np.testing.assert_array_equal(s.get_sparse_post_inds(), q)
    np.testing.assert_array_equal(sg2.vars["g"].values, 1.0)


def test_pre_post_vars_and_host_code():
    pre, post = _connections(seed=7, p=0.6)
    g = np.arange(pre.size, dtype=float)
    m, a, b, sg = _model("ccu_prepost", pre=pre, post=post, g=g)
    thr = np.linspace(0.0, 2.0 * pre.size, NPOST)
    model = create_custom_connectivity_update_model(
        "PrePost", var_refs=[("g", "scalar")],
        pre_vars=[("count", "unsigned int"), ("keep", "scalar")],
        post_vars=[("thr", "scalar")], pre_var_refs=[("V", "scalar")],
        extra_global_params=[("scale", "scalar*")],
        host_update_code="""
        for (unsigned int i = 0; i < num_pre; i++) {
            keep[i] = (i % 2 == 0) ? 1.0 : scale[0];
        }
        pushkeepToDevice();
        """,
        row_update_code="""
        count = 0;
        for_each_synapse {
            if (keep < 0.5 && g < thr) {
                remove_synapse();
                continue;
            }
            count++;
        }
        V = row_length;
        """)
    ccu = m.add_custom_connectivity_update(
        "pp", "PP", sg, model, {}, {}, {"count": 0, "keep": 0.0}, {"thr": thr},
        var_refs={"g": create_wu_var_ref(sg, "g")}, pre_var_refs={"V": create_var_ref(a, "x")})
    ccu.extra_global_params["scale"].set_init_values([0.0])
    m.build()
    m.load()
    m.custom_update("PP")
    keep = np.array([1.0 if i % 2 == 0 else 0.0 for i in range(NPRE)])
    kept = [(keep[i] >= 0.5 or g[k] >= thr[j]) for k, (i, j) in enumerate(zip(pre, post))]
    kept = np.array(kept)
    np.testing.assert_array_equal(ccu.pre_vars["keep"].values, keep)
    counts = np.bincount(pre[kept], minlength=NPRE)
    np.testing.assert_array_equal(ccu.pre_vars["count"].values, counts)
    np.testing.assert_array_equal(a.vars["x"].values, counts.astype(float))
    got = {k: v[0] for k, v in _synapses(sg, "g").items()}
    assert got == {(int(pre[k]), int(post[k])): g[k] for k in np.nonzero(kept)[0]}


def test_random_removal_differs_per_call():
    pre, post = _connections(seed=2, p=1.0)
    m, a, b, sg = _model("ccu_rng", pre=pre, post=post)
    m.seed = 1234
    model = create_custom_connectivity_update_model(
        "Rand", row_update_code="""
        for_each_synapse {
            if (gennrand_uniform() < 0.3) { remove_synapse(); }
        }""")
    m.add_custom_connectivity_update("rand", "Rand", sg, model)
    m.build()
    m.load()
    m.custom_update("Rand")
    first = sg.get_sparse_post_inds().copy(), sg.get_sparse_pre_inds().copy()
    assert 0 < first[0].size < pre.size
    m.custom_update("Rand")
    second = sg.get_sparse_pre_inds()
    assert second.size < first[0].size       # the second call drew new numbers


def test_row_overflow_is_an_error():
    pre, post = np.array([0, 0, 1]), np.array([0, 1, 2])
    m, a, b, sg = _model("ccu_overflow", pre=pre, post=post, max_connections=3)
    model = create_custom_connectivity_update_model(
        "Fill", var_refs=[("g", "scalar")],
        row_update_code="add_synapse(3, 1.0); add_synapse(4, 1.0);")
    m.add_custom_connectivity_update("fill", "Fill", sg, model, {},
                                     var_refs={"g": create_wu_var_ref(sg, "g")})
    m.build()
    m.load()
    with pytest.raises(RuntimeStateError, match="add_synapse"):
        m.custom_update("Fill")
    # the rows never grow beyond their padded length
    assert np.bincount(sg.get_sparse_pre_inds()).max() == 3


def _build_error(row_update_code, name, **kwargs):
    m, a, b, sg = _model(name)
    model = create_custom_connectivity_update_model("Bad", row_update_code=row_update_code,
                                                    **kwargs)
    refs = {"g": create_wu_var_ref(sg, "g")} if "var_refs" in kwargs else {}
    post_vars = {v[0]: 0.0 for v in kwargs.get("post_vars", [])}
    m.add_custom_connectivity_update("bad", "Bad", sg, model, {}, {}, {}, post_vars,
                                     var_refs=refs)
    m.build()


@pytest.mark.parametrize("code, kwargs, match", [
    ("remove_synapse();", {}, "only be called inside for_each_synapse"),
    ("for_each_synapse { add_synapse(0, 1.0); }", {"var_refs": [("g", "scalar")]},
     "cannot be called inside for_each_synapse"),
    ("add_synapse(0);", {"var_refs": [("g", "scalar")]}, "takes 2 arguments"),
    ("for_each_synapse { thr = 1.0; }", {"post_vars": [("thr", "scalar")]}, "read-only"),
    ("for_each_synapse { for_each_synapse { } }", {}, "nested"),
    ("for_each_synapse { zz = 1; }", {}, "zz"),
])
def test_code_errors(code, kwargs, match):
    with pytest.raises(CodeError, match=match):
        _build_error(code, "ccu_code_error", **kwargs)


def test_model_errors():
    with pytest.raises(ModelError, match="row_length"):
        create_custom_connectivity_update_model("X", vars=[("row_length", "scalar")])
    with pytest.raises(ModelError, match="remove_synapse"):
        create_custom_connectivity_update_model("X", params=["remove_synapse"])
    m, a, b, sg = _model("ccu_errors")
    model = create_custom_connectivity_update_model("M", var_refs=[("g", "scalar")],
                                                    row_update_code="")
    with pytest.raises(ModelError, match="missing"):
        m.add_custom_connectivity_update("c1", "G", sg, model, {})
    with pytest.raises(ModelError, match="not allowed|identifier"):
        m.add_custom_connectivity_update("bad name", "G", sg, model, {},
                                         var_refs={"g": create_wu_var_ref(sg, "g")})
    with pytest.raises(ModelError):
        m.add_custom_connectivity_update("c2", "bad group", sg, model, {},
                                         var_refs={"g": create_wu_var_ref(sg, "g")})
    with pytest.raises(ModelError, match="per-synapse"):
        m.add_custom_connectivity_update("c3", "G", sg, model, {},
                                         var_refs={"g": create_var_ref(a, "x")})
    dense = m.add_synapse_population(
        "dense", "DENSE", a, b, init_weight_update(WU, {}, {"g": 1.0, "d": 0.0, "e": 0.0}),
        init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match="SPARSE"):
        m.add_custom_connectivity_update("c4", "G", dense, model, {},
                                         var_refs={"g": create_wu_var_ref(dense, "g")})
    with pytest.raises(ModelError, match="create_custom_connectivity_update_model"):
        m.add_custom_connectivity_update("c5", "G", sg, "DeepR")


def test_batched_reference_is_refused():
    m, a, b, sg = _model("ccu_batched_ref", batch_size=2)
    model = create_custom_connectivity_update_model(
        "B", var_refs=[("d", "scalar")], row_update_code="for_each_synapse { d = 0.0; }")
    m.add_custom_connectivity_update("c", "G", sg, model, {},
                                     var_refs={"d": create_wu_var_ref(sg, "d")})
    with pytest.raises(ModelError, match="batch"):
        m.build()


def test_host_update_and_rows_draw_from_different_streams():
    """The host update and row 0 must not draw the same random numbers (the
    host update once used row 0's Philox counter)."""
    draws = create_custom_connectivity_update_model(
        "Draws", pre_vars=[("rowDraw", "scalar"), ("hostDraw", "scalar")],
        host_update_code="""
        for (unsigned int i = 0; i < num_pre; i++) {
            hostDraw[i] = gennrand_uniform();
        }""",
        row_update_code="rowDraw = gennrand_uniform();")
    m, a, b, sg = _model("ccu_host_rng")
    m.seed = 5
    ccu = m.add_custom_connectivity_update("draws", "Draws", sg, draws, {}, {},
                                           {"rowDraw": 0.0, "hostDraw": 0.0})
    m.build()
    m.load()
    m.custom_update("Draws")
    row = ccu.pre_vars["rowDraw"].values
    host = ccu.pre_vars["hostDraw"].values
    # every draw is a distinct uniform number: no two of the 2 * NPRE coincide
    assert np.all((row > 0) & (row < 1)) and np.all((host > 0) & (host < 1))
    assert np.unique(np.concatenate([row, host])).size == 2 * NPRE


@pytest.mark.parametrize("batch_size", [1, 2])
def test_per_synapse_variables_initialised_by_snippets(batch_size):
    """A connectivity update's per-synapse variables may be initialised by
    snippets reading id_pre/id_post (after the rows exist), and random
    ones draw inside their range; they follow their synapses on removal."""
    from ml_genn.genn import create_var_init_snippet, init_var
    index_init = create_var_init_snippet("PrePost", params=["scale"],
                                         var_init_code="value = (id_pre * scale) + id_post;")
    model = create_custom_connectivity_update_model(
        "Tagged", vars=[("tag", "scalar"), ("noise", "scalar")],
        row_update_code="""
        for_each_synapse {
            if (id_post % 2 == 0) { remove_synapse(); }
        }""")
    pre, post = _connections(seed=3)
    m, a, b, sg = _model(f"ccu_snippet_init_{batch_size}", batch_size, pre=pre, post=post)
    ccu = m.add_custom_connectivity_update(
        "tagged", "Tag", sg, model, {},
        {"tag": init_var(index_init, {"scale": 100.0}),
         "noise": init_var("Uniform", {"min": 2.0, "max": 3.0})})
    m.build()
    m.load()
    tags = ccu.vars["tag"].values
    np.testing.assert_array_equal(tags, 100.0 * sg.get_sparse_pre_inds()
                                  + sg.get_sparse_post_inds())
    noise = ccu.vars["noise"].values
    assert np.all((noise >= 2.0) & (noise <= 3.0)) and np.unique(noise).size == noise.size
    m.custom_update("Tag")
    sg.pull_connectivity_from_device()
    kept_pre, kept_post = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
    assert np.all(kept_post % 2 == 1) and kept_post.size == np.sum(post % 2 == 1)
    np.testing.assert_array_equal(ccu.vars["tag"].values, 100.0 * kept_pre + kept_post)


def test_connectivity_updates_cannot_run_between_the_steps_of_run():
    """run(n, custom_updates=...) refuses groups holding connectivity updates
    (their row changes are worked out in Python after each call)."""
    m, a, b, sg = _model("ccu_not_per_step")
    m.add_custom_connectivity_update("prune", "Prune", sg, DEEP_R, {"thr": 7.0},
                                     var_refs={"g": create_wu_var_ref(sg, "g")})
    m.build()
    m.load()
    with pytest.raises(ModelError, match="'Prune' holds custom connectivity updates"):
        m.run(3, custom_updates=["Prune"])
    assert m.timestep == 0


# -- host_update_code: the connectivity and per-synapse arrays ---------------

def test_host_update_reads_connectivity_and_synapse_values():
    """The host update sees row lengths, indices and per-synapse values as
    whole arrays (in-degree and the weight sum per target, as in NumPy)."""
    pre, post = _connections(seed=11)
    g = np.linspace(0.5, 3.0, pre.size)
    model = create_custom_connectivity_update_model(
        "Degree", var_refs=[("g", "scalar")], post_vars=[("degree", "unsigned int"),
                                                         ("total", "scalar")],
        pre_vars=[("first", "unsigned int")],
        host_update_code="""
        for (unsigned int i = 0; i < num_pre; i++) {
            first[i] = (row_length[i] > 0) ? ind[i * row_stride] : num_post;
            for (unsigned int j = 0; j < row_length[i]; j++) {
                const unsigned int k = i * row_stride + j;
                degree[ind[k]]++;
                total[ind[k]] += g[k];
            }
        }
        pullConnectivityFromDevice();
        """)
    m, a, b, sg = _model("ccu_host_read", pre=pre, post=post, g=g, max_connections=NPOST + 2)
    ccu = m.add_custom_connectivity_update(
        "deg", "Degree", sg, model, {}, {}, {"first": 0}, {"degree": 0, "total": 0.0},
        var_refs={"g": create_wu_var_ref(sg, "g")})
    m.build()
    m.load()
    m.custom_update("Degree")
    np.testing.assert_array_equal(ccu.post_vars["degree"].values,
                                  np.bincount(post, minlength=NPOST))
    total = np.zeros(NPOST)
    np.add.at(total, post, g)
    np.testing.assert_allclose(ccu.post_vars["total"].values, total, rtol=1e-6)
    first = [post[pre == i][0] if np.any(pre == i) else NPOST for i in range(NPRE)]
    np.testing.assert_array_equal(ccu.pre_vars["first"].values, first)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_host_update_rewires_every_population_sharing_the_connectivity(batch_size):
    """Host code retargets synapses and shortens rows: both populations
    sharing the connectivity change together, per-synapse values written by
    index land on their synapses, and spikes propagate (forward and, through
    the rebuilt column view, backward) over the new rows."""
    pre, post = _connections(seed=4)
    g = np.arange(pre.size, dtype=float) + 1.0
    h = 100.0 + np.arange(pre.size, dtype=float)
    back = create_weight_update_model(
        "Back", vars=[("g", "scalar", VarAccess.READ_ONLY), ("n", "scalar")],
        pre_spike_syn_code="addToPost(g);", post_spike_syn_code="n += 1;")
    m, a, b, sg = _model(f"ccu_host_rewire_{batch_size}", batch_size, pre=pre, post=post, g=g)
    sg2 = m.add_synapse_population(
        "s2", "SPARSE", a, b, init_weight_update(back, {}, {"g": h, "n": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sg2.set_sparse_connections(pre, post)
    sg2.max_connections = NPOST
    model = create_custom_connectivity_update_model(
        "Rewire", var_refs=[("g", "scalar"), ("h", "scalar")], vars=[("age", "scalar")],
        pre_vars=[("old", "unsigned int")],
        host_update_code="""
        for (unsigned int i = 0; i < num_pre; i++) {
            for (unsigned int j = 0; j < row_length[i]; j++) {
                const unsigned int k = (i * row_stride) + j;
                ind[k] = (ind[k] + 1) % num_post;
                age[k] = 10.0 * i + j;
                h[k] = g[k] * 2.0;
            }
            if (i % 2 == 1 && row_length[i] > 0) {
                old[i] = row_length[i]--;
            }
        }
        pushConnectivityToDevice();
        pushhToDevice();
        """)
    ccu = m.add_custom_connectivity_update(
        "rewire", "Rewire", sg, model, {}, {"age": 0.0}, {"old": 0},
        var_refs={"g": create_wu_var_ref(sg, "g"), "h": create_wu_var_ref(sg2, "g")})
    m.build()
    m.load()
    m.custom_update("Rewire")
    # NumPy: the same rewiring of the CSR rows
    exp_pre, exp_post, exp_g, exp_age, old = [], [], [], [], np.zeros(NPRE, dtype=int)
    for i in range(NPRE):
        row = np.nonzero(pre == i)[0]
        keep = row[:-1] if (i % 2 == 1 and row.size) else row
        if i % 2 == 1 and row.size:
            old[i] = row.size
        for j, k in enumerate(keep):
            exp_pre.append(i)
            exp_post.append((post[k] + 1) % NPOST)
            exp_g.append(g[k])
            exp_age.append(10.0 * i + j)
    for s in (sg, sg2):
        s.pull_connectivity_from_device()
        np.testing.assert_array_equal(s.get_sparse_pre_inds(), exp_pre)
        np.testing.assert_array_equal(s.get_sparse_post_inds(), exp_post)
    np.testing.assert_array_equal(sg.vars["g"].values, exp_g)
    np.testing.assert_array_equal(sg2.vars["g"].values, 2.0 * np.array(exp_g))
    np.testing.assert_array_equal(ccu.vars["age"].values, exp_age)
    np.testing.assert_array_equal(ccu.pre_vars["old"].values, old)
    # only even targets spike (once, at the first step): their incoming synapses count it
    b.vars["fire"].values = (np.arange(NPOST) % 2 == 0).astype(float)
    b.vars["fire"].push_to_device()
    m.run(2)
    ref = np.zeros(NPOST)
    np.add.at(ref, exp_post, 3.0 * np.array(exp_g))        # g + h = 3 g
    np.testing.assert_allclose(np.asarray(b.vars["x"].view).reshape(batch_size, NPOST),
                               np.tile(ref, (batch_size, 1)), rtol=1e-6)
    n = np.asarray(sg2.vars["n"].values).reshape(batch_size, -1)
    np.testing.assert_array_equal(n, np.tile(np.array(exp_post) % 2 == 0, (batch_size, 1)))


@pytest.mark.parametrize("code, problem", [
    ("ind[0] = num_post;", r"postsynaptic index \(ind\[...\]\) outside"),
    ("row_length[1] = row_stride + 1;", "row length outside 0 .. row_stride"),
    ("row_length[2] -= 100;", "row length outside 0 .. row_stride"),
    ("const unsigned int x = ind[num_pre * row_stride]; old[0] = x;", "indexed outside"),
    ("row_length[num_pre] = 0;", "indexed outside"),
])
def test_host_update_connectivity_writes_are_checked(code, problem):
    """A write that would break the rows (index beyond the target, row
    longer than its padding or negative) is skipped and reported; the rows
    stay as they were."""
    model = create_custom_connectivity_update_model(
        "Bad", pre_vars=[("old", "unsigned int")], host_update_code=code)
    pre, post = _connections(seed=6)
    m, a, b, sg = _model("ccu_host_bad", pre=pre, post=post)
    m.add_custom_connectivity_update("bad", "Bad", sg, model, {}, {}, {"old": 0})
    m.build()
    m.load()
    with pytest.raises(RuntimeStateError, match=problem) as info:
        m.custom_update("Bad")
    # one problem, one message
    others = {"postsynaptic index (ind", "row length outside", "indexed outside"}
    assert sum(o in str(info.value) for o in others) == 1, str(info.value)
    np.testing.assert_array_equal(sg.get_sparse_pre_inds(), pre)
    np.testing.assert_array_equal(sg.get_sparse_post_inds(), post)


@pytest.mark.parametrize("code, problem", [
    ("ind[0] *= 2;", "cannot be applied to elements of 'ind'"),
    ("row_length[0] = 1.5;", "must be an integer"),
    ("ind[0.0] = 1;", "must be an integer"),
])
def test_host_update_connectivity_write_forms_are_checked_at_build(code, problem):
    model = create_custom_connectivity_update_model("Form", host_update_code=code)
    m, a, b, sg = _model("ccu_host_form")
    m.add_custom_connectivity_update("form", "Form", sg, model, {}, {})
    with pytest.raises(CodeError, match=problem):
        m.build()

