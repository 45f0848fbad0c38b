"""ml_genn.readouts (spec §6) against NumPy references of a driven LIF."""
from copy import deepcopy
from types import SimpleNamespace

import numpy as np
import pytest

from ml_genn.neurons import (BinarySpikeInput, FewSpikeRelu, IntegrateFire, LeakyIntegrate,
                             LeakyIntegrateFire, SpikeInput)
from ml_genn.readouts import (AvgVar, AvgVarExpWeight, FirstSpikeTime, MaxVar, Readout,
                              SpikeCount, SumVar, Var, default_readouts)

from ml_harness import Harness, ref_lif

f32 = np.float32
N, BATCH, T, DT = 10, 2, 30, 0.5
F32_LOWEST = -np.finfo(np.float32).max

READOUTS = {
    "var": (Var, {}),
    "spike_count": (SpikeCount, {}),
    "avg_var": (AvgVar, {}),
    "avg_var_exp_weight": (AvgVarExpWeight, {}),
    "sum_var": (SumVar, {}),
    "max_var": (MaxVar, {}),
    "max_var_time": (MaxVar, {"max_time_required": True}),
    "first_spike_time": (FirstSpikeTime, {}),
}


def pop(shape=(N,)):
    return SimpleNamespace(name="P", shape=shape, incoming_connections=[])


def lif():
    return LeakyIntegrateFire(v_thresh=1.0, v_reset=0.0, tau_mem=5.0)


@pytest.fixture(scope="module")
def driven():
    rng = np.random.default_rng(3)
    h = Harness("ml_readouts", dt=DT, batch_size=BATCH)
    readouts = {}
    # half the neurons get little input so some never spike and MaxVar stays small
    gain = np.where(np.arange(N) < N // 2, 0.3, 0.05)
    current = (rng.uniform(0, 1, (T, BATCH, N)) * gain).astype(f32)
    current[:, :, -1] = -0.1          # never above 0: MaxVar stays at its initial 0
    for key, (cls, kwargs) in READOUTS.items():
        readouts[key] = cls()
        model = lif().get_model(pop(), DT, BATCH)
        model = readouts[key].add_readout_logic(model, example_timesteps=T, dt=DT, **kwargs)
        h.add(key, model, N)
    h.load()
    h.run(T, {key: current for key in READOUTS})
    values = {key: r.get_readout(h.pops[key], BATCH, (N,)) for key, r in readouts.items()}
    ref = ref_lif(current, 1.0, 0.0, np.exp(-DT / 5.0), dt=DT)
    return h, readouts, values, ref


def test_reference_is_interesting(driven):
    _, _, _, ref = driven
    spikes = ref["spikes"].sum(axis=0)
    assert (spikes == 0).any() and (spikes > 1).any()


def test_var(driven):
    _, _, values, ref = driven
    assert values["var"].shape == (BATCH, N)
    np.testing.assert_array_equal(values["var"], ref["V"][-1])


def test_spike_count(driven):
    _, _, values, ref = driven
    np.testing.assert_array_equal(values["spike_count"], ref["spikes"].sum(axis=0))


def test_avg_and_sum_var(driven):
    _, _, values, ref = driven
    avg = np.zeros((BATCH, N), f32)
    total = np.zeros((BATCH, N), f32)
    weighted = np.zeros((BATCH, N), f32)
    for s in range(T):                      # accumulated after the update, before reset
        avg += ref["Vpre"][s] / f32(T)
        total += ref["Vpre"][s]
        weighted += f32(np.exp(-(s * DT) / (DT * T))) * ref["Vpre"][s] / f32(T)
    np.testing.assert_array_equal(values["avg_var"], avg)
    np.testing.assert_array_equal(values["sum_var"], total)
    np.testing.assert_allclose(values["avg_var_exp_weight"], weighted, rtol=1e-5, atol=1e-7)
    assert not np.allclose(values["avg_var_exp_weight"], values["avg_var"])


def test_max_var(driven):
    h, readouts, values, ref = driven
    expected = np.maximum(ref["Vpre"].max(axis=0), 0.0)     # running max starts at 0
    np.testing.assert_array_equal(values["max_var"], expected)
    np.testing.assert_array_equal(values["max_var_time"], expected)
    assert not expected[:, -1].any()
    # time of the (first) maximum, 0 when never above 0
    first = np.argmax(ref["Vpre"] == ref["Vpre"].max(axis=0), axis=0) * DT
    first = np.where(ref["Vpre"].max(axis=0) > 0, first, 0.0)
    np.testing.assert_array_equal(h.var("max_var_time", "VMaxTime"), first)
    assert "VMaxTime" not in h.pops["max_var"].vars


def test_first_spike_time(driven):
    _, _, values, ref = driven
    spiked = ref["spikes"].any(axis=0)
    first = -np.argmax(ref["spikes"], axis=0) * DT
    np.testing.assert_array_equal(values["first_spike_time"],
                                  np.where(spiked, first, F32_LOWEST).astype(f32))
    assert (~spiked).any() and spiked.any()


def test_reset_vars(driven):
    _, readouts, _, _ = driven
    assert readouts["var"].reset_vars == []
    assert readouts["spike_count"].reset_vars == [("Scount", "unsigned int", 0)]
    assert readouts["avg_var"].reset_vars == [("VAvg", "scalar", 0.0)]
    assert readouts["avg_var_exp_weight"].reset_vars == [("VAvg", "scalar", 0.0)]
    assert readouts["sum_var"].reset_vars == [("VSum", "scalar", 0.0)]
    assert readouts["max_var"].reset_vars == [("VMax", "scalar", 0.0)]
    assert readouts["max_var_time"].reset_vars == [("VMax", "scalar", 0.0),
                                                   ("VMaxTime", "scalar", 0.0)]
    (name, vtype, value), = readouts["first_spike_time"].reset_vars
    assert (name, vtype) == ("TFirstSpike", "scalar") and np.float32(value) == F32_LOWEST


def test_readout_copies_and_shapes(driven):
    h, readouts, _, _ = driven
    # get_readout returns a copy shaped (batch,) + shape
    r = readouts["sum_var"].get_readout(h.pops["sum_var"], BATCH, (2, 5))
    assert r.shape == (BATCH, 2, 5)
    r[...] = 123.0
    assert not (h.var("sum_var", "VSum") == 123.0).any()


@pytest.mark.parametrize("key", list(READOUTS))
def test_add_readout_logic_returns_modified_copy(key):
    cls, kwargs = READOUTS[key]
    model = lif().get_model(pop(), DT, 1)
    before = deepcopy(model.model)
    new = cls().add_readout_logic(model, example_timesteps=T, dt=DT, **kwargs)
    assert model.model == before
    if key != "var":
        assert new is not model and new.model != before


def test_readout_names_follow_output_var():
    model = FewSpikeRelu().get_model(pop(), 1.0, 1)
    new = AvgVar().add_readout_logic(model, example_timesteps=10, dt=1.0)
    assert new.has_var("FxAvg")
    new = MaxVar().add_readout_logic(model, max_time_required=True)
    assert new.has_var("FxMax") and new.has_var("FxMaxTime")
    assert SumVar().add_readout_logic(model).has_var("FxSum")
    li = LeakyIntegrate().get_model(pop(), 1.0, 1)
    assert AvgVarExpWeight().add_readout_logic(li, example_timesteps=5, dt=1.0).has_var("VAvg")


@pytest.mark.parametrize("cls", [Var, AvgVar, AvgVarExpWeight, SumVar, MaxVar])
@pytest.mark.parametrize("neuron", [BinarySpikeInput(), SpikeInput()])
def test_var_readouts_need_an_output_var(cls, neuron):
    model = neuron.get_model(pop(), 1.0, 1)
    with pytest.raises(RuntimeError):
        cls().add_readout_logic(model, example_timesteps=10, dt=1.0)


@pytest.mark.parametrize("cls", [SpikeCount, FirstSpikeTime])
def test_spike_readouts_need_a_threshold(cls):
    with pytest.raises(RuntimeError):
        cls().add_readout_logic(LeakyIntegrate().get_model(pop(), 1.0, 1))
    assert cls().add_readout_logic(IntegrateFire().get_model(pop(), 1.0, 1)) is not None


def test_registry():
    assert set(default_readouts) == {"avg_var", "avg_var_exp_weight", "first_spike_time",
                                     "max_var", "spike_count", "sum_var", "var"}
    assert all(issubclass(c, Readout) for c in default_readouts.values())
    with pytest.raises(TypeError):
        Readout()
