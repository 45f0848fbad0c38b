"""``utils.model``'s ``process()``: named dataclasses, plus the old tuple order.

Each ``process()`` returns a frozen dataclass read by name. Unpacking,
indexing and ``len`` give the positional tuple of upstream mlGeNN (6 values,
then 7/10/8/12 for synapse/weight-update/custom-update/custom-connectivity
models): each position is checked here against the old meaning, with a
distinct value in every slot so that a swap cannot pass.
"""
import dataclasses

import numpy as np
import pytest

from ml_genn import Connection, Network, Population
from ml_genn.compilers import InferenceCompiler
from ml_genn.connectivity import Dense
from ml_genn.initializers import Uniform
from ml_genn.neurons import BinarySpikeInput, IntegrateFire
from ml_genn.synapses import Delta
from ml_genn.utils.model import (CustomConnectivityUpdateModel, CustomUpdateModel, Model,
                                 NeuronModel, ProcessedCustomConnectivityUpdateModel,
                                 ProcessedCustomUpdateModel, ProcessedModel,
                                 ProcessedSynapseModel, ProcessedWeightUpdateModel,
                                 SynapseModel, WeightUpdateModel)

BASE = ("model", "constant_param_vals", "dynamic_param_names", "var_vals", "egp_vals",
        "var_egp_vals")


def _base_model(cls=Model, *args, **kwargs):
    """P1 constant (and dynamic), P2 array and P3 initializer -> vars; one EGP."""
    model = cls({"params": [("P1", "scalar"), ("P2", "scalar"), ("P3", "scalar")],
                 "vars": [("V", "scalar")],
                 "extra_global_params": [("E", "scalar*")]},
                *args,
                param_vals={"P1": 3.0, "P2": np.arange(4.0).reshape(2, 2),
                            "P3": Uniform(0.0, 1.0)},
                var_vals={"V": 1.0}, egp_vals={"E": np.ones(3)}, **kwargs)
    model.set_param_dynamic("P1")
    return model


def _check_base_positions(model, values):
    """The first six values in the old order, with the old meaning."""
    (mdict, params, dynamic, var_vals, egp_vals, var_egp_vals) = values[:6]
    assert [p[0] for p in mdict["params"]] == ["P1"]
    assert [v[0] for v in mdict["vars"]] == ["V", "P2", "P3"]
    assert mdict is not model.model and "P2" in [p[0] for p in model.model["params"]]
    assert params == {"P1": 3.0}
    assert dynamic == {"P1"}
    assert set(var_vals) == {"V", "P2", "P3"} and var_vals["V"] == 1.0
    np.testing.assert_array_equal(var_vals["P2"], [0.0, 1.0, 2.0, 3.0])  # flattened
    assert list(egp_vals) == ["E"]
    assert set(var_egp_vals) <= {"P3"}


def _check_names_match_unpacking(processed, names):
    assert [f.name for f in dataclasses.fields(processed)] == list(names)
    assert len(processed) == len(names)
    unpacked = tuple(processed)
    assert len(unpacked) == len(names)
    for i, name in enumerate(names):
        assert unpacked[i] is getattr(processed, name)
        assert processed[i] is getattr(processed, name)
    assert processed[:2] == unpacked[:2]


def test_model_process_fields_and_old_order():
    model = _base_model()
    p = model.process()
    assert type(p) is ProcessedModel
    _check_names_match_unpacking(p, BASE)
    _check_base_positions(model, tuple(p))
    # by name, the same meaning
    assert p.constant_param_vals == {"P1": 3.0} and p.dynamic_param_names == {"P1"}
    # frozen; the returned set/dict is a copy
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.var_vals = {}
    p.dynamic_param_names.add("X")
    assert model.dynamic_param_names == {"P1"}


def test_neuron_model_process_is_the_base_dataclass():
    model = _base_model(NeuronModel, "V")
    p = model.process()
    assert type(p) is ProcessedModel
    _check_base_positions(model, tuple(p))
    (mdict, params, dynamic, var_vals, egp_vals, var_egp_vals) = model.process()
    assert var_vals.keys() == p.var_vals.keys()


def test_synapse_model_process():
    refs = {"R": "V"}
    model = _base_model(SynapseModel, neuron_var_refs=refs)
    p = model.process()
    assert isinstance(p, ProcessedSynapseModel) and isinstance(p, ProcessedModel)
    _check_names_match_unpacking(p, BASE + ("neuron_var_refs",))
    _check_base_positions(model, tuple(p))
    (_, _, _, _, _, _, neuron_var_refs) = p
    assert neuron_var_refs is refs and p.neuron_var_refs is refs


def test_weight_update_model_process():
    pre_refs, post_refs = {"PreR": "V"}, {"PostR": "U"}
    model = _base_model(WeightUpdateModel, pre_var_vals={"Pre": np.ones((2, 3))},
                        post_var_vals={"Post": 2.0}, pre_neuron_var_refs=pre_refs,
                        post_neuron_var_refs=post_refs)
    p = model.process()
    assert isinstance(p, ProcessedWeightUpdateModel)
    _check_names_match_unpacking(p, BASE + ("pre_var_vals", "post_var_vals",
                                            "pre_neuron_var_refs",
                                            "post_neuron_var_refs"))
    _check_base_positions(model, tuple(p))
    (_, _, _, _, _, _, pre_vars, post_vars, pre, post) = model.process()
    np.testing.assert_array_equal(pre_vars["Pre"], np.ones(6))      # engine value: flat
    assert post_vars == {"Post": 2.0}
    assert pre is pre_refs and post is post_refs
    np.testing.assert_array_equal(p.pre_var_vals["Pre"], np.ones(6))
    assert p.post_var_vals == {"Post": 2.0}
    assert p.pre_neuron_var_refs is pre_refs and p.post_neuron_var_refs is post_refs


def test_custom_update_model_process():
    var_refs, egp_refs = {"VR": object()}, {"ER": object()}
    model = _base_model(CustomUpdateModel, var_refs=var_refs, egp_refs=egp_refs)
    p = model.process()
    assert isinstance(p, ProcessedCustomUpdateModel)
    _check_names_match_unpacking(p, BASE + ("var_refs", "egp_refs"))
    _check_base_positions(model, tuple(p))
    (_, _, _, _, _, _, vr, er) = p
    assert vr is var_refs and er is egp_refs
    assert p.var_refs is var_refs and p.egp_refs is egp_refs


def test_custom_connectivity_update_model_process():
    extra = {name: {name: object()} for name in ("pre_var_vals", "post_var_vals",
                                                 "var_refs", "pre_var_refs",
                                                 "post_var_refs", "egp_refs")}
    model = _base_model(CustomConnectivityUpdateModel, **extra)
    p = model.process()
    assert isinstance(p, ProcessedCustomConnectivityUpdateModel)
    _check_names_match_unpacking(p, BASE + tuple(extra))
    _check_base_positions(model, tuple(p))
    (_, _, _, _, _, _, pre_vals, post_vals, var_refs, pre_refs, post_refs,
     egp_refs) = p
    assert [pre_vals, post_vals, var_refs, pre_refs, post_refs, egp_refs] == \
        list(extra.values())
    for name, value in extra.items():
        assert getattr(p, name) is value


def test_old_style_subclass_process_and_coerce():
    """A user subclass written for upstream mlGeNN extends the tuple with
    ``+``; ``coerce`` turns such a tuple back into the dataclass."""
    class Legacy(SynapseModel):
        def process(self):
            return Model.process(self) + (self.neuron_var_refs,)

    model = _base_model(Legacy, neuron_var_refs={"R": "V"})
    old = model.process()
    assert type(old) is tuple and len(old) == 7
    p = ProcessedSynapseModel.coerce(old)
    assert type(p) is ProcessedSynapseModel
    assert p.neuron_var_refs is old[6] and p.var_vals is old[3]
    assert ProcessedSynapseModel.coerce(p) is p
    assert ProcessedModel.coerce(p) is p             # a subclass is kept as it is
    with pytest.raises(TypeError):
        ProcessedSynapseModel.coerce(old[:6])


def test_compiler_accepts_old_style_process_overrides():
    """Neuron/synapse models whose process() returns the old tuple compile
    and run like the originals."""
    class LegacyNeuronModel(NeuronModel):
        def process(self):
            return tuple(super().process())

    class LegacySynapseModel(SynapseModel):
        def process(self):
            return tuple(super().process())

    class LegacyIF(IntegrateFire):
        def get_model(self, population, dt, batch_size):
            m = super().get_model(population, dt, batch_size)
            return LegacyNeuronModel(m.model, m.output_var_name, m.param_vals,
                                     m.var_vals, m.egp_vals)

    class LegacyDelta(Delta):
        def get_model(self, connection, dt, batch_size):
            m = super().get_model(connection, dt, batch_size)
            return LegacySynapseModel(m.model, m.param_vals, m.var_vals, m.egp_vals,
                                      m.neuron_var_refs)

    w = np.array([[1.0, -0.5], [0.25, 2.0], [-1.0, 0.5]], dtype=np.float32)
    x = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=np.float32)
    results = []
    for neuron, synapse in [(IntegrateFire, Delta), (LegacyIF, LegacyDelta)]:
        net = Network()
        with net:
            inp = Population(BinarySpikeInput(), 3)
            out = Population(neuron(v_thresh=1e9, readout="var"), 2)
            Connection(inp, out, Dense(weight=w), synapse=synapse())
        compiled = InferenceCompiler(evaluate_timesteps=2, batch_size=1).compile(net)
        with compiled:
            pred, _ = compiled.predict({inp: x}, out, callbacks=[])
        results.append(pred[out])
    np.testing.assert_array_equal(results[0], x @ w)
    np.testing.assert_array_equal(results[1], results[0])
