"""Keras 3 -> ml_genn converters, checked against Keras' own outputs.

Per layer type: a Keras model made of that layer (random weights and
biases) is converted with integrator outputs (``IntegrateFire`` with an
unreachable threshold and a ``var`` readout) and binary spike inputs; after
2 steps an integrator holds exactly one copy of the layer's pre-activation
(a spike sent at step 0 arrives at step 1, the bias is added from step 1),
which must equal Keras' output. Hidden ReLU layers are checked through
FewSpike (exact up to its K-bit quantisation) and end to end on digits.

Nothing here depends on how a machine's TensorFlow trains: the end-to-end
digits network's weights are computed in closed form from seeded NumPy
random numbers and float64 least squares (no Keras training), so every
machine converts the same network and the accuracy bounds hold everywhere.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
layers = keras.layers

from ml_genn.compilers import InferenceCompiler
from ml_genn.connectivity import AvgPoolConv2D, AvgPoolDense2D, Conv2D, Dense, OneToOne
from ml_genn.metrics import Metric
from ml_genn import Connection, Network, Population
from ml_genn.neurons import (BernoulliInput, BinarySpikeInput, FewSpikeRelu,
                             FewSpikeReluInput, IntegrateFire, IntegrateFireInput, PoissonInput)
from ml_genn_tf.converters import (Converter, DataNorm, FewSpike, InputType, Simple,
                                   spike_normalise)
from ml_genn_tf.converters.neuron_adaptations import (RelativeResetIntegrateFire,
                                                     RelativeResetIntegrateFireInput,
                                                     SignedIntegrateFireInput)

BIAS = "random_normal"


class IntegratorConverter(Converter):
    """Outputs integrate their input without ever spiking."""

    def __init__(self, input_neuron=None):
        self.input_neuron = input_neuron

    def create_input_neurons(self, pre_convert_output):
        return BinarySpikeInput() if self.input_neuron is None else self.input_neuron

    def create_neurons(self, tf_layer, pre_convert_output, is_output):
        return IntegrateFire(v_thresh=1e9 if is_output else 1.0,
                             readout="var" if is_output else None)

    def create_compiler(self, **kwargs):
        return InferenceCompiler(evaluate_timesteps=2, **kwargs)


class Collect(Metric):
    """'Metric' keeping the predictions (FewSpike networks have no predict)."""

    def __init__(self):
        self.preds = []

    def reset(self):
        pass

    def update(self, y_true, y_pred, communicator=None):
        self.preds.append(np.array(y_pred))

    @property
    def result(self):
        return None


def integrate(model, x, converter=None):
    """Integrator readouts of the converted model, one array per output."""
    converter = IntegratorConverter() if converter is None else converter
    net, inputs, outputs, _ = converter.convert(model)
    compiled = converter.create_compiler(batch_size=len(x)).compile(net)
    with compiled:
        pred, _ = compiled.predict({inputs[0]: x}, outputs, callbacks=[])
    return [pred[o].reshape((len(x),) + tuple(model.outputs[i].shape[1:]))
            for i, o in enumerate(outputs)]


def few_spike_outputs(converter, model, x, batch_size=8):
    net, inputs, outputs, _ = converter.convert(model)
    compiled = converter.create_compiler(batch_size=batch_size).compile(
        net, inputs=inputs, outputs=outputs)
    collect = Collect()
    with compiled:
        compiled.evaluate({inputs[0]: x}, {outputs[0]: np.zeros(len(x))}, metrics=collect,
                          callbacks=[])
    return np.concatenate(collect.preds)[:len(x)]


def random_bn(layer, rng):
    n = layer.get_weights()[0].shape[0]
    layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.5, n),
                       rng.normal(0, 0.5, n), rng.uniform(0.5, 1.5, n)])


def relu(v):
    return np.maximum(v, 0.0)


def softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------
# Per layer type: one multi-output Keras model per channel count (one build)
# ---------------------------------------------------------------------------
def _cases():
    """name -> (builder(inp, channels, rng) -> tensor, fn applied to the SNN)."""
    c = {}
    for pad in ("valid", "same"):
        for s in (1, 2, 3):
            c[f"conv2d_{pad}_s{s}"] = (
                lambda i, ch, r, pad=pad, s=s: layers.Conv2D(
                    3, 3, strides=s, padding=pad, bias_initializer=BIAS)(i), None)
            c[f"conv2d_transpose_{pad}_s{s}"] = (
                lambda i, ch, r, pad=pad, s=s: layers.Conv2DTranspose(
                    2, 3, strides=s, padding=pad, bias_initializer=BIAS)(i), None)
    c["conv2d_k2x3_s2x1_same_nobias"] = (
        lambda i, ch, r: layers.Conv2D(2, (2, 3), strides=(2, 1), padding="same",
                                       use_bias=False)(i), None)
    c["conv2d_transpose_k2_s3"] = (
        lambda i, ch, r: layers.Conv2DTranspose(2, 2, strides=3)(i), None)
    for p in (2, 3):
        for pad in ("valid", "same"):
            c[f"avgpool{p}_conv2d_{pad}"] = (
                lambda i, ch, r, p=p, pad=pad: layers.Conv2D(
                    3, 2, padding=pad, bias_initializer=BIAS)(layers.AveragePooling2D(p)(i)),
                None)
        c[f"avgpool{p}_dense"] = (
            lambda i, ch, r, p=p: layers.Dense(4, bias_initializer=BIAS)(
                layers.Flatten()(layers.AveragePooling2D(p)(i))), None)
        c[f"avgpool{p}"] = (lambda i, ch, r, p=p: layers.AveragePooling2D(p)(i), None)
    c["avgpool2_strides3"] = (lambda i, ch, r: layers.AveragePooling2D(2, strides=3)(i),
                              None)
    c["avgpool3_same_no_padding"] = (
        lambda i, ch, r: layers.AveragePooling2D(3, padding="same")(i), None)
    c["avgpool2_avgpool2"] = (
        lambda i, ch, r: layers.AveragePooling2D(2)(layers.AveragePooling2D(2)(i)), None)
    c["global_avgpool"] = (lambda i, ch, r: layers.GlobalAveragePooling2D()(i), None)
    c["global_avgpool_keepdims"] = (
        lambda i, ch, r: layers.GlobalAveragePooling2D(keepdims=True)(i), None)
    c["global_avgpool_dense"] = (
        lambda i, ch, r: layers.Dense(4, bias_initializer=BIAS)(
            layers.GlobalAveragePooling2D()(i)), None)
    c["flatten_dense"] = (
        lambda i, ch, r: layers.Dense(5, bias_initializer=BIAS)(layers.Flatten()(i)), None)
    c["flatten_dropout_dense_dropout"] = (
        lambda i, ch, r: layers.Dropout(0.5)(layers.Dense(5)(
            layers.Dropout(0.5)(layers.Flatten()(i)))), None)

    def bn(x, r):
        layer = layers.BatchNormalization()
        y = layer(x)
        random_bn(layer, r)
        return y
    c["conv2d_bn"] = (lambda i, ch, r: bn(layers.Conv2D(3, 3, padding="same")(i), r), None)
    c["conv2d_bias_bn"] = (lambda i, ch, r: bn(layers.Conv2D(
        3, 3, strides=2, bias_initializer=BIAS)(i), r), None)
    c["dense_bn"] = (lambda i, ch, r: bn(layers.Dense(4)(layers.Flatten()(i)), r), None)
    c["conv2d_transpose_bn"] = (
        lambda i, ch, r: bn(layers.Conv2DTranspose(2, 3, strides=2)(i), r), None)
    c["bn_on_input"] = (lambda i, ch, r: bn(i, r), None)
    c["bn_then_conv2d_same"] = (
        lambda i, ch, r: layers.Conv2D(3, 3, padding="same")(bn(i, r)), None)
    c["bn_then_conv2d_transpose"] = (
        lambda i, ch, r: layers.Conv2DTranspose(2, 3, strides=2, padding="same")(bn(i, r)),
        None)
    c["flatten_bn_dense"] = (
        lambda i, ch, r: layers.Dense(3)(bn(layers.Flatten()(i), r)), None)
    c["avgpool3_bn"] = (lambda i, ch, r: bn(layers.AveragePooling2D(3)(i), r), None)
    c["add_conv2d_conv2d"] = (
        lambda i, ch, r: layers.Add()([layers.Conv2D(2, 3, bias_initializer=BIAS)(i),
                                       layers.Conv2D(2, 3, padding="valid")(i)]), None)
    c["add_skip_conv2d"] = (
        lambda i, ch, r: layers.Add()([i, layers.Conv2D(ch, 3, padding="same",
                                                        bias_initializer=BIAS)(i)]), None)
    c["dense_relu"] = (lambda i, ch, r: layers.Dense(
        6, activation="relu", bias_initializer=BIAS)(layers.Flatten()(i)), relu)
    c["conv2d_relu"] = (lambda i, ch, r: layers.Conv2D(
        3, 3, activation="relu", bias_initializer=BIAS)(i), relu)
    c["dense_activation_relu"] = (lambda i, ch, r: layers.Activation("relu")(
        layers.Dense(6, bias_initializer=BIAS)(layers.Flatten()(i))), relu)
    c["conv2d_bn_relu_layer"] = (
        lambda i, ch, r: layers.ReLU()(bn(layers.Conv2D(3, 3)(i), r)), relu)
    c["dense_softmax"] = (lambda i, ch, r: layers.Dense(
        5, activation="softmax", bias_initializer=BIAS)(layers.Flatten()(i)), softmax)
    c["dense_softmax_layer"] = (lambda i, ch, r: layers.Softmax()(
        layers.Dense(5)(layers.Flatten()(i))), softmax)
    return c


CASES = _cases()


@pytest.fixture(scope="module", params=[1, 2], ids=["1ch", "2ch"])
def layer_zoo(request):
    channels = request.param
    keras.utils.set_random_seed(channels)
    rng = np.random.default_rng(channels)
    inp = keras.Input((9, 9, channels))
    names = list(CASES)
    outs = [CASES[n][0](inp, channels, rng) for n in names]
    model = keras.Model(inp, outs)
    x = (rng.random((6, 9, 9, channels)) > 0.5).astype(np.float32)
    ref = [np.asarray(r) for r in model(x, training=False)]
    snn = integrate(model, x)
    return {n: (s, r) for n, s, r in zip(names, snn, ref)}


@pytest.mark.parametrize("case", list(CASES))
def test_layer_matches_keras(layer_zoo, case):
    snn, ref = layer_zoo[case]
    post = CASES[case][1]
    if post is not None:
        snn = post(snn)
    assert snn.shape == ref.shape
    assert np.mean((snn - ref) ** 2) < 1e-3
    np.testing.assert_allclose(snn, ref, atol=1e-4)


@pytest.mark.parametrize("input_neuron", ["binary", "if", "bernoulli"])
def test_signed_inputs(input_neuron):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    inp = keras.Input((6, 6, 2))
    out1 = layers.Conv2D(3, 3, padding="same", bias_initializer=BIAS)(inp)
    out2 = layers.Dense(4)(layers.Flatten()(inp))
    model = keras.Model(inp, [out1, out2])
    x = rng.integers(-1, 2, size=(5, 6, 6, 2)).astype(np.float32)
    # inputs in {-1, 0, 1}: a Bernoulli input with |x| = 1 spikes on every step
    neuron = {"binary": BinarySpikeInput(signed_spikes=True),
              "if": SignedIntegrateFireInput(),
              "bernoulli": BernoulliInput(signed_spikes=True)}[input_neuron]
    snn = integrate(model, x, IntegratorConverter(neuron))
    for s, r in zip(snn, model(x)):
        np.testing.assert_allclose(s, np.asarray(r), atol=1e-4)


def test_input_types():
    # "poisson": spike probability min(x, 1) per step (BernoulliInput);
    # upstream's PoissonInput (1 - exp(-x dt)) is "poisson_exp"
    for value, cls in ((InputType.SPIKE, BinarySpikeInput), ("spike", BinarySpikeInput),
                       ("poisson", BernoulliInput), (InputType.POISSON, BernoulliInput),
                       ("poisson_exp", PoissonInput), (InputType.POISSON_EXP, PoissonInput),
                       (InputType.IF, RelativeResetIntegrateFireInput),
                       ("if", RelativeResetIntegrateFireInput)):
        for conv in (Simple(10, input_type=value), DataNorm(10, input_type=value)):
            neuron = conv.create_input_neurons(None)
            assert type(neuron) is cls
    # upstream's neurons (reset to 0) on request
    assert type(Simple(10, input_type="if", relative_reset=False)
                .create_input_neurons(None)) is IntegrateFireInput
    assert type(Simple(10, relative_reset=False).create_neurons(None, None, False)) \
        is IntegrateFire
    assert type(DataNorm(10).create_neurons("l", {"thresholds": {"l": 2.0}}, True)) \
        is RelativeResetIntegrateFire
    assert Simple(10).input_type == InputType.POISSON
    assert Simple(10, signed_input=True).create_input_neurons(None).signed_spikes
    assert Simple(10, True, "poisson_exp").create_input_neurons(None).signed_spikes
    assert Simple(10, True, "spike").create_input_neurons(None).signed_spikes
    assert isinstance(Simple(10, True, "if").create_input_neurons(None),
                      SignedIntegrateFireInput)
    with pytest.raises(ValueError, match="input_type.*'poisson'.*'rate'"):
        Simple(10, input_type="rate")


def _input_spike_counts(neuron, x, steps, batch_size):
    """Spikes (positive minus negative) of a population of ``neuron`` fed
    ``x`` (``(batch,) + shape``) over ``steps - 1`` steps, counted by an
    integrator behind a one-to-one connection of weight 1 (a spike at step
    ``n`` arrives at step ``n + 1``)."""
    net = Network()
    with net:
        inp = Population(neuron, x.shape[-1])
        out = Population(IntegrateFire(v_thresh=1e9, readout="var"), x.shape[-1])
        Connection(inp, out, OneToOne(weight=1.0))
    compiled = InferenceCompiler(evaluate_timesteps=steps, batch_size=batch_size,
                                 rng_seed=7).compile(net, name="bernoulli_counts")
    with compiled:
        pred, _ = compiled.predict({inp: x}, [out], callbacks=[])
    return pred[out]


def test_bernoulli_input_spike_probability():
    """BernoulliInput spikes with probability min(|x|, 1) per step: compared
    with the binomial distribution of the count (5 standard deviations, 4000
    trials per value and example); 0 and >= 1 are exact."""
    probs = np.array([0.0, 0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98, 1.0, 1.7], np.float32)
    per_value, steps = 40, 101
    x = np.repeat(probs, per_value).astype(np.float32)
    data = np.stack([x, x[::-1]])
    for signed in (False, True):
        sign = -1.0 if signed else 1.0
        counts = _input_spike_counts(BernoulliInput(signed_spikes=signed), sign * data,
                                     steps, 2)
        for b in range(2):
            values = data[b]
            for p in probs:
                c = counts[b][values == p] * sign
                n = (steps - 1) * per_value
                q = min(float(p), 1.0)
                if q in (0.0, 1.0):
                    np.testing.assert_array_equal(c, q * (steps - 1))
                else:
                    assert abs(c.sum() - n * q) <= 5 * np.sqrt(n * q * (1 - q)), (signed, p)
    # PoissonInput, for comparison, spikes with probability 1 - exp(-x dt)
    counts = _input_spike_counts(PoissonInput(), data[:1], steps, 1)[0]
    for p in np.float32([0.5, 1.0, 1.7]):
        q = 1.0 - np.exp(-float(p))
        n = (steps - 1) * per_value
        assert abs(counts[x == p].sum() - n * q) <= 5 * np.sqrt(n * q * (1 - q))


def test_bernoulli_input_frames():
    """Time-varying input: frame 0 (probability 1) for 4 steps, then frame 1
    (0): exactly 4 spikes per neuron whatever the seed."""
    frames = np.stack([np.ones(5), np.zeros(5)]).astype(np.float32)
    counts = _input_spike_counts(BernoulliInput(input_frames=2, input_frame_timesteps=4),
                                 np.stack([frames, frames[::-1]]), 12, 2)
    np.testing.assert_array_equal(counts, [[4.0] * 5, [7.0] * 5])
    with pytest.raises(NotImplementedError, match="signed"):
        BernoulliInput(signed_spikes=True, input_frames=2)


# ---------------------------------------------------------------------------
# Hidden ReLU layers, skip connections and biases through FewSpike
# ---------------------------------------------------------------------------
def resnet_like(seed=0):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = keras.Input((8, 8, 2))
    c1 = layers.Conv2D(4, 3, padding="same", activation="relu", bias_initializer=BIAS,
                       name="c1")(inp)
    c2 = layers.Conv2D(4, 3, padding="same", name="c2")(c1)
    bn_layer = layers.BatchNormalization(name="bn")
    bn = bn_layer(c2)
    random_bn(bn_layer, rng)
    r = layers.ReLU(name="block")(layers.Add()([bn, c1]))
    c3 = layers.Conv2D(6, 3, activation="relu", name="c3")(layers.AveragePooling2D(2)(r))
    out = layers.Dense(5, bias_initializer=BIAS, name="out")(
        layers.GlobalAveragePooling2D()(c3))
    return keras.Model(inp, out)


def test_few_spike_matches_keras_on_hidden_relu_layers_and_skips():
    model = resnet_like()
    rng = np.random.default_rng(4)
    x = rng.random((12, 8, 8, 2)).astype(np.float32)
    ref = np.asarray(model(x))
    converter = FewSpike(k=16, norm_data=[x])
    snn = few_spike_outputs(converter, model, x)
    assert np.mean((snn - ref) ** 2) < 1e-3 * np.mean(ref ** 2)
    np.testing.assert_allclose(snn, ref, atol=2e-3 * np.max(np.abs(ref)))


def test_few_spike_signed_input():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((10,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3)])
    x = np.random.default_rng(5).uniform(-1, 1, (9, 10)).astype(np.float32)
    ref = np.asarray(model(x))
    snn = few_spike_outputs(FewSpike(k=16, signed_input=True, norm_data=[x]), model, x)
    np.testing.assert_allclose(snn, ref, atol=5e-3 * np.max(np.abs(ref)))


def test_few_spike_alphas_from_data_and_shared_by_sources():
    model = resnet_like()
    x = np.random.default_rng(6).random((10, 8, 8, 2)).astype(np.float32)
    k = 8
    full = 1.0 - 2.0 ** -k
    net, inputs, outputs, pops = FewSpike(k=k, norm_data=[x]).convert(model)
    assert isinstance(inputs[0].neuron, FewSpikeReluInput)
    assert inputs[0].neuron.alpha == pytest.approx(x.max() / full)
    for name in ("c1", "block", "c3"):
        layer = model.get_layer(name)
        act = np.max(keras.Model(model.inputs[0], layer.output)(x))
        assert isinstance(pops[layer].neuron, FewSpikeRelu)
        assert pops[layer].neuron.alpha == pytest.approx(float(act) / full, rel=1e-5)
    assert outputs[0].neuron.readout is not None
    # sources of one population share the largest of their alphas
    keras.utils.set_random_seed(11)
    inp = keras.Input((6,))
    h1 = layers.Dense(6, activation="relu")(inp)
    out = layers.Dense(3)(layers.ReLU()(layers.Add()([layers.Dense(6)(h1), inp])))
    model = keras.Model(inp, out)
    x = np.random.default_rng(11).random((32, 6)).astype(np.float32)
    net, inputs, outputs, pops = FewSpike(k=k, norm_data=[x]).convert(model)
    h1_max = float(np.max(keras.Model(inp, h1)(x)))
    shared = max(h1_max, float(x.max())) / full
    assert inputs[0].neuron.alpha == pytest.approx(shared, rel=1e-5)
    assert pops[model.layers[1]].neuron.alpha == pytest.approx(shared, rel=1e-5)


# ---------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------
def test_vgg_like_sequential_structure():
    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input((12, 12, 3)),
        layers.Conv2D(8, 3, padding="same", activation="relu", use_bias=False),
        layers.Dropout(0.1),
        layers.Conv2D(8, 3, padding="same", activation="relu", use_bias=False),
        layers.AveragePooling2D(2),
        layers.Conv2D(16, 3, padding="same", activation="relu", use_bias=False),
        layers.AveragePooling2D(2),
        layers.Flatten(),
        layers.Dense(32, activation="relu", use_bias=False),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax", use_bias=False)])
    net, inputs, outputs, pops = Simple(evaluate_timesteps=10).convert(model)
    kernels = [layer for layer in model.layers if layer.get_weights()]
    assert [p.name for p in net.populations] == (
        [inputs[0].name] + [layer.name for layer in kernels])
    assert [p.shape for p in net.populations] == [(12, 12, 3), (12, 12, 8), (12, 12, 8),
                                                 (6, 6, 16), (32,), (10,)]
    assert [type(c.connectivity) for c in net.connections] == [
        Conv2D, Conv2D, AvgPoolConv2D, AvgPoolDense2D, Dense]
    for conn, layer in zip(net.connections, kernels):
        np.testing.assert_array_equal(conn.connectivity.weight, layer.get_weights()[0])
        assert conn.target() is pops[layer]
    assert net.connections[2].connectivity.pool_size == (2, 2)
    assert net.connections[3].connectivity.pool_size == (2, 2)
    assert all(type(p.neuron) is RelativeResetIntegrateFire for p in net.populations[1:])
    assert all(p.neuron.v_thresh == 1.0 for p in net.populations[1:])
    assert outputs == [pops[kernels[-1]]]
    assert outputs[0].neuron.readout is not None
    assert all(p.neuron.readout is None for p in net.populations[1:-1])


def test_functional_skip_connection_structure():
    keras.utils.set_random_seed(8)
    rng = np.random.default_rng(8)
    inp = keras.Input((8, 8, 2), name="image")
    c1 = layers.Conv2D(4, 3, padding="same", activation="relu", use_bias=False,
                       name="c1")(inp)
    c2 = layers.Conv2D(4, 3, padding="same", use_bias=False, name="c2")(c1)
    bn_layer = layers.BatchNormalization(name="bn")
    bn = bn_layer(c2)
    random_bn(bn_layer, rng)
    r = layers.ReLU(name="block_out")(layers.Add(name="add")([bn, c1]))
    proj = layers.Conv2D(4, 1, use_bias=False, name="proj")(r)
    c3 = layers.Conv2D(4, 3, padding="same", use_bias=False, name="c3")(r)
    r2 = layers.Activation("relu", name="block2_out")(layers.Add()([c3, proj]))
    out = layers.Dense(3, use_bias=False, name="logits")(layers.GlobalAveragePooling2D()(r2))
    model = keras.Model(inp, out)
    net, inputs, outputs, pops = Simple(evaluate_timesteps=10).convert(model)
    names = [p.name for p in net.populations]
    assert names == ["image", "c1", "block_out", "block2_out", "logits"]
    conns = {(c.source().name, c.target().name, type(c.connectivity)): c
             for c in net.connections}
    assert set(conns) == {("image", "c1", Conv2D), ("c1", "block_out", Conv2D),
                          ("c1", "block_out", OneToOne), ("block_out", "block2_out", Conv2D),
                          ("block_out", "block2_out", Conv2D),
                          ("block2_out", "logits", AvgPoolDense2D)}
    assert len(net.connections) == 6
    gamma, beta, mean, var = bn_layer.get_weights()
    scale = gamma / np.sqrt(var + bn_layer.epsilon)
    np.testing.assert_allclose(conns[("c1", "block_out", Conv2D)].connectivity.weight,
                               model.get_layer("c2").get_weights()[0] * scale, rtol=1e-6)
    assert conns[("c1", "block_out", OneToOne)].connectivity.weight == 1.0
    # the folded BN shift is block_out's bias
    np.testing.assert_allclose(np.reshape(pops[model.get_layer("block_out")].neuron.tf_bias,
                                          (8, 8, 4)),
                               np.broadcast_to(beta - mean * scale, (8, 8, 4)), rtol=1e-5)
    weights = sorted(
        (c.connectivity.weight for c in net.connections
         if c.target().name == "block2_out"), key=lambda w: w.shape)
    np.testing.assert_array_equal(weights[0], model.get_layer("proj").get_weights()[0])
    np.testing.assert_array_equal(weights[1], model.get_layer("c3").get_weights()[0])
    np.testing.assert_array_equal(conns[("block2_out", "logits", AvgPoolDense2D)]
                                  .connectivity.weight,
                                  model.get_layer("logits").get_weights()[0])
    assert conns[("block2_out", "logits", AvgPoolDense2D)].connectivity.pool_size == (8, 8)
    assert set(pops) == {model.get_layer(n) for n in ("image", "c1", "block_out",
                                                      "block2_out", "logits")}
    assert inputs == [pops[model.get_layer("image")]]
    assert outputs == [pops[model.get_layer("logits")]]


def test_data_norm_thresholds_and_biases():
    model = resnet_like()
    x = np.random.default_rng(9).random((16, 8, 8, 2)).astype(np.float32)
    net, inputs, outputs, pops = DataNorm(100, norm_data=[x]).convert(model)

    def lam(name, kernel):
        act = keras.Model(model.inputs[0], model.get_layer(name).output)(x)
        return max(float(np.max(act)), float(np.max(kernel)))

    bn_layer = model.get_layer("bn")
    gamma, beta, mean, var = bn_layer.get_weights()
    scale = gamma / np.sqrt(var + bn_layer.epsilon)
    folded = model.get_layer("c2").get_weights()[0] * scale
    lam_c1 = lam("c1", model.get_layer("c1").get_weights()[0])
    lam_block = lam("block", folded)
    lam_c3 = lam("c3", model.get_layer("c3").get_weights()[0])
    thresholds = {p.name: p.neuron.v_thresh for p in net.populations[1:]}
    assert thresholds["c1"] == pytest.approx(lam_c1, rel=1e-5)
    assert thresholds["block"] == pytest.approx(lam_block / lam_c1, rel=1e-5)
    assert thresholds["c3"] == pytest.approx(lam_c3 / lam_block, rel=1e-5)
    # both connections into 'block' come from c1: kernels unscaled
    block = pops[model.get_layer("block")]
    for conn in block.incoming_connections:
        w = conn().connectivity.weight
        if isinstance(conn().connectivity, Conv2D):
            np.testing.assert_allclose(w, folded, rtol=1e-5)
        else:
            assert w == pytest.approx(1.0)
    # biases (here the BN shift) are divided by the scale of the input
    np.testing.assert_allclose(np.reshape(block.neuron.tf_bias, (8, 8, 4))[3, 5],
                               (beta - mean * scale) / lam_c1, rtol=1e-5)
    np.testing.assert_allclose(np.reshape(pops[model.get_layer("c1")].neuron.tf_bias,
                                          (8, 8, 4))[0, 0],
                               model.get_layer("c1").get_weights()[1], rtol=1e-5)


def test_data_norm_scales_skip_connections_from_other_sources():
    keras.utils.set_random_seed(10)
    inp = keras.Input((6,))
    h1 = layers.Dense(6, activation="relu", use_bias=False)(inp)
    h2 = layers.Dense(6, use_bias=False)(h1)
    out = layers.Dense(3, use_bias=False)(layers.ReLU()(layers.Add()([h2, inp])))
    model = keras.Model(inp, out)
    x = np.random.default_rng(10).random((32, 6)).astype(np.float32) * 3
    net, inputs, outputs, pops = DataNorm(100, norm_data=[x]).convert(model)
    relu_pop = pops[model.layers[-2]]
    h1_pop = pops[model.layers[1]]
    lam_h1 = h1_pop.neuron.v_thresh
    by_source = {c().source(): c().connectivity for c in relu_pop.incoming_connections}
    # reference = h1 (first term); the input (scale 1) is scaled by 1 / lambda_h1
    np.testing.assert_allclose(by_source[h1_pop].weight, model.layers[2].get_weights()[0],
                               rtol=1e-6)
    assert by_source[inputs[0]].weight == pytest.approx(1.0 / lam_h1)


# ---------------------------------------------------------------------------
# End to end on scikit-learn's digits
# ---------------------------------------------------------------------------
def build_digits_cnn(seed=0):
    """A digits CNN whose weights need no training, identical on every machine.

    Conv(16, ReLU) - AvgPool - Conv(32) - BatchNorm - ReLU - AvgPool -
    Flatten - Dropout - Dense(64, ReLU) - Dense(10): the convolutions are
    fixed random filters (seeded NumPy), the batch normalisation
    standardises the second convolution on the training data, and the two
    Dense layers are fitted by float64 ridge regression (the hidden layer to
    a random +-1 code of the class, the output to the one-hot class), an
    extreme-learning-machine fit. Keras' float32 rounding can only move
    examples that sit on a decision boundary, so the ANN (97.4 % on the 898
    test digits) and its conversions are the same on every machine.

    -> model, x_train, y_train, x_test, y_test (half of the 1797 digits each).
    """
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    y = digits.target
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    test, train = perm[:len(x) // 2], perm[len(x) // 2:]

    def unit_filters(shape):
        w = rng.normal(size=shape)
        return (w / np.sqrt((w.reshape(-1, shape[-1]) ** 2).sum(axis=0))).astype(np.float32)

    def ridge(features, targets):
        a = np.hstack([features, np.ones((len(features), 1))])
        w = np.linalg.solve(a.T @ a + np.eye(a.shape[1]), a.T @ targets)
        return w[:-1].astype(np.float32), w[-1].astype(np.float32)

    inp = keras.Input((8, 8, 1), name="image")
    conv1 = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")
    conv2 = layers.Conv2D(32, 3, padding="same", use_bias=False, name="conv2")
    bn = layers.BatchNormalization(name="bn")
    hidden = layers.Dense(64, activation="relu", name="hidden")
    logits = layers.Dense(10, name="logits")
    pooled = layers.AveragePooling2D(2, name="pool1")(conv1(inp))
    normed = bn(conv2(pooled))
    flat = layers.Flatten(name="flatten")(
        layers.AveragePooling2D(2, name="pool2")(layers.ReLU(name="relu2")(normed)))
    model = keras.Model(inp, logits(hidden(layers.Dropout(0.2, name="drop")(flat))))
    conv1.set_weights([unit_filters((3, 3, 1, 16)),
                       rng.normal(0.0, 0.05, 16).astype(np.float32)])
    conv2.set_weights([unit_filters((3, 3, 16, 32))])
    pre = np.asarray(keras.Model(inp, conv2.output)(x[train]), dtype=np.float64)
    bn.set_weights([np.ones(32, np.float32), np.full(32, 0.5, np.float32),
                    pre.mean(axis=(0, 1, 2)).astype(np.float32),
                    pre.var(axis=(0, 1, 2)).astype(np.float32)])
    features = np.asarray(keras.Model(inp, flat)(x[train]), dtype=np.float64)
    onehot = np.eye(10)[y[train]]
    w1, b1 = ridge(features, onehot @ rng.choice([-1.0, 1.0], size=(10, 64)))
    hidden.set_weights([w1, b1])
    logits.set_weights(list(ridge(np.maximum(features @ w1 + b1, 0.0), onehot)))
    return model, x[train], y[train], x[test], y[test]


@pytest.fixture(scope="module")
def digits_cnn():
    model, x_train, y_train, x_test, y_test = build_digits_cnn()
    ann_pred = np.argmax(np.asarray(model(x_test)), axis=1)
    assert np.mean(ann_pred == y_test) > 0.95
    return model, x_train[:256], x_test, y_test, ann_pred


def ann_accuracy(ann_pred, y):
    return float(np.mean(ann_pred[:len(y)] == y))


def evaluate_rate(converter, net, inputs, outputs, x, y, batch_size=300):
    compiled = converter.create_compiler(batch_size=batch_size, rng_seed=1).compile(net)
    with compiled:
        metrics, _ = compiled.evaluate({inputs[0]: x}, {outputs[0]: y}, callbacks=[])
    return metrics[outputs[0]].result


def test_digits_few_spike(digits_cnn):
    model, x_norm, x_test, y_test, ann_pred = digits_cnn
    ann = ann_accuracy(ann_pred, y_test)
    converter = FewSpike(k=8, norm_data=[x_norm])
    net, inputs, outputs, _ = converter.convert(model)
    compiled = converter.create_compiler(batch_size=300).compile(net, inputs=inputs,
                                                                 outputs=outputs)
    with compiled:
        metrics, _ = compiled.evaluate({inputs[0]: x_test}, {outputs[0]: y_test},
                                       callbacks=[])
    assert abs(metrics[outputs[0]].result - ann) <= 0.01


# The ANN gets 97.4 % of the 898 test digits. IF inputs are deterministic
# (V += x): the SNN disagrees with the ANN on 4 of them (1 of the first 300,
# which the test uses, for time) and is 0.2 points better. "poisson" inputs
# (BernoulliInput: spike probability = pixel value per step) are random:
# over 10 RNG seeds at 200 steps the SNN's accuracy is 0.13 +- 0.17 points
# *above* the ANN's (worst: 0.22 points below), disagreeing with it on 8.7
# examples (at most 10), so the 1-point bound (9 examples lost net) is more
# than 6 standard deviations away. Upstream's encoding (PoissonInput,
# "poisson_exp", probability 1 - exp(-x)) squashes the inputs and loses 15
# points on this network (whose biases are sized for the unsquashed inputs)
# and 1.4-5 points, depending on the machine, on the Keras-trained digits CNN
# this test used before (98.3-98.6 % ANN).
@pytest.mark.parametrize("input_type", ["if", "poisson"])
def test_digits_data_norm(digits_cnn, input_type):
    import tensorflow as tf
    model, x_norm, x_test, y_test, ann_pred = digits_cnn
    if input_type == "if":
        x_test, y_test = x_test[:300], y_test[:300]
    ann = ann_accuracy(ann_pred, y_test)
    dataset = tf.data.Dataset.from_tensor_slices((x_norm, np.zeros(len(x_norm)))).batch(64)
    converter = DataNorm(evaluate_timesteps=200, norm_data=[dataset], input_type=input_type)
    net, inputs, outputs, _ = converter.convert(model)
    assert all(p.neuron.v_thresh != 1.0 for p in net.populations[1:])
    acc = evaluate_rate(converter, net, inputs, outputs, x_test, y_test)
    assert ann - acc < 0.01


def test_digits_spike_normalise(digits_cnn):
    model, x_norm, x_test, y_test, ann_pred = digits_cnn
    x_test, y_test = x_test[:300], y_test[:300]
    ann = ann_accuracy(ann_pred, y_test)
    converter = Simple(evaluate_timesteps=200, input_type="if")
    net, inputs, outputs, pops = converter.convert(model)
    found = spike_normalise(net, inputs, outputs, [x_norm[:128]], evaluate_timesteps=100,
                            batch_size=128)
    hidden = net.populations[1:]
    assert set(found) == set(hidden)
    for pop in hidden:       # written into the Network's neurons
        assert pop.neuron.v_thresh == found[pop] and found[pop] > 0.0
    assert len({round(float(t), 6) for t in found.values()}) == len(hidden)
    acc = evaluate_rate(converter, net, inputs, outputs, x_test, y_test)
    assert abs(acc - ann) <= 0.03


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
def test_unsupported_layer_names_layer_type_and_supported_set():
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              layers.Conv2D(2, 3, activation="relu"),
                              layers.MaxPooling2D(2, name="the_pool"), layers.Flatten(),
                              layers.Dense(3)])
    with pytest.raises(NotImplementedError, match=r"the_pool.*MaxPooling2D.*supported.*"
                                                  r"AveragePooling2D.*Conv2D"):
        Simple(10).convert(model)


def test_unsupported_activation():
    model = keras.Sequential([keras.Input((4,)),
                              layers.Dense(3, activation="sigmoid", name="sig")])
    with pytest.raises(NotImplementedError, match=r"sig.*Dense.*'sigmoid'.*relu"):
        FewSpike().convert(model)
    hidden_softmax = keras.Sequential([keras.Input((4,)),
                                       layers.Dense(3, activation="softmax", name="sm"),
                                       layers.Dense(2)])
    with pytest.raises(NotImplementedError, match=r"sm.*softmax.*output"):
        Simple(10).convert(hidden_softmax)
    leaky = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.ReLU(max_value=6)])
    with pytest.raises(NotImplementedError, match="max_value"):
        Simple(10).convert(leaky)


def test_linear_layers_without_nonlinearity_between_are_rejected():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="first"),
                              layers.Dense(2, name="second")])
    with pytest.raises(NotImplementedError, match="second.*first"):
        Simple(10).convert(model)


@pytest.mark.parametrize("converter_cls", [DataNorm, FewSpike])
def test_normalisation_data_of_the_wrong_shape(converter_cls):
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(3)])
    bad = np.zeros((5, 8, 8), dtype=np.float32)
    kwargs = {"evaluate_timesteps": 10} if converter_cls is DataNorm else {}
    with pytest.raises(ValueError, match=r"\(5, 8, 8\).*\(8, 8, 1\)"):
        converter_cls(norm_data=[bad], **kwargs).convert(model)


def test_spike_normalise_rejects_bad_data():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"),
                              layers.Dense(2)])
    net, inputs, outputs, _ = Simple(10).convert(model)
    with pytest.raises(ValueError, match="shape"):
        spike_normalise(net, inputs, outputs, [np.zeros((3, 5))], evaluate_timesteps=5)


def test_spike_normalise_skip_connections_and_biases():
    keras.utils.set_random_seed(12)
    inp = keras.Input((6,))
    h1 = layers.Dense(6, activation="relu", bias_initializer=BIAS)(inp)
    add = layers.Add()([layers.Dense(6, bias_initializer=BIAS)(h1), inp])
    out = layers.Dense(3)(layers.ReLU()(add))
    model = keras.Model(inp, out)
    x = np.random.default_rng(12).random((16, 6)).astype(np.float32)
    net, inputs, outputs, pops = Simple(10, input_type="if").convert(model)
    h1_pop, relu_pop = pops[model.layers[1]], pops[model.layers[-2]]
    bias_h1 = np.array(h1_pop.neuron.tf_bias)
    bias_relu = np.array(relu_pop.neuron.tf_bias)
    found = spike_normalise(net, inputs, outputs, [x], evaluate_timesteps=20, batch_size=8)
    assert set(found) == {h1_pop, relu_pop, outputs[0]}
    theta_h1 = found[h1_pop]
    # largest input in one step: IF inputs spike at most once per step
    w1 = model.layers[1].get_weights()[0]
    assert 0.0 < theta_h1 <= float(np.max(np.maximum(w1, 0).sum(axis=0) + bias_h1)) + 1e-5
    by_source = {c().source(): c().connectivity for c in relu_pop.incoming_connections}
    assert by_source[inputs[0]].weight == pytest.approx(1.0 / theta_h1)
    np.testing.assert_allclose(by_source[h1_pop].weight, model.layers[2].get_weights()[0])
    np.testing.assert_allclose(h1_pop.neuron.tf_bias, bias_h1, rtol=1e-6)
    np.testing.assert_allclose(relu_pop.neuron.tf_bias, bias_relu / theta_h1, rtol=1e-6)
    for pop, threshold in found.items():
        assert pop.neuron.v_thresh == threshold


# ---------------------------------------------------------------------------
# The neurons' bias hook (Neuron.add_bias), which the converters use
# ---------------------------------------------------------------------------
class BiasedIntegrateFire(IntegrateFire):
    """IntegrateFire with a per-neuron bias parameter ``B`` given to the hook."""

    def __init__(self, bias, **kwargs):
        super().__init__(**kwargs)
        self.bias = bias

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        model.add_param("B", "scalar", self.bias)
        self.add_bias(model, "B")
        return model


def test_bias_hook_integrate_fire_integrates_isyn_plus_bias():
    # values exact in float32, so the engine must match the reference exactly
    weight = np.array([[0.5, -0.25, 0.0, 0.25], [0.25, 0.5, -0.5, 0.0],
                       [0.0, 0.25, 0.25, -0.75]], dtype=np.float32)
    bias = np.array([0.125, 0.25, -0.125, 0.375], dtype=np.float32)
    x = np.array([[1, 0, 1], [0, 1, 1]], dtype=np.float32)
    steps = 7
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), 3)
        count = Population(BiasedIntegrateFire(bias, v_thresh=1.0, v_reset=0.0,
                                               readout="spike_count"), 4)
        integral = Population(BiasedIntegrateFire(bias, v_thresh=1e9, readout="var"), 4)
        Connection(inp, count, Dense(weight=weight))
        Connection(inp, integral, Dense(weight=weight))
    compiled = InferenceCompiler(evaluate_timesteps=steps, batch_size=len(x)).compile(net)
    with compiled:
        pred, _ = compiled.predict({inp: x}, [count, integral], callbacks=[])

    # IF equations: V <- V + Isyn + bias, spike (and V <- Vreset) when V >= Vthresh;
    # the input spikes every step, its spikes arrive one step later
    v = np.zeros((len(x), 4))
    v_free = np.zeros((len(x), 4))
    spikes = np.zeros((len(x), 4))
    for n in range(steps):
        isyn = (x @ weight) if n > 0 else np.zeros((len(x), 4))
        v += isyn + bias
        v_free += isyn + bias
        fired = v >= 1.0
        spikes += fired
        v[fired] = 0.0
    assert np.any(spikes > 0) and np.any(spikes == 0)
    np.testing.assert_array_equal(np.reshape(pred[count], (len(x), 4)), spikes)
    np.testing.assert_array_equal(np.reshape(pred[integral], (len(x), 4)), v_free)


def test_bias_hook_unsupported_neurons_name_their_class():
    with pytest.raises(NotImplementedError, match="PoissonInput neurons cannot take a bias"):
        PoissonInput().add_bias(None, "B")
    # an integrate-and-fire neuron driven by data instead of Isyn
    net = Network()
    with net:
        pop = Population(IntegrateFireInput(), 3)
    model = pop.neuron.get_model(pop, 1.0, 1)
    with pytest.raises(NotImplementedError,
                       match="IntegrateFireInput neurons cannot take a bias"):
        pop.neuron.add_bias(model, "B")

    class PoissonConverter(IntegratorConverter):
        def create_neurons(self, tf_layer, pre_convert_output, is_output):
            return PoissonInput()

    keras.utils.set_random_seed(21)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, bias_initializer=BIAS)])
    converter = PoissonConverter()
    net, inputs, outputs, _ = converter.convert(model)
    with pytest.raises(NotImplementedError, match="PoissonInput neurons cannot take a bias"):
        converter.create_compiler().compile(net)
