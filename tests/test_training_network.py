"""CompiledTrainingNetwork's loop, checked with recording losses, optimisers
and callbacks around a network whose readout is known in closed form
(binary inputs -> integrate-and-fire neurons that never fire: V = x @ W)."""
import numpy as np
import pytest

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Callback, Checkpoint
from ml_genn.communicators import Communicator
from ml_genn.compilers import CompiledTrainingNetwork, InferenceCompiler
from ml_genn.compilers.gradient_sync import AllReduceGradients
from ml_genn.connectivity import Dense
from ml_genn.losses import Loss
from ml_genn.neurons import BinarySpikeInput, IntegrateFire
from ml_genn.optimisers import Optimiser
from ml_genn.serialisers import Numpy

TIMESTEPS = 2


class RecordingLoss(Loss):
    def __init__(self, log):
        self.log = log

    def add_to_neuron(self, model, shape, batch_size, example_timesteps):
        pass

    def set_target(self, genn_pop, y_true, shape, batch_size, example_timesteps):
        self.log.append(("target", np.asarray(y_true).tolist(), batch_size,
                         example_timesteps))


class RecordingOptimiser(Optimiser):
    def __init__(self, log):
        self.log = log

    def set_step(self, genn_cu, step):
        self.log.append(("step", genn_cu, step))

    def get_model(self, gradient_ref, var_ref, zero_gradient, clamp_var=None):
        raise AssertionError("not used")


class RecordingCallback(Callback):
    def __init__(self, log, tag):
        self.log, self.tag = log, tag

    def on_train_begin(self):
        self.log.append((self.tag, "train_begin"))

    def on_train_end(self, metrics):
        self.log.append((self.tag, "train_end"))

    def on_test_begin(self):
        self.log.append((self.tag, "test_begin"))

    def on_test_end(self, metrics):
        self.log.append((self.tag, "test_end"))

    def on_epoch_begin(self, epoch):
        self.log.append((self.tag, "epoch_begin", epoch))

    def on_epoch_end(self, epoch, metrics):
        self.log.append((self.tag, "epoch_end", epoch,
                         {p.name: m.result for p, m in metrics.items()}))

    def on_batch_begin(self, batch):
        self.log.append((self.tag, "batch_begin", batch))

    def on_batch_end(self, batch, metrics):
        self.log.append((self.tag, "batch_end", batch))


def training_net(w, log, batch_size, **kwargs):
    """A CompiledTrainingNetwork around an inference-compiled integrator
    (spikes dropped between batches, so each batch reads x @ W)."""
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), w.shape[0])
        out = Population(IntegrateFire(v_thresh=1e9, readout="var"), w.shape[1])
        conn = Connection(inp, out, Dense(weight=w))
    inf = InferenceCompiler(evaluate_timesteps=TIMESTEPS, batch_size=batch_size).compile(net)
    optimiser = RecordingOptimiser(log)
    compiled = CompiledTrainingNetwork(
        inf.genn_model, inf.neuron_populations, inf.connection_populations, None,
        {out: RecordingLoss(log)}, TIMESTEPS,
        inf.base_callbacks + [RecordingCallback(log, "base")],
        inf.base_callbacks + [RecordingCallback(log, "vbase")],
        [(optimiser, ["cu_a", "cu_b"])], [(conn, "g")], [(out, "V")], reset_spikes_between_batches=True, **kwargs)
    return compiled, inp, out, conn


def data(n, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, 5)).astype(np.float32)
    w = rng.integers(-4, 5, size=(5, 3)).astype(np.float32)
    return x, w


def test_epochs_batches_targets_and_optimiser_steps_in_order():
    x, w = data(5)
    labels = np.argmax(x @ w, axis=1)
    labels[0] = (labels[0] + 1) % 3                 # one wrong: accuracy 4/5
    log = []
    compiled, inp, out, _ = training_net(w, log, batch_size=2)
    with compiled:
        metrics, cb_data = compiled.train({inp: x}, {out: labels}, num_epochs=2,
                                          start_epoch=1, shuffle=False, callbacks=[])
    assert metrics[out].result == pytest.approx(4 / 5)
    assert cb_data == {}
    expected = [("base", "train_begin")]
    step = 3 * 1                                    # 3 batches per epoch, start_epoch 1
    for epoch in (1, 2):
        expected.append(("base", "epoch_begin", epoch))
        for b, (lo, hi) in enumerate([(0, 2), (2, 4), (4, 5)]):
            expected += [("base", "batch_begin", b),
                         ("target", labels[lo:hi].tolist(), 2, TIMESTEPS),
                         ("step", "cu_a", step), ("step", "cu_b", step),
                         ("base", "batch_end", b)]
            step += 1
        expected.append(("base", "epoch_end", epoch, {out.name: pytest.approx(4 / 5)}))
    expected.append(("base", "train_end"))
    assert log == expected


def test_shuffle_uses_numpys_global_generator_per_epoch():
    x, w = data(6)
    labels = np.arange(6) % 3
    log = []
    compiled, inp, out, _ = training_net(w, log, batch_size=6)
    np.random.seed(11)
    orders = [np.random.permutation(6) for _ in range(2)]
    np.random.seed(11)
    with compiled:
        compiled.train({inp: x}, {out: labels}, num_epochs=2, callbacks=[])
    targets = [entry[1] for entry in log if entry[0] == "target"]
    assert targets == [labels[o].tolist() for o in orders]


def test_validation_split_holds_out_the_last_examples():
    x, w = data(5)
    labels = np.argmax(x @ w, axis=1)
    labels[4] = (labels[4] + 1) % 3                 # the held-out wrong label
    log = []
    compiled, inp, out, _ = training_net(w, log, batch_size=2)
    with compiled:
        result = compiled.train({inp: x}, {out: labels}, num_epochs=1, shuffle=False,
                                validation_split=0.4, callbacks=[],
                                validation_callbacks=[])
    train_metrics, val_metrics, train_data, val_data = result
    # round(0.6 * 5) = 3 training examples, 2 for validation
    assert train_metrics[out].result == pytest.approx(1.0)
    assert val_metrics[out].result == pytest.approx(0.5)
    # validation sets its targets too (after the training batches)
    targets = [entry[1] for entry in log if entry[0] == "target"]
    assert targets == [labels[0:2].tolist(), labels[2:3].tolist(), labels[3:5].tolist()]
    vlog = [e[1:] for e in log if e[0] == "vbase"]
    assert vlog == [("test_begin",), ("epoch_begin", 0), ("batch_begin", 0),
                    ("batch_end", 0), ("epoch_end", 0, {out.name: pytest.approx(0.5)}),
                    ("test_end",)]


def test_argument_errors():
    x, w = data(4)
    labels = np.zeros(4, dtype=int)
    compiled, inp, out, _ = training_net(w, [], batch_size=2)
    with compiled:
        with pytest.raises(RuntimeError, match="not both"):
            compiled.train({inp: x}, {out: labels}, 1, validation_split=0.5,
                           validation_x={inp: x}, validation_y={out: labels})
        with pytest.raises(RuntimeError, match="3 examples"):
            compiled.train({inp: x[:3]}, {out: labels}, 1, callbacks=[])
        with pytest.raises(ValueError, match=r"\[0, 3\)"):
            compiled.train({inp: x}, {out: labels + 7}, 1, callbacks=[])
    with pytest.raises(RuntimeError, match="with compiled_net"):
        compiled.train({inp: x}, {out: labels}, 1)


def test_save_and_checkpoint_write_the_checkpointed_variables(tmp_path):
    x, w = data(4)
    labels = np.zeros(4, dtype=int)
    compiled, inp, out, conn = training_net(w, [], batch_size=2)
    with compiled:
        compiled.train({inp: x}, {out: labels}, num_epochs=2, shuffle=False,
                       callbacks=[Checkpoint(Numpy(str(tmp_path)), epoch_interval=1)])
        compiled.save(("final",), Numpy(str(tmp_path)))
    for key in ("0", "1", "final"):
        np.testing.assert_array_equal(np.load(tmp_path / f"{key}-{conn.name}-g.npy"),
                                      w.reshape(-1))
    # V of the last batch (examples 2, 3) after two steps: x @ w
    np.testing.assert_array_equal(np.load(tmp_path / f"final-{out.name}-V.npy"),
                                  x[2:4] @ w)


class FakeRanks(Communicator):
    """``num_ranks`` ranks that all hold the same values."""

    def __init__(self, num_ranks):
        self._n = num_ranks

    def barrier(self):
        pass

    def broadcast(self, data, root):
        pass

    def reduce_sum(self, value):
        return value * self._n

    rank = 0

    @property
    def num_ranks(self):
        return self._n


def test_all_reduce_gradients_replaces_values_by_their_sum_over_ranks():
    x, w = data(2)
    compiled, inp, out, conn = training_net(w, [], batch_size=2)
    sync = AllReduceGradients([(compiled.connection_populations[conn], "g")], FakeRanks(3),
                              filter_fn=lambda b: b > 0)
    with compiled:
        sync.on_batch_end(0, {})
        np.testing.assert_array_equal(compiled.connection_populations[conn].vars["g"].values,
                                      w.reshape(-1))
        sync.on_batch_end(1, {})
        np.testing.assert_array_equal(compiled.connection_populations[conn].vars["g"].values,
                                      3 * w.reshape(-1))


def test_mean_square_error_metric_covers_the_whole_output_trace():
    """With per-timestep targets the "mean_square_error" metric is the mean
    over every step, neuron and example of (output - target)^2; checked
    against the output trace recorded step by step."""
    from ml_genn.callbacks import VarRecorder
    from ml_genn.compilers import EPropCompiler
    from ml_genn.compilers.eprop_compiler import default_params
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.utils.data import preprocess_spikes

    steps, n_in, n_out, n = 20, 4, 2, 4
    rng = np.random.default_rng(5)
    spikes = [preprocess_spikes(rng.uniform(0, steps, 6).round(), rng.integers(0, n_in, 6),
                                n_in) for _ in range(n)]
    targets = rng.normal(size=(n, steps, n_out)).astype(np.float32)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=20), n_in)
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0), 6)
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="var"), n_out)
        Connection(inp, hid, Dense(rng.normal(0, 1, (n_in, 6)).astype(np.float32)))
        Connection(hid, out, Dense(rng.normal(0, 1, (6, n_out)).astype(np.float32)))
    compiled = EPropCompiler(example_timesteps=steps, losses="mean_square_error",
                             batch_size=2).compile(net)
    with compiled:
        metrics, val_metrics, data, val_data = compiled.train(
            {inp: spikes[:2]}, {out: targets[:2]}, num_epochs=1, shuffle=False,
            metrics="mean_square_error", validation_x={inp: spikes[2:]},
            validation_y={out: targets[2:]},
            callbacks=[VarRecorder(out, "v", key="v")],
            validation_callbacks=[VarRecorder(out, "v", key="v")])
    for result, trace, y in ((metrics, data["v"], targets[:2]),
                             (val_metrics, val_data["v"], targets[2:])):
        trace = np.asarray(trace)                  # (examples, steps, neurons)
        assert trace.shape == y.shape
        expected = np.mean((trace.astype(np.float64) - y) ** 2)
        assert expected > 0.1
        assert result[out].result == pytest.approx(expected, rel=1e-5)


def _event_prop_task(seed=4, n=8):
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn.utils.data import preprocess_spikes

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    spikes = [preprocess_spikes(rng.uniform(0, 20, 8).round(1),
                                rng.integers(0, 3, 8) + 3 * label, 6) for label in labels]
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), 6)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), 8)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 2)
        conns = [Connection(inp, hid, Dense(rng.normal(1.0, 0.5, (6, 8))), Exponential(5.0)),
                 Connection(hid, out, Dense(rng.normal(0.0, 0.5, (8, 2))), Exponential(5.0))]
    return net, inp, out, conns, spikes, labels


def _train_event_prop(epochs, callbacks=(), inside=None, **compiler_kwargs):
    """Train the task; returns the compiled network, the weights after every
    epoch and what ``inside(compiled)`` returns (called while loaded)."""
    from ml_genn.compilers import EventPropCompiler
    from ml_genn.optimisers import Adam

    net, inp, out, conns, spikes, labels = _event_prop_task()
    compiled = EventPropCompiler(example_timesteps=25, losses="sparse_categorical_crossentropy",
                                 optimiser=Adam(0.05), batch_size=2,
                                 **compiler_kwargs).compile(net)
    weights = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, metrics):
            weights.append([compiled.connection_populations[c].vars["g"].values
                            for c in conns])

    with compiled:
        np.random.seed(3)
        compiled.train({inp: spikes}, {out: labels}, num_epochs=epochs,
                       callbacks=[Snapshot(), *callbacks])
        result = inside(compiled) if inside is not None else None
    return compiled, weights, result


def test_training_is_deterministic_with_seeds():
    _, first, _ = _train_event_prop(2, rng_seed=7)
    _, second, _ = _train_event_prop(2, rng_seed=7)
    for a, b in zip(first[-1], second[-1]):
        np.testing.assert_array_equal(a, b)
    # and training changed the weights
    assert any(np.max(np.abs(a - b)) > 1e-3 for a, b in zip(first[0], first[1]))


def test_optimiser_param_schedule_sets_the_learning_rate_per_epoch():
    """alpha = 0 from epoch 1 on: Adam moves the weights in epoch 0 only."""
    from ml_genn.callbacks import OptimiserParamSchedule

    schedule = OptimiserParamSchedule("alpha", lambda epoch, alpha: 0.0 if epoch >= 1
                                      else alpha)
    _, weights, _ = _train_event_prop(3, callbacks=[schedule])
    _, unscheduled, _ = _train_event_prop(1)
    for a, b in zip(weights[0], unscheduled[0]):     # epoch 0: the usual updates
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights[0], weights[2]):         # then none
        np.testing.assert_array_equal(a, b)
    _, moving, _ = _train_event_prop(3)
    assert any(np.max(np.abs(a - b)) > 1e-3 for a, b in zip(moving[0], moving[2]))


def test_kernel_profiling_times_the_training_updates():
    def timers(compiled):
        model = compiled.genn_model
        return (model.neuron_update_time, model.presynaptic_update_time,
                model.get_custom_update_time("GradientLearn"),
                model.get_custom_update_time("Reset"))

    _, _, times = _train_event_prop(1, inside=timers, kernel_profiling=True)
    assert all(t > 0.0 for t in times), times


def test_per_step_softmax_runs_without_python_between_steps(monkeypatch):
    """e-prop's cross-entropy softmaxes the output after every step (custom
    updates at the end of each step): the engine runs them between steps,
    so training never steps from Python; the results are those of stepping
    from Python."""
    from ml_genn.compilers import EPropCompiler
    from ml_genn.compilers.compiled_network import CompiledNetwork
    from ml_genn.compilers.eprop_compiler import default_params
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.utils.data import preprocess_spikes

    rng = np.random.default_rng(9)
    spikes = [preprocess_spikes(rng.uniform(0, 15, 8).round(), rng.integers(0, 4, 8), 4)
              for _ in range(4)]
    labels = np.array([0, 1, 1, 0])
    w = [rng.normal(0, 1, (4, 6)), rng.normal(0, 1, (6, 2))]

    def train(native):
        net = Network(default_params)
        with net:
            inp = Population(SpikeInput(max_spikes=40), 4)
            hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0), 6)
            out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), 2)
            conns = [Connection(inp, hid, Dense(w[0])), Connection(hid, out, Dense(w[1]))]
        compiled = EPropCompiler(example_timesteps=20, losses="sparse_categorical_crossentropy",
                                 batch_size=2).compile(net, name=f"native_softmax_{native}")
        steps = []
        if native:
            monkeypatch.setattr(CompiledNetwork, "step_time",
                                lambda *a, **k: steps.append(1))
        else:        # a callback that wants every step makes train() step from Python
            class EveryStep(Callback):
                def on_timestep_begin(self, timestep):
                    steps.append(1)
        with compiled:
            compiled.train({inp: spikes}, {out: labels}, num_epochs=2, shuffle=False,
                           callbacks=[] if native else [EveryStep()])
            g = [compiled.connection_populations[c].vars["g"].values for c in conns]
        monkeypatch.undo()
        return g, len(steps)

    native, native_steps = train(True)
    stepped, python_steps = train(False)
    assert native_steps == 0 and python_steps == 2 * 2 * 20
    for a, b in zip(native, stepped):
        np.testing.assert_array_equal(a, b)
    assert any(np.max(np.abs(a - b.reshape(-1))) > 1e-4 for a, b in zip(native, w))
