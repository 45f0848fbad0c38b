"""Spike and spike-like-event times (st, prev_st, set, prev_set) in neuron
code and in weight-update code, axonal and back-propagation delays with the
per-slot copies of spike times and variables delayed synapses read, and
spike-like-event recording, against a NumPy reference written from GeNN's
semantics:

- every time starts at the lowest time (-TIME_MAX);
- in neuron update n (t = n * dt): first prev_st = st (prev_set = set) for a
  neuron that spiked (had a spike-like event) in step n - 1, then sim code,
  then the event condition (set = t), then the threshold (st = t);
- synaptic code of a group with axonal delay D sees the pre neuron's times
  as they were at the end of the step of the spike it processes (n - 1 - D),
  plus (D + 1) * dt; post versions likewise with the back-propagation delay;
- a neuron variable (through a neuron variable reference) and a pre/post
  variable read by delayed synaptic code have the value of that step.
"""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model,
                          create_weight_update_model, init_postsynaptic, init_weight_update)
from ml_genn.genn.errors import CodeError, ModelError

def _gpu_usable():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


BACKENDS = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not _gpu_usable(), reason="needs a CUDA GPU (the CUDA source is still compiled to PTX)"))]

NEG = np.finfo(np.float32).min     # -TIME_MAX of the float time type
F = np.float32

# spikes when bit n of S is set, a spike-like event (through the synapse's
# condition) when bit n of E is set; records its own spike times in sim code
PATTERN = create_neuron_model(
    "Pattern",
    vars=[("S", "unsigned int", VarAccess.READ_ONLY_DUPLICATE),
          ("E", "unsigned int", VarAccess.READ_ONLY_DUPLICATE),
          ("X", "scalar"), ("Rst", "scalar"), ("Rprev", "scalar"), ("Rset", "scalar"),
          ("Rpset", "scalar")],
    sim_code="Rst = st; Rprev = prev_st; Rset = set; Rpset = prev_set; X += 1.0 + id;",
    threshold_condition_code="((S >> (unsigned int)(t + 0.5)) & 1u) != 0u")

PRE_TIMES = create_weight_update_model(
    "PreTimes",
    vars=[("a", "scalar"), ("b", "scalar"), ("c", "scalar"), ("d", "scalar"), ("x", "scalar"),
          ("y", "scalar"), ("sd", "scalar"), ("sdp", "scalar")],
    pre_vars=[("pv", "scalar")],
    pre_neuron_var_refs=[("Xp", "scalar"), ("Ep", "unsigned int")],
    pre_dynamics_code="pv += 2.0;",
    pre_event_threshold_condition_code="((Ep >> (unsigned int)(t + 0.5)) & 1u) != 0u",
    pre_spike_syn_code="a = st_pre; b = prev_st_pre; x = Xp; y = pv;",
    pre_event_syn_code="c = set_pre; d = prev_set_pre;",
    synapse_dynamics_code="sd = st_pre; sdp = prev_set_pre;")

POST_TIMES = create_weight_update_model(
    "PostTimes",
    vars=[("e", "scalar"), ("f", "scalar"), ("h", "scalar"), ("k", "scalar"), ("q", "scalar"),
          ("r", "scalar")],
    post_vars=[("qv", "scalar")],
    post_neuron_var_refs=[("Xq", "scalar")],
    post_dynamics_code="qv += 3.0;",
    post_spike_syn_code="e = st_post; f = prev_st_post; h = st_pre; k = prev_st_pre; "
                        "q = Xq; r = qv;")

PRE_VARS = "a b c d x y sd sdp".split()
POST_VARS = "e f h k q r".split()
NEURON_VARS = ["Rst", "Rprev", "Rset", "Rpset", "X"]


def reference_neurons(S, E, n_steps):
    """Per step n, the state at the end of neuron update n: st, prev_st,
    set, prev_set, X (arrays [batch, neuron]) and the values sim code read."""
    st, prev = np.full(S.shape, NEG, F), np.full(S.shape, NEG, F)
    se, pse = np.full(S.shape, NEG, F), np.full(S.shape, NEG, F)
    X = np.zeros(S.shape, F)
    ids = np.arange(S.shape[1], dtype=F)
    hist, seen = [], []
    for n in range(n_steps):
        prev = np.where(st == n - 1, st, prev)
        pse = np.where(se == n - 1, se, pse)
        seen.append({"Rst": st.copy(), "Rprev": prev.copy(), "Rset": se.copy(),
                     "Rpset": pse.copy()})
        X = X + F(1) + ids
        se = np.where((E >> n) & 1, F(n), se)
        st = np.where((S >> n) & 1, F(n), st)
        hist.append({"st": st.copy(), "prev": prev.copy(), "set": se.copy(),
                     "pset": pse.copy(), "X": X.copy(), "spike": (S >> n) & 1 == 1,
                     "event": (E >> n) & 1 == 1})
    return hist, seen


def at(hist, n, key, shape):
    """State of step n (n < 0: before the first step)."""
    if n >= 0:
        return hist[n][key]
    init = {"st": NEG, "prev": NEG, "set": NEG, "pset": NEG, "X": 0.0,
            "spike": False, "event": False}[key]
    return np.full(shape, init)


def build(name, S, E, St, Et, pre_delays, post_delays, batch, n_steps,
          connectivity="DENSE", backend="cpu"):
    model = GeNNModel("float", name, backend=backend)
    model.dt = 1.0
    model.batch_size = batch
    zeros = {v: 0.0 for v in NEURON_VARS}
    src = model.add_neuron_population("Src", S.shape[1], PATTERN, {}, {"S": S, "E": E, **zeros})
    trg = model.add_neuron_population("Trg", St.shape[1], PATTERN, {},
                                      {"S": St, "E": Et, **zeros})
    src.spike_event_recording_enabled = True
    src.spike_recording_enabled = True
    pre_groups, post_groups = {}, {}
    npre, npost = S.shape[1], St.shape[1]
    for d in pre_delays:
        sg = model.add_synapse_population(
            f"Pre{d}", connectivity, src, trg,
            init_weight_update(PRE_TIMES, {}, {v: 0.0 for v in PRE_VARS}, {"pv": 0.0},
                               pre_var_refs={"Xp": "X", "Ep": "E"}),
            init_postsynaptic("DeltaCurr"))
        if connectivity == "SPARSE":
            pre, post = np.meshgrid(np.arange(npre), np.arange(npost), indexing="ij")
            sg.set_sparse_connections(pre.ravel(), post.ravel())
        sg.axonal_delay_steps = d
        pre_groups[d] = sg
    for d, bp in post_delays:
        sg = model.add_synapse_population(
            f"Post{d}_{bp}", "DENSE", src, trg,
            init_weight_update(POST_TIMES, {}, {v: 0.0 for v in POST_VARS}, {},
                               {"qv": 0.0}, post_var_refs={"Xq": "X"}),
            init_postsynaptic("DeltaCurr"))
        sg.axonal_delay_steps = d
        sg.back_prop_delay_steps = bp
        post_groups[(d, bp)] = sg
    model.build()
    model.load(num_recording_timesteps=n_steps)
    return model, src, trg, pre_groups, post_groups


def values(group, name, batch, shape):
    var = group.vars[name]
    var.pull_from_device()
    return var.values.reshape(batch, *shape)


def patterns(rng, batch, n, n_steps, density=0.4):
    bits = rng.random((batch, n, n_steps)) < density
    return (bits * (1 << np.arange(n_steps))).sum(axis=2).astype(np.uint32)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("connectivity", ["DENSE", "SPARSE"])
def test_spike_and_event_times_with_delays(connectivity, backend):
    rng = np.random.default_rng(7)
    batch, npre, npost, n_steps = 2, 4, 3, 20
    S, E = patterns(rng, batch, npre, n_steps), patterns(rng, batch, npre, n_steps)
    St, Et = patterns(rng, batch, npost, n_steps), np.zeros((batch, npost), np.uint32)
    post_delays = [(0, 0), (1, 2)] if connectivity == "DENSE" else []
    model, src, trg, pre_groups, post_groups = build(
        f"spike_times_{connectivity.lower()}_{backend}", S, E, St, Et, (0, 2), post_delays, batch,
        n_steps, connectivity, backend)
    hist, seen = reference_neurons(S, E, n_steps)
    thist, tseen = reference_neurons(St, Et, n_steps)
    shape = (batch, npre)
    # reference synapse variables, [batch, pre, post]
    ref_pre = {d: {v: np.zeros((batch, npre, npost), F) for v in PRE_VARS} for d in (0, 2)}
    ref_post = {k: {v: np.zeros((batch, npre, npost), F) for v in POST_VARS}
                for k in post_delays}
    pv = np.zeros(shape, F)
    pv_hist = []
    qv_hist = []
    qv = np.zeros((batch, npost), F)
    for n in range(n_steps):
        # synapse update of step n
        for d, ref in ref_pre.items():
            k = n - 1 - d
            shift = F(d + 1)
            if k >= 0:
                spk, evt = hist[k]["spike"], hist[k]["event"]
                for key, src_key, mask in (("a", "st", spk), ("b", "prev", spk),
                                           ("c", "set", evt), ("d", "pset", evt)):
                    val = at(hist, k, src_key, shape) + shift
                    ref[key] = np.where(mask[..., None], val[..., None], ref[key])
                ref["x"] = np.where(spk[..., None], hist[k]["X"][..., None], ref["x"])
                ref["y"] = np.where(spk[..., None], pv_hist[k][..., None], ref["y"])
            ref["sd"][:] = (at(hist, k, "st", shape) + shift)[..., None]
            ref["sdp"][:] = (at(hist, k, "pset", shape) + shift)[..., None]
        for (d, bp), ref in ref_post.items():
            k = n - 1 - bp
            if k < 0:
                continue
            spk = thist[k]["spike"][:, None, :]
            tshape = (batch, npost)
            upd = {"e": at(thist, k, "st", tshape)[:, None, :] + F(bp + 1),
                   "f": at(thist, k, "prev", tshape)[:, None, :] + F(bp + 1),
                   "h": at(hist, n - 1 - d, "st", shape)[..., None] + F(d + 1),
                   "k": at(hist, n - 1 - d, "prev", shape)[..., None] + F(d + 1),
                   "q": thist[k]["X"][:, None, :],
                   "r": qv_hist[k][:, None, :]}
            for key, val in upd.items():
                ref[key] = np.where(spk, np.broadcast_to(val, ref[key].shape), ref[key])
        # neuron update of step n
        pv = pv + F(2)
        pv_hist.append(pv.copy())
        qv = qv + F(3)
        qv_hist.append(qv.copy())
        model.run(1)
        for name, pop, s in (("Src", src, seen), ("Trg", trg, tseen)):
            for v in ("Rst", "Rprev", "Rset", "Rpset"):
                np.testing.assert_array_equal(
                    values(pop, v, batch, (pop.num_neurons,)), s[n][v],
                    err_msg=f"{name}.{v} in neuron code, step {n}")
        for d, ref in ref_pre.items():
            for v in PRE_VARS:
                np.testing.assert_array_equal(
                    values(pre_groups[d], v, batch, (npre, npost)), ref[v],
                    err_msg=f"'{v}' with axonal delay {d}, step {n}")
        for key, ref in ref_post.items():
            for v in POST_VARS:
                np.testing.assert_array_equal(
                    values(post_groups[key], v, batch, (npre, npost)), ref[v],
                    err_msg=f"'{v}' with axonal/back-propagation delays {key}, step {n}")
    # spike-like events are recorded and decoded like spikes
    for b in range(batch):
        times, ids = src.spike_event_recording_data[b]
        steps, neurons = np.nonzero(np.array([hist[n]["event"][b] for n in range(n_steps)]))
        order = np.lexsort((neurons, steps))
        np.testing.assert_array_equal(times, steps[order].astype(float))
        np.testing.assert_array_equal(ids, neurons[order])
        times, ids = src.spike_recording_data[b]
        steps, neurons = np.nonzero(np.array([hist[n]["spike"][b] for n in range(n_steps)]))
        order = np.lexsort((neurons, steps))
        np.testing.assert_array_equal(ids, neurons[order])


def test_back_propagation_delay_queues_post_spikes():
    """post_spike_syn_code runs back_prop_delay_steps after the postsynaptic
    spike; the target population gets delay slots for it."""
    count = create_weight_update_model(
        "CountPost", vars=[("n", "scalar"), ("when", "scalar")],
        post_spike_syn_code="n += 1.0; when = t;")
    rng = np.random.default_rng(3)
    batch, n_steps = 2, 16
    St = patterns(rng, batch, 3, n_steps)
    model = GeNNModel("float", "back_prop_delay")
    model.dt = 1.0
    model.batch_size = batch
    zeros = {v: 0.0 for v in NEURON_VARS}
    src = model.add_neuron_population("Src", 1, PATTERN, {}, {"S": 0, "E": 0, **zeros})
    trg = model.add_neuron_population("Trg", 3, PATTERN, {}, {"S": St, "E": 0, **zeros})
    groups = {}
    for bp in (0, 3):
        sg = model.add_synapse_population(
            f"C{bp}", "DENSE", src, trg,
            init_weight_update(count, {}, {"n": 0.0, "when": -1.0}),
            init_postsynaptic("DeltaCurr"))
        sg.back_prop_delay_steps = bp
        groups[bp] = sg
    assert trg.num_delay_slots == 4 and src.num_delay_slots == 1
    model.build()
    model.load()
    model.run(n_steps)
    spikes = (St[..., None] >> np.arange(n_steps)) & 1     # [batch, post, step]
    for bp, sg in groups.items():
        # a spike at step k is processed at step k + 1 + bp
        last = n_steps - 1 - 1 - bp
        n = spikes[..., :last + 1].sum(axis=2)
        when = np.array([[max([k + 1 + bp for k in range(last + 1) if spikes[b, j, k]],
                              default=-1) for j in range(3)] for b in range(batch)])
        np.testing.assert_array_equal(values(sg, "n", batch, (1, 3))[:, 0], n)
        np.testing.assert_array_equal(values(sg, "when", batch, (1, 3))[:, 0], when)


@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize("pushed", [False, True])
def test_delayed_reads_start_from_the_initial_values(batch_size, pushed):
    """Before a neuron update has written the slot a delayed synapse reads,
    the synapse sees the initial value (GeNN initialises every slot of a
    queued variable), or the values pushed from Python after load() (they
    fill every slot, as pygenn's array of a delayed variable covers them
    all): a neuron variable through a reference (axonal delay D, a value
    per batch element) and a postsynaptic variable (back-propagation delay
    D).  Synapse dynamics in step s read the value after the update of step
    s - 1 - D, the starting value while s <= D."""
    D, steps = 2, 8
    count = create_neuron_model("Count", vars=[("V", "scalar")], sim_code="V += 1.0;")
    acc = create_neuron_model("Acc", vars=[("I", "scalar")], sim_code="I = Isyn;")
    reads = create_weight_update_model(
        "ReadsDelayed", pre_neuron_var_refs=[("Vp", "scalar")],
        post_vars=[("p", "scalar")], post_dynamics_code="p += 10.0;",
        synapse_dynamics_code="addToPost(Vp + p);")
    model = GeNNModel("float", f"delayed_initial_{batch_size}_{pushed}")
    model.dt = 1.0
    model.batch_size = batch_size
    v0 = np.array([[5.0, 7.0, 11.0], [1.0, -2.0, 4.0]])[:batch_size]
    p0 = np.array([100.0, 300.0])
    src = model.add_neuron_population("Src", 3, count, {},
                                      {"V": v0 if batch_size > 1 else v0[0]})
    dst = model.add_neuron_population("Dst", 2, acc, {}, {"I": 0.0})
    sg = model.add_synapse_population(
        "Syn", "DENSE", src, dst, init_weight_update(reads, {}, {}, {}, {"p": p0},
                                                     pre_var_refs={"Vp": "V"}),
        init_postsynaptic("DeltaCurr"))
    sg.axonal_delay_steps = D
    sg.back_prop_delay_steps = D
    model.build()
    model.load()
    if pushed:                       # e.g. a new trial's state, set after load()
        v0, p0 = v0 * 3.0 + 1.0, p0 - 50.0
        src.vars["V"].values = v0 if batch_size > 1 else v0[0]
        src.vars["V"].push_to_device()
        sg.post_vars["p"].values = p0
        sg.post_vars["p"].push_to_device()
    for s in range(steps):
        model.step_time()
        k = s - 1 - D                  # the step whose values are read (< 0: starting)
        v = v0 + max(k + 1, 0)         # [batch, pre]
        p = p0 + 10.0 * max(k + 1, 0)
        want = v.sum(axis=1)[:, None] + 3 * p[None, :]
        got = np.asarray(dst.vars["I"].values).reshape(batch_size, 2)
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"step {s}")


@pytest.mark.parametrize("mode", ["READ_WRITE", "BROADCAST"])
def test_custom_updates_reach_the_values_delayed_synapses_read(mode):
    """A custom update writing a variable that delayed synapses read reaches
    its per-slot copies as in GeNN: READ_WRITE the slot of the last neuron
    update, BROADCAST every slot.  Three readers (batch 2): a neuron
    variable through a reference with axonal delay 2, a presynaptic
    variable with axonal delay 2, and a postsynaptic variable read 3 steps
    back (postVar[3], synapse dynamics); references: a NumPy history of each
    value, edited the way the update edits the slots."""
    from ml_genn.genn import VarAccessMode, create_custom_update_model, create_var_ref, \
        create_wu_pre_var_ref, create_wu_post_var_ref
    B, D, steps, at = 2, 2, 10, 5
    pre_m = create_neuron_model("Ramp", vars=[("V", "scalar")],
                                sim_code="V += 1.0 + (batch * 0.5);",
                                threshold_condition_code="true")
    post_m = create_neuron_model("Acc", vars=[("I", "scalar")], sim_code="I = Isyn;")
    reads = create_weight_update_model(
        "Reads", pre_neuron_var_refs=[("Vp", "scalar")], pre_vars=[("q", "scalar")],
        pre_dynamics_code="q += 2.0;", pre_spike_syn_code="addToPost(Vp + (100.0 * q));")
    back = create_weight_update_model(
        "ReadsBack", post_vars=[("r", "scalar")], post_dynamics_code="r += 3.0;",
        synapse_dynamics_code="addToPost(r[3]);")
    rw = mode == "READ_WRITE"
    edit = create_custom_update_model(
        "Edit", var_refs=[("X", "scalar", getattr(VarAccessMode, mode))],
        update_code="X += 1000.0;" if rw else "X = 1000.0;")
    model = GeNNModel("float", f"cu_slots_{mode}")
    model.dt = 1.0
    model.batch_size = B
    pre = model.add_neuron_population("Pre", 1, pre_m, {}, {"V": 0.0})
    post = model.add_neuron_population("Post", 1, post_m, {}, {"I": 0.0})
    post2 = model.add_neuron_population("Post2", 1, post_m, {}, {"I": 0.0})
    sg = model.add_synapse_population(
        "S", "DENSE", pre, post, init_weight_update(reads, {}, {}, {"q": 0.0},
                                                    pre_var_refs={"Vp": "V"}),
        init_postsynaptic("DeltaCurr"))
    sg.axonal_delay_steps = D
    sb = model.add_synapse_population(
        "SB", "DENSE", pre, post2, init_weight_update(back, {}, {}, {}, {"r": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sb.max_dendritic_delay_timesteps = 4
    for name, ref in (("v", create_var_ref(pre, "V")), ("q", create_wu_pre_var_ref(sg, "q")),
                      ("r", create_wu_post_var_ref(sb, "r"))):
        model.add_custom_update(f"edit_{name}", "Edit", edit, {}, {}, {"X": ref})
    model.build()
    model.load()
    got, got_back = [], []
    for s in range(steps):
        if s == at:
            model.custom_update("Edit")
        model.step_time()
        got.append(np.asarray(post.vars["I"].values).reshape(B).copy())
        got_back.append(np.asarray(post2.vars["I"].values).reshape(B).copy())

    def reads(increment, back):
        """What synaptic code reads in each step: the value after the update
        of step s - 1 - back (the initial 0 before step 0), the kept values
        edited by the custom update before step ``at``."""
        hist, x, out = [], 0.0, []
        for s in range(steps):
            if s == at:
                if rw:
                    x += 1000.0
                    hist[-1] = x          # the last update's slot
                else:
                    x = 1000.0
                    hist = [1000.0] * len(hist)   # every slot
            out.append(hist[s - 1 - back] if s - 1 - back >= 0 else 0.0)
            x += increment                # this step's neuron update
            hist.append(x)
        return np.array(out)
    for b in range(B):
        # spikes of step s - 1 - D arrive with that step's values (none before)
        spiked = np.arange(steps) > D
        want = np.where(spiked, reads(1.0 + 0.5 * b, D) + 100.0 * reads(2.0, D), 0.0)
        want_back = reads(3.0, 3)
        np.testing.assert_allclose(np.array(got)[:, b], want, rtol=1e-6)
        np.testing.assert_allclose(np.array(got_back)[:, b], want_back, rtol=1e-6)


@pytest.mark.parametrize("field", ["row_update_code", "host_update_code"])
def test_connectivity_updates_reach_the_values_delayed_synapses_read(field):
    """A neuron variable written through a custom connectivity update's
    presynaptic reference reaches the slot delayed synapses read (the last
    neuron update's), like a custom update's READ_WRITE reference."""
    from ml_genn.genn import create_custom_connectivity_update_model, create_var_ref
    D, steps, at = 2, 9, 5
    ramp = create_neuron_model("Ramp", vars=[("V", "scalar")], sim_code="V += 1.0;",
                               threshold_condition_code="true")
    acc = create_neuron_model("Acc", vars=[("I", "scalar")], sim_code="I = Isyn;")
    reads = create_weight_update_model("Reads", pre_neuron_var_refs=[("Vp", "scalar")],
                                       pre_spike_syn_code="addToPost(Vp);")
    code = {"row_update_code": "V += 1000.0;",
            "host_update_code": "for (unsigned int i = 0; i < num_pre; i++) { V[i] += 1000.0; }"}
    bump = create_custom_connectivity_update_model(
        "Bump", pre_var_refs=[("V", "scalar")], **{field: code[field]})
    model = GeNNModel("float", f"ccu_slots_{field}")
    model.dt = 1.0
    pre = model.add_neuron_population("Pre", 2, ramp, {}, {"V": [0.0, 10.0]})
    post = model.add_neuron_population("Post", 1, acc, {}, {"I": 0.0})
    sg = model.add_synapse_population("S", "SPARSE", pre, post,
                                      init_weight_update(reads, {}, {}, pre_var_refs={"Vp": "V"}),
                                      init_postsynaptic("DeltaCurr"))
    sg.set_sparse_connections([0, 1], [0, 0])
    sg.axonal_delay_steps = D
    model.add_custom_connectivity_update("bump", "Bump", sg, bump, {}, {},
                                         pre_var_refs={"V": create_var_ref(pre, "V")})
    model.build()
    model.load()
    got = []
    for s in range(steps):
        if s == at:
            model.custom_update("Bump")
        model.step_time()
        got.append(post.vars["I"].values[0])
    hist, v, want = [], np.array([0.0, 10.0]), []
    for s in range(steps):
        if s == at:
            v = v + 1000.0
            hist[-1] = v
        want.append(hist[s - 1 - D].sum() if s > D else 0.0)
        v = v + 1.0
        hist.append(v)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_delayed_variables_are_read_only_in_synaptic_code():
    bad = create_weight_update_model(
        "WritesDelayed", pre_neuron_var_refs=[("Xp", "scalar", )],
        pre_spike_syn_code="Xp += 1.0;")
    model = GeNNModel("float", "delayed_write")
    zeros = {v: 0.0 for v in NEURON_VARS}
    src = model.add_neuron_population("Src", 2, PATTERN, {}, {"S": 1, "E": 0, **zeros})
    sg = model.add_synapse_population(
        "Syn", "DENSE", src, src, init_weight_update(bad, {}, {}, pre_var_refs={"Xp": "X"}),
        init_postsynaptic("DeltaCurr"))
    sg.axonal_delay_steps = 1
    with pytest.raises(CodeError, match="read-only"):
        model.build()


def test_bad_back_prop_delay():
    model = GeNNModel("float", "bad_back_prop")
    zeros = {v: 0.0 for v in NEURON_VARS}
    src = model.add_neuron_population("Src", 2, PATTERN, {}, {"S": 1, "E": 0, **zeros})
    sg = model.add_synapse_population(
        "Syn", "DENSE", src, src, init_weight_update("StaticPulse", {}, {"g": 1.0}),
        init_postsynaptic("DeltaCurr"))
    sg.back_prop_delay_steps = -1
    with pytest.raises(ModelError, match="back_prop_delay_steps must be a non-negative"):
        model.build()
