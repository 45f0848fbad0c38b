"""ml_genn_tf's SoftLIF Keras layer and NengoConverter: the Keras activation
is the neuron's rate (and nengo_extras'), its gradient is finite at the
threshold, a converted rate network reproduces the ANN exactly, and a
converted spiking LIF network agrees with the ANN."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from ml_genn.neurons import (LIF, LIFRate, LeakyIntegrate, RegularSpiking,  # noqa: E402
                             SoftLIFRate)
from ml_genn.neurons.soft_lif_rate import soft_lif_rate  # noqa: E402
from ml_genn_tf.converters import DataNorm, NengoConverter  # noqa: E402
from ml_genn_tf.layers import SoftLIF  # noqa: E402

f32 = np.float32


def _model(seed=0, n_in=16, n_hidden=24, n_out=5, amplitude=0.01, sigma=1.0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((n_in,))
    h = keras.layers.Dense(n_hidden, name="dense1")(inp)
    h = SoftLIF(sigma=sigma, amplitude=amplitude, name="softlif1")(h)
    h = keras.layers.Dense(n_hidden, name="dense2")(h)
    h = SoftLIF(sigma=sigma, tau_rc=30.0, tau_ref=1.0, amplitude=amplitude,
                name="softlif2")(h)
    out = keras.layers.Dense(n_out, name="out")(h)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(seed)
    # weights that drive the hidden neurons across their whole range
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            k, b = layer.get_weights()
            scale = 1.0 if layer.name == "dense1" else 60.0
            layer.set_weights([rng.normal(0, scale / np.sqrt(k.shape[0]), k.shape).astype(f32),
                               rng.uniform(0.0, 1.5, b.shape).astype(f32)])
    return model


def test_keras_soft_lif_is_the_neuron_rate():
    x = np.concatenate([np.linspace(-40, 60, 501), [1.0, 1.0 + 1e-4, 1.0 - 1e-4]])
    for sigma, tau_rc, tau_ref, amp in ((1.0, 20.0, 2.0, 1.0), (0.05, 10.0, 3.0, 0.01),
                                        (2.0, 35.0, 0.0, 0.5)):
        layer = SoftLIF(sigma=sigma, tau_rc=tau_rc, tau_ref=tau_ref, amplitude=amp)
        ours = np.asarray(layer(x.astype(f32)[None, :]))[0]
        neuron = SoftLIFRate(sigma=sigma, tau_rc=tau_rc, tau_ref=tau_ref, amplitude=amp)
        np.testing.assert_allclose(ours, neuron.rate_function(x), rtol=1e-5)
        np.testing.assert_allclose(ours, soft_lif_rate(x, sigma, tau_rc / 1000.0,
                                                       tau_ref / 1000.0, amp), rtol=1e-5)
    extras = pytest.importorskip("nengo_extras.neurons")
    ref = np.zeros_like(x)
    extras.SoftLIFRate.step_math(extras.SoftLIFRate(sigma=0.5, amplitude=0.01), 0.001, x, ref)
    ours = np.asarray(SoftLIF(sigma=0.5, amplitude=0.01)(x.astype(f32)[None, :]))[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_keras_soft_lif_gradient_finite_and_exact():
    import tensorflow as tf
    x = tf.constant(np.array([-200.0, -30.0, 0.0, 1.0 - 1e-3, 1.0, 1.0 + 1e-3, 2.0, 50.0,
                              500.0], dtype=f32))
    layer = SoftLIF(sigma=0.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
    grad = tape.gradient(y, x).numpy()
    assert np.all(np.isfinite(grad)) and np.all(grad > 0)
    extras = pytest.importorskip("nengo_extras.neurons")
    ref = extras.SoftLIFRate(sigma=0.5).derivative(x.numpy().astype(np.float64), 1.0, 0.0)
    np.testing.assert_allclose(grad, ref, rtol=2e-3)


def test_keras_soft_lif_config_and_errors():
    layer = SoftLIF(sigma=0.3, tau_rc=25.0, tau_ref=1.5, amplitude=0.02, name="s")
    again = SoftLIF.from_config(layer.get_config())
    assert (again.sigma, again.tau_rc, again.tau_ref, again.amplitude) == (0.3, 25.0, 1.5,
                                                                           0.02)
    with pytest.raises(ValueError):
        SoftLIF(sigma=0.0)
    with pytest.raises(ValueError):
        SoftLIF(tau_ref=-1.0)


def _predict(converter, model, x, timesteps, **compile_kwargs):
    net, inputs, outputs, pops = converter.convert(model)
    compiled = converter.create_compiler(batch_size=len(x), **compile_kwargs).compile(net)
    with compiled:
        out, _ = compiled.predict({inputs[0]: x}, outputs[0], callbacks=[])
    return out[outputs[0]], pops


def test_rate_network_reproduces_the_ann():
    """SoftLIFRate neurons (graded transmission, RateInput): after the
    layers have settled the output is the ANN's output."""
    model = _model()
    x = np.random.default_rng(1).uniform(0, 1, (8, 16)).astype(f32)
    ann = np.asarray(model(x))
    conv = NengoConverter(evaluate_timesteps=4, neurons=SoftLIFRate, output_readout="var",
                          synapse_tau=None)
    snn, pops = _predict(conv, model, x, 4)
    assert isinstance(pops[model.get_layer("softlif2")].neuron, SoftLIFRate)
    assert pops[model.get_layer("softlif2")].neuron.tau_rc == 30.0
    np.testing.assert_allclose(snn, ann, rtol=1e-4, atol=1e-4 * np.abs(ann).max())


def test_per_layer_choice_and_errors():
    model = _model()
    x = np.random.default_rng(2).uniform(0, 1, (4, 16)).astype(f32)
    conv = NengoConverter(evaluate_timesteps=3, output_readout="var",
                          neurons={"softlif1": lambda layer: SoftLIFRate(
                              sigma=layer.sigma, amplitude=layer.amplitude),
                                   "softlif2": LIFRate})
    snn, pops = _predict(conv, model, x, 3)
    assert isinstance(pops[model.get_layer("softlif2")].neuron, LIFRate)
    assert isinstance(pops[model.get_layer("out")].neuron, LeakyIntegrate)
    assert np.all(np.isfinite(snn))
    with pytest.raises(ValueError, match="nonexistent"):
        NengoConverter(evaluate_timesteps=3, neurons={"nonexistent": LIF}).convert(model)
    with pytest.raises(TypeError):
        NengoConverter(evaluate_timesteps=3, neurons=3)
    with pytest.raises(NotImplementedError, match="NengoConverter"):
        DataNorm(evaluate_timesteps=10).convert(model)


@pytest.fixture(scope="module")
def trained_digits():
    """A small SoftLIF MLP trained on scikit-learn's digits (seconds)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.data / 16.0).astype(f32)
    y = digits.target
    keras.utils.set_random_seed(4)
    inp = keras.Input((64,))
    h = keras.layers.Dense(48)(inp)
    h = SoftLIF(sigma=0.02, amplitude=0.01, name="softlif")(h)
    out = keras.layers.Dense(10)(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:1200], y[:1200], batch_size=32, epochs=8, verbose=0)
    x_test, y_test = x[1200:1400], y[1200:1400]
    ann_acc = np.mean(np.argmax(np.asarray(model(x_test)), axis=1) == y_test)
    return model, x_test, y_test, ann_acc


def _accuracy(converter, model, x, y):
    net, inputs, outputs, pops = converter.convert(model)
    compiled = converter.create_compiler(batch_size=len(x)).compile(net)
    with compiled:
        metrics, _ = compiled.evaluate({inputs[0]: x}, {outputs[0]: y}, callbacks=[])
    return metrics[outputs[0]].result, pops


def test_spiking_lif_network_matches_ann_accuracy(trained_digits):
    """NengoDL's recipe: the SoftLIF ANN run with spiking LIF neurons (and
    with a RegularSpiking wrapper) behind low-pass synapses keeps the ANN's
    accuracy (within 4 points at 100 steps of 1 ms), and does worse with
    too few steps."""
    model, x, y, ann_acc = trained_digits
    assert ann_acc > 0.9
    acc, pops = _accuracy(NengoConverter(evaluate_timesteps=100), model, x, y)
    assert isinstance(pops[model.get_layer("softlif")].neuron, LIF)
    assert acc >= ann_acc - 0.04, (acc, ann_acc)
    short, _ = _accuracy(NengoConverter(evaluate_timesteps=10), model, x, y)
    assert short < acc
    wrapped, _ = _accuracy(NengoConverter(evaluate_timesteps=100, neurons=lambda layer:
                                          RegularSpiking(LIFRate(), amplitude=layer.amplitude)),
                           model, x, y)
    assert wrapped >= ann_acc - 0.04, (wrapped, ann_acc)


def test_lowpass_state_does_not_leak_between_batches():
    """Spiking LIF with the Lowpass filter: each example's output is the
    same in batches of 1, of 3 or all at once (the filter starts from rest
    in every batch, as nengo runs each example from rest)."""
    model = _model()
    x = np.random.default_rng(5).uniform(0, 1, (6, 16)).astype(f32)
    runs = []
    for batch_size in (1, 3, 6):
        conv = NengoConverter(evaluate_timesteps=30, output_readout="avg_var", synapse_tau=5.0)
        net, inputs, outputs, _ = conv.convert(model)
        compiled = conv.create_compiler(batch_size=batch_size).compile(
            net, f"nengo_lowpass_{batch_size}")
        with compiled:
            out, _ = compiled.predict({inputs[0]: x}, outputs[0], callbacks=[])
        runs.append(out[outputs[0]])
    assert np.abs(runs[2]).max() > 0
    np.testing.assert_array_equal(runs[0], runs[2])
    np.testing.assert_array_equal(runs[1], runs[2])
