"""Heterogeneously delayed postsynaptic variables (GeNN's ``postVar[d]``):
synaptic code reads a postsynaptic variable or neuron variable reference as
it was ``d`` steps before the last neuron update; checked against the
values the neurons had, batched, with out-of-range ``d`` reported."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model, create_weight_update_model,
                          init_postsynaptic, init_weight_update)
from ml_genn.genn.errors import ModelError, RuntimeStateError

ALWAYS = create_neuron_model("Always", vars=[("V", "scalar")], sim_code="V += Isyn;",
                             threshold_condition_code="true")
# X follows the time step (plus a per-neuron and per-batch offset)
CLOCK = create_neuron_model("Clock", vars=[("X", "scalar"), ("Off", "scalar",
                                                                VarAccess.READ_ONLY_DUPLICATE)],
                            sim_code="X = t + Off;")
READ_BACK = create_weight_update_model(
    "ReadBack", vars=[("d", "uint8_t", VarAccess.READ_ONLY), ("seenRef", "scalar"),
                      ("seenVar", "scalar")],
    post_vars=[("Y", "scalar")], post_neuron_var_refs=[("Xp", "scalar")],
    post_dynamics_code="Y = Xp * 2.0;",
    pre_spike_syn_code="seenRef = Xp[d]; seenVar = Y[d];")


def _model(name, batch_size, delays, ds=5):
    model = GeNNModel("double", name)
    model.dt = 1.0
    model.batch_size = batch_size
    npost = 3
    off = (np.arange(batch_size)[:, None] * 100.0 + np.arange(npost)[None, :] * 10.0)
    pre = model.add_neuron_population("Pre", 2, ALWAYS, {}, {"V": 0.0})
    post = model.add_neuron_population("Post", npost, CLOCK, {},
                                       {"X": -1.0, "Off": off.ravel() if batch_size > 1
                                        else off[0]})
    sg = model.add_synapse_population(
        "S", "DENSE", pre, post,
        init_weight_update(READ_BACK, {}, {"d": delays.ravel(), "seenRef": 0.0,
                                           "seenVar": 0.0}, post_vars={"Y": -2.0},
                           post_var_refs={"Xp": "X"}),
        init_postsynaptic("DeltaCurr"))
    sg.max_dendritic_delay_timesteps = ds
    return model, sg, off


@pytest.mark.parametrize("batch_size", [1, 2])
def test_reading_postsynaptic_values_some_steps_back(batch_size):
    delays = np.array([[0, 1, 2], [4, 3, 0]], dtype=np.uint8)
    model, sg, off = _model(f"past_values_{batch_size}", batch_size, delays)
    model.build()
    model.load()
    for steps in (2, 9):          # early: some reads reach before the first step
        model.run(steps - model.timestep)
        sg.vars["seenRef"].pull_from_device()
        sg.vars["seenVar"].pull_from_device()
        s = steps - 1              # the last synapse update
        # the value after the neuron update of step s - 1 - d (the initial
        # value before step 0)
        back = s - 1 - delays.astype(int)                       # (pre, post)
        x = np.where(back >= 0, back[None] + off[:, None, :], -1.0)   # (batch, pre, post)
        seen_ref = sg.vars["seenRef"].values.reshape(batch_size, 2, 3)
        seen_var = sg.vars["seenVar"].values.reshape(batch_size, 2, 3)
        np.testing.assert_array_equal(seen_ref, x)
        np.testing.assert_array_equal(seen_var, np.where(back >= 0, 2.0 * x, -2.0))


def test_reading_too_far_back_is_reported():
    delays = np.array([[0, 5, 1], [0, 0, 0]], dtype=np.uint8)
    model, sg, _ = _model("past_values_too_far", 1, delays)
    model.build()
    model.load()
    with pytest.raises(RuntimeStateError, match="d steps back"):
        model.run(3)


def test_reading_back_needs_a_delay_ring():
    model, sg, _ = _model("past_values_no_ring", 1, np.zeros((2, 3), np.uint8), ds=1)
    with pytest.raises(ModelError, match="max_dendritic_delay_timesteps"):
        model.build()


def test_read_back_values_are_read_only():
    from ml_genn.genn.errors import CodeError
    writer = create_weight_update_model(
        "WriteBack", post_neuron_var_refs=[("Xp", "scalar")],
        pre_spike_syn_code="Xp = Xp[1];")
    model = GeNNModel("float", "past_values_write")
    pre = model.add_neuron_population("Pre", 2, ALWAYS, {}, {"V": 0.0})
    post = model.add_neuron_population("Post", 3, CLOCK, {}, {"X": 0.0, "Off": 0.0})
    sg = model.add_synapse_population(
        "S", "DENSE", pre, post, init_weight_update(writer, {}, {}, post_var_refs={"Xp": "X"}),
        init_postsynaptic("DeltaCurr"))
    sg.max_dendritic_delay_timesteps = 3
    with pytest.raises(CodeError, match="read-only"):
        model.build()
