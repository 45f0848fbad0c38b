"""ml_genn metrics, losses and optimisers (against NumPy references)."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, VarAccessMode, create_custom_update_model,
                          create_neuron_model, create_var_ref)
from ml_genn.losses import (Loss, MeanSquareError as MSELoss, RelativeMeanSquareError,
                            SparseCategoricalCrossentropy, default_losses)
from ml_genn.metrics import (MeanSquareError, Metric, MetricsType, MetricType,
                             SparseCategoricalAccuracy, default_metrics)
from ml_genn.optimisers import Adam, Optimiser, default_optimisers
from ml_genn.utils.model import CustomUpdateModel, NeuronModel


class FakeCommunicator:
    """Pretends there are ``ranks`` identical ranks: sums are multiplied."""

    def __init__(self, ranks):
        self.ranks = ranks
        self.calls = 0

    def reduce_sum(self, value):
        self.calls += 1
        return value * self.ranks


# ---------------------------------------------------------------------------
# registries and public names
# ---------------------------------------------------------------------------
def test_registries():
    assert set(default_metrics) == {"mean_square_error", "sparse_categorical_accuracy"}
    assert set(default_losses) == {"mean_square_error", "sparse_categorical_crossentropy"}
    assert set(default_optimisers) == {"adam"}
    import ml_genn.losses as losses
    import ml_genn.metrics as metrics
    import ml_genn.optimisers as optimisers
    assert set(metrics.__all__) == {"MeanSquareError", "Metric", "MetricType", "MetricsType",
                                    "SparseCategoricalAccuracy", "default_metrics"}
    assert set(losses.__all__) == {"MeanSquareError", "Loss", "RelativeMeanSquareError",
                                   "SparseCategoricalCrossentropy", "default_losses"}
    assert set(optimisers.__all__) == {"Adam", "Optimiser", "default_optimisers"}
    assert MetricType is not None and MetricsType is not None
    assert issubclass(SparseCategoricalAccuracy, Metric) and issubclass(Adam, Optimiser)
    assert issubclass(RelativeMeanSquareError, Loss)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------
def test_sparse_categorical_accuracy_matches_numpy():
    rng = np.random.default_rng(0)
    y_pred = rng.normal(size=(23, 5))
    y_true = rng.integers(0, 5, 23)
    m = SparseCategoricalAccuracy()
    assert m.result is None
    for start in range(0, 23, 4):
        m.update(y_true[start:start + 4], y_pred[start:start + 4], None)
    assert m.result == pytest.approx(np.mean(np.argmax(y_pred, axis=1) == y_true))
    m.reset()
    assert m.result is None
    m.update(np.array([0, 1]), np.array([[1.0, 0.0], [1.0, 0.0]]), None)
    assert m.result == 0.5


def test_sparse_categorical_accuracy_errors():
    m = SparseCategoricalAccuracy()
    with pytest.raises(RuntimeError):
        m.update(np.array([0, 1, 2]), np.zeros((2, 3)), None)
    with pytest.raises(RuntimeError):
        m.update(np.array([0, 1]), np.zeros(2), None)


def test_sparse_categorical_accuracy_communicator():
    comm = FakeCommunicator(3)
    m = SparseCategoricalAccuracy()
    m.update(np.array([1, 0]), np.array([[0.0, 1.0], [0.0, 1.0]]), comm)
    assert comm.calls == 2
    assert m.correct == 3 and m.total == 6
    assert m.result == 0.5


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10])
def test_mean_square_error_is_true_mse_at_every_batch_size(batch_size):
    rng = np.random.default_rng(batch_size)
    y_true = rng.normal(size=(10, 4))
    y_pred = rng.normal(size=(10, 4))
    m = MeanSquareError()
    assert m.result is None
    for start in range(0, 10, batch_size):
        m.update(y_true[start:start + batch_size], y_pred[start:start + batch_size], None)
    assert m.result == pytest.approx(np.mean((y_true - y_pred) ** 2))


def test_mean_square_error_errors_and_communicator():
    m = MeanSquareError()
    with pytest.raises(RuntimeError):
        m.update(np.zeros((2, 3)), np.zeros((2, 4)), None)
    comm = FakeCommunicator(2)
    m.update(np.array([[1.0, 3.0]]), np.array([[0.0, 0.0]]), comm)
    assert m.result == pytest.approx(5.0)
    m.reset()
    assert m.result is None


# ---------------------------------------------------------------------------
# losses: model edits
# ---------------------------------------------------------------------------
def _base_neuron_model():
    return NeuronModel({"vars": [("V", "scalar"), ("Out", "scalar")],
                        "sim_code": "V += 1.0;\nOut = yTrue;"}, "V",
                       var_vals={"V": 0.0, "Out": 0.0})


def test_sce_loss_adds_label_var_and_one_hot():
    model = _base_neuron_model()
    SparseCategoricalCrossentropy().add_to_neuron(model, (3,), 4, 10)
    assert ("YTrue", "uint8_t", VarAccess.READ_ONLY_SHARED_NEURON) in model.model["vars"]
    assert model.var_vals["YTrue"] == 0
    assert model.model["sim_code"].index("yTrue") < model.model["sim_code"].index("V +=")


def test_mse_loss_adds_target_buffer():
    model = _base_neuron_model()
    MSELoss().add_to_neuron(model, (2, 3), 4, 10)
    assert ("YTrue", "scalar*") in model.model["extra_global_params"]
    assert model.egp_vals["YTrue"].shape == (4 * 10 * 6,)
    assert "yTrue" in model.model["sim_code"]


def test_relative_mse_loss():
    loss = RelativeMeanSquareError(1.0)
    assert loss.delta == 1.0
    with pytest.raises(RuntimeError):
        RelativeMeanSquareError("big")
    model = _base_neuron_model()
    loss.add_to_neuron(model, (3,), 2, 10)
    assert model.has_var("YTrue")


class _FakeView:
    def __init__(self, arr):
        self.view = arr
        self.pushed = 0

    def push_to_device(self):
        self.pushed += 1


class _FakePop:
    def __init__(self, batch_size, egp_size=0):
        self.vars = {"YTrue": _FakeView(np.full(batch_size, 9, dtype=np.uint8))}
        self.extra_global_params = {"YTrue": _FakeView(np.zeros(egp_size, np.float32))}


def test_label_loss_set_target():
    for loss in (SparseCategoricalCrossentropy(), RelativeMeanSquareError(0.5)):
        pop = _FakePop(4)
        loss.set_target(pop, [1, 2], (3,), 4, 10)
        np.testing.assert_array_equal(pop.vars["YTrue"].view, [1, 2, 9, 9])  # padding kept
        assert pop.vars["YTrue"].pushed == 1
        with pytest.raises(RuntimeError):
            loss.set_target(pop, [1, 2, 3, 4, 5], (3,), 4, 10)
        with pytest.raises(RuntimeError):
            loss.set_target(pop, [[1, 2]], (3,), 4, 10)


def test_mse_loss_set_target():
    pop = _FakePop(2, 2 * 5 * 3)
    y = np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)
    MSELoss().set_target(pop, y, (3,), 2, 5)
    np.testing.assert_array_equal(pop.extra_global_params["YTrue"].view, y.flatten())
    with pytest.raises(RuntimeError, match=r"\(2, 5, 3\)"):
        MSELoss().set_target(pop, y[:1], (3,), 2, 5)


# ---------------------------------------------------------------------------
# losses: generated code runs in the engine
# ---------------------------------------------------------------------------
def _add_neuron(genn_model, name, n, model):
    p = model.process()
    pop = genn_model.add_neuron_population(name, n, create_neuron_model(name + "Model",
                                                                        **p.model),
                                           p.constant_param_vals, p.var_vals)
    for k, v in p.egp_vals.items():
        pop.extra_global_params[k].set_init_values(v)
    return pop


def test_loss_targets_in_engine():
    batch, n, steps = 2, 3, 4
    genn_model = GeNNModel("float", "ml_loss_targets")
    genn_model.dt = 1.0
    genn_model.batch_size = batch
    sce_model = _base_neuron_model()
    SparseCategoricalCrossentropy().add_to_neuron(sce_model, (n,), batch, steps)
    mse_model = _base_neuron_model()
    MSELoss().add_to_neuron(mse_model, (n,), batch, steps)
    sce = _add_neuron(genn_model, "SCE", n, sce_model)
    mse = _add_neuron(genn_model, "MSE", n, mse_model)
    genn_model.build()
    genn_model.load()
    try:
        SparseCategoricalCrossentropy().set_target(sce, np.array([2, 0]), (n,), batch, steps)
        y = np.random.default_rng(5).normal(size=(batch, steps, n)).astype(np.float32)
        MSELoss().set_target(mse, y, (n,), batch, steps)
        for step in range(steps):
            genn_model.step_time()
            sce.vars["Out"].pull_from_device()
            mse.vars["Out"].pull_from_device()
            np.testing.assert_array_equal(np.asarray(sce.vars["Out"].view).reshape(batch, n),
                                          [[0, 0, 1], [1, 0, 0]])
            np.testing.assert_array_equal(np.asarray(mse.vars["Out"].view).reshape(batch, n),
                                          y[:, step])
    finally:
        genn_model.unload()


# ---------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------
def test_adam_values_and_model():
    adam = Adam()
    assert (adam.alpha, adam.beta1, adam.beta2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-8)
    with pytest.raises(RuntimeError):
        Adam(alpha=np.ones(3))
    model = Adam(0.01).get_model("GREF", "VREF", False)
    assert isinstance(model, CustomUpdateModel)
    assert model.var_refs == {"Gradient": "GREF", "Variable": "VREF"}
    assert model.dynamic_param_names == {"Alpha", "MomentScale1", "MomentScale2"}
    assert model.param_vals["Alpha"] == 0.01
    assert model.var_vals == {"M": 0.0, "V": 0.0}
    refs = dict((r[0], r[2]) for r in model.model["var_refs"])
    assert refs["Gradient"] == VarAccessMode.READ_ONLY
    z = Adam().get_model("G", "V", True, clamp_var=(0.0, 5.0))
    refs = dict((r[0], r[2]) for r in z.model["var_refs"])
    assert refs["Gradient"] == VarAccessMode.READ_WRITE
    assert "Gradient = 0.0" in z.model["update_code"]
    assert "fmin" in z.model["update_code"]
    # models do not share state
    assert "Gradient = 0.0" not in Adam().get_model("G", "V", False).model["update_code"]


def test_adam_set_step_reads_alpha():
    class CU:
        def __init__(self):
            self.values = {}

        def set_dynamic_param_value(self, name, value):
            self.values[name] = value

    adam = Adam(0.1, 0.5, 0.75)
    cu = CU()
    adam.set_step(cu, 0)
    assert cu.values == pytest.approx({"Alpha": 0.1, "MomentScale1": 2.0, "MomentScale2": 4.0})
    adam.alpha = 0.05
    adam.set_step(cu, 1)
    assert cu.values == pytest.approx({"Alpha": 0.05, "MomentScale1": 1 / 0.75,
                                       "MomentScale2": 1 / (1 - 0.75 ** 2)})


def _numpy_adam(theta, grads, alpha, b1, b2, eps, clamp=None):
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for step, g in enumerate(grads):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        s1 = 1.0 / (1.0 - b1 ** (step + 1))
        s2 = 1.0 / (1.0 - b2 ** (step + 1))
        theta = theta - alpha * m * s1 / (np.sqrt(v * s2) + eps)
        if clamp is not None:
            theta = np.clip(theta, *clamp)
    return theta


def test_adam_in_engine_matches_numpy():
    n, steps = 6, 5
    rng = np.random.default_rng(7)
    theta0 = rng.normal(size=n).astype(np.float32)
    grads = rng.normal(size=(steps, n)).astype(np.float32)
    holder = create_neuron_model("AdamHolder",
                                 vars=[("Theta", "scalar", VarAccess.READ_ONLY),
                                       ("Grad", "scalar", VarAccess.READ_ONLY),
                                       ("Theta2", "scalar", VarAccess.READ_ONLY),
                                       ("Grad2", "scalar", VarAccess.READ_ONLY)])
    genn_model = GeNNModel("float", "ml_adam")
    genn_model.dt = 1.0
    pop = genn_model.add_neuron_population("P", n, holder, {},
                                           {"Theta": theta0, "Grad": 0.0,
                                            "Theta2": theta0, "Grad2": 0.0})
    adam = Adam(0.05, 0.8, 0.9, 1e-6)
    cus = []
    for name, (t, g), zero, clamp in [("Plain", ("Theta", "Grad"), False, None),
                                      ("Zero", ("Theta2", "Grad2"), True, (-0.2, 0.3))]:
        model = adam.get_model(create_var_ref(pop, g), create_var_ref(pop, t), zero, clamp)
        pm = model.process()
        cu = genn_model.add_custom_update(name, "Learn",
                                          create_custom_update_model(name + "Adam",
                                                                     **pm.model),
                                          pm.constant_param_vals, pm.var_vals, pm.var_refs,
                                          pm.egp_refs)
        for p in pm.dynamic_param_names:
            cu.set_param_dynamic(p)
        cus.append(cu)
    genn_model.build()
    genn_model.load()
    try:
        for step in range(steps):
            for g in ("Grad", "Grad2"):
                pop.vars[g].view[:] = grads[step]
                pop.vars[g].push_to_device()
            for cu in cus:
                adam.set_step(cu, step)
            genn_model.custom_update("Learn")
            pop.vars["Grad2"].pull_from_device()
            np.testing.assert_array_equal(pop.vars["Grad2"].view, 0.0)
        for v in ("Theta", "Theta2"):
            pop.vars[v].pull_from_device()
        np.testing.assert_allclose(pop.vars["Theta"].view,
                                   _numpy_adam(theta0.astype(np.float64), grads, 0.05, 0.8,
                                               0.9, 1e-6), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(pop.vars["Theta2"].view,
                                   _numpy_adam(theta0.astype(np.float64), grads, 0.05, 0.8,
                                               0.9, 1e-6, clamp=(-0.2, 0.3)),
                                   rtol=1e-5, atol=1e-6)
    finally:
        genn_model.unload()
