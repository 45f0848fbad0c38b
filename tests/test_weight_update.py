"""Weight-update features beyond spike propagation, against NumPy references:
spike-like events, pre/post variables and spike/dynamics code, addToPre,
postsynaptic learning and neuron variable references."""
import numpy as np

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model,
                          create_weight_update_model, init_postsynaptic, init_weight_update)

# A source that spikes while Input > 0; its Input is visible to synapses.
SIGNED_SOURCE = create_neuron_model(
    "SignedSource", vars=[("Input", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    threshold_condition_code="Input > 0.0")
INTEGRATOR = create_neuron_model(
    "Integrator", vars=[("V", "scalar")], sim_code="V += Isyn;")
SIGNED_SYNAPSE = create_weight_update_model(
    "SignedPulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("In", "scalar", )],
    pre_event_threshold_condition_code="In < 0.0",
    pre_spike_syn_code="addToPost(g);",
    pre_event_syn_code="addToPost(-g);")


def test_signed_spikes_through_spike_like_events():
    rng = np.random.default_rng(0)
    n_in, n_out, batch = 12, 7, 3
    x = rng.integers(-1, 2, size=(batch, n_in)).astype(np.float32)
    w = rng.integers(-8, 9, size=(n_in, n_out)).astype(np.float32) / 4
    model = GeNNModel("float", "signed")
    model.dt = 1.0
    model.batch_size = batch
    src = model.add_neuron_population("In", n_in, SIGNED_SOURCE, {}, {"Input": x})
    src.spike_recording_enabled = True
    src.spike_event_recording_enabled = True
    out = model.add_neuron_population("Out", n_out, INTEGRATOR, {}, {"V": 0.0})
    for conn in ("DENSE", "SPARSE"):
        syn = model.add_synapse_population(
            f"Syn{conn}", conn, src, out,
            init_weight_update(SIGNED_SYNAPSE, {}, {"g": w.ravel()}, pre_var_refs={"In": "Input"}),
            init_postsynaptic("DeltaCurr"))
        if conn == "SPARSE":
            pre, post = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
            syn.set_sparse_connections(pre.ravel(), post.ravel())
    model.build()
    model.load(num_recording_timesteps=2)
    model.run(2)
    # after 2 steps each projection delivered sign(x) @ W exactly once
    np.testing.assert_array_equal(out.vars["V"].view, 2 * (np.sign(x) @ w))
    for b in range(batch):
        _, ids = src.spike_recording_data[b]
        np.testing.assert_array_equal(ids, np.tile(np.nonzero(x[b] > 0)[0], 2))
        _, ev_ids = src.spike_event_recording_data[b]
        np.testing.assert_array_equal(ev_ids, np.tile(np.nonzero(x[b] < 0)[0], 2))


TRACE_SYNAPSE = create_weight_update_model(
    "Traces", params=["Decay"],
    vars=[("g", "scalar"), ("PostCount", "scalar")],
    pre_vars=[("PreTrace", "scalar"), ("PreCount", "scalar")],
    post_vars=[("PostSpikes", "scalar")],
    pre_neuron_var_refs=[("PrePhase", "scalar", )],
    pre_spike_syn_code="addToPost(g); addToPre(1.0);",
    pre_spike_code="PreTrace += 1.0; PreCount += PrePhase + 1.0;",
    pre_dynamics_code="PreTrace *= Decay;",
    post_spike_code="PostSpikes += 1.0;",
    post_spike_syn_code="PostCount += 1.0;")


def test_pre_post_code_traces_add_to_pre_and_post_learning():
    n_pre, n_post, steps, decay = 5, 4, 60, 0.75
    pre_periods = np.arange(2, 2 + n_pre, dtype=np.float32)
    post_periods = np.arange(3, 3 + n_post, dtype=np.float32)
    model = GeNNModel("float", "traces")
    model.dt = 1.0
    # regular spikers with per-neuron periods; the source also integrates addToPre input
    pre_model = create_neuron_model(
        "RevVar", vars=[("Phase", "scalar"), ("Back", "scalar"),
                        ("Period", "scalar", VarAccess.READ_ONLY)],
        sim_code="Phase += 1.0; Back += Isyn;", threshold_condition_code="Phase >= Period",
        reset_code="Phase = 0.0;")
    pre_pop = model.add_neuron_population("PreV", n_pre, pre_model, {},
                                          {"Phase": 0.0, "Back": 0.0, "Period": pre_periods})
    post_model = create_neuron_model(
        "RegVar", vars=[("Phase", "scalar"), ("Period", "scalar", VarAccess.READ_ONLY),
                        ("V", "scalar")],
        sim_code="Phase += 1.0; V += Isyn;", threshold_condition_code="Phase >= Period",
        reset_code="Phase = 0.0;")
    post_pop = model.add_neuron_population("Post", n_post, post_model, {},
                                           {"Phase": 0.0, "Period": post_periods, "V": 0.0})
    pre_pop.spike_recording_enabled = True
    post_pop.spike_recording_enabled = True
    syn = model.add_synapse_population(
        "S", "DENSE", pre_pop, post_pop,
        init_weight_update(TRACE_SYNAPSE, {"Decay": decay}, {"g": 1.0, "PostCount": 0.0},
                           {"PreTrace": 0.0, "PreCount": 0.0}, {"PostSpikes": 0.0},
                           pre_var_refs={"PrePhase": "Phase"}),
        init_postsynaptic("DeltaCurr"))
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)

    # NumPy reference from the execution order: synapse update (spikes of last
    # step), then neuron update: sim, pre/post dynamics, threshold, spike code.
    f = np.float32
    phase_pre = np.zeros(n_pre, f)
    phase_post = np.zeros(n_post, f)
    trace = np.zeros(n_pre, f)
    count = np.zeros(n_pre, f)
    back = np.zeros(n_pre, f)
    v = np.zeros(n_post, f)
    post_spikes = np.zeros(n_post, f)
    post_count = np.zeros((n_pre, n_post), f)
    last_pre = np.zeros(n_pre, bool)
    last_post = np.zeros(n_post, bool)
    pre_ref, post_ref = [], []
    for step in range(steps):
        in_post = f(last_pre.sum()) * np.ones(n_post, f)      # g = 1 from every spiking pre
        out_pre = np.where(last_pre, f(n_post), f(0))           # addToPre(1) per synapse
        post_count[:, last_post] += 1
        phase_pre += 1
        back += out_pre
        trace *= f(decay)
        spk_pre = phase_pre >= pre_periods
        trace[spk_pre] += 1
        count[spk_pre] += phase_pre[spk_pre] + 1
        phase_pre[spk_pre] = 0
        phase_post += 1
        v += in_post
        spk_post = phase_post >= post_periods
        post_spikes[spk_post] += 1
        phase_post[spk_post] = 0
        last_pre, last_post = spk_pre, spk_post
        pre_ref += [(step, i) for i in np.nonzero(spk_pre)[0]]
        post_ref += [(step, i) for i in np.nonzero(spk_post)[0]]

    _, ids = pre_pop.spike_recording_data[0]
    np.testing.assert_array_equal(ids, [i for _, i in pre_ref])
    np.testing.assert_array_equal(syn.pre_vars["PreTrace"].view, trace)
    np.testing.assert_array_equal(syn.pre_vars["PreCount"].view, count)
    np.testing.assert_array_equal(syn.post_vars["PostSpikes"].view, post_spikes)
    np.testing.assert_array_equal(pre_pop.vars["Back"].view, back)
    np.testing.assert_array_equal(post_pop.vars["V"].view, v)
    np.testing.assert_array_equal(syn.vars["PostCount"].view.reshape(n_pre, n_post), post_count)
    assert post_count.sum() > 20 and trace.sum() > 1


def test_custom_updates_on_synapse_variables():
    """Element-wise update with synapse indices and a batch reduction of a
    batched synapse variable (the pattern of gradient accumulation)."""
    from ml_genn.genn import VarAccessMode, create_custom_update_model, create_wu_var_ref
    n_pre, n_post, batch = 6, 5, 3
    rng = np.random.default_rng(5)
    pre = np.repeat(np.arange(n_pre), 3)
    post = rng.integers(0, n_post, pre.size)
    grad_model = create_weight_update_model(
        "Grad", vars=[("g", "scalar", VarAccess.READ_ONLY), ("Grad", "scalar")],
        pre_spike_syn_code="addToPost(g);")
    model = GeNNModel("float", "syn_cu")
    model.batch_size = batch
    a = model.add_neuron_population("A", n_pre, INTEGRATOR, {}, {"V": 0.0})
    b = model.add_neuron_population("B", n_post, INTEGRATOR, {}, {"V": 0.0})
    grads = rng.integers(-4, 5, size=(batch, pre.size)).astype(np.float32)
    dense = model.add_synapse_population(
        "Dense", "DENSE", a, b, init_weight_update(grad_model, {}, {"g": 0.0, "Grad": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sparse = model.add_synapse_population(
        "Sparse", "SPARSE", a, b, init_weight_update(grad_model, {}, {"g": 0.0, "Grad": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sparse.set_sparse_connections(pre, post)
    index_model = create_custom_update_model(
        "Index", var_refs=[("W", "scalar", VarAccessMode.READ_WRITE)],
        update_code="W = (scalar)(id_pre * 100 + id_post);")
    reduce_model = create_custom_update_model(
        "Reduce", var_refs=[("G", "scalar", VarAccessMode.READ_ONLY),
                            ("W", "scalar", VarAccessMode.REDUCE_SUM)],
        update_code="W = G;")
    for sg in (dense, sparse):
        model.add_custom_update(f"Index{sg.name}", "Index", index_model, {}, {},
                                {"W": create_wu_var_ref(sg, "g")})
        model.add_custom_update(f"Reduce{sg.name}", "Reduce", reduce_model, {}, {},
                                {"G": create_wu_var_ref(sg, "Grad"),
                                 "W": create_wu_var_ref(sg, "g")})
    model.build()
    model.load()
    model.custom_update("Index")
    ii, jj = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
    np.testing.assert_array_equal(dense.vars["g"].values.reshape(n_pre, n_post), ii * 100 + jj)
    np.testing.assert_array_equal(sparse.vars["g"].values, pre * 100 + post)
    # batched gradients summed over the batch into the shared weight
    sparse.vars["Grad"].values = grads
    dense_grads = rng.integers(-4, 5, size=(batch, n_pre * n_post)).astype(np.float32)
    dense.vars["Grad"].values = dense_grads
    model.custom_update("Reduce")
    np.testing.assert_array_equal(sparse.vars["g"].values, grads.sum(axis=0))
    np.testing.assert_array_equal(dense.vars["g"].values, dense_grads.sum(axis=0))


# Records the presynaptic spike time as synaptic code sees it.
ARRIVAL = create_weight_update_model(
    "Arrival", vars=[("seen", "scalar")],
    pre_spike_syn_code="seen = st_pre;")


def test_synaptic_code_sees_spike_times_at_arrival():
    """As in GeNN 5: st_pre in synaptic code is the spike time plus
    (axonal delay + 1) * dt, the time the spike reaches the synapse."""
    from ml_genn.genn import init_var
    spike_step, dt = 3, 0.5
    for delay in (0, 2):
        model = GeNNModel("double", f"arrival_{delay}")
        model.dt = dt
        src = model.add_neuron_population(
            "Src", 1, "SpikeSourceArray", {}, {"startSpike": 0, "endSpike": 1})
        src.extra_global_params["spikeTimes"].set_init_values(np.array([spike_step * dt]))
        trg = model.add_neuron_population("Trg", 1, INTEGRATOR, {}, {"V": 0.0})
        syn = model.add_synapse_population(
            "Syn", "DENSE", src, trg, init_weight_update(ARRIVAL, {}, {"seen": init_var(
                "Constant", {"constant": -1.0})}), init_postsynaptic("DeltaCurr"))
        syn.axonal_delay_steps = delay
        model.build()
        model.load()
        model.run(spike_step + delay + 3)
        syn.vars["seen"].pull_from_device()
        assert syn.vars["seen"].values[0] == spike_step * dt + (delay + 1) * dt
