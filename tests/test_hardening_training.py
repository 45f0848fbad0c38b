"""Hostile and mistaken inputs to the training API: the e-prop and EventProp
compilers' arguments, losses, Adam, ``CompiledTrainingNetwork.train`` /
``save`` and ``Network.load``.

Each mistake must give a Python exception naming the argument (or the
population) and the fix, before any native code runs: no crash, no NaN
spreading into the weights, no label silently wrapped to 8 bits, no
training run that fails in a later epoch. Most checks fire before a model
is built; one small e-prop network is compiled for the ``train()`` cases.
"""
import numpy as np
import pytest

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import OptimiserParamSchedule
from ml_genn.compilers import EPropCompiler, EventPropCompiler
from ml_genn.compilers import eprop_compiler, event_prop_compiler
from ml_genn.connectivity import Dense
from ml_genn.losses import (MeanSquareError, RelativeMeanSquareError,
                            SparseCategoricalCrossentropy)
from ml_genn.neurons import (BinarySpikeInput, LeakyIntegrate, LeakyIntegrateFire,
                             SpikeInput)
from ml_genn.optimisers import Adam
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes

SCE = "sparse_categorical_crossentropy"
NAN, INF = float("nan"), float("inf")
STEPS = 4


def _check(excinfo, words):
    for w in words:
        assert w in str(excinfo.value), (w, str(excinfo.value))


def _event_prop_net(max_spikes=16):
    net = Network(event_prop_compiler.default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=max_spikes), 3, name="in")
        hid = Population(LeakyIntegrateFire(), 4, name="hid")
        out = Population(LeakyIntegrate(readout="avg_var"), 2, name="out")
        Connection(inp, hid, Dense(0.1), Exponential(5.0))
        Connection(hid, out, Dense(0.1), Exponential(5.0))
    return net, inp, hid, out


# -- compiler constructors -------------------------------------------------------
def _ep(**kwargs):
    return EPropCompiler(**{"example_timesteps": STEPS, "losses": SCE, **kwargs})


def _evp(**kwargs):
    return EventPropCompiler(**{"example_timesteps": STEPS, "losses": SCE, **kwargs})


@pytest.mark.parametrize("make, exc, words", [
    # shared by both compilers
    (lambda: _ep(example_timesteps=0), ValueError, ["example_timesteps", "positive integer"]),
    (lambda: _evp(example_timesteps=2.5), TypeError, ["example_timesteps", "float"]),
    (lambda: _evp(dt=NAN), ValueError, ["dt", "finite"]),
    (lambda: _ep(batch_size=0), ValueError, ["batch_size", "positive"]),
    (lambda: _ep(losses=None), TypeError, ["losses is required"]),
    (lambda: _evp(losses="nope"), RuntimeError, ["Loss", "'nope'", "sparse_categorical"]),
    (lambda: _evp(losses=Adam()), RuntimeError, ["Loss must be a Loss object", "Adam"]),
    (lambda: _ep(losses={"out": None}), TypeError, ["losses holds None"]),
    (lambda: _ep(optimiser=None), RuntimeError, ["optimiser", "not None"]),
    (lambda: _evp(optimiser=None), RuntimeError, ["optimiser", "not None"]),
    (lambda: _evp(optimiser="Adam"), RuntimeError, ["'Adam' unknown", "adam"]),
    (lambda: _ep(deep_r_l1_strength=NAN), ValueError, ["deep_r_l1_strength", ">= 0"]),
    (lambda: _evp(deep_r_l1_strength=-1.0), ValueError, ["deep_r_l1_strength", ">= 0"]),
    (lambda: _ep(deep_r_conns=None), TypeError, ["deep_r_conns", "list of Connections"]),
    (lambda: _evp(deep_r_conns="conn"), TypeError, ["deep_r_conns", "list of Connections"]),
    (lambda: _ep(deep_r_conns=[3]), TypeError, ["deep_r_conns", "3 is not a Connection"]),
    (lambda: _ep(deep_r_record_rewirings=None), TypeError,
     ["deep_r_record_rewirings", "dict keyed by Connections"]),
    (lambda: _evp(deep_r_record_rewirings={"c": "key"}), TypeError,
     ["deep_r_record_rewirings", "'c' is not a Connection"]),
    (lambda: _ep(communicator=3), TypeError, ["communicator must be a Communicator"]),
    # e-prop
    (lambda: _ep(tau_reg=0.0), ValueError, ["tau_reg", "greater than 0"]),
    (lambda: _ep(tau_reg=INF), ValueError, ["tau_reg", "finite"]),
    (lambda: _ep(c_reg=-0.1), ValueError, ["c_reg", ">= 0"]),
    (lambda: _ep(f_target=NAN), ValueError, ["f_target", ">= 0"]),
    # EventProp
    (lambda: _evp(max_spikes=0), ValueError, ["max_spikes", "positive integer"]),
    (lambda: _evp(max_spikes=2 ** 40), ValueError, ["max_spikes", "below 2**31"]),
    (lambda: _evp(reg_lambda_upper=NAN), ValueError, ["reg_lambda_upper", ">= 0"]),
    (lambda: _evp(reg_lambda_lower=-1.0), ValueError, ["reg_lambda_lower", ">= 0"]),
    (lambda: _evp(reg_lambda_upper={"hid": INF}), ValueError, ["reg_lambda_upper", ">= 0"]),
    (lambda: _evp(reg_nu_upper=-1.0), ValueError, ["reg_nu_upper", ">= 0"]),
    (lambda: _evp(ttfs_alpha=INF), ValueError, ["ttfs_alpha", ">= 0"]),
    (lambda: _evp(softmax_temperature=0.0), ValueError, ["softmax_temperature", "than 0"]),
    (lambda: _evp(softmax_temperature=True), TypeError, ["softmax_temperature", "bool"]),
    (lambda: _evp(softmax_temperature="1"), TypeError, ["softmax_temperature", "str"]),
    (lambda: _evp(delay_learn_conns=None), TypeError, ["delay_learn_conns", "list"]),
    (lambda: _evp(delay_optimiser=3), RuntimeError, ["Optimiser", "int"]),
])
def test_bad_compiler_arguments(make, exc, words):
    with pytest.raises(exc) as e:
        make()
    _check(e, words)


# -- losses and Adam ------------------------------------------------------------
@pytest.mark.parametrize("make, exc, words", [
    (lambda: Adam(alpha=NAN), ValueError, ["alpha", "finite"]),
    (lambda: Adam(alpha=-0.001), ValueError, ["alpha", "[0.0, inf)", "learning rate"]),
    (lambda: Adam(alpha=True), TypeError, ["alpha", "bool"]),
    (lambda: Adam(alpha="0.1"), RuntimeError, ["alpha", "must be a number"]),
    (lambda: Adam(beta1=1.0), ValueError, ["beta1", "[0.0, 1.0)"]),
    (lambda: Adam(beta1=-0.5), ValueError, ["beta1", "[0.0, 1.0)"]),
    (lambda: Adam(beta2=1.5), ValueError, ["beta2", "[0.0, 1.0)"]),
    (lambda: Adam(epsilon=0.0), ValueError, ["epsilon", "(0.0, inf)"]),
    (lambda: Adam(epsilon=-1e-8), ValueError, ["epsilon", "(0.0, inf)"]),
    (lambda: RelativeMeanSquareError(-1.0), ValueError, ["delta", ">= 0"]),
    (lambda: RelativeMeanSquareError(NAN), ValueError, ["delta", "finite"]),
])
def test_bad_optimiser_and_loss_arguments(make, exc, words):
    with pytest.raises(exc) as e:
        make()
    _check(e, words)


def test_adam_accepts_its_whole_range_and_keeps_good_values():
    Adam(alpha=0.0, beta1=0.0, beta2=0.0, epsilon=1e-12)   # alpha 0: frozen weights
    adam = Adam(alpha=np.float32(0.01))
    assert adam.alpha == pytest.approx(0.01)
    with pytest.raises(ValueError, match="alpha"):
        adam.alpha = -1.0
    assert adam.alpha == pytest.approx(0.01)        # a refused value is not stored


def test_learning_rate_schedule_cannot_set_a_bad_value():
    adam = Adam(0.01)
    schedule = OptimiserParamSchedule("alpha", lambda epoch, alpha: alpha - 1.0)

    class _Net:
        optimisers = [(adam, [])]
    schedule.set_params(compiled_network=_Net())
    with pytest.raises(ValueError, match="'alpha' must lie in"):
        schedule.on_epoch_begin(0)
    assert adam.alpha == 0.01


@pytest.mark.parametrize("loss, y, exc, words", [
    (SparseCategoricalCrossentropy(), [0.7, 1.0], ValueError, ["integer class labels"]),
    (SparseCategoricalCrossentropy(), [np.nan, 1], ValueError, ["integer class labels"]),
    (RelativeMeanSquareError(1.0), [300, 1], RuntimeError, ["0..255", "8-bit"]),
    (MeanSquareError(), np.full((2, STEPS, 3), np.nan), ValueError, ["NaN/inf"]),
    (MeanSquareError(), np.full((2, STEPS, 3), "a"), TypeError, ["must be numbers"]),
    (MeanSquareError(), np.zeros((1, STEPS, 3)), RuntimeError, ["(2, 4, 3)"]),
])
def test_losses_refuse_bad_targets_before_writing_them(loss, y, exc, words):
    """``set_target`` checks before touching the engine group (None here)."""
    with pytest.raises(exc) as e:
        loss.set_target(None, np.asarray(y), (3,), 2, STEPS)
    _check(e, words)


def test_mean_square_error_buffer_must_be_indexable():
    with pytest.raises(ValueError, match="2\\*\\*31"):
        MeanSquareError().add_to_neuron(None, (1000,), 512, 5000)


# -- compile-time checks --------------------------------------------------------
def test_loss_and_regularisation_dicts_need_population_keys():
    net, inp, hid, out = _event_prop_net()
    with pytest.raises(TypeError) as e:
        EventPropCompiler(STEPS, {"out": SCE}).compile(net, "hardening_train_keys")
    _check(e, ["losses must be keyed by Population", "'out'"])
    eprop_net = Network(eprop_compiler.default_params)
    with eprop_net:
        hid2 = Population(LeakyIntegrateFire(tau_refrac=2.0), 4, name="hid")
        Connection(Population(SpikeInput(max_spikes=16), 3), hid2, Dense(0.1))
        Connection(hid2, Population(LeakyIntegrate(readout="sum_var"), 2), Dense(0.1))
    with pytest.raises(TypeError) as e:
        EPropCompiler(STEPS, {"out": SCE}).compile(eprop_net, "hardening_train_keys")
    _check(e, ["losses must be keyed by Population"])
    with pytest.raises(RuntimeError) as e:
        EventPropCompiler(STEPS, {hid: SCE}).compile(net, "hardening_train_keys")
    _check(e, ["Loss dictionary keys must match", "'out'", "'hid'"])
    with pytest.raises(TypeError) as e:
        EventPropCompiler(STEPS, SCE, reg_lambda_upper={"hid": 1.0}).compile(
            net, "hardening_train_keys")
    _check(e, ["reg_lambda_upper must be keyed by Population"])
    with pytest.raises(ValueError) as e:
        EventPropCompiler(STEPS, SCE, reg_lambda_lower={out: 1.0}).compile(
            net, "hardening_train_keys")
    _check(e, ["reg_lambda_lower", "'out'", "not a hidden"])


def test_spike_rings_beyond_32_bit_indices_are_refused_before_allocation():
    """batch * neurons * 2 * max_spikes >= 2**32 would wrap the engine's
    unsigned ring index (and ask for many GiB): refused at compile time."""
    net, *_ = _event_prop_net()
    with pytest.raises(ValueError) as e:
        EventPropCompiler(STEPS, SCE, max_spikes=2 ** 30, batch_size=4).compile(
            net, "hardening_train_ring")
    _check(e, ["population 'in'", "2**32", "lower max_spikes"])


# -- train(), save() and load() on one compiled e-prop network -------------------------
N_OUT_BIG = 300


@pytest.fixture(scope="module")
def trained():
    """in_spk (SpikeInput, max_spikes 10) and in_bin (BinarySpikeInput) ->
    LIF hidden -> 'big' (300 classes, cross-entropy) and 'trace' (2
    neurons, per-timestep MeanSquareError); batch size 2."""
    net = Network(eprop_compiler.default_params)
    with net:
        spk = Population(SpikeInput(max_spikes=10), 3, name="in_spk")
        binary = Population(BinarySpikeInput(), 3, name="in_bin")
        hid = Population(LeakyIntegrateFire(tau_refrac=2.0), 4, name="hid")
        big = Population(LeakyIntegrate(readout="sum_var"), N_OUT_BIG, name="big")
        trace = Population(LeakyIntegrate(readout="var"), 2, name="trace")
        for src in (spk, binary):
            Connection(src, hid, Dense(0.1))
        for trg in (big, trace):
            Connection(hid, trg, Dense(0.1))
    compiled = EPropCompiler(STEPS, {big: SCE, trace: "mean_square_error"},
                             batch_size=2).compile(net, "hardening_train")
    return dict(net=net, compiled=compiled, spk=spk, binary=binary, hid=hid, big=big,
                trace=trace)


def _spikes(n, count=2):
    return [preprocess_spikes(np.arange(count, dtype=float) % STEPS,
                              np.arange(count) % 3, 3) for _ in range(n)]


def _mse_call(t, x=None, y=None, **kwargs):
    x = {t["binary"]: np.ones((4, 3))} if x is None else x
    y = {t["trace"]: np.zeros((4, STEPS, 2))} if y is None else y
    return t["compiled"].train(x, y, **{"num_epochs": 1, "callbacks": [],
                                        "metrics": "mean_square_error", **kwargs})


def _sce_call(t, x=None, y=None, **kwargs):
    x = {t["spk"]: _spikes(4)} if x is None else x
    y = {t["big"]: np.array([0, 1, 2, 3])} if y is None else y
    return t["compiled"].train(x, y, **{"num_epochs": 1, "callbacks": [], **kwargs})


CASES = {
    # argument types and ranges
    "num_epochs_float": (lambda t: _sce_call(t, num_epochs=1.5), TypeError,
                         ["num_epochs", "non-negative integer", "float"]),
    "num_epochs_nan": (lambda t: _sce_call(t, num_epochs=NAN), TypeError, ["num_epochs"]),
    "num_epochs_str": (lambda t: _sce_call(t, num_epochs="2"), TypeError, ["num_epochs"]),
    "num_epochs_negative": (lambda t: _sce_call(t, num_epochs=-1), ValueError,
                            ["num_epochs", "non-negative"]),
    "start_epoch_float": (lambda t: _sce_call(t, start_epoch=0.5), TypeError,
                          ["start_epoch"]),
    "split_str": (lambda t: _sce_call(t, validation_split="0.5"), TypeError,
                  ["validation_split must be a number"]),
    "split_nan": (lambda t: _sce_call(t, validation_split=NAN), ValueError,
                  ["validation_split must lie in [0, 1)"]),
    "split_one": (lambda t: _sce_call(t, validation_split=1.0), ValueError,
                  ["validation_split must lie in [0, 1)", "nothing to train on"]),
    "split_negative": (lambda t: _sce_call(t, validation_split=-0.1), ValueError,
                       ["validation_split"]),
    "callbacks_int": (lambda t: _sce_call(t, callbacks=3), TypeError,
                      ["callbacks must be a list", "[callback]"]),
    "callbacks_str": (lambda t: _sce_call(t, callbacks="batch_progress_bar"), TypeError,
                      ["callbacks must be a list"]),
    "validation_callbacks_int": (lambda t: _sce_call(t, validation_callbacks=3), TypeError,
                                 ["validation_callbacks must be a list"]),
    # data structure
    "y_array": (lambda t: _sce_call(t, y=np.zeros(4, int)), TypeError,
                ["y must be a dict {output population: targets}"]),
    "validation_y_list": (lambda t: _sce_call(t, validation_x={t["spk"]: _spikes(2)},
                                              validation_y=[0, 1]), TypeError,
                          ["validation_y must be a dict"]),
    "y_by_hidden": (lambda t: _sce_call(t, y={t["hid"]: np.zeros(4, int)}), ValueError,
                    ["y is keyed by population 'hid'", "no readout"]),
    "x_by_string": (lambda t: _sce_call(t, x={"in_spk": _spikes(4)}), TypeError,
                    ["x must be keyed by Population"]),
    "sizes": (lambda t: _sce_call(t, y={t["big"]: np.zeros(3, int)}), RuntimeError,
              ["x has 4 examples but y has 3"]),
    "empty": (lambda t: _sce_call(t, x={t["spk"]: []}, y={t["big"]: np.zeros(0, int)}),
              ValueError, ["no training examples"]),
    # class labels (cross-entropy)
    "label_negative": (lambda t: _sce_call(t, y={t["big"]: np.array([0, -1, 2, 3])}),
                       ValueError, ["labels for output population 'big'", "[0, 300)"]),
    "label_out_of_range": (lambda t: _sce_call(t, y={t["big"]: np.array([0, 300, 2, 3])}),
                           ValueError, ["'big'", "[0, 300)"]),
    "label_above_uint8": (lambda t: _sce_call(t, y={t["big"]: np.array([0, 1, 2, 299])}),
                          ValueError, ["'big'", "up to 299", "8-bit", "0..255"]),
    "label_float": (lambda t: _sce_call(t, y={t["big"]: np.array([0.5, 1, 2, 3])}),
                    ValueError, ["'big'", "integer class indices",
                                 "SparseCategoricalCrossentropy trains on class labels"]),
    "label_one_hot": (lambda t: _sce_call(t, y={t["big"]: np.eye(N_OUT_BIG)[:4]},
                                          metrics="mean_square_error"),
                      ValueError, ["'big'", "np.argmax",
                                   "SparseCategoricalCrossentropy trains on class labels"]),
    "labels_with_mse_metric": (lambda t: _sce_call(t, metrics="mean_square_error"),
                               ValueError, ["metrics='mean_square_error'", "'big'",
                                            "sparse_categorical_accuracy"]),
    "validation_label": (lambda t: _sce_call(t, validation_x={t["spk"]: _spikes(2)},
                                             validation_y={t["big"]: np.array([0, 256])}),
                         ValueError, ["validation_y", "'big'", "8-bit"]),
    # per-timestep targets (mean squared error)
    "mse_not_whole_batches": (lambda t: _mse_call(t, x={t["binary"]: np.ones((5, 3))},
                                                  y={t["trace"]: np.zeros((5, STEPS, 2))}),
                              ValueError, ["'trace'", "5 examples do not fill whole batches",
                                           "multiple of the batch size"]),
    "mse_split_not_whole_batches": (
        lambda t: _mse_call(t, x={t["binary"]: np.ones((8, 3))},
                            y={t["trace"]: np.zeros((8, STEPS, 2))}, validation_split=0.125),
        ValueError, ["y: targets for output population 'trace'",
                     "7 examples do not fill whole batches"]),
    "mse_steps": (lambda t: _mse_call(t, y={t["trace"]: np.zeros((4, STEPS + 1, 2))}),
                  ValueError, ["'trace'", "(4, 4, 2)", "got shape (4, 5, 2)"]),
    "mse_labels": (lambda t: _mse_call(t, y={t["trace"]: np.zeros(4, int)}), ValueError,
                   ["'trace'", "(examples, example_timesteps)"]),
    "mse_nan": (lambda t: _mse_call(t, y={t["trace"]: np.full((4, STEPS, 2), np.nan)}),
                ValueError, ["'trace'", "NaN/inf", "before training"]),
    "mse_inf_late": (lambda t: _mse_call(
        t, y={t["trace"]: np.concatenate([np.zeros((2, STEPS, 2)),
                                          np.full((2, STEPS, 2), np.inf)])}, shuffle=False),
        ValueError, ["'trace'", "NaN/inf", "(2, 0, 0)"]),
    "mse_strings": (lambda t: _mse_call(t, y={t["trace"]: np.full((4, STEPS, 2), "a")}),
                    TypeError, ["'trace'", "must be numbers"]),
    "mse_accuracy_metric": (lambda t: _mse_call(t, metrics="sparse_categorical_accuracy"),
                            ValueError, ["'trace'", "one integer class index per example"]),
    # inputs
    "x_nan_late": (lambda t: _mse_call(t, x={t["binary"]: np.concatenate(
        [np.ones((2, 3)), np.full((2, 3), np.nan)])}, shuffle=False),
        ValueError, ["x for input population 'in_bin'", "NaN/inf", "(2, 0)"]),
    "spikes_overflow_any_shuffle": (
        lambda t: _sce_call(t, x={t["spk"]: _spikes(3, 2) + _spikes(1, 9)}), ValueError,
        ["'in_spk'", "shuffling", "11 spikes", "max_spikes=10", "calc_max_spikes"]),
    "spikes_overflow_one_batch": (
        lambda t: _sce_call(t, x={t["spk"]: _spikes(2, 6) + _spikes(2, 1)}, shuffle=False),
        ValueError, ["'in_spk'", "the largest batch", "12 spikes", "max_spikes=10"]),
    "validation_spikes_overflow": (
        lambda t: _sce_call(t, validation_x={t["spk"]: _spikes(2, 6)},
                            validation_y={t["big"]: np.array([0, 1])}),
        ValueError, ["validation_x", "'in_spk'", "12 spikes"]),
    # checkpoints
    "save_str_keys": (lambda t: t["compiled"].save("best"), TypeError,
                      ["save(): keys must be a tuple", "('best',)"]),
    "save_int_keys": (lambda t: t["compiled"].save(3), TypeError,
                      ["save(): keys must be a tuple", "(3,)"]),
    "save_connectivity_none_keys": (lambda t: t["compiled"].save_connectivity(None),
                                    TypeError, ["save_connectivity(): keys"]),
    "save_unknown_serialiser": (lambda t: t["compiled"].save(("k",), "nope"),
                                RuntimeError, ["Serialiser", "'nope'", "numpy"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_train_and_save_mistakes_are_named_before_training(trained, case):
    """Nothing runs (and no weight changes) before the mistake is reported,
    even when only the last batch or a later shuffled epoch would fail."""
    call, exc, words = CASES[case]
    compiled = trained["compiled"]
    with compiled:
        before = {c: compiled.connection_populations[c].vars["g"] for c in
                  trained["net"].connections}
        for var in before.values():
            var.pull_from_device()
        before = {c: np.array(v.values) for c, v in before.items()}
        with pytest.raises(exc) as e:
            call(trained)
        for c, w in before.items():
            var = compiled.connection_populations[c].vars["g"]
            var.pull_from_device()
            np.testing.assert_array_equal(var.values, w, err_msg=case)
    _check(e, words)


def test_valid_data_near_the_limits_trains(trained):
    """The checks do not refuse what works: labels up to 255, batches that
    fit the spike buffer without shuffling, a split leaving whole batches,
    and keys given as a list."""
    t = trained
    with t["compiled"] as compiled:
        _sce_call(t, y={t["big"]: np.array([255, 0, 1, 2])})
        # batches of 6 + 4 spikes fit max_spikes=10; shuffled, 6 + 6 might not
        uneven = {t["spk"]: _spikes(1, 6) + _spikes(1, 4) + _spikes(1, 6) + _spikes(1, 4)}
        _sce_call(t, x=uneven, shuffle=False)
        with pytest.raises(ValueError, match="12 spikes"):
            _sce_call(t, x=uneven)
        metrics, val_metrics, _, _ = _mse_call(
            t, x={t["binary"]: np.ones((8, 3))}, y={t["trace"]: np.zeros((8, STEPS, 2))},
            validation_split=0.25)
        assert np.isfinite(metrics[t["trace"]].result)
        assert np.isfinite(val_metrics[t["trace"]].result)
        serialiser = _RecordingSerialiser()
        compiled.save(["list", "keys"], serialiser)
        assert serialiser.saved and all(k[:2] == ("list", "keys") for k in serialiser.saved)


class _RecordingSerialiser(Numpy):
    """Keeps what is saved in memory (no files)."""

    def __init__(self):
        super().__init__("")
        self.saved = {}

    def serialise(self, keys, data):
        self.saved[keys] = data


def test_network_load_refuses_bad_keys_and_finding_nothing(trained, tmp_path):
    net, compiled = trained["net"], trained["compiled"]
    with compiled:
        compiled.save(("run",), Numpy(str(tmp_path)))
    with pytest.raises(TypeError) as e:
        net.load("run", Numpy(str(tmp_path)))
    _check(e, ["Network.load(): keys must be a tuple", "('run',)"])
    with pytest.raises(RuntimeError) as e:
        net.load(("other",), Numpy(str(tmp_path)))
    _check(e, ["no saved values found", "('other',)", str(tmp_path)])
    net.load(("run",), Numpy(str(tmp_path)))


def _eprop_sparse_net():
    from ml_genn.connectivity import FixedProbability
    net = Network(eprop_compiler.default_params)
    with net:
        hid = Population(LeakyIntegrateFire(tau_refrac=2.0), 4, name="hid")
        conn = Connection(Population(SpikeInput(max_spikes=16), 3), hid,
                          FixedProbability(0.5, 0.1))
        Connection(hid, Population(LeakyIntegrate(readout="sum_var"), 2), Dense(0.1))
    return net, conn


def test_a_connection_listed_twice_is_rewired_once():
    """Upstream (and before) the engine refused the duplicate custom
    connectivity update with an error about its internal name."""
    net, conn = _eprop_sparse_net()
    compiled = EPropCompiler(STEPS, SCE, deep_r_conns=[conn, conn]).compile(
        net, "hardening_train_dup")
    groups = [cu.group_name for cu in
              compiled.genn_model.custom_connectivity_updates.values()]
    assert groups.count("DeepR1") == 1


@pytest.mark.parametrize("make", [
    lambda: (EPropCompiler(STEPS, SCE, optimiser=Adam(0.01)), _eprop_sparse_net()[0]),
    lambda: (EventPropCompiler(STEPS, SCE, optimiser=Adam(0.01)), _event_prop_net()[0])])
def test_networks_compiled_by_one_compiler_do_not_share_optimisers(make):
    """A learning-rate schedule (or a user) changing one compiled network's
    Adam must not change another's."""
    compiler, net = make()
    first = compiler.compile(net, "hardening_train_share_a")
    second = compiler.compile(net, "hardening_train_share_b")
    opt_a, opt_b = first.optimisers[0][0], second.optimisers[0][0]
    assert opt_a is not opt_b
    opt_a.alpha = 0.5
    assert opt_b.alpha == 0.01 and compiler.optimiser.alpha == 0.01
