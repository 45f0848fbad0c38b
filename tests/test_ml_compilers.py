"""Compilers end to end against NumPy: batching, resets, FewSpike pipelining."""
import numpy as np
import pytest

from ml_genn import Connection, InputLayer, Layer, Network, Population, SequentialNetwork
from ml_genn.compilers import FewSpikeCompiler, InferenceCompiler
from ml_genn.connectivity import Dense
from ml_genn.metrics import Metric
from ml_genn.neurons import (BinarySpikeInput, FewSpikeRelu, FewSpikeReluInput,
                             IntegrateFire)


def integrator_net(w):
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), w.shape[0])
        out = Population(IntegrateFire(v_thresh=1e9, readout="var"), w.shape[1])
        Connection(inp, out, Dense(weight=w))
    return net, inp, out


@pytest.mark.parametrize("batch_size", [1, 5])
def test_predict_and_evaluate_on_a_short_last_batch(batch_size):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=(23, 12)).astype(np.float32)
    w = rng.integers(-8, 9, size=(12, 4)).astype(np.float32) / 4
    net, inp, out = integrator_net(w)
    compiled = InferenceCompiler(evaluate_timesteps=2, batch_size=batch_size).compile(net)
    expected = x @ w
    labels = np.argmax(expected, axis=1)
    labels[::3] = (labels[::3] + 1) % 4        # some wrong labels: accuracy < 1
    with compiled:
        pred, _ = compiled.predict({inp: x}, out, callbacks=[])
        metrics, _ = compiled.evaluate({inp: x}, {out: labels}, callbacks=[])
    np.testing.assert_array_equal(pred[out], expected)
    assert metrics[out].result == pytest.approx(np.mean(np.argmax(expected, axis=1) == labels))


def test_without_resets_state_carries_over_between_batches():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, size=(3, 6)).astype(np.float32)
    w = rng.integers(-4, 5, size=(6, 3)).astype(np.float32)
    net, inp, out = integrator_net(w)
    compiled = InferenceCompiler(evaluate_timesteps=2, reset_vars_between_batches=False,
                                 reset_time_between_batches=True).compile(net)
    with compiled:
        pred, _ = compiled.predict({inp: x}, out, callbacks=[])
    # Nothing is reset: V keeps integrating, and the spikes of each batch's
    # last step are delivered in the next batch's first step, so example k
    # reads sum_{j<=k} x_j W + sum_{j<k} x_j W.
    per_example = x @ w
    expected = np.cumsum(per_example, axis=0) + np.cumsum(per_example, axis=0) - per_example
    np.testing.assert_array_equal(pred[out], expected)


def test_sequential_network_and_batch_progress_bar_default(capsys):
    w = np.eye(4, dtype=np.float32)
    net = SequentialNetwork()
    with net:
        inp = InputLayer(BinarySpikeInput(), 4)
        out = Layer(Dense(weight=w), IntegrateFire(v_thresh=1e9, readout="var"))
    compiled = InferenceCompiler(evaluate_timesteps=2).compile(net)
    x = np.eye(4, dtype=np.float32)
    with compiled:
        pred, _ = compiled.predict({inp: x}, [out])
    np.testing.assert_array_equal(pred[out], x)


class _Capture(Metric):
    """Keeps every prediction it is given (to compare with NumPy)."""

    def __init__(self):
        self.reset()

    def update(self, y_true, y_pred, communicator=None):
        self.preds.append(np.array(y_pred))
        self.labels.append(np.array(y_true))

    def reset(self):
        self.preds, self.labels = [], []

    @property
    def result(self):
        return None


def test_few_spike_branches_of_depth_1_2_3_are_delay_balanced():
    """in -> out, in -> h1 -> out, in -> h2 -> h3 -> out: each output value
    must combine the three branches of the *same* example."""
    rng = np.random.default_rng(3)
    k, alpha, n_in, n_h, n_out = 10, 8.0, 6, 5, 3
    wa = rng.normal(0, 0.3, (n_in, n_out)).astype(np.float32)
    w1 = rng.normal(0, 0.3, (n_in, n_h)).astype(np.float32)
    wb = rng.normal(0, 0.3, (n_h, n_out)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (n_in, n_h)).astype(np.float32)
    w3 = rng.normal(0, 0.3, (n_h, n_h)).astype(np.float32)
    wc = rng.normal(0, 0.3, (n_h, n_out)).astype(np.float32)
    net = Network()
    with net:
        inp = Population(FewSpikeReluInput(k=k, alpha=alpha), n_in)
        h1 = Population(FewSpikeRelu(k=k, alpha=alpha), n_h)
        h2 = Population(FewSpikeRelu(k=k, alpha=alpha), n_h)
        h3 = Population(FewSpikeRelu(k=k, alpha=alpha), n_h)
        out = Population(FewSpikeRelu(k=k, alpha=alpha, readout="var"), n_out)
        Connection(inp, out, Dense(weight=wa))
        Connection(inp, h1, Dense(weight=w1))
        Connection(h1, out, Dense(weight=wb))
        Connection(inp, h2, Dense(weight=w2))
        Connection(h2, h3, Dense(weight=w3))
        Connection(h3, out, Dense(weight=wc))
    compiled = FewSpikeCompiler(k=k).compile(net, inputs=inp, outputs=out)
    x = rng.uniform(0, 4, (7, n_in)).astype(np.float32)
    relu = lambda a: np.maximum(a, 0)
    expected = x @ wa + relu(x @ w1) @ wb + relu(relu(x @ w2) @ w3) @ wc
    assert relu(x @ w1).max() < alpha and relu(relu(x @ w2) @ w3).max() < alpha
    with compiled:
        metrics, _ = compiled.evaluate({inp: x}, {out: np.arange(7)}, metrics=_Capture(),
                                       callbacks=[])
    capture = metrics[out]
    # one prediction per example, in order, labels matched to their example
    np.testing.assert_array_equal(np.concatenate(capture.labels), np.arange(7))
    pred = np.concatenate(capture.preds)
    # Few-spike codes truncate each value to a multiple of q = alpha 2^-k, and
    # the least significant spike of the last step reaches the output only in
    # the next presentation: bound the error through each branch.
    q = alpha * 2.0 ** -k
    a = np.abs
    e_x = 2 * q                                          # input code + late LSB
    e_h1 = a(w1).sum(0) * q + 2 * q                      # per hidden unit
    e_h2 = a(w2).sum(0) * q + q
    e_h3 = a(w3).T @ e_h2 + 2 * q
    bound = a(wa).sum(0) * e_x + a(wb).T @ e_h1 + a(wc).T @ e_h3
    err = a(pred - expected)
    assert np.all(err <= bound), (err, bound)
    # consecutive examples differ by more than the bound, so a pipeline that
    # mixed examples could not pass the check above
    assert np.abs(expected[1:] - expected[:-1]).max(axis=1).min() > bound.max()


def test_few_spike_compiler_rejects_other_neurons_and_unreachable_outputs():
    net = Network()
    with net:
        inp = Population(FewSpikeReluInput(), 3)
        bad = Population(IntegrateFire(), 3)
        Connection(inp, bad, Dense(weight=np.ones((3, 3))))
    with pytest.raises(NotImplementedError, match="IntegrateFire"):
        FewSpikeCompiler().compile(net, inputs=inp, outputs=bad)
    net2 = Network()
    with net2:
        inp = Population(FewSpikeReluInput(), 3)
        lone = Population(FewSpikeRelu(readout="var"), 3)
    with pytest.raises(RuntimeError, match="unreachable"):
        FewSpikeCompiler().compile(net2, inputs=inp, outputs=lone)
    with pytest.raises(RuntimeError, match="inputs= and outputs="):
        FewSpikeCompiler().compile(net2)


def test_evaluate_rejects_mismatched_data_sizes():
    w = np.ones((3, 2), dtype=np.float32)
    net, inp, out = integrator_net(w)
    compiled = InferenceCompiler(evaluate_timesteps=2).compile(net)
    with compiled:
        with pytest.raises(RuntimeError, match="examples"):
            compiled.evaluate({inp: np.zeros((4, 3))}, {out: np.zeros(5)}, callbacks=[])
    net2 = Network()
    with net2:
        Population(IntegrateFire(), None)
    with pytest.raises(RuntimeError, match="no shape"):
        InferenceCompiler(evaluate_timesteps=2).compile(net2)


@pytest.mark.parametrize("reset_in_syn", [False, True])
def test_reset_in_syn_between_batches(reset_in_syn):
    """Exponential synapses keep their current across examples unless
    reset_in_syn_between_batches zeroes it (NumPy reference of §4.1)."""
    from ml_genn.synapses import Exponential
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, size=(3, 5)).astype(np.float32)
    w = rng.integers(-4, 5, size=(5, 2)).astype(np.float32)
    steps, tau, dt = 4, 5.0, 1.0
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), 5)
        out = Population(IntegrateFire(v_thresh=1e9, readout="var"), 2)
        Connection(inp, out, Dense(weight=w), synapse=Exponential(tau))
    compiled = InferenceCompiler(evaluate_timesteps=steps,
                                 reset_in_syn_between_batches=reset_in_syn).compile(net)
    with compiled:
        pred, _ = compiled.predict({inp: x}, out, callbacks=[])
    f = np.float32
    decay = f(np.exp(-dt / tau))
    in_syn = np.zeros(2, f)
    expected = []
    for example in x:
        if reset_in_syn:
            in_syn[:] = 0
        v = np.zeros(2, f)
        for step in range(steps):
            if step > 0:                        # spikes of the previous step arrive
                in_syn = in_syn + example @ w
            v = v + in_syn
            in_syn = in_syn * decay
        expected.append(v)
    np.testing.assert_allclose(pred[out], np.array(expected), rtol=1e-6)


def test_few_spike_predict_matches_evaluate_readouts():
    """predict returns, per example, what evaluate hands its metric."""
    rng = np.random.default_rng(6)
    w1 = rng.normal(0, 0.4, (4, 5)).astype(np.float32)
    w2 = rng.normal(0, 0.4, (5, 3)).astype(np.float32)
    net = Network()
    with net:
        inp = Population(FewSpikeReluInput(k=8, alpha=4.0), 4)
        hid = Population(FewSpikeRelu(k=8, alpha=4.0), 5)
        out = Population(FewSpikeRelu(k=8, alpha=4.0, readout="var"), 3)
        Connection(inp, hid, Dense(weight=w1))
        Connection(hid, out, Dense(weight=w2))
    x = rng.uniform(0, 3, (7, 4)).astype(np.float32)
    compiled = FewSpikeCompiler(k=8, batch_size=3).compile(net, inputs=inp, outputs=out)
    with compiled:
        pred, _ = compiled.predict({inp: x}, out, callbacks=[])
        metrics, _ = compiled.evaluate({inp: x}, {out: np.zeros(7)}, metrics=_Capture(),
                                       callbacks=[])
    assert pred[out].shape == (7, 3)
    np.testing.assert_array_equal(pred[out], np.concatenate(metrics[out].preds))
    expected = np.maximum(x @ w1, 0) @ w2
    q = 4.0 * 2.0 ** -8
    bound = np.abs(w2).T @ (np.abs(w1).sum(0) * 2 * q + 2 * q) + 2 * q
    assert np.all(np.abs(pred[out] - expected) <= bound)


def _two_input_net(w1, w2):
    net = Network()
    with net:
        a = Population(BinarySpikeInput(), w1.shape[0])
        b = Population(BinarySpikeInput(), w2.shape[0])
        out = Population(IntegrateFire(v_thresh=1e9, readout="var"), w1.shape[1])
        Connection(a, out, Dense(weight=w1))
        Connection(b, out, Dense(weight=w2))
    return net, a, b, out


@pytest.mark.parametrize("wrap", ["bare", "input_list", "output_list", "both_lists"])
def test_evaluate_batch_iter_with_one_population_alone_or_in_a_list(wrap):
    """One input (output), given alone or as a one-element list (as the Keras
    converters return them), takes each batch_x (batch_y) as it is; two
    inputs take sequences zipped with them.  Accuracy against NumPy."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2, size=(10, 6)).astype(np.float32)
    w = rng.integers(-8, 9, size=(6, 3)).astype(np.float32) / 4
    net, inp, out = integrator_net(w)
    labels = np.argmax(x @ w, axis=1)
    labels[::4] = (labels[::4] + 1) % 3
    batches = [(x[i:i + 4], labels[i:i + 4]) for i in range(0, 10, 4)]
    inputs = [inp] if wrap in ("input_list", "both_lists") else inp
    outputs = [out] if wrap in ("output_list", "both_lists") else out
    compiled = InferenceCompiler(evaluate_timesteps=2, batch_size=4).compile(net)
    with compiled:
        metrics, _ = compiled.evaluate_batch_iter(inputs, outputs, iter(batches), 3,
                                                  callbacks=[])
    assert metrics[out].result == pytest.approx(np.mean(np.argmax(x @ w, axis=1) == labels))
    # two inputs: (x_a, x_b) pairs zipped with [a, b]
    w2 = rng.integers(-8, 9, size=(5, 3)).astype(np.float32) / 4
    net, a, b, out = _two_input_net(w, w2)
    xb = rng.integers(0, 2, size=(10, 5)).astype(np.float32)
    want = np.argmax(x @ w + xb @ w2, axis=1)
    compiled = InferenceCompiler(evaluate_timesteps=2, batch_size=4).compile(net)
    with compiled:
        metrics, _ = compiled.evaluate_batch_iter(
            [a, b], [out] if wrap in ("output_list", "both_lists") else out,
            (((x[i:i + 4], xb[i:i + 4]), want[i:i + 4]) for i in range(0, 10, 4)), 3,
            callbacks=[])
    assert metrics[out].result == 1.0


def test_few_spike_evaluate_batch_iter_with_one_element_lists():
    """FewSpike, as the Keras converters call it: evaluate_batch_iter([inp],
    [out], ...) gives what evaluate gives."""
    rng = np.random.default_rng(8)
    w = rng.normal(0, 0.4, (4, 3)).astype(np.float32)
    net = Network()
    with net:
        inp = Population(FewSpikeReluInput(k=8, alpha=4.0), 4)
        out = Population(FewSpikeRelu(k=8, alpha=4.0, readout="var"), 3)
        Connection(inp, out, Dense(weight=w))
    x = rng.uniform(0, 3, (9, 4)).astype(np.float32)
    labels = np.argmax(np.maximum(x @ w, 0), axis=1)
    compiled = FewSpikeCompiler(k=8, batch_size=4).compile(net, inputs=inp, outputs=out)
    with compiled:
        whole, _ = compiled.evaluate({inp: x}, {out: labels}, metrics=_Capture(),
                                     callbacks=[])
        listed, _ = compiled.evaluate_batch_iter(
            [inp], [out], ((x[i:i + 4], labels[i:i + 4]) for i in range(0, 9, 4)), 3,
            metrics=_Capture(), callbacks=[])
    np.testing.assert_array_equal(np.concatenate(listed[out].labels), labels)
    np.testing.assert_array_equal(np.concatenate(listed[out].preds),
                                  np.concatenate(whole[out].preds))
