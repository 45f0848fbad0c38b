"""Hostile and mistaken input to the Keras converters (``ml_genn_tf``).

Every mistake must give one clear exception naming the argument or layer
and the fix, raised where the mistake is made (the constructor when
possible), never a traceback from deep inside the conversion; Keras layer
names, whatever they contain, must never reach generated code.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
layers = keras.layers

from ml_genn.callbacks import SpikeRecorder
from ml_genn.neurons import BernoulliInput
from ml_genn_tf.converters import DataNorm, FewSpike, InputType, Simple, spike_normalise


def mlp(*hidden, shape=(4,)):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input(shape)] + list(hidden) + [layers.Dense(2)])


def set_weight(layer, index, position, value):
    weights = layer.get_weights()
    weights[index][position] = value
    layer.set_weights(weights)


# ---------------------------------------------------------------------------
# Unknown keyword arguments: TypeError naming them and the accepted ones
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("make, bad, accepted", [
    (lambda: DataNorm(10, input_typ="poisson"), "input_typ",
     r"did you mean 'input_type'.*accepted.*evaluate_timesteps.*norm_data"),
    (lambda: FewSpike(k=10, foo=1), "foo", r"accepted.*k, alpha, signed_input, norm_data"),
    (lambda: Simple(10, relative_rest=False), "relative_rest",
     r"did you mean 'relative_reset'"),
    (lambda: Simple(10).convert(mlp(), bogus=1), "bogus", r"accepted arguments: none"),
])
def test_unknown_keyword_arguments(make, bad, accepted):
    with pytest.raises(TypeError, match=rf"unexpected keyword argument '{bad}'.*{accepted}"):
        make()


@pytest.mark.parametrize("converter, kwargs, name", [
    (Simple(10), {"evaluate_timesteps": 5}, "evaluate_timesteps"),
    (DataNorm(10), {"evaluate_timesteps": 5}, "evaluate_timesteps"),
    (FewSpike(k=4), {"k": 8}, "k"),
])
def test_create_compiler_rejects_what_the_converter_sets(converter, kwargs, name):
    with pytest.raises(TypeError, match=rf"{name}=.*set by the converter.*constructor"):
        converter.create_compiler(**kwargs)


# ---------------------------------------------------------------------------
# Invalid values: ValueError in the constructor, naming the argument
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: FewSpike(k=0), r"FewSpike: k must be a positive integer.*0"),
    (lambda: FewSpike(k=1, signed_input=True), r"signed_input=True needs k >= 2"),
    (lambda: FewSpike(alpha=float("nan")), r"alpha must be a finite number greater than 0"),
    (lambda: FewSpike(alpha=-1.0), r"alpha must be a finite number greater than 0.*-1"),
    (lambda: Simple(0), r"Simple: evaluate_timesteps must be a positive integer"),
    (lambda: DataNorm(-5), r"evaluate_timesteps must be a positive integer \(1 or more\), got -5"),
    (lambda: DataNorm(10, norm_data=[]), r"norm_data is empty.*\[data\].*None"),
    (lambda: DataNorm(10, norm_data=[np.zeros((0, 4))]), r"norm_data contains no examples"),
    (lambda: FewSpike(norm_data="x_train.npy"), r"norm_data must be \[data\]"),
    (lambda: Simple(10, input_type="rate"),
     r"input_type must be an InputType or one of 'spike', 'poisson', 'if', 'poisson_exp'"),
    (lambda: DataNorm(10, input_type="Poisson"), r"input_type.*did you mean 'poisson'"),
    (lambda: Simple(10, input_type=None), r"input_type.*got None"),
    (lambda: Simple(10, signed_input="yes"), r"signed_input must be True or False"),
    (lambda: DataNorm(10, relative_reset=None), r"relative_reset must be True or False"),
    (lambda: BernoulliInput(signed_spikes="no"), r"signed_spikes must be True or False"),
])
def test_invalid_values_in_constructors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# Values of the wrong type: TypeError (as everywhere in the ml_genn API)
@pytest.mark.parametrize("make, match", [
    (lambda: FewSpike(k=2.5), r"FewSpike: k must be a positive integer.*2\.5 \(float\)"),
    (lambda: FewSpike(k=True), r"k must be a positive integer.*True \(bool\)"),
    (lambda: DataNorm(100.0), r"DataNorm: evaluate_timesteps must be a positive integer.*float"),
    (lambda: FewSpike(alpha="2"), r"FewSpike: alpha must be a positive number.*'2' \(str\)"),
])
def test_wrong_types_in_constructors(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_valid_values_still_accepted():
    assert FewSpike(k=np.int64(8), alpha=np.float32(2.0)).k == 8
    assert Simple(np.int32(5), signed_input=np.bool_(True)).signed_input is True
    assert DataNorm(10, input_type=InputType.POISSON_EXP).input_type is InputType.POISSON_EXP
    assert Simple(10, input_type="if").input_type is InputType.IF


def test_nan_in_normalisation_data():
    x = np.random.default_rng(0).random((8, 4)).astype(np.float32)
    x[3, 2] = np.nan
    # arrays: in the constructor
    with pytest.raises(ValueError, match=r"DataNorm: norm_data contains NaN.*\(3, 2\)"):
        DataNorm(10, norm_data=[x])
    with pytest.raises(ValueError, match=r"FewSpike: norm_data contains NaN"):
        FewSpike(norm_data=(x, np.zeros(8)))
    # iterables of batches: when they are read, naming the batch
    batches = [(x[:3], None), (x[3:], None)]
    with pytest.raises(ValueError, match=r"norm_data \(batch 1\) contains NaN.*nan_to_num"):
        DataNorm(10, norm_data=[batches]).convert(mlp(layers.Dense(3, activation="relu")))


def test_spike_normalise_arguments():
    net, inputs, outputs, _ = Simple(10).convert(mlp(layers.Dense(3, activation="relu")))
    x = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="spike_normalise: evaluate_timesteps must be a "
                                         "positive integer"):
        spike_normalise(net, inputs, outputs, [x], evaluate_timesteps=0)
    with pytest.raises(ValueError, match="spike_normalise: batch_size must be a positive"):
        spike_normalise(net, inputs, outputs, [x], evaluate_timesteps=5, batch_size=0)
    with pytest.raises(ValueError, match="spike_normalise: dt must be a finite number greater than 0, got nan"):
        spike_normalise(net, inputs, outputs, [x], evaluate_timesteps=5, dt=float("nan"))
    with pytest.raises(ValueError, match="norm_data is None"):
        spike_normalise(net, inputs, outputs, None, evaluate_timesteps=5)


def test_convert_needs_a_keras_model(tmp_path):
    with pytest.raises(TypeError, match=r"needs a keras.Model, got str.*load_model"):
        Simple(10).convert(str(tmp_path / "model.keras"))
    with pytest.raises(TypeError, match=r"FewSpike.convert\(\) needs a keras.Model, got Dense"):
        FewSpike().convert(layers.Dense(3))


# ---------------------------------------------------------------------------
# Odd Keras models: an error naming the layer and the fix
# ---------------------------------------------------------------------------
def test_non_finite_weights_name_the_layer():
    model = mlp(layers.Dense(3, activation="relu", name="hid"))
    set_weight(model.get_layer("hid"), 0, (0, 1), np.nan)
    for conv in (Simple(10), FewSpike()):
        with pytest.raises(ValueError, match=r"layer 'hid' \(Dense\): its kernel contains 1 "
                                             r"NaN or infinite.*retrain"):
            conv.convert(model)
    model = mlp(layers.Dense(3, activation="relu", name="hid"))
    set_weight(model.get_layer("hid"), 1, 2, np.inf)
    with pytest.raises(ValueError, match=r"layer 'hid' \(Dense\): its bias contains"):
        DataNorm(10).convert(model)


def test_batch_norm_with_bad_statistics():
    model = mlp(layers.Dense(3), layers.BatchNormalization(name="norm"), layers.ReLU())
    set_weight(model.get_layer("norm"), 3, 0, -5.0)       # negative variance
    with pytest.raises(ValueError, match=r"layer 'norm'.*moving_variance \+ epsilon must "
                                         r"be positive"):
        Simple(10).convert(model)
    model = mlp(layers.Dense(3), layers.BatchNormalization(name="norm"), layers.ReLU())
    set_weight(model.get_layer("norm"), 2, 1, np.nan)     # NaN mean
    with pytest.raises(ValueError, match=r"layer 'norm'.*moving_mean contains 1 NaN"):
        Simple(10).convert(model)


def test_nested_model():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu")],
                             name="inner")
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(2)(inner(inp)))
    with pytest.raises(NotImplementedError, match=r"layer 'inner' \(Sequential\) is a nested "
                                                  r"model.*rebuild the model"):
        Simple(10).convert(model)


def test_shared_layer():
    keras.utils.set_random_seed(0)
    shared = layers.Dense(4, activation="relu", name="twice")
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(2)(shared(shared(inp))))
    with pytest.raises(NotImplementedError, match=r"'twice'.*called more than once.*shared"):
        FewSpike().convert(model)


@pytest.mark.parametrize("layer, match", [
    (layers.Lambda(lambda x: 2.0 * x, name="double"),
     r"layer 'double' \(Lambda\): Lambda layers are not supported.*supported layer types"),
    (layers.Dense(3, activation="tanh", name="squash"),
     r"layer 'squash' \(Dense\) uses activation 'tanh'.*supported activations.*'relu'"),
    (layers.LeakyReLU(name="leak"), r"layer 'leak' \(LeakyReLU\).*not supported"),
])
def test_unsupported_hidden_layers(layer, match):
    with pytest.raises(NotImplementedError, match=match):
        DataNorm(10).convert(mlp(layer))


def test_dilated_convolution():
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              layers.Conv2D(2, 3, dilation_rate=2, activation="relu",
                                            name="holes"),
                              layers.Flatten(), layers.Dense(2)])
    with pytest.raises(NotImplementedError, match=r"'holes' \(Conv2D\): dilated"):
        FewSpike().convert(model)


def test_two_inputs_with_normalisation_data():
    a, b = keras.Input((4,), name="left"), keras.Input((4,), name="right")
    model = keras.Model([a, b], layers.Dense(2)(layers.ReLU()(layers.Add()(
        [layers.Dense(3)(a), layers.Dense(3)(b)]))))
    x = np.ones((2, 4), np.float32)
    with pytest.raises(NotImplementedError, match=r"one input.*'left', 'right'.*"
                                                  r"norm_data=None"):
        DataNorm(10, norm_data=[x]).convert(model)
    with pytest.raises(NotImplementedError, match=r"FewSpike: normalisation data \(norm_data\) "
                                                  r"is only supported for models with one "
                                                  r"input \(this one has 2\)"):
        FewSpike(norm_data=[x]).convert(model)
    Simple(10).convert(model)       # without normalisation: fine


def test_the_base_converter_says_which_to_use():
    from ml_genn_tf.converters import Converter
    model = mlp(layers.Dense(3, activation="relu"))
    with pytest.raises(NotImplementedError, match="Converter does not say which neurons .* "
                                                  "Simple, DataNorm or FewSpike"):
        Converter().convert(model)


def test_same_output_twice():
    inp = keras.Input((4,))
    out = layers.Dense(2, name="twice_out")(layers.Dense(3, activation="relu")(inp))
    with pytest.raises(NotImplementedError, match=r"output 1 \('twice_out'\) is listed more "
                                                  r"than once"):
        Simple(10).convert(keras.Model(inp, [out, out]))


def test_model_without_symbolic_inputs():
    with pytest.raises(RuntimeError, match=r"no symbolic inputs.*keras.Input"):
        Simple(10).convert(keras.Sequential([layers.Dense(3)]))


# ---------------------------------------------------------------------------
# Hostile Keras layer names never reach generated code
# ---------------------------------------------------------------------------
# Keras forbids '/' in names; everything else is allowed and survives a
# .keras file loaded with safe_mode=True
# The payload compiles wherever a raw name is pasted at the end of a C++ line
# comment (what the code generator at the start of issue 7 did): it runs
# "touch pwned" in the working directory (the test's tmp_path) when the
# library is loaded, once however often the name is pasted; the rest of the
# line becomes an unused macro.
PAYLOAD = ('x\n#ifndef PWN\n#define PWN\n#include <cstdlib>\n'
           'static int pwn = std::system("touch pwned");\n#endif\n#define JUNK')

HOSTILE_NAMES = ['q"uote\\back\\"', "ünïcødé ß → λ", "a.b", "a_b", "a-b", "", " int main"]


def _names_model(names, weights=None):
    """Input -> 6 ReLU Dense layers -> Dense(3), layer i named names[i]."""
    inp = keras.Input((5,), name=names[0])
    x = inp
    for name in names[1:-1]:
        x = layers.Dense(6, activation="relu", name=name)(x)
    model = keras.Model(inp, layers.Dense(3, name=names[-1])(x))
    if weights is not None:
        model.set_weights(weights)
    return model


# (Keras' own .keras saving warns about NumPy 2's copy keyword)
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_hostile_layer_names_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    hostile = [PAYLOAD] + HOSTILE_NAMES
    plain = [f"layer{i}" for i in range(len(hostile))]
    keras.utils.set_random_seed(3)
    reference = _names_model(plain)
    weights = [np.abs(w) + 0.05 for w in reference.get_weights()]   # active ReLUs
    reference.set_weights(weights)
    path = tmp_path / "hostile.keras"
    _names_model(hostile, weights).save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert [layer.name for layer in loaded.layers] == hostile

    x = np.random.default_rng(3).random((6, 5)).astype(np.float32)

    def run(model):
        converter = Simple(20, input_type="if")
        net, inputs, outputs, pops = converter.convert(model)
        # the original Keras names are kept for users
        assert [p.name for p in net.populations] == [layer.name for layer in model.layers]
        for layer in model.layers:
            assert pops[layer].name == layer.name
        hidden = model.layers[1:-1]
        for layer in hidden:
            pops[layer].record_spikes = True
        # recordings keyed by the Keras names
        recorders = [SpikeRecorder(pops[layer], key=layer.name, record_counts=True)
                     for layer in hidden]
        compiled = converter.create_compiler(batch_size=6).compile(net)
        with compiled:
            pred, cb_data = compiled.predict({inputs[0]: x}, outputs, callbacks=recorders)
        counts = [np.asarray(cb_data[layer.name]) for layer in hidden]
        return pred[outputs[0]], counts

    expected, expected_counts = run(reference)
    got, got_counts = run(loaded)
    assert not marker.exists(), "a Keras layer name ran code"
    assert not any(p.name == "pwned" for p in tmp_path.iterdir())
    np.testing.assert_array_equal(got, expected)
    assert expected.sum() > 0
    for g, e in zip(got_counts, expected_counts):
        assert e.shape == (6, 6) and e.sum() > 0
        np.testing.assert_array_equal(g, e)


def test_overflowing_activations_in_normalisation():
    model = mlp(layers.Dense(3, activation="relu", name="huge"))
    layer = model.get_layer("huge")
    layer.set_weights([np.full((4, 3), 3e38, np.float32), np.zeros(3, np.float32)])
    x = np.ones((4, 4), np.float32)
    for conv in (DataNorm(10, norm_data=[x]), FewSpike(norm_data=[x])):
        with pytest.raises(ValueError, match=r"layer 'huge'.*largest activation.*inf.*"
                                             r"overflows"):
            conv.convert(model)
