"""Reference kinds of GeNN 5.4 in custom updates: transposed weight
references (and the Transpose built-in), weight-update pre/post variables,
the dendritic delay ring, spike counts and EGP references of weight update
and postsynaptic models; checked against NumPy."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, VarAccessMode, create_custom_update_model,
                          create_den_delay_var_ref, create_psm_egp_ref,
                          create_src_spike_count_var_ref, create_weight_update_model,
                          create_wu_egp_ref, create_wu_post_var_ref, create_wu_pre_var_ref,
                          create_wu_var_ref, create_neuron_model, create_postsynaptic_model,
                          init_postsynaptic, init_weight_update)
from ml_genn.genn.errors import ModelError

SILENT = create_neuron_model("Silent", vars=[("V", "scalar")], sim_code="V += Isyn;")
ALWAYS = create_neuron_model("Always", vars=[("V", "scalar")], sim_code="V += Isyn;",
                             threshold_condition_code="true")
SCALE = create_custom_update_model(
    "Scale", params=["k"], var_refs=[("variable", "scalar", VarAccessMode.READ_WRITE)],
    update_code="variable *= k;")
SET = create_custom_update_model(
    "Set", params=["level"], var_refs=[("target", "scalar", VarAccessMode.READ_WRITE)],
    update_code="target = level;")


def _pair(name, batch_size=1, batched=False):
    rng = np.random.default_rng(1)
    model = GeNNModel("float", name)
    model.batch_size = batch_size
    a = model.add_neuron_population("A", 5, SILENT, {}, {"V": 0.0})
    b = model.add_neuron_population("B", 3, SILENT, {}, {"V": 0.0})
    access = VarAccess.READ_WRITE if batched else VarAccess.READ_ONLY
    wum = create_weight_update_model("W", vars=[("g", "scalar", access)],
                                     pre_spike_syn_code="addToPost(g);")
    g = rng.integers(-8, 9, (5, 3)).astype(np.float32) / 4
    fwd = model.add_synapse_population("Fwd", "DENSE", a, b,
                                       init_weight_update(wum, {}, {"g": g.ravel()}),
                                       init_postsynaptic("DeltaCurr"))
    back = model.add_synapse_population("Back", "DENSE", b, a,
                                        init_weight_update(wum, {}, {"g": 0.0}),
                                        init_postsynaptic("DeltaCurr"))
    return model, fwd, back, g


def test_transpose_builtin_copies_the_transposed_weights():
    model, fwd, back, g = _pair("transpose_builtin")
    model.add_custom_update("T", "Transpose", "Transpose", {}, {},
                            {"variable": create_wu_var_ref(fwd, "g", back, "g")})
    model.build()
    model.load()
    model.custom_update("Transpose")
    np.testing.assert_array_equal(back.vars["g"].values.reshape(3, 5), g.T)
    np.testing.assert_array_equal(fwd.vars["g"].values.reshape(5, 3), g)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_updated_weights_are_written_transposed(batch_size):
    model, fwd, back, g = _pair(f"transpose_scale_{batch_size}", batch_size, batched=True)
    model.add_custom_update("S", "Scale", SCALE, {"k": -2.0}, {},
                            {"variable": create_wu_var_ref(fwd, "g", back, "g")})
    model.build()
    model.load()
    model.custom_update("Scale")
    fw = fwd.vars["g"].values.reshape(batch_size, 5, 3)
    bw = back.vars["g"].values.reshape(batch_size, 3, 5)
    for b in range(batch_size):
        np.testing.assert_array_equal(fw[b], -2.0 * g)
        np.testing.assert_array_equal(bw[b], -2.0 * g.T)


def test_transpose_needs_dense_groups_of_transposed_shape():
    model, fwd, back, g = _pair("transpose_errors")
    c = model.add_neuron_population("C", 4, SILENT, {}, {"V": 0.0})
    wrong = model.add_synapse_population(
        "Wrong", "DENSE", c, model.neuron_populations["A"],
        init_weight_update("StaticPulse", {}, {"g": 0.0}), init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match="transpose of 'Fwd' connects 3 to 5"):
        create_wu_var_ref(fwd, "g", wrong, "g")
    with pytest.raises(ModelError, match="needs both transpose_sg and transpose_var_name"):
        create_wu_var_ref(fwd, "g", back)


def test_weight_update_pre_and_post_variable_references():
    model = GeNNModel("float", "wu_pre_post_refs")
    a = model.add_neuron_population("A", 4, SILENT, {}, {"V": 0.0})
    b = model.add_neuron_population("B", 6, SILENT, {}, {"V": 0.0})
    wum = create_weight_update_model(
        "Traces", vars=[("g", "scalar", VarAccess.READ_ONLY)],
        pre_vars=[("x", "scalar")], post_vars=[("y", "scalar")],
        pre_spike_syn_code="addToPost(g);")
    sg = model.add_synapse_population(
        "S", "DENSE", a, b, init_weight_update(wum, {}, {"g": 0.0}, {"x": 1.0}, {"y": 2.0}),
        init_postsynaptic("DeltaCurr"))
    model.add_custom_update("X", "U", SCALE, {"k": 3.0}, {},
                            {"variable": create_wu_pre_var_ref(sg, "x")})
    model.add_custom_update("Y", "U", SET, {"level": -1.5}, {},
                            {"target": create_wu_post_var_ref(sg, "y")})
    model.build()
    model.load()
    model.custom_update("U")
    np.testing.assert_array_equal(sg.pre_vars["x"].values, np.full(4, 3.0))
    np.testing.assert_array_equal(sg.post_vars["y"].values, np.full(6, -1.5))
    with pytest.raises(ModelError, match="presynaptic weight update variable 'y'"):
        create_wu_pre_var_ref(sg, "y")


def test_clearing_the_dendritic_delay_ring_and_spike_counts():
    """A source that spikes every step feeds delayed input; clearing the ring
    (and the source's spike counts) drops everything still in flight."""
    steps_before, delay = 3, 4
    model = GeNNModel("float", "den_delay_ref")
    model.dt = 1.0
    src = model.add_neuron_population("Src", 2, ALWAYS, {}, {"V": 0.0})
    trg = model.add_neuron_population("Trg", 3, SILENT, {}, {"V": 0.0})
    sg = model.add_synapse_population(
        "S", "DENSE", src, trg,
        init_weight_update("StaticPulseDendriticDelay", {}, {"g": 1.0, "d": float(delay)}),
        init_postsynaptic("DeltaCurr"))
    sg.max_dendritic_delay_timesteps = delay + 1
    model.add_custom_update("Clear", "Reset", SET, {"level": 0.0}, {},
                            {"target": create_den_delay_var_ref(sg)})
    count_model = create_custom_update_model(
        "ClearCounts", var_refs=[("c", "uint32_t", VarAccessMode.READ_WRITE)],
        update_code="c = 0;")
    model.add_custom_update("ClearCount", "Reset", count_model, {}, {},
                            {"c": create_src_spike_count_var_ref(sg)})
    model.build()
    model.load()
    model.run(steps_before)
    assert model._arrays[("S", "denDelay")].any()
    model.custom_update("Reset")
    assert not model._arrays[("S", "denDelay")].any()
    assert not model._arrays[("Src", "spkCnt")].any()
    v = trg.vars["V"].values.copy()
    # inputs propagated at steps 1 and 2 would arrive at steps 5 and 6; after
    # the reset, the first spikes propagate at step 4 and arrive at step 8
    model.run(delay)
    np.testing.assert_array_equal(trg.vars["V"].values, v)
    other = GeNNModel("float", "no_ring")
    p = other.add_neuron_population("P", 2, SILENT, {}, {"V": 0.0})
    plain = other.add_synapse_population(
        "N", "DENSE", p, p, init_weight_update("StaticPulse", {}, {"g": 0.0}),
        init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match="no dendritic delay ring"):
        create_den_delay_var_ref(plain)


def test_egp_references_of_weight_update_and_postsynaptic_models():
    model = GeNNModel("float", "egp_refs")
    a = model.add_neuron_population("A", 2, SILENT, {}, {"V": 0.0})
    b = model.add_neuron_population("B", 4, SILENT, {}, {"V": 0.0})
    wum = create_weight_update_model("E", extra_global_params=[("table", "scalar*")],
                                     pre_spike_syn_code="addToPost(table[0]);")
    psm = create_postsynaptic_model("P", extra_global_params=[("gain", "scalar*")],
                                    sim_code="injectCurrent(inSyn * gain[0]); inSyn = 0.0;")
    sg = model.add_synapse_population("S", "DENSE", a, b, init_weight_update(wum),
                                      init_postsynaptic(psm))
    sg.extra_global_params["table"].set_init_values(np.array([0.5, 1.5, 2.5, 3.5], np.float32))
    sg.psm_extra_global_params["gain"].set_init_values(np.array([4.0, 8.0], np.float32))
    read = create_custom_update_model(
        "Read", vars=[("out", "scalar")],
        extra_global_param_refs=[("tab", "scalar*"), ("k", "scalar*")],
        update_code="out = tab[id] * k[id % 2];")
    cu = model.add_custom_update("R", "Read", read, {}, {"out": 0.0}, {},
                                 {"tab": create_wu_egp_ref(sg, "table"),
                                  "k": create_psm_egp_ref(sg, "gain")})
    cu_size = cu.size
    model.build()
    model.load()
    model.custom_update("Read")
    ids = np.arange(cu_size)
    np.testing.assert_array_equal(cu.vars["out"].values,
                                  np.array([0.5, 1.5, 2.5, 3.5])[ids] * np.array([4.0, 8.0])[ids % 2])


@pytest.mark.parametrize("conn", ["DENSE", "SPARSE"])
@pytest.mark.parametrize("batch_size", [1, 2])
def test_custom_update_with_its_own_per_synapse_variables(conn, batch_size):
    """Optimiser-like state per synapse (a momentum m, a snippet-initialised
    r), over DENSE or SPARSE weights; SPARSE values are one per synapse."""
    from ml_genn.genn import init_var
    model = GeNNModel("float", f"cu_syn_vars_{conn}_{batch_size}")
    model.batch_size = batch_size
    a = model.add_neuron_population("A", 4, SILENT, {}, {"V": 0.0})
    b = model.add_neuron_population("B", 3, SILENT, {}, {"V": 0.0})
    g = np.arange(1, 13, dtype=np.float32).reshape(4, 3) / 8
    pre, post = np.array([0, 0, 1, 3]), np.array([1, 2, 0, 2])
    weights = g.ravel() if conn == "DENSE" else g[pre, post]
    sg = model.add_synapse_population("S", conn, a, b,
                                      init_weight_update("StaticPulse", {}, {"g": weights}),
                                      init_postsynaptic("DeltaCurr"))
    if conn == "SPARSE":
        sg.set_sparse_connections(pre, post)
    momentum = create_custom_update_model(
        "Momentum", vars=[("m", "scalar"), ("r", "scalar")],
        var_refs=[("w", "scalar", VarAccessMode.READ_ONLY)],
        update_code="m = 0.5 * m + w + r;")
    cu = model.add_custom_update(
        "M", "Train", momentum, {},
        {"m": 1.0, "r": init_var("Uniform", {"min": 0.0, "max": 1.0})},
        {"w": create_wu_var_ref(sg, "g")})
    model.build()
    model.load()
    model.custom_update("Train")
    model.custom_update("Train")
    r, m = cu.vars["r"].values, cu.vars["m"].values
    assert r.shape == m.shape == weights.shape
    assert np.all((r >= 0.0) & (r < 1.0)) and len(np.unique(r)) == r.size
    first = 0.5 * 1.0 + weights + r
    np.testing.assert_allclose(m, 0.5 * first + weights + r, rtol=1e-6)


@pytest.mark.parametrize("names", [("s", "p"), ("st", "prev_st")])
def test_spike_time_references_reset_spike_times(names):
    """A neuron copies st and prev_st into variables each step; a custom
    update sets both through references; afterwards the neuron sees the set
    values until it spikes again.  The references may be called st and
    prev_st (custom update code has no spike times of its own)."""
    s_name, p_name = names
    from ml_genn.genn import create_prev_spike_time_var_ref, create_spike_time_var_ref
    copier = create_neuron_model(
        "Copier", vars=[("Drive", "scalar", VarAccess.READ_ONLY), ("Last", "scalar"),
                        ("Before", "scalar")],
        sim_code="Last = st; Before = prev_st;",
        threshold_condition_code="Drive > 0.5 && t < 4.5")
    reset = create_custom_update_model(
        "ResetTimes", var_refs=[(s_name, "timepoint", VarAccessMode.READ_WRITE),
                                (p_name, "timepoint", VarAccessMode.READ_WRITE)],
        update_code=f"{s_name} = -100.0; {p_name} = -200.0;")
    model = GeNNModel("double", f"spike_time_refs_{s_name}")
    model.dt = 1.0
    pop = model.add_neuron_population("P", 3, copier, {},
                                      {"Drive": [1.0, 0.0, 1.0], "Last": 0.0, "Before": 0.0})
    model.add_custom_update("R", "Reset", reset, {}, {},
                            {s_name: create_spike_time_var_ref(pop),
                             p_name: create_prev_spike_time_var_ref(pop)})
    model.build()
    model.load()
    model.run(6)                  # neurons 0 and 2 spike at t = 0..4
    model.custom_update("Reset")
    model.run(1)
    np.testing.assert_array_equal(pop.vars["Last"].values, [-100.0, -100.0, -100.0])
    np.testing.assert_array_equal(pop.vars["Before"].values, [-200.0, -200.0, -200.0])


@pytest.mark.parametrize("batch_size", [1, 2])
def test_custom_connectivity_update_pre_and_post_variable_references(batch_size):
    from ml_genn.genn import (create_custom_connectivity_update_model, create_post_var_ref,
                              create_pre_var_ref)
    model = GeNNModel("float", f"ccu_var_refs_{batch_size}")
    model.batch_size = batch_size
    a = model.add_neuron_population("A", 4, SILENT, {}, {"V": 0.0})
    b = model.add_neuron_population("B", 3, SILENT, {}, {"V": 0.0})
    sg = model.add_synapse_population(
        "S", "SPARSE", a, b, init_weight_update("StaticPulse", {}, {"g": 1.0}),
        init_postsynaptic("DeltaCurr"))
    sg.set_sparse_connections(np.array([0, 0, 1, 3, 3, 3]), np.array([1, 2, 0, 0, 1, 2]))
    counter = create_custom_connectivity_update_model(
        "Count", pre_vars=[("count", "scalar")], post_vars=[("thr", "scalar")],
        row_update_code="count = row_length;")
    ccu = model.add_custom_connectivity_update("C", "Count", sg, counter, {}, {},
                                               {"count": 0.0}, {"thr": 1.0})
    model.add_custom_update("Double", "Scale", SCALE, {"k": 2.0}, {},
                            {"variable": create_pre_var_ref(ccu, "count")})
    model.add_custom_update("Thr", "Scale", SET, {"level": 7.0}, {},
                            {"target": create_post_var_ref(ccu, "thr")})
    model.build()
    model.load()
    model.custom_update("Count")
    model.custom_update("Scale")
    np.testing.assert_array_equal(ccu.pre_vars["count"].values, [4.0, 2.0, 0.0, 6.0])
    np.testing.assert_array_equal(ccu.post_vars["thr"].values, [7.0, 7.0, 7.0])
