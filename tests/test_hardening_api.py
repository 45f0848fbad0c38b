"""Hardening of the ml_genn API (issue 7): hostile names, mistaken values,
unknown options, context safety and callback key numbering.

Every error test asserts the exception type and key words of the message:
the argument concerned and the fix."""
import keyword
import re
import warnings

import numpy as np
import pytest

from ml_genn import Connection, InputLayer, Layer, Network, Population, SequentialNetwork
from ml_genn.callbacks import SpikeRecorder, VarRecorder
from ml_genn.compilers import CompiledNetwork, FewSpikeCompiler, InferenceCompiler
from ml_genn.compilers.compiler import _model_name
from ml_genn.connectivity import Conv2D, Dense, FixedProbability
from ml_genn.initializers import Normal, Uniform
from ml_genn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, FewSpikeRelu,
                             FewSpikeReluInput, InputBase, IntegrateFire, LeakyIntegrate,
                             LeakyIntegrateFire, Neuron)
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Exponential
from ml_genn.utils.names import GeNNNames, derive_identifier

IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
CPP_KEYWORDS = set(keyword.kwlist) | {
    "int", "float", "double", "char", "void", "class", "struct", "union", "return",
    "if", "else", "for", "while", "do", "switch", "case", "default", "break",
    "continue", "goto", "static", "extern", "const", "volatile", "register", "auto",
    "signed", "unsigned", "short", "long", "bool", "true", "false", "new", "delete",
    "this", "template", "typename", "namespace", "using", "operator", "sizeof",
    "typedef", "enum", "inline", "virtual", "public", "private", "protected"}

HOSTILE = ["layer 1\n#include <cstdlib>\nstatic int x = std::system(\"exit 1\");\n//",
           "int", "conv2d/1", "", "λ-über ☃", "dup", "dup", "_leading", "mg_reserved",
           "9lives", "a__b", "*/ /*", "t", "x" * 300]


def check_identifier(name):
    assert IDENT.match(name), name
    assert "__" not in name and not name.startswith(("_", "mg_"))
    assert name not in CPP_KEYWORDS


# ---------------------------------------------------------------------------
# 1. Names
# ---------------------------------------------------------------------------
def test_derived_identifiers_are_safe_and_unique():
    names = GeNNNames()
    derived = [names.get("pop", n) for n in HOSTILE]
    for d in derived:
        check_identifier(d)
    assert len(set(derived)) == len(derived)
    assert derive_identifier("pop", "Pop0") == "pop_Pop0"
    assert derive_identifier("conn", "") == "conn"
    assert len(derive_identifier("pop", "x" * 300)) < 64


@pytest.mark.parametrize("name", HOSTILE + [None])
def test_model_name_is_a_safe_identifier(name):
    check_identifier(_model_name(name if name is not None else "x", InferenceCompiler(1)))


def test_numpy_serialiser_keeps_hostile_names_inside_its_folder(tmp_path):
    ser = Numpy(str(tmp_path / "ckpt"))
    ser.serialise(("../../escape", "g"), np.arange(3))
    files = list((tmp_path / "ckpt").iterdir())
    assert len(files) == 1 and not (tmp_path / "escape-g.npy").exists()
    np.testing.assert_array_equal(ser.deserialise(("../../escape", "g")), np.arange(3))


def test_numpy_serialiser_never_lets_two_names_share_a_file(tmp_path):
    ser = Numpy(str(tmp_path / "ckpt"))
    names = ["a/b", "a_b", "a\\b", "a%2Fb", "..", ".", "_"]
    for i, name in enumerate(names):
        ser.serialise((name, "g"), np.full(2, i))
    assert len(list((tmp_path / "ckpt").iterdir())) == len(names)
    for i, name in enumerate(names):
        np.testing.assert_array_equal(ser.deserialise((name, "g")), np.full(2, i))
    ser.serialise(("pop", "a/b"), np.arange(2))
    assert set(ser.deserialise_all(("pop",))) == {"a/b"}


# ---------------------------------------------------------------------------
# 2. Values: shapes, compiler arguments, neuron/synapse/connectivity values
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape, exc, words", [
    (2.5, TypeError, ["shape", "positive integers", "float"]),
    (0, ValueError, ["shape", "positive integers", "at least one neuron"]),
    (-1, ValueError, ["shape", "positive integers"]),
    (True, TypeError, ["shape", "bool"]),
    ((3, 0), ValueError, ["shape", "(3, 0)", "at least one neuron"]),
    ((3, 2.0), TypeError, ["shape", "float"]),
    ((), ValueError, ["shape", "no dimensions"]),
    ("10", RuntimeError, ["shape", "str"]),
])
def test_bad_population_shapes(shape, exc, words):
    with Network():
        with pytest.raises(exc) as e:
            Population("integrate_fire", shape, name="P")
    for w in words + ["'P'"]:
        assert w in str(e.value)


def test_numpy_integer_shapes_are_accepted():
    with Network():
        assert Population("integrate_fire", np.int64(3)).shape == (3,)
        assert Population("integrate_fire", (np.int32(2), 3)).shape == (2, 3)
        assert Population("integrate_fire", np.array([2, 2])).shape == (2, 2)


@pytest.mark.parametrize("make, exc, words", [
    (lambda: InferenceCompiler(evaluate_timesteps=0), ValueError,
     ["evaluate_timesteps", "positive integer"]),
    (lambda: InferenceCompiler(evaluate_timesteps=2.5), TypeError,
     ["evaluate_timesteps", "positive integer", "float"]),
    (lambda: InferenceCompiler(evaluate_timesteps=True), TypeError,
     ["evaluate_timesteps", "bool"]),
    (lambda: FewSpikeCompiler(k=0), ValueError, ["k must be a positive integer"]),
    (lambda: FewSpikeCompiler(k=True), TypeError, ["k must be a positive integer"]),
    (lambda: InferenceCompiler(5, batch_size=0), ValueError, ["batch_size", "positive"]),
    (lambda: InferenceCompiler(5, batch_size=True), TypeError, ["batch_size", "bool"]),
    (lambda: InferenceCompiler(5, batch_size=2.0), TypeError, ["batch_size", "float"]),
    (lambda: InferenceCompiler(5, dt=0.0), ValueError, ["dt", "greater than 0"]),
    (lambda: InferenceCompiler(5, dt=float("nan")), ValueError, ["dt", "finite"]),
    (lambda: InferenceCompiler(5, dt=float("inf")), ValueError, ["dt", "finite"]),
    (lambda: InferenceCompiler(5, dt=-1.0), ValueError, ["dt", "greater than 0"]),
    (lambda: InferenceCompiler(5, rng_seed=-1), ValueError, ["rng_seed", "non-negative"]),
    (lambda: FewSpikeRelu(k=0), ValueError, ["FewSpikeRelu", "k", "positive integer"]),
    (lambda: FewSpikeReluInput(alpha=float("nan")), ValueError, ["alpha", "finite"]),
])
def test_bad_compiler_and_few_spike_arguments(make, exc, words):
    with pytest.raises(exc) as e:
        make()
    for w in words:
        assert w in str(e.value)


def test_numpy_integers_are_accepted_by_compilers():
    c = InferenceCompiler(np.int64(4), batch_size=np.int32(2), dt=np.float32(0.5))
    assert c.evaluate_timesteps == 4 and c.batch_size == 2 and c.dt == 0.5


@pytest.mark.parametrize("make, words", [
    (lambda: LeakyIntegrateFire(tau_mem=0.0), ["tau_mem", "greater than 0"]),
    (lambda: LeakyIntegrateFire(tau_mem=-20.0), ["tau_mem", "greater than 0"]),
    (lambda: LeakyIntegrateFire(tau_mem=float("nan")), ["tau_mem", "finite"]),
    (lambda: LeakyIntegrateFire(tau_mem=np.array([20.0, 0.0])),
     ["tau_mem", "greater than 0", "[1]"]),
    (lambda: LeakyIntegrateFire(tau_refrac=-1.0), ["tau_refrac", "greater than or equal"]),
    (lambda: LeakyIntegrateFire(v_thresh=float("nan")), ["v_thresh", "finite"]),
    (lambda: LeakyIntegrate(tau_mem=float("inf")), ["tau_mem", "finite"]),
    (lambda: AdaptiveLeakyIntegrateFire(tau_adapt=0.0), ["tau_adapt", "greater than 0"]),
    (lambda: IntegrateFire(v=np.array([0.0, np.inf])), ["v contains", "NaN/inf",
                                                        "finite"]),
    (lambda: Exponential(tau=0.0), ["tau", "greater than 0"]),
    (lambda: Dense(weight=np.array([[1.0, np.nan]])), ["weight", "NaN/inf", "(0, 1)"]),
    (lambda: Dense(weight=1.0, delay=-2), ["delay", "greater than or equal to 0"]),
    (lambda: Normal(sd=-1.0), ["sd", ">= 0"]),
    (lambda: Uniform(min=2.0, max=1.0), ["min", "max"]),
    (lambda: FixedProbability(p=float("nan"), weight=1.0), ["p", "finite"]),
])
def test_meaningless_parameter_values(make, words):
    with pytest.raises(ValueError) as e:
        make()
    for w in words:
        assert w in str(e.value)


def test_non_numeric_weight_array():
    with pytest.raises(TypeError, match="weight must be numeric"):
        Dense(weight=np.array([["a", "b"]]))


@pytest.mark.parametrize("make, bad", [
    (lambda: LeakyIntegrateFire(tau_m=10.0), "tau_m"),
    (lambda: IntegrateFire(thresh=1.0), "thresh"),
    (lambda: LeakyIntegrate(readuot="var"), "readuot"),
])
def test_unknown_neuron_keyword_names_it_and_the_accepted_ones(make, bad):
    with pytest.raises(TypeError) as e:
        make()
    msg = str(e.value)
    assert repr(bad) in msg and "accepted arguments" in msg and "readout" in msg


def test_unknown_network_default_param_is_reported():
    with Network({LeakyIntegrateFire: {"tau_membrane": 5.0}}):
        with pytest.raises(TypeError, match="'tau_membrane'.*accepted arguments.*tau_mem"):
            LeakyIntegrateFire()


def test_input_neuron_variable_names_must_be_identifiers():
    class MyInput(Neuron, InputBase):
        def __init__(self, name):
            super().__init__(var_name=name)

        def get_model(self, population, dt, batch_size):
            raise NotImplementedError

    with pytest.raises(ValueError, match="var_name.*plain identifier"):
        MyInput("x;\n#include <y>")


def test_wrong_weight_shapes_name_the_argument():
    with Network():
        a = Population("integrate_fire", 3, name="A")
        b = Population("integrate_fire", 4, name="B")
        with pytest.raises(RuntimeError, match=r"Dense weight array of shape \(2, 4\).*"
                                               r"source population shape \(3,\)"):
            Connection(a, b, Dense(np.zeros((2, 4))))
        assert a.outgoing_connections == [] and b.incoming_connections == []
        img = Population("integrate_fire", (5, 5, 1), name="img")
        with pytest.raises(RuntimeError, match=r"Conv2D weight array has shape "
                                               r"\(3, 3, 2, 4\); expected \(3, 3, 1, 4\)"):
            Connection(img, Population("integrate_fire"),
                       Conv2D(np.zeros((3, 3, 2, 4)), 4, 3))


def test_connection_between_networks_is_refused_without_trace():
    net1, net2 = Network(), Network()
    with net1:
        a = Population("integrate_fire", 2, name="a")
    with net2:
        b = Population("integrate_fire", 2, name="b")
        with pytest.raises(ValueError) as e:
            Connection(a, b, Dense(1.0), name="a_to_b")
    msg = str(e.value)
    assert "a_to_b" in msg and "'a'" in msg and "another Network" in msg
    assert "same 'with network:' block" in msg
    assert a.outgoing_connections == [] and b.incoming_connections == []
    assert net2.connections == []


def test_compiling_a_network_with_a_foreign_connection_is_refused():
    net = Network()
    with net:
        a = Population("integrate_fire", 2, name="a")
    b = Population("integrate_fire", 2, name="lonely", add_to_model=False)
    with net:
        Connection(a, b, Dense(1.0), name="c")
    with pytest.raises(ValueError, match="'c'.*'lonely' is not a population of the "
                                         "network being compiled"):
        InferenceCompiler(2).compile(net)


# ---------------------------------------------------------------------------
# 4. Unknown options
# ---------------------------------------------------------------------------
def test_unknown_compiler_option_metrics_is_not_ignored():
    with pytest.raises(TypeError) as e:
        InferenceCompiler(evaluate_timesteps=100, metrics="mean_square_error")
    msg = str(e.value)
    assert "'metrics'" in msg and "evaluate_timesteps" in msg and "evaluate(" in msg


@pytest.mark.parametrize("cls, args", [(InferenceCompiler, (5,)), (FewSpikeCompiler, ())])
def test_unknown_compiler_option_is_named_with_accepted_ones(cls, args):
    with pytest.raises(TypeError) as e:
        cls(*args, batchsize=4)
    msg = str(e.value)
    assert cls.__name__ in msg and "'batchsize'" in msg and "batch_size" in msg
    assert "backend" in msg             # the engine's options are listed too


def test_genuine_engine_options_are_forwarded():
    assert InferenceCompiler(5, backend="cpu").genn_kwargs == {"backend": "cpu"}


def test_unknown_compile_keyword_and_bad_network():
    net = Network()
    with net:
        Population("integrate_fire", 2)
    with pytest.raises(TypeError, match=r"InferenceCompiler.compile\(\).*'optimise'.*"
                                        r"accepted arguments"):
        InferenceCompiler(2).compile(net, optimise=True)
    with pytest.raises(TypeError, match="network must be a Network"):
        InferenceCompiler(2).compile([net])
    with pytest.raises(TypeError, match="name must be a string"):
        InferenceCompiler(2).compile(net, name=3)


# ---------------------------------------------------------------------------
# 3. Context safety
# ---------------------------------------------------------------------------
def test_network_context_is_cleared_after_an_error():
    net = Network()
    with pytest.raises(ZeroDivisionError):
        with net:
            1 / 0
    with Network():
        Population("integrate_fire", 1)


# ---------------------------------------------------------------------------
# Compiled: one shared model whose names are hostile
# ---------------------------------------------------------------------------
N_IN, N_HID, N_OUT, STEPS = 4, 3, 3, 3


@pytest.fixture(scope="module")
def hostile():
    rng = np.random.default_rng(7)
    w1 = rng.integers(-2, 3, (N_IN, N_HID)).astype(np.float32)
    w2 = rng.integers(-2, 3, (N_HID, N_OUT)).astype(np.float32)
    w3 = rng.integers(-2, 3, (N_IN, N_OUT)).astype(np.float32)
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), N_IN, name=HOSTILE[0], record_spikes=True)
        hid = Population(IntegrateFire(v_thresh=1e9), N_HID, name="int")
        hid2 = Population(IntegrateFire(v_thresh=1e9), N_HID, name="dup")
        out = Population(IntegrateFire(v_thresh=1e9, readout="var"), N_OUT,
                         name="conv2d/1")
        out2 = Population(LeakyIntegrate(tau_mem=1e6, readout="var"), N_OUT, name="")
        extra = Population(IntegrateFire(v_thresh=1e9), 1, name="dup")
        Connection(inp, hid, Dense(w1), name="λ ☃\n#define x")
        Connection(inp, hid2, Dense(w1), name="dup")
        Connection(hid2, out, Dense(w2), name="dup")
        Connection(inp, out2, Dense(w3))
        Connection(inp, extra, Dense(1.0), name="*/ int main() { /*")
    compiled = InferenceCompiler(evaluate_timesteps=STEPS, batch_size=2).compile(net)
    other = Network()
    with other:
        stranger = Population(BinarySpikeInput(), N_IN, name=HOSTILE[0])
    return dict(net=net, compiled=compiled, inp=inp, hid=hid, out=out, out2=out2,
                w1=w1, w2=w2, w3=w3, stranger=stranger, rng=rng)


def test_hostile_names_compile_evaluate_and_keep_original_keys(hostile):
    h = hostile
    compiled, inp, out, out2 = h["compiled"], h["inp"], h["out"], h["out2"]
    genn_names = [g.name for g in compiled.genn_model.neuron_populations.values()]
    genn_names += [g.name for g in compiled.genn_model.synapse_populations.values()]
    genn_names += list(compiled.genn_model.custom_updates)
    for n in genn_names:
        check_identifier(n)
    assert len(set(genn_names)) == len(genn_names)
    check_identifier(compiled.genn_model.model_name)
    # original names stay on the objects
    assert inp.name == HOSTILE[0] and out.name == "conv2d/1" and out2.name == ""
    x = h["rng"].integers(0, 2, (5, N_IN)).astype(np.float32)
    hidden = x @ h["w1"]                     # hid2 integrates x W1 each step
    # IF: V after STEPS steps; hid2 never spikes (huge threshold) so out gets 0
    expected_out = np.zeros((5, N_OUT), np.float32)
    expected_out2 = (STEPS - 1) * (x @ h["w3"])   # input spikes arrive a step later
    labels = np.argmax(expected_out2, axis=1)
    with compiled:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            metrics, cb = compiled.evaluate(
                {inp: x}, {out2: labels, out: np.zeros(5, int)},
                callbacks=[SpikeRecorder(inp, key=inp.name), VarRecorder(out2, "v")])
        pred, _ = compiled.predict({inp: x}, [out, out2], callbacks=[])
    assert set(metrics) == {out, out2}
    assert metrics[out2].result == 1.0
    np.testing.assert_allclose(pred[out2], expected_out2, rtol=1e-5)
    np.testing.assert_array_equal(pred[out], expected_out)
    assert hidden.shape == (5, N_HID)
    # recorder keys: the user's own key (a hostile string) and the list index
    assert set(cb) == {inp.name, 2}
    times, ids = cb[inp.name]
    assert len(times) == 5
    np.testing.assert_array_equal(np.bincount(ids[1].astype(int), minlength=N_IN),
                                  x[1] * STEPS)


def test_keyless_recorder_gets_mlgenn_index_even_without_resets(hostile):
    """[Reset callback, recorder]: the recorder's key is 1 whether or not any
    variable needs resetting (upstream always inserts the reset callback)."""
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), 2)
        out = Population(IntegrateFire(v_thresh=1e9, readout="var"), 2)
        Connection(inp, out, Dense(1.0))
    for reset in (True, False):
        compiled = InferenceCompiler(evaluate_timesteps=2,
                                     reset_vars_between_batches=reset).compile(net)
        assert bool(compiled.genn_model.custom_updates) == reset
        with compiled:
            with pytest.warns(UserWarning, match="position 1"):
                _, cb = compiled.evaluate({inp: np.ones((1, 2))}, {out: [0]},
                                          callbacks=[VarRecorder(out, "v")])
        assert list(cb) == [1]


def test_context_is_usable_after_a_failed_build_and_a_failed_load(hostile, monkeypatch):
    compiled = hostile["compiled"]
    net = Network()
    with net:
        Population(BinarySpikeInput(), 1)
    broken = InferenceCompiler(2).compile(net)

    def fail(*args, **kwargs):
        raise OSError("build failed (simulated)")
    monkeypatch.setattr(broken.genn_model, "build", fail)
    with pytest.raises(OSError, match="simulated"):
        with broken:
            pass
    assert CompiledNetwork._context is None
    monkeypatch.undo()
    monkeypatch.setattr(broken.genn_model, "load", fail)
    with pytest.raises(OSError, match="simulated"):
        with broken:
            pass
    assert CompiledNetwork._context is None
    with compiled:                          # the next 'with' works
        assert CompiledNetwork._context is compiled
    assert CompiledNetwork._context is None
    monkeypatch.undo()
    real_unload = broken.genn_model.unload

    def failing_unload():
        real_unload()
        raise OSError("unload failed (simulated)")
    monkeypatch.setattr(broken.genn_model, "unload", failing_unload)
    with pytest.raises(OSError, match="unload failed"):
        with broken:
            pass
    assert CompiledNetwork._context is None
    monkeypatch.undo()
    with compiled:
        pass


def test_context_is_cleared_after_a_failing_code_string(hostile):
    class Broken(Neuron):
        def get_model(self, population, dt, batch_size):
            from ml_genn.utils.model import NeuronModel
            return NeuronModel({"vars": [("V", "scalar")],
                                "sim_code": "V = undefinedName + 1;"}, "V",
                               var_vals={"V": 0.0})
    net = Network()
    with net:
        Population(Broken(), 1, name="my layer")
    with pytest.raises(Exception) as e:
        compiled = InferenceCompiler(2).compile(net)
        with compiled:
            pass
    assert "undefinedName" in str(e.value)
    if hasattr(e.value, "__notes__"):         # the engine's name is explained
        assert any("'my layer'" in n for n in e.value.__notes__)
    assert CompiledNetwork._context is None
    with hostile["compiled"]:
        pass


def test_evaluate_outside_the_context(hostile):
    h = hostile
    with pytest.raises(RuntimeError, match="inside 'with compiled_net:'"):
        h["compiled"].evaluate({h["inp"]: np.zeros((1, N_IN))}, {h["out"]: [0]})


@pytest.mark.parametrize("case", [
    "x_not_dict", "x_by_output", "x_by_stranger", "x_by_string", "y_by_hidden",
    "lengths", "input_shape", "nan_input", "label_too_big", "label_negative",
    "label_fraction", "label_strings", "x_scalar", "predict_hidden", "x_empty"])
def test_data_mistakes_name_the_argument(hostile, case):
    h = hostile
    inp, out, hid = h["inp"], h["out"], h["hid"]
    x = np.ones((2, N_IN), np.float32)
    y = np.zeros(2, int)
    cases = {
        "x_not_dict": (lambda c: c.evaluate(x, {out: y}), TypeError,
                       ["x must be a dict"]),
        "x_by_output": (lambda c: c.evaluate({out: x}, {out: y}), ValueError,
                        ["x is keyed by population 'conv2d/1'", "take no data",
                         "input population"]),
        "x_by_stranger": (lambda c: c.evaluate({h["stranger"]: x}, {out: y}), ValueError,
                          ["x:", "not part of this compiled network"]),
        "x_by_string": (lambda c: c.evaluate({"input": x}, {out: y}), TypeError,
                        ["x must be keyed by Population"]),
        "y_by_hidden": (lambda c: c.evaluate({inp: x}, {hid: y}), ValueError,
                        ["y is keyed by population 'int'", "no readout",
                         "output population", "'conv2d/1'"]),
        "lengths": (lambda c: c.evaluate({inp: x}, {out: np.zeros(3, int)}), RuntimeError,
                    ["x has 2 examples but y has 3"]),
        "input_shape": (lambda c: c.evaluate({inp: np.ones((2, N_IN + 1))}, {out: y}),
                        RuntimeError, ["input data for population", "#include",
                                       "population shape (4,)"]),
        "nan_input": (lambda c: c.evaluate({inp: np.full((2, N_IN), np.nan)}, {out: y}),
                      ValueError, ["input data for population", "NaN/inf"]),
        "label_too_big": (lambda c: c.evaluate({inp: x}, {out: np.array([0, 3])}),
                          ValueError, ["labels for output population 'conv2d/1'",
                                       "[0, 3)"]),
        "label_negative": (lambda c: c.evaluate({inp: x}, {out: np.array([-1, 0])}),
                           ValueError, ["'conv2d/1'", "[0, 3)"]),
        "label_fraction": (lambda c: c.evaluate({inp: x}, {out: np.array([0.5, 1])}),
                           ValueError, ["'conv2d/1'", "integer class indices",
                                        "mean_square_error"]),
        "label_strings": (lambda c: c.evaluate({inp: x}, {out: np.array(["a", "b"])}),
                          TypeError, ["'conv2d/1'", "integer class indices"]),
        "x_scalar": (lambda c: c.evaluate({inp: 1.0}, {out: y}), TypeError,
                     ["one entry per example"]),
        "predict_hidden": (lambda c: c.predict({inp: x}, hid), ValueError,
                           ["outputs is keyed by population 'int'", "no readout"]),
        "x_empty": (lambda c: c.predict({}, out), ValueError, ["x is empty"]),
    }
    call, exc, words = cases[case]
    with h["compiled"] as c:
        with pytest.raises(exc) as e:
            call(c)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_few_spike_keyless_recorder_and_label_checks():
    net = Network()
    with net:
        inp = Population(FewSpikeReluInput(k=4, alpha=4.0), 2)
        out = Population(FewSpikeRelu(k=4, alpha=4.0, readout="var"), 2, name="fs out")
        Connection(inp, out, Dense(np.eye(2, dtype=np.float32)))
    compiled = FewSpikeCompiler(k=4).compile(net, inputs=inp, outputs=out)
    with compiled:
        with pytest.raises(ValueError, match="labels for output population 'fs out'"):
            compiled.evaluate({inp: np.ones((2, 2))}, {out: [0, 2]}, callbacks=[])
        with pytest.warns(UserWarning, match="position 0"):
            _, cb = compiled.evaluate({inp: np.ones((1, 2))}, {out: [0]},
                                      callbacks=[VarRecorder(out, genn_var="Fx")])
    assert list(cb) == [0]


def test_sequential_network_with_keras_like_layer_names():
    net = SequentialNetwork()
    with net:
        a = InputLayer(BinarySpikeInput(), 2, name="input_1")
        b = Layer(Dense(np.eye(2, dtype=np.float32)),
                  IntegrateFire(v_thresh=1e9, readout="var"), name="dense/1:0")
        c = Layer(Dense(np.eye(2, dtype=np.float32)),
                  IntegrateFire(v_thresh=1e9, readout="var"), name="dense/1:0")
    compiled = InferenceCompiler(2).compile(net)
    with compiled:
        pred, _ = compiled.predict({a: np.array([[1.0, 0.0]])}, [b, c], callbacks=[])
    np.testing.assert_array_equal(pred[b], [[1.0, 0.0]])


def test_spike_input_data_and_recorder_mistakes():
    from ml_genn.neurons import SpikeInput
    from ml_genn.utils.data import preprocess_spikes
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=20), 2, name="spikes in")
        out = Population(LeakyIntegrate(readout="sum_var"), 2, name="li out")
        Connection(inp, out, Dense(np.eye(2, dtype=np.float32)))
    compiled = InferenceCompiler(2).compile(net)
    good = [preprocess_spikes(np.array([0.0]), np.array([1]), 2)]
    with compiled:
        with pytest.raises(TypeError, match="input data for population 'spikes in'.*"
                                            "PreprocessedSpikes.*preprocess_spikes"):
            compiled.evaluate({inp: np.ones((1, 2))}, {out: [0]}, callbacks=[])
        with pytest.raises(ValueError, match="'spikes in'.*spike times contain NaN"):
            compiled.evaluate({inp: [preprocess_spikes(np.array([np.nan]), np.array([0]),
                                                       2)]}, {out: [0]}, callbacks=[])
        with pytest.raises(AttributeError, match="LeakyIntegrate has no attribute 'V'.*"
                                                 "variables are.*v.*genn_var="):
            VarRecorder(out, "V")
        with pytest.raises(RuntimeError, match="Metric dictionary keys must match.*"
                                               "'li out'.*'spikes in'"):
            compiled.evaluate({inp: good}, {out: [0]}, metrics={inp: "mean_square_error"},
                              callbacks=[])
        metrics, _ = compiled.evaluate({inp: good}, {out: [1]}, callbacks=[])
    assert metrics[out].result == 1.0


def test_one_hot_labels_for_accuracy_are_explained(hostile):
    """One-hot y with the default accuracy metric failed with NumPy's
    'cannot reshape array of size 6 into shape (2,)'."""
    h = hostile
    x = np.ones((2, N_IN), np.float32)
    with h["compiled"] as c:
        with pytest.raises(ValueError) as e:
            c.evaluate({h["inp"]: x}, {h["out"]: np.eye(N_OUT)[[0, 1]]})
    for w in ("y: labels for output population 'conv2d/1'", "one integer class index per "
              "example (shape (2,))", "got shape (2, 3)", "np.argmax(y, axis=-1)",
              "mean_square_error"):
        assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize("cls", [InferenceCompiler, FewSpikeCompiler])
def test_rng_seed_beyond_64_bits(cls):
    args = {"evaluate_timesteps": 2} if cls is InferenceCompiler else {}
    with pytest.raises(ValueError, match=r"rng_seed must be below 2\*\*64"):
        cls(rng_seed=2 ** 70, **args)
    cls(rng_seed=2 ** 64 - 1, **args)


def test_recorder_filters_and_keys_name_the_mistake():
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), 4)
        out = Population(IntegrateFire(v_thresh=1.0, readout="spike_count"), 3,
                         record_spikes=True)
        Connection(inp, out, Dense(np.ones((4, 3), np.float32)))
    compiled = InferenceCompiler(evaluate_timesteps=3, batch_size=2).compile(net)
    with pytest.raises(TypeError, match=r"SpikeRecorder: key must be hashable .*list \[1, 2\]"):
        SpikeRecorder(out, key=[1, 2])
    with pytest.raises(TypeError, match=r"VarRecorder: key must be hashable"):
        VarRecorder(out, "v", key={})
    with compiled:
        with pytest.raises(IndexError, match=r"neuron filter \[5\] is out of range for a "
                                             r"population of shape \(3,\)"):
            compiled.evaluate({inp: np.ones((3, 4))}, {out: np.zeros(3, int)},
                              callbacks=[SpikeRecorder(out, key="s", neuron_filter=[5])])


@pytest.mark.parametrize("value, exc", [(-1, ValueError), ("10", TypeError),
                                        (True, TypeError), (2.5, TypeError)])
def test_spike_input_max_spikes_is_checked(value, exc):
    """max_spikes=-1 failed later with NumPy's 'negative dimensions are not
    allowed'; '10' with a TypeError from np.zeros."""
    from ml_genn.neurons import SpikeInput
    with pytest.raises(exc, match=r"SpikeInput: max_spikes must be a non-negative integer"):
        SpikeInput(max_spikes=value)
    assert SpikeInput(max_spikes=np.int64(5)).max_spikes == 5


def test_connection_without_connectivity_and_ragged_weights():
    with Network() as net:                  # 'as' gives the network (upstream: None)
        assert isinstance(net, Network)
        a = Population(BinarySpikeInput(), 3)
        b = Population(IntegrateFire(), 2)
        with pytest.raises(RuntimeError, match=r"Connection 'Conn_Pop\d+_Pop\d+': "
                                               r"connectivity must be a Connectivity object "
                                               r"such as Dense\(weight=...\), got None"):
            Connection(a, b, None)
        with pytest.raises(RuntimeError, match=r"synapse must be a Synapse object"):
            Connection(a, b, Dense(1.0), synapse=None)
        with pytest.raises(ValueError, match=r"Dense: weight must be a number or a "
                                             r"rectangular array"):
            Dense([[1.0, 2.0], [3.0]])
    assert net.connections == []
