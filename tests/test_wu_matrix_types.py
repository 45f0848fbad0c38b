"""Weight-update models on every matrix type, against NumPy references
written from GeNN's semantics: postsynaptic learning (STDP) on SPARSE
through the column view, postsynaptic spike-like events on DENSE and
SPARSE, BITMASK connectivity, addToPre in every synaptic code kind and
addToPostDelay from synapse dynamics.

Step order (per batch element): synapse update (synapse dynamics, then
propagation of last step's presynaptic spikes/events, then postsynaptic
learning for last step's postsynaptic spikes/events), then the neuron
update (addToPost/addToPostDelay input and addToPre input are seen in the
same step)."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model, create_weight_update_model,
                          init_postsynaptic, init_sparse_connectivity, init_weight_update)
from ml_genn.genn.errors import ModelError

f32 = np.float32

# regular spiker: spikes when Phase reaches Period (per batch element), and
# integrates its input into V
SPIKER = create_neuron_model(
    "Spiker", vars=[("Phase", "scalar"), ("Period", "scalar", VarAccess.READ_ONLY_DUPLICATE),
                    ("V", "scalar")],
    sim_code="Phase += 1.0; V += Isyn;", threshold_condition_code="Phase >= Period",
    reset_code="Phase = 0.0;")


def _spiker(model, name, periods):
    return model.add_neuron_population(name, periods.shape[-1], SPIKER, {},
                                       {"Phase": 0.0, "Period": periods, "V": 0.0})


def _spike_trains(periods, steps):
    """spikes[n, b, i] of SPIKER (Phase counts 1, 2, ... and resets on a spike)."""
    phase = np.zeros(periods.shape, f32)
    out = np.zeros((steps,) + periods.shape, bool)
    for n in range(steps):
        phase += 1
        out[n] = phase >= periods
        phase[out[n]] = 0
    return out


def _random_mask(rng, n_pre, n_post, p):
    mask = rng.random((n_pre, n_post)) < p
    mask[0, :] = False       # an empty row
    mask[:, 1] = False       # an empty column
    return mask


def _shuffled_synapses(mask, rng):
    """(pre, post) of the mask's synapses in a random order (rows keep the
    user's order)."""
    pre, post = np.nonzero(mask)
    order = rng.permutation(pre.size)
    return pre[order], post[order]


def _set_connections(syn, mask, rng):
    syn.set_sparse_connections(*_shuffled_synapses(mask, rng))


# ---------------------------------------------------------------------------
# STDP (built-in, nearest-spike additive) on SPARSE vs DENSE vs NumPy
# ---------------------------------------------------------------------------
STDP_PARAMS = {"tauPlus": 10.0, "tauMinus": 12.0, "Aplus": 0.1, "Aminus": 0.12,
               "Wmin": 0.0, "Wmax": 1.0}


def _stdp_reference(mask, g0, pre_spk, post_spk, p):
    steps, batch, _ = pre_spk.shape
    n_pre, n_post = mask.shape
    g = np.broadcast_to(np.where(mask, g0, 0.0), (batch, n_pre, n_post)).astype(np.float64)
    v_post = np.zeros((batch, n_post))
    st_pre = np.full((batch, n_pre), -np.inf)
    st_post = np.full((batch, n_post), -np.inf)
    for n in range(steps):
        t = float(n)
        for b in range(batch):
            if n > 0:
                in_post = np.zeros(n_post)
                for i in np.nonzero(pre_spk[n - 1, b])[0]:
                    cols = np.nonzero(mask[i])[0]
                    in_post[cols] += g[b, i, cols]
                    tdiff = t - (st_post[b, cols] + 1.0)
                    dep = tdiff > 0
                    new = g[b, i, cols] - p["Aminus"] * np.exp(-tdiff / p["tauMinus"])
                    g[b, i, cols] = np.where(dep, np.clip(new, p["Wmin"], p["Wmax"]),
                                             g[b, i, cols])
                for j in np.nonzero(post_spk[n - 1, b])[0]:
                    rows = np.nonzero(mask[:, j])[0]
                    tdiff = t - (st_pre[b, rows] + 1.0)
                    pot = tdiff > 0
                    new = g[b, rows, j] + p["Aplus"] * np.exp(-tdiff / p["tauPlus"])
                    g[b, rows, j] = np.where(pot, np.clip(new, p["Wmin"], p["Wmax"]),
                                             g[b, rows, j])
                v_post[b] += in_post
            st_pre[b, pre_spk[n, b]] = t
            st_post[b, post_spk[n, b]] = t
    return g, v_post


@pytest.mark.parametrize("batch", [1, 3])
def test_stdp_sparse_equals_dense_and_numpy(batch):
    rng = np.random.default_rng(1)
    n_pre, n_post, steps = 11, 9, 80
    pre_periods = rng.integers(3, 9, size=(batch, n_pre)).astype(f32)
    post_periods = rng.integers(3, 9, size=(batch, n_post)).astype(f32)
    mask = _random_mask(rng, n_pre, n_post, 0.5)
    g0 = rng.uniform(0.2, 0.8, size=(n_pre, n_post)).astype(f32)
    results = {}
    for conn in ("DENSE", "SPARSE", "SPARSE_FULL"):
        model = GeNNModel("float", f"stdp_{conn.lower()}_{batch}")
        model.dt = 1.0
        model.batch_size = batch
        pre = _spiker(model, "Pre", pre_periods)
        post = _spiker(model, "Post", post_periods)
        if conn == "DENSE":
            g_init = g0.ravel()
        else:
            syn_pre, syn_post = _shuffled_synapses(
                np.ones_like(mask) if conn == "SPARSE_FULL" else mask, rng)
            g_init = g0[syn_pre, syn_post]
        syn = model.add_synapse_population(
            "S", "DENSE" if conn == "DENSE" else "SPARSE", pre, post,
            init_weight_update("STDP", STDP_PARAMS, {"g": g_init}),
            init_postsynaptic("DeltaCurr"))
        if conn != "DENSE":
            syn.set_sparse_connections(syn_pre, syn_post)
        model.build()
        model.load()
        model.run(steps)
        if conn == "DENSE":
            g = syn.vars["g"].view.reshape(batch, n_pre, n_post).copy()
        else:
            g = np.zeros((batch, n_pre, n_post), f32)
            vals = syn.vars["g"].values.reshape(batch, -1)
            g[:, syn.get_sparse_pre_inds(), syn.get_sparse_post_inds()] = vals
        results[conn] = (g, post.vars["V"].view.reshape(batch, n_post).copy())
        model.unload()
    pre_spk = _spike_trains(pre_periods, steps)
    post_spk = _spike_trains(post_periods, steps)
    g_ref, v_ref = _stdp_reference(mask, g0.astype(np.float64), pre_spk, post_spk,
                                   STDP_PARAMS)
    # learning happened, in both directions
    assert np.any(g_ref[:, mask] > g0[mask] + 1e-3) and np.any(g_ref[:, mask] < g0[mask] - 1e-3)
    np.testing.assert_allclose(results["SPARSE"][0], g_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results["SPARSE"][1], v_ref, rtol=1e-5, atol=1e-5)
    # full SPARSE connectivity (rows in a shuffled order) learns exactly like
    # DENSE: the same updates of each synapse in the same order
    np.testing.assert_array_equal(results["SPARSE_FULL"][0], results["DENSE"][0])
    g_full_ref, v_full_ref = _stdp_reference(np.ones_like(mask), g0.astype(np.float64),
                                             pre_spk, post_spk, STDP_PARAMS)
    np.testing.assert_allclose(results["DENSE"][0], g_full_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results["DENSE"][1], v_full_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(results["SPARSE_FULL"][1], v_full_ref, rtol=1e-5, atol=1e-5)


COUNT_POST = create_weight_update_model(
    "CountPost", vars=[("c", "scalar")], post_spike_syn_code="c += id_pre + 1.0;")


def test_column_view_follows_new_connectivity():
    """set_sparse_connections after load() rebuilds the column view."""
    rng = np.random.default_rng(2)
    n_pre, n_post, steps = 6, 5, 12
    post_periods = np.full((1, n_post), 2.0, f32)
    model = GeNNModel("float", "column_view")
    model.dt = 1.0
    pre = _spiker(model, "Pre", np.full((1, n_pre), 100.0, f32))
    post = _spiker(model, "Post", post_periods)
    syn = model.add_synapse_population(
        "S", "SPARSE", pre, post, init_weight_update(COUNT_POST, {}, {"c": 0.0}),
        init_postsynaptic("DeltaCurr"))
    mask1 = _random_mask(rng, n_pre, n_post, 0.5)
    _set_connections(syn, mask1, rng)
    model.build()
    model.load()
    model.run(steps)
    spikes = _spike_trains(post_periods, steps)[:-1, 0].sum(axis=0)   # seen by learning
    c = syn.vars["c"].values[0] if syn.vars["c"].values.ndim > 1 else syn.vars["c"].values
    pre_i, post_i = syn.get_sparse_pre_inds(), syn.get_sparse_post_inds()
    np.testing.assert_array_equal(c, (pre_i + 1.0) * spikes[post_i])
    # new connectivity (no longer than the rows built for)
    mask2 = np.zeros_like(mask1)
    mask2[np.arange(n_pre), (np.arange(n_pre) * 2) % n_post] = True
    mask2[3, 0] = True
    _set_connections(syn, mask2, rng)
    syn.vars["c"].values = 0.0
    model.run(steps)
    spikes2 = _spike_trains(post_periods, 2 * steps)[steps - 1:-1, 0].sum(axis=0)
    pre_i, post_i = syn.get_sparse_pre_inds(), syn.get_sparse_post_inds()
    c = syn.vars["c"].values.ravel()
    np.testing.assert_array_equal(c, (pre_i + 1.0) * spikes2[post_i])


# ---------------------------------------------------------------------------
# postsynaptic spike-like events
# ---------------------------------------------------------------------------
# the target has an event whenever its Phase is 1 (the step after a spike or
# the first step); each synapse onto it counts the events and sends g back
POST_EVENT = create_weight_update_model(
    "PostEvent", vars=[("g", "scalar", VarAccess.READ_ONLY), ("c", "scalar")],
    post_neuron_var_refs=[("PostPhase", "scalar")],
    post_event_threshold_condition_code="PostPhase == 1.0",
    post_event_syn_code="c += 1.0; addToPre(g);")


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("conn", ["DENSE", "SPARSE"])
def test_post_spike_like_events(conn, batch):
    rng = np.random.default_rng(3)
    n_pre, n_post, steps = 7, 6, 25
    post_periods = rng.integers(2, 6, size=(batch, n_post)).astype(f32)
    mask = _random_mask(rng, n_pre, n_post, 0.6) if conn == "SPARSE" else \
        np.ones((n_pre, n_post), bool)
    g = rng.integers(1, 5, size=(n_pre, n_post)).astype(f32)
    syn_pre, syn_post = _shuffled_synapses(mask, rng)
    model = GeNNModel("float", f"post_events_{conn.lower()}_{batch}")
    model.dt = 1.0
    model.batch_size = batch
    pre = _spiker(model, "Pre", np.full((batch, n_pre), 1000.0, f32))
    post = _spiker(model, "Post", post_periods)
    post.spike_event_recording_enabled = True
    syn = model.add_synapse_population(
        "S", conn, pre, post,
        init_weight_update(POST_EVENT, {}, {"g": g[syn_pre, syn_post] if conn == "SPARSE"
                                            else g.ravel(),
                                            "c": 0.0},
                           post_var_refs={"PostPhase": "Phase"}),
        init_postsynaptic("DeltaCurr"))
    if conn == "SPARSE":
        syn.set_sparse_connections(syn_pre, syn_post)
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    # reference: events at the end of step n where Phase == 1 after the update
    phase = np.zeros((batch, n_post), f32)
    events = np.zeros((steps, batch, n_post), bool)
    for n in range(steps):
        phase += 1
        events[n] = phase == 1.0
        phase[phase >= post_periods] = 0
    c_ref = np.zeros((batch, n_pre, n_post))
    back = np.zeros((batch, n_pre))
    for n in range(1, steps):
        ev = events[n - 1].astype(float)                  # [batch, post]
        c_ref += mask[None] * ev[:, None, :]
        back += np.einsum("ij,bj->bi", g * mask, ev)
    np.testing.assert_array_equal(pre.vars["V"].view.reshape(batch, n_pre), back)
    if conn == "SPARSE":
        c = np.zeros((batch, n_pre, n_post))
        c[:, syn.get_sparse_pre_inds(), syn.get_sparse_post_inds()] = \
            syn.vars["c"].values.reshape(batch, -1)
    else:
        c = syn.vars["c"].view.reshape(batch, n_pre, n_post)
    np.testing.assert_array_equal(c, c_ref)
    for b in range(batch):
        times, ids = post.spike_event_recording_data[b]
        ref_t, ref_i = np.nonzero(events[:, b])
        np.testing.assert_array_equal(ids, ref_i)
        np.testing.assert_array_equal(times, ref_t.astype(float))


# ---------------------------------------------------------------------------
# BITMASK connectivity
# ---------------------------------------------------------------------------
PULSE_BACK = create_weight_update_model(
    "PulseBack", params=["g"], pre_spike_syn_code="addToPost(g); addToPre(1.0);",
    post_spike_syn_code="addToPre(100.0);")


def _run_bitmask_like(conn, batch, pre_periods, post_periods, steps, name, mask=None,
                      connect=None, seed=5):
    model = GeNNModel("float", name)
    model.dt = 1.0
    model.batch_size = batch
    model.seed = seed
    pre = _spiker(model, "Pre", pre_periods)
    post = _spiker(model, "Post", post_periods)
    if conn == "DENSE":
        wu = create_weight_update_model(
            "PulseBackDense", vars=[("m", "scalar", VarAccess.READ_ONLY)],
            pre_spike_syn_code="addToPost(0.5 * m); addToPre(m);",
            post_spike_syn_code="addToPre(100.0 * m);")
        init = init_weight_update(wu, {}, {"m": mask.astype(f32).ravel()})
    else:
        init = init_weight_update(PULSE_BACK, {"g": 0.5})
    syn = model.add_synapse_population("S", conn, pre, post, init,
                                       init_postsynaptic("DeltaCurr"), connect)
    if conn != "DENSE" and connect is None:
        pre_i, post_i = np.nonzero(mask)
        syn.set_sparse_connections(pre_i, post_i)
    model.build()
    model.load()
    model.run(steps)
    out = (pre.vars["V"].view.reshape(batch, -1).copy(),
           post.vars["V"].view.reshape(batch, -1).copy())
    sparse = (syn.get_sparse_pre_inds(), syn.get_sparse_post_inds()) if conn == "SPARSE" \
        else None
    model.unload()
    return out, sparse


@pytest.mark.parametrize("batch", [1, 3])
def test_bitmask_equals_dense_and_sparse(batch):
    rng = np.random.default_rng(4)
    n_pre, n_post, steps = 13, 37, 30     # rows share 32-bit words
    pre_periods = rng.integers(2, 7, size=(batch, n_pre)).astype(f32)
    post_periods = rng.integers(2, 7, size=(batch, n_post)).astype(f32)
    # built by the same row_build_code (same seed and stream): the same synapses
    fp = init_sparse_connectivity("FixedProbability", {"prob": 0.3})
    (bm_pre, bm_post), _ = _run_bitmask_like("BITMASK", batch, pre_periods, post_periods,
                                             steps, "bm_snippet", connect=fp)
    (sp_pre, sp_post), (pre_i, post_i) = _run_bitmask_like(
        "SPARSE", batch, pre_periods, post_periods, steps, "bm_snippet", connect=fp)
    mask = np.zeros((n_pre, n_post), bool)
    mask[pre_i, post_i] = True
    assert 0 < mask.sum() < mask.size
    (de_pre, de_post), _ = _run_bitmask_like("DENSE", batch, pre_periods, post_periods,
                                             steps, "bm_dense", mask=mask)
    np.testing.assert_array_equal(bm_post, sp_post)
    np.testing.assert_array_equal(bm_pre, sp_pre)
    np.testing.assert_array_equal(bm_post, de_post)
    np.testing.assert_array_equal(bm_pre, de_pre)
    # NumPy: inputs from last step's spikes through the mask
    pre_spk = _spike_trains(pre_periods, steps).astype(float)
    post_spk = _spike_trains(post_periods, steps).astype(float)
    m = mask.astype(float)
    ref_post = 0.5 * np.einsum("nbi,ij->bj", pre_spk[:-1], m)
    ref_pre = (np.einsum("nbi,ij->bi", pre_spk[:-1], m)
               + 100.0 * np.einsum("nbj,ij->bi", post_spk[:-1], m))
    np.testing.assert_array_equal(bm_post, ref_post)
    np.testing.assert_array_equal(bm_pre, ref_pre)
    # BITMASK from set_sparse_connections
    (us_pre, us_post), _ = _run_bitmask_like("BITMASK", batch, pre_periods, post_periods,
                                             steps, "bm_user", mask=mask)
    np.testing.assert_array_equal(us_post, ref_post)
    np.testing.assert_array_equal(us_pre, ref_pre)


def test_bitmask_rejects_synapse_variables():
    model = GeNNModel("float", "bm_vars")
    a = _spiker(model, "A", np.full((1, 3), 2.0, f32))
    with pytest.raises(ModelError, match="BITMASK connectivity stores no per-synapse state"):
        model.add_synapse_population(
            "S", "BITMASK", a, a, init_weight_update("StaticPulse", {}, {"g": 1.0}),
            init_postsynaptic("DeltaCurr"),
            init_sparse_connectivity("FixedProbability", {"prob": 0.5}))


# ---------------------------------------------------------------------------
# addToPre from every synaptic code kind
# ---------------------------------------------------------------------------
ALL_PRE = create_weight_update_model(
    "AllPre", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("PrePhase", "scalar")],
    post_neuron_var_refs=[("PostPhase", "scalar")],
    pre_event_threshold_condition_code="PrePhase == 1.0",
    post_event_threshold_condition_code="PostPhase == 2.0",
    pre_spike_syn_code="addToPre(g);",
    pre_event_syn_code="addToPre(10.0 * g);",
    post_spike_syn_code="addToPre(100.0 * g);",
    post_event_syn_code="addToPre(1000.0 * g);",
    synapse_dynamics_code="addToPre(10000.0 * g);")


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("conn", ["DENSE", "SPARSE"])
def test_add_to_pre_in_every_code_kind(conn, batch):
    rng = np.random.default_rng(6)
    n_pre, n_post, steps = 5, 4, 12
    pre_periods = rng.integers(2, 5, size=(batch, n_pre)).astype(f32)
    post_periods = rng.integers(3, 6, size=(batch, n_post)).astype(f32)
    mask = _random_mask(rng, n_pre, n_post, 0.6) if conn == "SPARSE" else \
        np.ones((n_pre, n_post), bool)
    g = np.where(mask, rng.integers(1, 4, size=(n_pre, n_post)), 0).astype(f32)
    model = GeNNModel("double", f"all_pre_{conn.lower()}_{batch}")
    model.dt = 1.0
    model.batch_size = batch
    pre = _spiker(model, "Pre", pre_periods)
    post = _spiker(model, "Post", post_periods)
    syn = model.add_synapse_population(
        "S", conn, pre, post,
        init_weight_update(ALL_PRE, {}, {"g": g[mask] if conn == "SPARSE" else g.ravel()},
                           pre_var_refs={"PrePhase": "Phase"},
                           post_var_refs={"PostPhase": "Phase"}),
        init_postsynaptic("DeltaCurr"))
    if conn == "SPARSE":
        pre_i, post_i = np.nonzero(mask)
        syn.set_sparse_connections(pre_i, post_i)
    model.build()
    model.load()
    model.run(steps)

    def phases(periods):
        phase = np.zeros(periods.shape)
        out = np.zeros((steps,) + periods.shape)
        for n in range(steps):
            phase += 1
            out[n] = phase          # after sim code, before the reset
            phase[phase >= periods] = 0
        return out
    ph_pre, ph_post = phases(pre_periods), phases(post_periods)
    spk_pre, spk_post = ph_pre >= pre_periods, ph_post >= post_periods
    ev_pre, ev_post = ph_pre == 1.0, ph_post == 2.0
    row = g.sum(axis=1)
    back = np.zeros((batch, n_pre))
    for n in range(steps):
        back += 10000.0 * row                          # synapse dynamics, every step
        if n > 0:
            back += spk_pre[n - 1] * row + 10.0 * ev_pre[n - 1] * row
            back += 100.0 * (spk_post[n - 1] @ g.T) + 1000.0 * (ev_post[n - 1] @ g.T)
    np.testing.assert_array_equal(pre.vars["V"].view.reshape(batch, n_pre), back)


# ---------------------------------------------------------------------------
# addToPostDelay from synapse dynamics (continuous, dendritically delayed)
# ---------------------------------------------------------------------------
DELAYED_DYNAMICS = create_weight_update_model(
    "DelayedDynamics", vars=[("g", "scalar", VarAccess.READ_ONLY),
                             ("d", "uint8_t", VarAccess.READ_ONLY)],
    synapse_dynamics_code="addToPostDelay(g * (t + 1.0), d);")


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("conn", ["DENSE", "SPARSE"])
def test_add_to_post_delay_from_synapse_dynamics(conn, batch):
    rng = np.random.default_rng(7)
    n_pre, n_post, steps, max_delay = 4, 6, 14, 5
    mask = _random_mask(rng, n_pre, n_post, 0.6) if conn == "SPARSE" else \
        np.ones((n_pre, n_post), bool)
    g = np.where(mask, rng.integers(1, 4, size=(n_pre, n_post)), 0).astype(f32)
    d = rng.integers(0, max_delay, size=(n_pre, n_post)).astype(np.uint8)
    model = GeNNModel("double", f"den_dynamics_{conn.lower()}_{batch}")
    model.dt = 1.0
    model.batch_size = batch
    pre = _spiker(model, "Pre", np.full((batch, n_pre), 1000.0, f32))
    post = _spiker(model, "Post", np.full((batch, n_post), 1000.0, f32))
    sel = (lambda a: a[mask]) if conn == "SPARSE" else (lambda a: a.ravel())
    syn = model.add_synapse_population(
        "S", conn, pre, post,
        init_weight_update(DELAYED_DYNAMICS, {}, {"g": sel(g), "d": sel(d)}),
        init_postsynaptic("DeltaCurr"))
    syn.max_dendritic_delay_timesteps = max_delay
    if conn == "SPARSE":
        pre_i, post_i = np.nonzero(mask)
        syn.set_sparse_connections(pre_i, post_i)
    model.build()
    model.load()
    model.run(steps)
    # synapse (i, j) adds g * (m + 1) in step m; it arrives in step m + d
    v = np.zeros(n_post)
    for n in range(steps):
        m = n - d.astype(int)
        v += np.where(m >= 0, g * (m + 1.0), 0.0).sum(axis=0)
    np.testing.assert_array_equal(post.vars["V"].view.reshape(batch, n_post),
                                  np.broadcast_to(v, (batch, n_post)))


# ---------------------------------------------------------------------------
# one batch element shared among threads (C++ backend): groups with
# postsynaptic learning or events run whole; results do not depend on the
# number of threads
# ---------------------------------------------------------------------------
def _shared_network(threads):
    rng = np.random.default_rng(8)
    n_pre, n_post, steps = 150, 100, 60
    model = GeNNModel("float", "wu_shared_steps")
    model.dt = 1.0
    model.seed = 9
    model.num_threads = threads
    pre = _spiker(model, "Pre", rng.integers(2, 9, size=(1, n_pre)).astype(f32))
    post = _spiker(model, "Post", rng.integers(2, 9, size=(1, n_post)).astype(f32))
    post.spike_event_recording_enabled = True
    mask = _random_mask(rng, n_pre, n_post, 0.2)
    syn_pre, syn_post = _shuffled_synapses(mask, rng)
    stdp = model.add_synapse_population(
        "Stdp", "SPARSE", pre, post,
        init_weight_update("STDP", STDP_PARAMS, {"g": rng.uniform(0.2, 0.8, syn_pre.size)}),
        init_postsynaptic("DeltaCurr"))
    stdp.set_sparse_connections(syn_pre, syn_post)
    events = model.add_synapse_population(
        "Events", "SPARSE", pre, post,
        init_weight_update(POST_EVENT, {}, {"g": rng.integers(1, 4, syn_pre.size), "c": 0.0},
                           post_var_refs={"PostPhase": "Phase"}),
        init_postsynaptic("DeltaCurr"))
    events.set_sparse_connections(syn_pre, syn_post)
    model.add_synapse_population(
        "Bits", "BITMASK", pre, post, init_weight_update(PULSE_BACK, {"g": 0.25}),
        init_postsynaptic("DeltaCurr"),
        init_sparse_connectivity("FixedProbability", {"prob": 0.1}))
    model.add_synapse_population(
        "Static", "SPARSE", pre, post,
        init_weight_update("StaticPulse", {}, {"g": 0.125}),
        init_postsynaptic("DeltaCurr")).set_sparse_connections(*np.nonzero(mask))
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    return (stdp.vars["g"].values, events.vars["c"].values, pre.vars["V"].values,
            post.vars["V"].values, post.spike_event_recording_data[0][1])


def test_shared_steps_any_number_of_threads(monkeypatch):
    monkeypatch.setenv("ML_GENN_SHARE_STEPS", "1")
    one = _shared_network(1)
    assert one[4].size > 100
    three = _shared_network(3)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)


def test_errors_of_matrix_types():
    def model_with(name):
        m = GeNNModel("float", name)
        a = _spiker(m, "A", np.full((1, 3), 2.0, f32))
        return m, a
    # half of a post event pair
    half = create_weight_update_model("HalfEvent", post_event_syn_code="addToPre(1.0);")
    m, a = model_with("half_post_event")
    m.add_synapse_population("S", "DENSE", a, a, init_weight_update(half),
                             init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match="post_event_syn_code and "
                                         "post_event_threshold_condition_code go together"):
        m.build()
    # postsynaptic learning on procedural connectivity
    m, a = model_with("procedural_learning")
    learn = create_weight_update_model("Learn", params=["g"], pre_spike_syn_code="addToPost(g);",
                                       post_spike_syn_code="addToPre(g);")
    m.add_synapse_population("S", "PROCEDURAL", a, a, init_weight_update(learn, {"g": 1.0}),
                             init_postsynaptic("DeltaCurr"),
                             init_sparse_connectivity("FixedProbability", {"prob": 0.5}))
    with pytest.raises(ModelError, match="postsynaptic learning .* needs DENSE, SPARSE or "
                                         "BITMASK connectivity, not PROCEDURAL"):
        m.build()
    # BITMASK without connectivity
    m, a = model_with("bitmask_nothing")
    m.add_synapse_population("S", "BITMASK", a, a,
                             init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
                             init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match="is BITMASK: give init_sparse_connectivity"):
        m.build()
    # BITMASK synapse dynamics (DENSE and SPARSE only, as in GeNN)
    m, a = model_with("bitmask_dynamics")
    dyn = create_weight_update_model("Dyn", params=["g"], synapse_dynamics_code="addToPost(g);")
    m.add_synapse_population("S", "BITMASK", a, a, init_weight_update(dyn, {"g": 1.0}),
                             init_postsynaptic("DeltaCurr"),
                             init_sparse_connectivity("FixedProbability", {"prob": 0.5}))
    with pytest.raises(ModelError, match="synapse_dynamics_code needs DENSE or SPARSE"):
        m.build()


# -- DENSE_PROCEDURALG: weights computed again from their init snippets ------

def _dense_procedural(name, weight_init, wu, batch=1, matrix="DENSE_PROCEDURALG",
                      periods=None, precision="float"):
    from ml_genn.genn import init_var
    rng = np.random.default_rng(21)
    if periods is None:
        periods = rng.integers(1, 5, (batch, 7)).astype(f32)
    model = GeNNModel(precision, name)
    model.dt = 1.0
    model.seed = 7
    model.batch_size = batch
    pre = _spiker(model, "Pre", periods if batch > 1 else periods[0])
    post = _spiker(model, "Post", np.full(5, 1000.0, f32))
    model.add_synapse_population(
        "S", matrix, pre, post,
        init_weight_update(wu, {}, {"g": init_var(*weight_init)}),
        init_postsynaptic("DeltaCurr"))
    return model, post, periods


def _index_weight_snippet():
    from ml_genn.genn import create_var_init_snippet
    return create_var_init_snippet("IndexWeight", params=["a"],
                                   var_init_code="value = (a * id_pre) - id_post;")


READ_ONLY_PULSE = create_weight_update_model(
    "ReadOnlyPulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_spike_syn_code="addToPost(g);")


@pytest.mark.parametrize("batch", [1, 2])
def test_dense_procedural_weights_from_a_deterministic_snippet(batch):
    """Weights a * id_pre - id_post, never stored: the same input as DENSE
    holding them, and as NumPy."""
    init = (_index_weight_snippet(), {"a": 0.5})
    steps = 12
    got = {}
    for matrix in ("DENSE_PROCEDURALG", "DENSE"):
        model, post, periods = _dense_procedural(f"dense_proc_{matrix}_{batch}", init,
                                                 READ_ONLY_PULSE, batch, matrix=matrix)
        model.build()
        model.load()
        model.run(steps)
        got[matrix] = np.asarray(post.vars["V"].values).reshape(batch, 5)
    w = 0.5 * np.arange(7)[:, None] - np.arange(5)[None, :]
    spikes = _spike_trains(periods, steps)           # [step, batch, pre]
    want = spikes[:steps - 1].sum(axis=0).astype(float) @ w   # delivered the step after
    np.testing.assert_allclose(got["DENSE_PROCEDURALG"], want, rtol=1e-6)
    np.testing.assert_array_equal(got["DENSE_PROCEDURALG"], got["DENSE"])


def test_dense_procedural_random_weights_are_the_same_at_every_use():
    """Uniform weights drawn from each synapse's own stream: a spike of the
    same neuron always adds the same column of weights (propagation and
    synapse dynamics read the same values), the weights lie in their range
    and differ between synapses; a second load gives the same weights."""
    both = create_weight_update_model(
        "PulseAndDrift", vars=[("g", "scalar", VarAccess.READ_ONLY)],
        pre_spike_syn_code="addToPost(g);", synapse_dynamics_code="addToPost(100.0 * g);")
    init = ("Uniform", {"min": -1.0, "max": 2.0})
    outputs = []
    for load in (1, 2):
        # neuron i spikes every i + 1 steps from step i: independent spike trains
        model, post, periods = _dense_procedural(
            f"dense_proc_random_{load}", init, both,
            periods=np.arange(1, 8, dtype=f32)[None, :], precision="double")
        model.build()
        model.load()
        # step 0: no spike has arrived yet, synapse dynamics alone: 100 * column sums
        model.step_time()
        col = np.asarray(post.vars["V"].values).copy() / 100.0
        trace = []
        for _ in range(10):
            before = np.asarray(post.vars["V"].values).copy()
            model.step_time()
            trace.append(np.asarray(post.vars["V"].values) - before - 100.0 * col)
        outputs.append((col, np.array(trace)))
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_array_equal(outputs[0][1], outputs[1][1])
    col, trace = outputs[0]
    spikes = _spike_trains(periods, 11)[:, 0]        # [step, pre]
    # each step's input: the weights of last step's spiking neurons; solve for W
    X = spikes[:10].astype(float)
    W, *_ = np.linalg.lstsq(X, trace, rcond=None)
    assert np.linalg.matrix_rank(X) == 7
    np.testing.assert_allclose(X @ W, trace, atol=1e-9)       # one W explains every step
    np.testing.assert_allclose(W.sum(axis=0), col, atol=1e-9)  # synapse dynamics saw it too
    assert np.all(W > -1.0) and np.all(W < 2.0)
    assert np.unique(np.round(W, 4)).size == W.size


def test_dense_procedural_weights_must_be_read_only():
    model, post, _ = _dense_procedural("dense_proc_rw", ("Uniform", {"min": 0.0, "max": 1.0}),
                                       create_weight_update_model(
                                           "RW", vars=[("g", "scalar")],
                                           pre_spike_syn_code="addToPost(g);"))
    with pytest.raises(ModelError, match="READ_ONLY"):
        model.build()


def test_dense_procedural_weights_have_no_storage():
    from ml_genn.genn import RuntimeStateError, create_wu_var_ref
    model, post, _ = _dense_procedural("dense_proc_storage", (_index_weight_snippet(), {"a": 1.0}),
                                       READ_ONLY_PULSE)
    sg = model.synapse_populations["S"]
    with pytest.raises(ModelError, match="DENSE_PROCEDURALG, so its variables are computed"):
        create_wu_var_ref(sg, "g")
    model.build()
    model.load()
    with pytest.raises(RuntimeStateError, match="has no storage: synapse population 'S' is "
                                                "DENSE_PROCEDURALG"):
        sg.vars["g"].values


def test_dense_procedural_weights_are_shared_by_the_batch():
    """A variable with a copy per batch element cannot be regenerated once
    for the whole batch: refused at build (batch 2), accepted at batch 1."""
    dup = create_weight_update_model(
        "DupPulse", vars=[("g", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
        pre_spike_syn_code="addToPost(g);")
    model, post, _ = _dense_procedural("dense_proc_dup", ("Uniform", {"min": 0.0, "max": 1.0}),
                                       dup, batch=2)
    with pytest.raises(ModelError, match="'g' has a copy per batch element"):
        model.build()
    model, post, _ = _dense_procedural("dense_proc_dup1", ("Uniform", {"min": 0.0, "max": 1.0}),
                                       dup, batch=1)
    model.build()
