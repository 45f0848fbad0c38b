"""ml_genn callbacks, CallbackList, filters, serialisers and communicators."""
import logging

import numpy as np
import pytest

import ml_genn.callbacks as callbacks_pkg
from ml_genn.callbacks import (BatchProgressBar, Callback, Checkpoint, ConnVarRecorder,
                               CustomUpdateOnBatchBegin, CustomUpdateOnBatchEnd,
                               CustomUpdateOnTimestepBegin, CustomUpdateOnTimestepEnd,
                               OptimiserParamSchedule, SpikeRecorder, VarRecorder,
                               default_callbacks)
from ml_genn.callbacks.custom_update import (CustomUpdate, CustomUpdateOnEpochBegin,
                                             CustomUpdateOnEpochEnd)
from ml_genn.communicators import MPI, Communicator
from ml_genn.genn import SynapseMatrixType, VarAccess
from ml_genn.serialisers import Numpy, Serialiser, default_serialisers
from ml_genn.utils.callback_list import CallbackList
from ml_genn.utils.filter import ExampleFilter, get_neuron_filter_mask


# ---------------------------------------------------------------------------
# public names / registries
# ---------------------------------------------------------------------------
def test_public_names_and_registries():
    assert set(callbacks_pkg.__all__) == {
        "Callback", "Checkpoint", "ConnVarRecorder", "CustomUpdateOnBatchBegin",
        "CustomUpdateOnBatchEnd", "CustomUpdateOnTimestepBegin",
        "CustomUpdateOnTimestepEnd", "OptimiserParamSchedule", "BatchProgressBar",
        "SpikeRecorder", "VarRecorder", "default_callbacks"}
    assert callbacks_pkg.CustomUpdateOnEpochBegin is CustomUpdateOnEpochBegin
    assert not hasattr(callbacks_pkg, "CustomUpdate")
    assert set(default_callbacks) == {"batch_progress_bar", "checkpoint"}
    assert set(default_serialisers) == {"numpy"}
    import ml_genn.communicators as comms
    import ml_genn.serialisers as sers
    assert set(comms.__all__) == {"Communicator", "MPI"}
    assert set(sers.__all__) == {"Serialiser", "Numpy", "default_serialisers"}
    assert issubclass(MPI, Communicator) and issubclass(Numpy, Serialiser)


# ---------------------------------------------------------------------------
# example filters
# ---------------------------------------------------------------------------
def test_example_filter_none_bool_int_list():
    f = ExampleFilter(None)
    np.testing.assert_array_equal(f.get_batch_mask(3, 4), [True] * 4)
    f = ExampleFilter([True] * 10)
    np.testing.assert_array_equal(f.get_batch_mask(0, 4), [True] * 4)
    np.testing.assert_array_equal(f.get_batch_mask(2, 4), [True, True, False, False])
    np.testing.assert_array_equal(f.get_batch_mask(5, 4), [False] * 4)
    f = ExampleFilter([1, 4, 5])
    np.testing.assert_array_equal(f.get_batch_mask(0, 3), [False, True, False])
    np.testing.assert_array_equal(f.get_batch_mask(1, 3), [False, True, True])
    f = ExampleFilter(np.array([2]))
    np.testing.assert_array_equal(f.get_batch_mask(0, 3), [False, False, True])


def test_example_filter_single_int():
    for value in (5, np.int64(5)):
        f = ExampleFilter(value)
        np.testing.assert_array_equal(f.get_batch_mask(0, 4), [False] * 4)
        np.testing.assert_array_equal(f.get_batch_mask(1, 4), [False, True, False, False])
    f = ExampleFilter(0)
    np.testing.assert_array_equal(f.get_batch_mask(0, 1), [True])
    np.testing.assert_array_equal(f.get_batch_mask(1, 1), [False])


def test_example_filter_unsorted_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="ml_genn.utils.filter"):
        f = ExampleFilter([3, 1])
    assert "not sorted" in caplog.text
    np.testing.assert_array_equal(f.get_batch_mask(0, 4), [False, True, False, True])


def test_example_filter_errors_and_empty():
    with pytest.raises(RuntimeError, match="Unsupported object"):
        ExampleFilter(["a", "b"])
    with pytest.raises(RuntimeError, match="Unsupported"):
        ExampleFilter(1.5)
    with pytest.raises(RuntimeError, match="Unsupported"):
        ExampleFilter({1: 2})
    with pytest.raises(RuntimeError, match="negative"):
        ExampleFilter(-1)
    with pytest.raises(RuntimeError, match="negative"):
        ExampleFilter([0, -2])
    np.testing.assert_array_equal(ExampleFilter([]).get_batch_mask(0, 3), [False] * 3)


def test_example_filter_num_examples_skips_padding():
    f = ExampleFilter(None)
    np.testing.assert_array_equal(f.get_batch_mask(2, 4, num_examples=10),
                                  [True, True, False, False])
    f = ExampleFilter([9, 10, 11])
    np.testing.assert_array_equal(f.get_batch_mask(2, 4, num_examples=10),
                                  [False, True, False, False])


# ---------------------------------------------------------------------------
# neuron filters
# ---------------------------------------------------------------------------
def test_neuron_filter_basic_forms():
    np.testing.assert_array_equal(get_neuron_filter_mask(None, 4), [True] * 4)
    np.testing.assert_array_equal(get_neuron_filter_mask(None, (2, 3)), [True] * 6)
    np.testing.assert_array_equal(get_neuron_filter_mask(np.s_[0::2], 5),
                                  [True, False, True, False, True])
    np.testing.assert_array_equal(get_neuron_filter_mask([1, 3], (5,)),
                                  [False, True, False, True, False])
    np.testing.assert_array_equal(get_neuron_filter_mask(np.array([4]), 5),
                                  [False] * 4 + [True])
    np.testing.assert_array_equal(get_neuron_filter_mask([True, False, True], 3),
                                  [True, False, True])


def test_neuron_filter_bare_int_works():
    np.testing.assert_array_equal(get_neuron_filter_mask(2, 4), [False, False, True, False])
    np.testing.assert_array_equal(get_neuron_filter_mask(np.int32(0), 2), [True, False])
    # flat index into a multi-dimensional population
    mask = get_neuron_filter_mask(4, (2, 3))
    assert mask.tolist() == [False] * 4 + [True, False]
    with pytest.raises(IndexError):
        get_neuron_filter_mask(4, 4)


def test_neuron_filter_multi_dim():
    mask = get_neuron_filter_mask([[0, 0], [0, 2]], (2, 3))
    expected = np.zeros((2, 3), dtype=bool)
    expected[0, 0] = expected[0, 2] = True
    np.testing.assert_array_equal(mask, expected.flatten())
    mask = get_neuron_filter_mask(np.index_exp[2:4, 2:4], (5, 5))
    expected = np.zeros((5, 5), dtype=bool)
    expected[2:4, 2:4] = True
    np.testing.assert_array_equal(mask, expected.flatten())
    b = np.zeros((2, 3), dtype=bool)
    b[1, 1] = True
    np.testing.assert_array_equal(get_neuron_filter_mask(b, (2, 3)), b.flatten())


def test_neuron_filter_errors():
    with pytest.raises(RuntimeError, match="1-D"):
        get_neuron_filter_mask(np.s_[0:2], (2, 3))
    with pytest.raises(RuntimeError, match="shape"):
        get_neuron_filter_mask([True, False], (3,))
    with pytest.raises(RuntimeError, match="slices"):
        get_neuron_filter_mask(np.array([slice(0, 1), 3], dtype=object), (2, 3))
    with pytest.raises(IndexError):
        get_neuron_filter_mask([0, 5], 5)
    with pytest.raises(IndexError):
        get_neuron_filter_mask([[0], [0], [0]], (2, 3))
    with pytest.raises(RuntimeError):
        get_neuron_filter_mask([0.5, 1.5], 3)
    with pytest.raises(RuntimeError, match="Unsupported"):
        get_neuron_filter_mask("all", 3)
    with pytest.raises(RuntimeError, match="Unsupported"):
        get_neuron_filter_mask(2.0, 3)


# ---------------------------------------------------------------------------
# CallbackList
# ---------------------------------------------------------------------------
class Log(Callback):
    def __init__(self, name, log, key=None, data=None):
        self.name = name
        self.log = log
        self.key = key
        self.data = data

    def set_params(self, data, **kwargs):
        self.log.append((self.name, "set_params", sorted(kwargs)))
        self.shared = data

    def set_first(self):
        self.log.append((self.name, "set_first"))

    def on_batch_begin(self, batch):
        self.log.append((self.name, "on_batch_begin", batch))

    def on_timestep_end(self, timestep):
        self.log.append((self.name, "on_timestep_end", timestep))

    def get_data(self):
        return self.key, self.data


class Other(Callback):
    def __init__(self, log):
        self.log = log

    def set_first(self):
        self.log.append(("other", "set_first"))

    def on_batch_begin(self, batch):
        self.log.append(("other", "on_batch_begin", batch))


def test_callback_list_params_first_and_order():
    log = []
    a, b = Log("a", log), Log("b", log)
    cl = CallbackList([a, Other(log), b], compiled_network="net", num_batches=3)
    assert log[:2] == [("a", "set_params", ["compiled_network", "num_batches"]),
                       ("b", "set_params", ["compiled_network", "num_batches"])]
    assert log[2:] == [("a", "set_first"), ("other", "set_first")]   # not b
    assert cl[0].shared is cl[2].shared            # one shared dict
    assert cl[0] is not a and cl[0].name == "a"     # shallow copies
    log.clear()
    cl.on_batch_begin(7)
    assert log == [("a", "on_batch_begin", 7), ("other", "on_batch_begin", 7),
                   ("b", "on_batch_begin", 7)]
    assert cl.needs_timesteps
    assert not CallbackList([Other([])]).needs_timesteps
    # hooks nobody implements are fine
    cl.on_test_begin()
    cl.on_epoch_end(0, {})


def test_callback_list_strings():
    cl = CallbackList(["batch_progress_bar", "checkpoint"], num_batches=2)
    assert isinstance(cl[0], BatchProgressBar) and isinstance(cl[1], Checkpoint)
    with pytest.raises(RuntimeError, match="unknown"):
        CallbackList(["no_such_callback"])
    with pytest.raises(RuntimeError):
        CallbackList([42])


def test_callback_list_get_data_keys():
    cl = CallbackList([Log("a", [], "x", 1), Other([]), Log("b", [], "y", 2)])
    assert cl.get_data() == {"x": 1, "y": 2}
    cl = CallbackList([Log("a", [], "x", 1), Log("b", [], None, 2)])
    with pytest.warns(UserWarning):
        data = cl.get_data()
    assert data == {"x": 1, 1: 2}
    cl = CallbackList([Log("a", [], "x", 1), Log("b", [], "x", 2)])
    with pytest.raises(KeyError):
        cl.get_data()


# ---------------------------------------------------------------------------
# fakes of a compiled network
# ---------------------------------------------------------------------------
class FakeVar:
    def __init__(self, array, access=VarAccess.READ_WRITE):
        self.view = array
        self.access = access
        self.pulls = 0

    def pull_from_device(self):
        self.pulls += 1


class FakeNeuronGroup:
    def __init__(self, vars=None, spikes=None):
        self.vars = vars or {}
        self.spike_recording_data = spikes
        self.spike_recording_enabled = spikes is not None


class FakeSynapseGroup:
    def __init__(self, vars, matrix_type=SynapseMatrixType.DENSE):
        self.vars = vars
        self.matrix_type = matrix_type


class FakeGeNNModel:
    def __init__(self, batch_size):
        self.batch_size = batch_size
        self.timestep = 0
        self.dt = 1.0
        self.updates = []
        self.pulls = 0

    def custom_update(self, name):
        self.updates.append(name)

    def pull_recording_buffers_from_device(self):
        self.pulls += 1


class FakeCompiled:
    def __init__(self, batch_size, neuron_populations=None, connection_populations=None,
                 num_recording_timesteps=None):
        self.genn_model = FakeGeNNModel(batch_size)
        self.neuron_populations = neuron_populations or {}
        self.connection_populations = connection_populations or {}
        self.num_recording_timesteps = num_recording_timesteps


# ---------------------------------------------------------------------------
# custom-update triggers
# ---------------------------------------------------------------------------
def test_custom_update_triggers():
    net = FakeCompiled(1)
    cl = CallbackList([CustomUpdateOnBatchBegin("BB"), CustomUpdateOnBatchEnd("BE"),
                       CustomUpdateOnEpochBegin("EB", lambda e: e == 0),
                       CustomUpdateOnEpochEnd("EE", lambda e: e % 2 == 1),
                       CustomUpdateOnTimestepBegin("TB", lambda t: t == 2),
                       CustomUpdateOnTimestepEnd("TE")],
                      compiled_network=net, num_batches=1)
    for epoch in range(3):
        cl.on_epoch_begin(epoch)
        cl.on_batch_begin(0)
        for t in range(3):
            cl.on_timestep_begin(t)
            cl.on_timestep_end(t)
        cl.on_batch_end(0, {})
        cl.on_epoch_end(epoch, {})
    u = net.genn_model.updates
    assert u.count("BB") == 3 and u.count("BE") == 3
    assert u.count("EB") == 1 and u.count("EE") == 1
    assert u.count("TB") == 3 and u.count("TE") == 9
    assert u[:3] == ["EB", "BB", "TE"]
    assert issubclass(CustomUpdateOnBatchBegin, CustomUpdate)


# ---------------------------------------------------------------------------
# progress bar
# ---------------------------------------------------------------------------
class FakeTqdm:
    instances = []

    def __init__(self, total=None):
        self.total = total
        self.n = 0
        self.closed = False
        self.description = None
        self.postfix = None
        FakeTqdm.instances.append(self)

    def update(self, n=1):
        self.n += n

    def reset(self, total=None):
        self.n = 0
        self.total = total

    def set_description(self, d):
        self.description = d

    def set_postfix_str(self, s, refresh=True):
        self.postfix = s

    def close(self):
        self.closed = True


def test_batch_progress_bar(monkeypatch):
    from ml_genn.callbacks import progress_bar
    from ml_genn.metrics import MeanSquareError, SparseCategoricalAccuracy
    monkeypatch.setattr(progress_bar, "tqdm", FakeTqdm)
    FakeTqdm.instances = []
    bar = BatchProgressBar()
    for _ in range(2):         # one object reused across calls: a fresh bar each time
        cl = CallbackList([bar], num_batches=4)
        cl.on_test_begin()
        acc, mse = SparseCategoricalAccuracy(), MeanSquareError()
        acc.update(np.array([1]), np.array([[0.0, 1.0]]), None)
        for b in range(4):
            cl.on_batch_end(b, {"out": acc, "other": mse})
        cl.on_test_end({})
    assert len(FakeTqdm.instances) == 2
    for p in FakeTqdm.instances:
        assert p.total == 4 and p.n == 4 and p.closed
        assert p.postfix == "SparseCategoricalAccuracy: 1.0000"
    FakeTqdm.instances = []
    cl = CallbackList([BatchProgressBar()], num_batches=2)
    cl.on_train_begin()
    cl.on_epoch_begin(3)
    cl.on_batch_end(0, {})
    cl.on_epoch_begin(4)
    p = FakeTqdm.instances[0]
    assert p.description == "Epoch 4" and p.n == 0
    cl.on_train_end({})
    assert p.closed and len(FakeTqdm.instances) == 1


def test_batch_progress_bar_real_tqdm():
    cl = CallbackList([BatchProgressBar()], num_batches=2)
    cl.on_test_begin()
    cl.on_batch_end(0, {})
    cl.on_batch_end(1, {})
    cl.on_test_end({})


# ---------------------------------------------------------------------------
# checkpoint, serialiser, optimiser schedule, communicators
# ---------------------------------------------------------------------------
def test_numpy_serialiser(tmp_path):
    path = tmp_path / "ckpt" / "deep"
    s = Numpy(str(path))
    assert path.is_dir()
    s.serialise((9, "Conn_Pop0_Pop1", "g"), np.arange(6.0))
    s.serialise((9, "Pop2", "Bias"), np.ones(3))
    s.serialise((9, "Conn_Pop0_Pop1", "d"), np.arange(2))
    s.serialise((9, "Conn_Pop0_Pop1-x", "g"), np.zeros(1))   # name extends another
    assert (path / "9-Conn_Pop0_Pop1-g.npy").exists()
    assert (path / "9-Pop2-Bias.npy").exists()
    np.testing.assert_array_equal(s.deserialise((9, "Pop2", "Bias")), np.ones(3))
    everything = s.deserialise_all((9, "Conn_Pop0_Pop1"))
    assert set(everything) == {"g", "d"}
    np.testing.assert_array_equal(everything["g"], np.arange(6.0))
    assert s.deserialise_all((8, "Pop2")) == {}


def test_checkpoint(tmp_path):
    saved = []

    class Net:
        def save(self, keys, serialiser):
            saved.append((keys, serialiser))

    cl = CallbackList([Checkpoint(Numpy(str(tmp_path)), epoch_interval=2)],
                      compiled_network=Net(), num_batches=1, num_epochs=5)
    for e in range(5):
        cl.on_epoch_end(e, {})
    assert [k for k, _ in saved] == [(0,), (2,), (4,)]
    assert isinstance(saved[0][1], Numpy) and saved[0][1].path == str(tmp_path)
    assert isinstance(Checkpoint().serialiser, Numpy)
    cl = CallbackList([Checkpoint()], compiled_network=object(), num_batches=1)
    with pytest.raises(RuntimeError, match="training"):
        cl.on_epoch_end(0, {})


def test_optimiser_param_schedule():
    from ml_genn.optimisers import Adam

    class Net:
        optimisers = [(Adam(0.1), []), (Adam(1.0), [])]

    net = Net()
    cl = CallbackList([OptimiserParamSchedule("alpha", lambda e, a: a * 0.5)],
                      compiled_network=net, num_batches=1, num_epochs=3)
    for e in range(3):
        cl.on_epoch_begin(e)
    assert net.optimisers[0][0].alpha == pytest.approx(0.1 / 8)
    assert net.optimisers[1][0].alpha == pytest.approx(1.0 / 8)
    with pytest.raises(RuntimeError, match="no parameter"):
        CallbackList([OptimiserParamSchedule("gamma", lambda e, a: a)], compiled_network=net)
    with pytest.raises(RuntimeError, match="optimisers"):
        CallbackList([OptimiserParamSchedule("alpha", lambda e, a: a)],
                     compiled_network=object())


def test_mpi_without_mpi4py():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="mpi4py"):
            MPI()
    else:
        comm = MPI()
        assert comm.num_ranks >= 1 and 0 <= comm.rank < comm.num_ranks
        assert comm.reduce_sum(2) == 2 * comm.num_ranks


# ---------------------------------------------------------------------------
# recorders with a fake compiled network
# ---------------------------------------------------------------------------
@pytest.fixture
def net_pops():
    from ml_genn.connection import Connection
    from ml_genn.connectivity import Dense, OneToOne
    from ml_genn.network import Network
    from ml_genn.neurons import IntegrateFire
    from ml_genn.population import Population
    net = Network()
    with net:
        a = Population(IntegrateFire(), (2, 2), record_spikes=True)
        b = Population(IntegrateFire(), 3)
        c = Connection(a, b, Dense(1.0))
        d = Connection(b, b, OneToOne(1.0))
    return a, b, c, d


def test_var_recorder_batched_and_filters(net_pops):
    a, b, _, _ = net_pops
    batch = 3
    v = np.zeros((batch, 4), dtype=np.float32)
    th = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    group = FakeNeuronGroup({"V": FakeVar(v),
                             "Vthresh": FakeVar(th, VarAccess.READ_ONLY),
                             "YTrue": FakeVar(np.zeros(batch), VarAccess.READ_ONLY_SHARED_NEURON)})
    net = FakeCompiled(batch, {a: group})
    recs = [VarRecorder(a, "v", key="v", example_filter=[1, 3, 4],
                        neuron_filter=[[0, 1], [1, 1]]),
            VarRecorder(a, genn_var="Vthresh", key="th", example_filter=[0, 1]),
            VarRecorder(a, genn_var="YTrue", key="y")]
    cl = CallbackList(recs, compiled_network=net, num_batches=2, num_examples=5)
    for batch_i in range(2):
        cl.on_batch_begin(batch_i)
        for t in range(3):
            v[:] = 100 * batch_i + 10 * np.arange(batch)[:, None] + t + np.arange(4) / 10
            group.vars["YTrue"].view[:] = np.arange(batch) + 10 * batch_i
            cl.on_timestep_end(t)
    data = cl.get_data()
    # examples 1 (batch 0 row 1), 3 and 4 (batch 1 rows 0, 1); neurons (0,1), (1,1)
    assert len(data["v"]) == 3
    for arr, (bi, row) in zip(data["v"], [(0, 1), (1, 0), (1, 1)]):
        assert arr.shape == (3, 2)
        expected = [[100 * bi + 10 * row + t + n / 10 for n in (1, 3)] for t in range(3)]
        np.testing.assert_allclose(arr, expected, rtol=1e-6)
    # batch-shared variable: broadcast to selected examples (0 and 1)
    assert len(data["th"]) == 2
    for arr in data["th"]:
        np.testing.assert_array_equal(arr, np.tile(th, (3, 1)))
    # shared across neurons: one column; padding row of the last batch skipped
    assert len(data["y"]) == 5
    np.testing.assert_array_equal(data["y"][4], [[11.0]] * 3)
    assert group.vars["V"].pulls == 6


def test_var_recorder_batch_size_1_and_no_batch_begin(net_pops):
    a, _, _, _ = net_pops
    v = np.zeros(4, dtype=np.float32)
    net = FakeCompiled(1, {a: FakeNeuronGroup({"V": FakeVar(v)})})
    cl = CallbackList([VarRecorder(a, "v", key="v", neuron_filter=3)], compiled_network=net)
    for t in range(4):        # no on_batch_begin at all (upstream fails here)
        v[:] = t
        cl.on_timestep_end(t)
    cl.on_batch_begin(1)
    v[:] = 7
    cl.on_timestep_end(0)
    data = cl.get_data()["v"]
    assert [d.shape for d in data] == [(4, 1), (1, 1)]
    np.testing.assert_array_equal(data[0][:, 0], [0, 1, 2, 3])


def test_var_recorder_errors_and_warning(net_pops):
    a, _, _, _ = net_pops
    with pytest.raises(RuntimeError, match="var"):
        VarRecorder(a)
    with pytest.raises(RuntimeError, match="var"):
        VarRecorder(a, key="k")
    with pytest.raises(AttributeError):
        VarRecorder(a, "no_such_attribute")
    net = FakeCompiled(2, {a: FakeNeuronGroup({"V": FakeVar(np.zeros((2, 4)))})})
    with pytest.raises(RuntimeError, match="no variable 'Vthresh'"):
        CallbackList([VarRecorder(a, "v_thresh")], compiled_network=net)
    net = FakeCompiled(2, {a: FakeNeuronGroup(
        {"S": FakeVar(np.zeros(2), VarAccess.READ_ONLY_SHARED_NEURON)})})
    with pytest.warns(UserWarning, match="neuron filter"):
        CallbackList([VarRecorder(a, genn_var="S", neuron_filter=[0])], compiled_network=net)


def test_var_recorder_attribute_mapping(net_pops):
    a, _, _, _ = net_pops
    assert VarRecorder(a, "v")._var == "V"
    assert VarRecorder(a, "v_thresh")._var == "Vthresh"
    assert VarRecorder(a, genn_var="Scount")._var == "Scount"
    from ml_genn.network import Network
    from ml_genn.neurons import LeakyIntegrateFire
    from ml_genn.population import Population
    with Network():
        lif = Population(LeakyIntegrateFire(), 2)
    with pytest.raises(RuntimeError):
        VarRecorder(lif, "tau_mem")      # only exists transformed (Alpha)


def test_spike_recorder_times_ids_and_counts(net_pops):
    a, b, _, _ = net_pops
    batch = 2
    rec = [(np.array([0.0, 1.0, 1.0, 3.0]), np.array([0, 2, 3, 2])),
           (np.array([2.0]), np.array([1]))]
    group = FakeNeuronGroup(spikes=rec)
    net = FakeCompiled(batch, {a: group}, num_recording_timesteps=4)
    cl = CallbackList([SpikeRecorder(a, key="s", neuron_filter=[[0, 1], [0, 0]]),
                       SpikeRecorder(a, key="c", record_counts=True, example_filter=[1]),
                       SpikeRecorder(a, key="all")],
                      compiled_network=net, num_batches=1)
    assert not cl.needs_timesteps
    cl.on_batch_begin(0)
    net.genn_model.timestep = 4
    cl.on_batch_end(0, {})
    assert net.genn_model.pulls == 1                     # only the first recorder pulls
    data = cl.get_data()
    times, ids = data["s"]
    assert len(times) == 2
    np.testing.assert_array_equal(times[0], [0.0, 1.0, 3.0])   # neurons 0 and 2 only
    np.testing.assert_array_equal(ids[0], [0, 2, 2])
    assert len(times[1]) == 0 and len(ids[1]) == 0
    assert len(data["c"]) == 1
    np.testing.assert_array_equal(data["c"][0], [0, 1, 0, 0])
    np.testing.assert_array_equal(data["all"][1][0], [0, 2, 3, 2])


def test_spike_recorder_only_on_full_buffer(net_pops):
    a, _, _, _ = net_pops
    group = FakeNeuronGroup(spikes=[(np.array([1.0]), np.array([0]))])
    net = FakeCompiled(1, {a: group}, num_recording_timesteps=5)
    cl = CallbackList([SpikeRecorder(a, key="s", record_counts=True)],
                      compiled_network=net, num_batches=3, num_examples=3)
    for b, ts in enumerate([5, 3, 10]):       # batch 1 stopped early: nothing recorded
        cl.on_batch_begin(b)
        net.genn_model.timestep = ts
        cl.on_batch_end(b, {})
    assert len(cl.get_data()["s"]) == 2


def test_spike_recorder_errors(net_pops):
    a, b, _, _ = net_pops
    net = FakeCompiled(1, {b: FakeNeuronGroup()}, num_recording_timesteps=5)
    with pytest.raises(RuntimeError, match="record_spikes=True"):
        CallbackList([SpikeRecorder(b)], compiled_network=net)
    net = FakeCompiled(1, {a: FakeNeuronGroup(spikes=[])})
    with pytest.raises(RuntimeError, match="num_recording_timesteps"):
        CallbackList([SpikeRecorder(a)], compiled_network=net)
    net = FakeCompiled(1, {b: FakeNeuronGroup()}, num_recording_timesteps=5)
    with pytest.raises(RuntimeError, match="not part of this compiled network"):
        CallbackList([SpikeRecorder(a)], compiled_network=net)
    with pytest.raises(RuntimeError, match="not part of this compiled network"):
        CallbackList([VarRecorder(a, "v")], compiled_network=net)


def test_conn_var_recorder(net_pops):
    a, b, c, d = net_pops
    batch = 2
    g = np.arange(12, dtype=np.float32)
    dg = np.zeros((batch, 12), dtype=np.float32)
    sg = FakeSynapseGroup({"g": FakeVar(g, VarAccess.READ_ONLY), "DeltaG": FakeVar(dg)})
    net = FakeCompiled(batch, connection_populations={c: sg})
    cl = CallbackList([ConnVarRecorder(c, "g", key="g", src_neuron_filter=[[1], [0]],
                                       trg_neuron_filter=[0, 2]),
                       ConnVarRecorder(c, "DeltaG", key="dg", example_filter=[1])],
                      compiled_network=net, num_batches=1)
    cl.on_batch_begin(0)
    for t in range(2):
        dg[:] = np.arange(24).reshape(2, 12) + 100 * t
        cl.on_timestep_end(t)
    data = cl.get_data()
    assert len(data["g"]) == 2
    full = g.reshape(4, 3)
    for arr in data["g"]:
        assert arr.shape == (2, 1, 2)
        np.testing.assert_array_equal(arr[0], full[[2]][:, [0, 2]])  # source (1, 0) = flat 2
    assert len(data["dg"]) == 1 and data["dg"][0].shape == (2, 4, 3)
    np.testing.assert_array_equal(data["dg"][0][1], (np.arange(12, 24) + 100).reshape(4, 3))


def test_conn_var_recorder_errors(net_pops):
    a, b, c, d = net_pops
    net = FakeCompiled(1, connection_populations={
        c: FakeSynapseGroup({"g": FakeVar(np.zeros(12))}, SynapseMatrixType.SPARSE),
        d: FakeSynapseGroup({"g": FakeVar(np.zeros(9))})})
    with pytest.raises(NotImplementedError, match="DENSE"):
        CallbackList([ConnVarRecorder(c, "g")], compiled_network=net)
    with pytest.raises(RuntimeError, match="no variable 'd'"):
        CallbackList([ConnVarRecorder(d, "d")], compiled_network=net)


# ---------------------------------------------------------------------------
# end to end through the InferenceCompiler
# ---------------------------------------------------------------------------
def _reference_if_input(x, v_thresh, steps):
    """IntegrateFireInput: V += Input; spike and absolute reset at V >= thresh."""
    v = np.zeros_like(x)
    vs, spikes = [], []
    for t in range(steps):
        v = v + x
        fired = v >= v_thresh
        spikes.extend((t, i) for i in np.nonzero(fired)[0])
        v = np.where(fired, 0.0, v)
        vs.append(v.copy())
    return np.array(vs), spikes


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_recorders_end_to_end(batch):
    pytest.importorskip("ml_genn.compilers")
    from ml_genn.compilers import InferenceCompiler
    from ml_genn.connection import Connection
    from ml_genn.connectivity import Dense
    from ml_genn.network import Network
    from ml_genn.neurons import IntegrateFire, IntegrateFireInput
    from ml_genn.population import Population

    steps = 6
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net = Network()
    with net:
        inp = Population(IntegrateFireInput(v_thresh=1.0), 3, record_spikes=True)
        out = Population(IntegrateFire(v_thresh=2.0, readout="spike_count"), 2,
                         record_spikes=True)
        conn = Connection(inp, out, Dense(w))
    compiled = InferenceCompiler(evaluate_timesteps=steps, batch_size=batch).compile(
        net, "ml_callbacks_e2e")
    x = np.array([[1.0, 0.5, 0.0], [0.25, 1.0, 1.0], [1.0, 0.5, 0.75]], dtype=np.float32)
    with compiled:
        _, cb = compiled.evaluate(
            {inp: x}, {out: np.array([0, 1, 1])},
            callbacks=[SpikeRecorder(inp, key="s", example_filter=[0, 1, 2]),
                       SpikeRecorder(inp, key="c", record_counts=True, neuron_filter=[0, 2],
                                     example_filter=[0, 1, 2]),
                       VarRecorder(inp, "v", key="v", example_filter=[1, 2],
                                   neuron_filter=np.s_[1:]),
                       ConnVarRecorder(conn, "g", key="g", example_filter=2)])
    for ex in range(3):
        ref_v, ref_spikes = _reference_if_input(x[ex].astype(np.float64), 1.0, steps)
        times, ids = cb["s"][0][ex], cb["s"][1][ex]
        got = sorted(zip(np.rint(times).astype(int).tolist(), ids.tolist()))
        assert got == sorted(ref_spikes)
        counts = np.bincount([i for _, i in ref_spikes], minlength=3)
        np.testing.assert_array_equal(cb["c"][ex], counts[[0, 2]])
        if ex >= 1:
            np.testing.assert_allclose(cb["v"][ex - 1], ref_v[:, 1:], rtol=1e-6)
    assert len(cb["s"][0]) == 3 and len(cb["v"]) == 2
    assert len(cb["g"]) == 1 and cb["g"][0].shape == (steps, 3, 2)
    np.testing.assert_array_equal(cb["g"][0][0], w)
