"""pygenn settings that change nothing here but must be accepted as pygenn
accepts them: memory locations (VarLocation) of every array kind, narrow
sparse indices, the model's name and free device memory; plus the
weight-update spelling of setting a dynamic parameter.  Results must not
depend on any of these settings."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, ModelError, RuntimeStateError, VarLocation,
                          create_custom_connectivity_update_model, create_weight_update_model,
                          init_postsynaptic, init_weight_update)

# far below threshold: V is linear in the input
LIF = {"C": 1.0, "TauM": 20.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 100.0,
        "Ioffset": 0.0, "TauRefrac": 0.0}


def _model(name, locations=True):
    """Two input neurons spike at step 0 into two accumulators over SPARSE
    synapses of known weights; with ``locations`` every setting is used."""
    m = GeNNModel("float", name, backend="cpu")
    m.dt = 1.0
    if locations:
        m.default_var_location = VarLocation.DEVICE
        m.default_sparse_connectivity_location = VarLocation.HOST_DEVICE_ZERO_COPY
        m.default_narrow_sparse_ind_enabled = True
    src = m.add_neuron_population("Src", 2, "SpikeSourceArray", {},
                                  {"startSpike": [0, 1], "endSpike": [1, 2]})
    src.extra_global_params["spikeTimes"].set_init_values([0.0, 0.0])
    acc = m.add_neuron_population("Acc", 2, "LIF", LIF, {"V": 0.0, "RefracTime": 0.0})
    wu = create_weight_update_model("Scaled", params=["s"], vars=[("g", "scalar")],
                                    pre_spike_syn_code="addToPost(s * g);")
    sg = m.add_synapse_population("S", "SPARSE", src, acc,
                                  init_weight_update(wu, {"s": 1.0}, {"g": [0.25, 0.5, 0.125]}),
                                  init_postsynaptic("ExpCurr", {"tau": 5.0}))
    sg.set_sparse_connections([0, 0, 1], [0, 1, 1])
    sg.set_wu_param_dynamic("s")
    if locations:
        acc.set_var_location("V", VarLocation.HOST)
        src.set_extra_global_param_location("spikeTimes", VarLocation.HOST_DEVICE)
        sg.set_wu_var_location("g", VarLocation.DEVICE)
        sg.sparse_connectivity_location = VarLocation.DEVICE
        sg.narrow_sparse_ind_enabled = False
    return m, acc, sg


def _run(m, acc, sg, scale):
    m.build()
    m.load()
    sg.set_wu_dynamic_param_value("s", scale)
    m.run(4)
    acc.vars["V"].pull_from_device()
    return acc.vars["V"].values.copy()


def test_locations_are_remembered_and_change_no_result():
    m, acc, sg = _model("settings_on")
    assert m.default_var_location == VarLocation.DEVICE
    assert acc.get_var_location("V") == VarLocation.HOST
    assert acc.get_var_location("RefracTime") == VarLocation.DEVICE     # the default
    assert sg.get_wu_var_location("g") == VarLocation.DEVICE
    assert sg.sparse_connectivity_location == VarLocation.DEVICE
    assert sg.narrow_sparse_ind_enabled is False
    plain, pacc, psg = _model("settings_off", locations=False)
    assert psg.narrow_sparse_ind_enabled is False
    assert psg.sparse_connectivity_location == VarLocation.HOST_DEVICE
    got = _run(m, acc, sg, 2.0)
    want = _run(plain, pacc, psg, 2.0)
    np.testing.assert_array_equal(got, want)
    # and the weights (scaled by the dynamic parameter) did arrive: ExpCurr's
    # input, integrated by the LIF neurons, is proportional to the weight sums
    assert got[0] > 0 and got[1] > 0
    np.testing.assert_allclose(got[1] / got[0], (0.5 + 0.125) / 0.25, rtol=1e-5)


def test_dynamic_weight_update_parameter_by_its_pygenn_name():
    """set_wu_dynamic_param_value scales what every spike adds (V is linear
    in the input while far below threshold)."""
    runs = [_run(*_model(f"wu_dyn_{int(k)}", locations=False), k) for k in (1.0, 3.0)]
    np.testing.assert_allclose(runs[1], 3.0 * runs[0], rtol=1e-5)


def test_model_name_and_free_device_memory():
    m, acc, sg = _model("named", locations=False)
    assert m.name == "named" == m.model_name
    with pytest.raises(RuntimeStateError):
        m.free_device_mem_bytes
    m.build()
    m.load()
    assert m.free_device_mem_bytes == 0       # the CPU backend has no device memory


@pytest.mark.parametrize("call, words", [
    (lambda m, a, s: a.set_var_location("W", VarLocation.HOST), "no var 'W'"),
    (lambda m, a, s: a.set_var_location("V", 8), "8 is not a memory location"),
    (lambda m, a, s: a.set_var_location("V", True), "True is not a memory location"),
    (lambda m, a, s: a.set_var_location("V", "HOST"), "'HOST' is not a memory location"),
    (lambda m, a, s: s.set_ps_var_location("g", VarLocation.HOST), "no ps var 'g'"),
    (lambda m, a, s: s.get_wu_pre_var_location("g"), "no wu pre var 'g'"),
    (lambda m, a, s: setattr(s, "narrow_sparse_ind_enabled", 1), "must be True or False"),
    (lambda m, a, s: setattr(m, "default_var_location", None), "not a memory location"),
    (lambda m, a, s: setattr(s, "sparse_connectivity_location", 0), "not a memory location"),
])
def test_bad_settings_are_refused(call, words):
    m, acc, sg = _model("bad_settings", locations=False)
    with pytest.raises(ModelError, match=words):
        call(m, acc, sg)


def test_settings_after_build_are_refused():
    m, acc, sg = _model("late_settings", locations=False)
    m.build()
    with pytest.raises(RuntimeStateError, match="before build"):
        acc.set_var_location("V", VarLocation.HOST)
    with pytest.raises(RuntimeStateError, match="before build"):
        sg.narrow_sparse_ind_enabled = True
    with pytest.raises(RuntimeStateError, match="before build"):
        m.default_var_location = VarLocation.HOST
    assert acc.get_var_location("V") == VarLocation.HOST_DEVICE


def test_locations_given_as_numpy_integers():
    m, acc, sg = _model("numpy_locations", locations=False)
    acc.set_var_location("V", np.int64(1))
    assert acc.get_var_location("V") == VarLocation.HOST


def test_custom_connectivity_update_variable_locations():
    m, acc, sg = _model("ccu_locations", locations=False)
    model = create_custom_connectivity_update_model(
        "Marks", vars=[("w", "scalar")], pre_vars=[("a", "scalar")], post_vars=[("b", "scalar")])
    ccu = m.add_custom_connectivity_update("marks", "Marks", sg, model, {}, {"w": 0.0},
                                           {"a": 0.0}, {"b": 0.0})
    ccu.set_pre_var_location("a", VarLocation.HOST)
    ccu.set_post_var_location("b", VarLocation.DEVICE)
    ccu.set_var_location("w", VarLocation.HOST_DEVICE)
    assert (ccu.get_pre_var_location("a"), ccu.get_post_var_location("b"),
            ccu.get_var_location("w")) == (VarLocation.HOST, VarLocation.DEVICE,
                                           VarLocation.HOST_DEVICE)
    with pytest.raises(ModelError, match="no pre var 'b'"):
        ccu.set_pre_var_location("b", VarLocation.HOST)


def test_max_connections_reads_the_padded_row_length():
    """pygenn users read max_connections: the value set, else (built) the
    row length the connectivity got: the snippet's bound, or the longest
    row given to set_sparse_connections."""
    from ml_genn.genn import init_sparse_connectivity
    m, acc, sg = _model("max_conn_rows", locations=False)       # rows of 2 and 1
    assert sg.max_connections is None
    m.build()
    assert sg.max_connections == 2
    m = GeNNModel("float", "max_conn_snippet", backend="cpu")
    a = m.add_neuron_population("A", 50, "SpikeSource", {}, {})
    b = m.add_neuron_population("B", 40, "SpikeSource", {}, {})
    s = m.add_synapse_population("S", "SPARSE", a, b,
                                 init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"),
                                 init_sparse_connectivity("FixedNumberPostWithReplacement",
                                                          {"num": 7}))
    m.build()
    assert s.max_connections == 7
    s2 = _model("max_conn_set", locations=False)[2]
    s2.max_connections = 5
    assert s2.max_connections == 5
