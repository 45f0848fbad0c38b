"""One batch element shared among threads (C++ backend): synapse groups by
postsynaptic neuron, neurons by ranges of 32, spike lists joined in order.
Results must be identical, bit for bit, for any number of threads, and equal
to a NumPy reference of the network."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model, create_weight_update_model,
                          init_postsynaptic, init_weight_update)

# V decays towards its drive, integrates input, spikes above 1 (reset to 0)
LEAKY = create_neuron_model(
    "Leaky", params=["Alpha"], vars=[("V", "scalar"), ("I", "scalar", VarAccess.READ_ONLY)],
    sim_code="V = (Alpha * V) + I + Isyn;",
    threshold_condition_code="V >= 1.0",
    reset_code="V = 0.0;")
# spikes as usual, plus spike-like events (recorded) when V is negative
EVENTS = create_weight_update_model(
    "NegativeEvents", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("Vp", "scalar", VarAccess.READ_ONLY)],
    pre_event_threshold_condition_code="Vp < -0.2",
    pre_spike_syn_code="addToPost(g);",
    pre_event_syn_code="addToPost(0.5 * g);")


def _network(name, n, seed, shuffle_rows):
    rng = np.random.default_rng(seed)
    model = GeNNModel("float", name)
    model.dt = 1.0
    model.seed = 5
    pop = model.add_neuron_population(
        "Pop", n, LEAKY, {"Alpha": 0.9},
        {"V": rng.uniform(-0.5, 1.0, n), "I": rng.uniform(0.0, 0.15, n)})
    pop.spike_recording_enabled = True
    pop.spike_event_recording_enabled = True
    other = model.add_neuron_population(
        "Other", 45, LEAKY, {"Alpha": 0.8}, {"V": 0.0, "I": 0.05})
    other.spike_recording_enabled = True
    # recurrent SPARSE (shared by postsynaptic neuron when rows are sorted)
    pre, post = np.nonzero(rng.random((n, n)) < 0.1)
    if shuffle_rows:
        order = rng.permutation(pre.size)
        pre, post = pre[order], post[order]
    g = rng.integers(-4, 9, pre.size).astype(np.float32) / 64
    rec = model.add_synapse_population(
        "Rec", "SPARSE", pop, pop, init_weight_update("StaticPulse", {}, {"g": g}),
        init_postsynaptic("DeltaCurr"))
    rec.set_sparse_connections(pre, post)
    # DENSE with events into a population that is not a multiple of 32
    w = rng.integers(-4, 9, (n, 45)).astype(np.float32) / 64
    model.add_synapse_population(
        "Out", "DENSE", pop, other,
        init_weight_update(EVENTS, {}, {"g": w.ravel()}, pre_var_refs={"Vp": "V"}),
        init_postsynaptic("ExpCurr", {"tau": 3.0}))
    # a group with an axonal delay (run whole on one thread)
    model.add_synapse_population(
        "Back", "DENSE", other, pop,
        init_weight_update("StaticPulseConstantWeight", {"g": 0.125}),
        init_postsynaptic("DeltaCurr")).axonal_delay_steps = 2
    return model, pop, other


def _run(monkeypatch, threads, shuffle_rows=False, n=300, steps=150):
    monkeypatch.setenv("ML_GENN_SHARE_STEPS", "1")
    model, pop, other = _network(f"shared_{shuffle_rows}", n, 11, shuffle_rows)
    model.num_threads = threads
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    return (pop.spike_recording_data, pop.spike_event_recording_data,
            other.spike_recording_data, pop.vars["V"].values, other.vars["V"].values,
            model.neuron_populations["Pop"].current_spikes)


@pytest.mark.parametrize("shuffle_rows", [False, True])
def test_any_number_of_threads_gives_identical_results(monkeypatch, shuffle_rows):
    one = _run(monkeypatch, 1, shuffle_rows)
    assert len(one[0][0][0]) > 200 and len(one[1][0][0]) > 50 and len(one[2][0][0]) > 10
    for threads in (2, 3):
        other = _run(monkeypatch, threads, shuffle_rows)
        for a, b in zip(one[:3], other[:3]):      # (times, ids) of batch element 0
            np.testing.assert_array_equal(a[0][0], b[0][0])
            np.testing.assert_array_equal(a[0][1], b[0][1])
        np.testing.assert_array_equal(one[3], other[3])
        np.testing.assert_array_equal(one[4], other[4])
        np.testing.assert_array_equal(one[5], other[5])


def test_shared_steps_match_a_numpy_reference(monkeypatch):
    """The recurrent population alone against the equations."""
    monkeypatch.setenv("ML_GENN_SHARE_STEPS", "1")
    rng = np.random.default_rng(3)
    n, steps = 257, 120
    v0, drive = rng.uniform(-0.5, 1.0, n), rng.uniform(0.0, 0.15, n)
    pre, post = np.nonzero(rng.random((n, n)) < 0.1)
    g = rng.integers(-4, 9, pre.size).astype(np.float32) / 64
    model = GeNNModel("float", "shared_reference")
    model.dt = 1.0
    model.num_threads = 2
    pop = model.add_neuron_population("Pop", n, LEAKY, {"Alpha": 0.9}, {"V": v0, "I": drive})
    pop.spike_recording_enabled = True
    model.add_synapse_population(
        "Rec", "SPARSE", pop, pop, init_weight_update("StaticPulse", {}, {"g": g}),
        init_postsynaptic("DeltaCurr")).set_sparse_connections(pre, post)
    model.build()
    model.load(num_recording_timesteps=steps)
    model.run(steps)
    W = np.zeros((n, n), np.float32)
    W[pre, post] = g
    v = v0.astype(np.float32)
    fired = np.zeros(n, bool)
    times, ids = [], []
    for s in range(steps):
        isyn = np.zeros(n, np.float32)
        for i in np.nonzero(fired)[0]:      # in spike order, as the engine adds them
            isyn += W[i]
        v = np.float32(0.9) * v + drive.astype(np.float32) + isyn
        fired = v >= 1.0
        v[fired] = 0.0
        times += [float(s)] * int(fired.sum())
        ids += list(np.nonzero(fired)[0])
    t, i = pop.spike_recording_data[0]
    np.testing.assert_array_equal(i, ids)
    np.testing.assert_array_equal(t, times)
    np.testing.assert_allclose(pop.vars["V"].values, v, rtol=1e-6, atol=1e-6)



def test_row_shares_follow_every_change_of_connectivity(monkeypatch):
    """Rows replaced after load (unsorted, sorted, unsorted, sorted...): each
    change gets a new row-order number, so threads never split the rows with
    shares worked out for earlier rows (two sorted changes, each after an
    unsorted one, once got the same number and propagated over stale shares)."""
    monkeypatch.setenv("ML_GENN_SHARE_STEPS", "1")
    n_src, n_dst = 100, 70
    rng = np.random.default_rng(8)
    model = GeNNModel("float", "shared_row_changes")
    model.dt = 1.0
    model.num_threads = 2
    # spikes every step (V = 0.9 V + 1 >= 1)
    src = model.add_neuron_population("Src", n_src, LEAKY, {"Alpha": 0.9}, {"V": 1.0, "I": 1.0})
    acc = create_neuron_model("Acc", vars=[("x", "scalar")], sim_code="x += Isyn;")
    dst = model.add_neuron_population("Dst", n_dst, acc, {}, {"x": 0.0})
    sg = model.add_synapse_population(
        "S", "SPARSE", src, dst, init_weight_update("StaticPulse", {}, {"g": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sg.max_connections = n_dst

    def weight(i, j):        # a weight per (pre, post) pair, whatever the order
        return 1.0 + (7 * i + 3 * j) % 8

    def connect(p, shuffle):
        pre, post = np.nonzero(rng.random((n_src, n_dst)) < p)
        if shuffle:
            order = rng.permutation(pre.size)
            pre, post = pre[order], post[order]
        sg.set_sparse_connections(pre, post)
        return pre, post

    pre, post = connect(0.3, False)
    model.build()
    model.load()
    deliveries = 2          # the first run: spikes of steps 0 and 1 arrive
    for p, shuffle in [(None, None), (0.5, True), (0.1, False), (0.6, True), (0.2, False),
                       (0.4, False), (0.3, True), (0.5, False)]:
        if p is not None:
            pre, post = connect(p, shuffle)
        sg.vars["g"].values = weight(sg.get_sparse_pre_inds(), sg.get_sparse_post_inds())
        sg.vars["g"].push_to_device()
        dst.vars["x"].values = np.zeros(n_dst)
        dst.vars["x"].push_to_device()
        model.run(3)
        want = np.zeros(n_dst)
        np.add.at(want, post, weight(pre, post))
        np.testing.assert_allclose(dst.vars["x"].values, deliveries * want, rtol=1e-6)
        deliveries = 3      # later runs: the last step's spikes arrive too
