"""The Nengo neuron family (ml_genn.neurons.nengo_neuron) against Nengo's own
neuron ``step`` functions (and nengo_extras' SoftLIFRate), driven by the same
currents through the engine.

* rate neurons: every step's output to 1e-5 relative (engine in float32);
* deterministic spiking neurons: spike for spike over 1 s at dt = 1 ms in
  double precision (the same operations as Nengo's float64 step), the same
  spike counts in single precision (a spike may move by a step);
* stochastic wrappers: counts within binomial/Poisson confidence bounds.

All randomness is seeded; populations are small.
"""
import numpy as np
import pytest

nengo = pytest.importorskip("nengo")

from ml_genn.neurons import (LIF, AdaptiveLIF, AdaptiveLIFRate, Izhikevich,  # noqa: E402
                             LIFRate, PoissonSpiking, RectifiedLinear, RegularSpiking,
                             Sigmoid, SoftLIFRate, SpikingRectifiedLinear,
                             StochasticSpiking, Tanh)
from ml_genn.neurons.soft_lif_rate import soft_lif_rate  # noqa: E402

from ml_harness import Harness  # noqa: E402

try:
    from nengo_extras.neurons import SoftLIFRate as NengoSoftLIFRate
except Exception:       # nengo-extras missing or broken: NumPy reference
    NengoSoftLIFRate = None

DT = 1.0            # ms
DT_S = 0.001        # s
f32 = np.float32


class NengoHarness(Harness):
    """Neuron populations driven by a per-neuron current (``Isyn``), with
    the sum of ``Out`` and of ``Out**2`` over the run kept in variables."""

    def __init__(self, name, precision="float", seed=1234):
        super().__init__(name, dt=DT, precision=precision)
        self.genn.seed = seed

    def add(self, key, neuron, n):
        model = neuron.get_model(None, DT, 1)
        model.add_var("OutSum", "scalar", 0.0)
        model.add_var("OutSqSum", "scalar", 0.0)
        model.append_sim_code("OutSum += Out;\nOutSqSum += Out * Out;")
        return super().add(key, model, n,
                           record_spikes="threshold_condition_code" in model.model)

    def var(self, key, name):
        return np.array(super().var(key, name), dtype=np.float64).reshape(-1)

    def raster(self, key, steps):
        self.genn.pull_recording_buffers_from_device()
        times, ids = self.pops[key].spike_recording_data[0]
        out = np.zeros((steps, self.sizes[key]), dtype=bool)
        out[np.round(np.asarray(times) / DT).astype(int), ids] = True
        return out


def nengo_run(neuron_type, J, state=None, steps=None, rng=None):
    """Step a Nengo neuron type: ``J`` is (steps, n) or (n,) held for
    ``steps``; returns the (steps, n) outputs."""
    J = np.asarray(J, dtype=np.float64)
    if J.ndim == 1:
        J = np.broadcast_to(J, (steps, J.size))
    state = {k: np.array(v, dtype=np.float64) for k, v in (state or {}).items()}
    if rng is not None:
        state["rng"] = rng
    out = np.zeros(J.shape)
    for s in range(J.shape[0]):
        o = np.zeros(J.shape[1])
        neuron_type.step(DT_S, J[s].copy(), o, **state)
        out[s] = o
    return out


# ---------------------------------------------------------------------------
# Rate neurons: every step, 1e-5 relative
# ---------------------------------------------------------------------------
N_RATE, STEPS_RATE = 24, 25


def _soft_ref(sigma, tau_rc, tau_ref, amplitude):
    if NengoSoftLIFRate is not None:
        extras = NengoSoftLIFRate(sigma=sigma, tau_rc=tau_rc, tau_ref=tau_ref,
                                  amplitude=amplitude)

        class _Extras:      # nengo_extras 0.5 still calls its step "step_math"
            def step(self, dt, J, output):
                NengoSoftLIFRate.step_math(extras, dt, J, output)
        return _Extras()

    class _NumPySoftLIF:       # the formula of the issue, written from it
        def step(self, dt, J, output):
            output[...] = soft_lif_rate(J, sigma, tau_rc, tau_ref, amplitude)
    return _NumPySoftLIF()


RATE = {
    "lifrate": (lambda: LIFRate(), lambda: nengo.LIFRate(), (-1.0, 8.0)),
    "lifrate_p": (lambda: LIFRate(tau_rc=35.0, tau_ref=1.0, amplitude=0.01),
                  lambda: nengo.LIFRate(tau_rc=0.035, tau_ref=0.001, amplitude=0.01),
                  (0.5, 4.0)),
    "soft": (lambda: SoftLIFRate(), lambda: _soft_ref(1.0, 0.02, 0.002, 1.0), (-20.0, 8.0)),
    "soft_s": (lambda: SoftLIFRate(sigma=0.05, tau_rc=10.0, tau_ref=3.0, amplitude=0.5),
               lambda: _soft_ref(0.05, 0.01, 0.003, 0.5), (0.0, 3.0)),
    "relu": (lambda: RectifiedLinear(amplitude=0.5), lambda: nengo.RectifiedLinear(0.5),
             (-3.0, 50.0)),
    "sigmoid": (lambda: Sigmoid(), lambda: nengo.Sigmoid(), (-8.0, 8.0)),
    "sigmoid_t": (lambda: Sigmoid(tau_ref=4.0), lambda: nengo.Sigmoid(tau_ref=0.004),
                  (-8.0, 8.0)),
    "tanh": (lambda: Tanh(), lambda: nengo.Tanh(), (-3.0, 3.0)),
    "alifrate": (lambda: AdaptiveLIFRate(tau_n=50.0, inc_n=0.02),
                 lambda: nengo.AdaptiveLIFRate(tau_n=0.05, inc_n=0.02), (0.0, 6.0)),
}


@pytest.fixture(scope="module")
def rate_run():
    rng = np.random.default_rng(11)
    h = NengoHarness("nengo_rate_neurons")
    currents = {}
    for key, (ours, _, (lo, hi)) in RATE.items():
        h.add(key, ours(), N_RATE)
        currents[key] = rng.uniform(lo, hi, (STEPS_RATE, N_RATE)).astype(f32)
    # values on and around the LIF threshold J = 1
    currents["lifrate"][0, :5] = [1.0, 1.0 + 2 ** -20, 1.0 - 2 ** -20, 0.0, 1.5]
    h.load(STEPS_RATE)
    outs = {k: [] for k in RATE}
    for s in range(STEPS_RATE):
        for key in RATE:
            h.set_current(key, currents[key][s])
        h.genn.step_time()
        for key in RATE:
            outs[key].append(h.var(key, "Out"))
    return currents, {k: np.array(v) for k, v in outs.items()}


@pytest.mark.parametrize("key", list(RATE))
def test_rate_neuron_matches_nengo(rate_run, key):
    currents, outs = rate_run
    ref = nengo_run(RATE[key][1](), currents[key],
                    state={"adaptation": np.zeros(N_RATE)} if key == "alifrate" else None)
    np.testing.assert_allclose(outs[key], ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    assert np.count_nonzero(ref) > 0


# ---------------------------------------------------------------------------
# Deterministic spiking neurons: 1 s at dt = 1 ms
# ---------------------------------------------------------------------------
N_SPIKE, STEPS_SPIKE = 12, 1000
_V0 = np.random.default_rng(5).uniform(0, 1, N_SPIKE)


def _izh(name):
    return (lambda: Izhikevich.preset(name, v=_V0),
            lambda: nengo.Izhikevich(**{"RS": {}, "IB": dict(reset_voltage=-55,
                                                             reset_recovery=4),
                                         "CH": dict(reset_voltage=-50, reset_recovery=2),
                                         "FS": dict(tau_recovery=0.1)}[name]),
            lambda: {"voltage": _V0, "recovery": np.zeros(N_SPIKE)}, (0.0, 25.0))


SPIKING = {
    "lif": (lambda: LIF(v=_V0), lambda: nengo.LIF(),
            lambda: {"voltage": _V0, "refractory_time": np.zeros(N_SPIKE)}, (0.5, 8.0)),
    "lif_p": (lambda: LIF(tau_rc=10.0, tau_ref=3.5, min_voltage=-1.0, amplitude=0.1, v=_V0),
              lambda: nengo.LIF(tau_rc=0.01, tau_ref=0.0035, min_voltage=-1, amplitude=0.1),
              lambda: {"voltage": _V0, "refractory_time": np.zeros(N_SPIKE)}, (-2.0, 6.0)),
    "alif": (lambda: AdaptiveLIF(tau_n=100.0, inc_n=0.05, v=_V0),
             lambda: nengo.AdaptiveLIF(tau_n=0.1, inc_n=0.05),
             lambda: {"voltage": _V0, "refractory_time": np.zeros(N_SPIKE),
                      "adaptation": np.zeros(N_SPIKE)}, (0.5, 8.0)),
    "srl": (lambda: SpikingRectifiedLinear(amplitude=0.5, v=_V0),
            lambda: nengo.SpikingRectifiedLinear(amplitude=0.5),
            lambda: {"voltage": _V0}, (-100.0, 2500.0)),
    "izh_rs": _izh("RS"), "izh_ib": _izh("IB"), "izh_ch": _izh("CH"), "izh_fs": _izh("FS"),
    "reg_lif": (lambda: RegularSpiking(LIFRate(), amplitude=2.0, v=_V0),
                lambda: nengo.RegularSpiking(nengo.LIFRate(), amplitude=2.0),
                lambda: {"voltage": _V0}, (0.5, 8.0)),
    "reg_relu": (lambda: RegularSpiking(RectifiedLinear(), v=_V0),
                 lambda: nengo.RegularSpiking(nengo.RectifiedLinear()),
                 lambda: {"voltage": _V0}, (0.0, 3000.0)),
}


def _spiking_currents():
    rng = np.random.default_rng(3)
    return {k: rng.uniform(lo, hi, N_SPIKE).astype(f32)
            for k, (_, _, _, (lo, hi)) in SPIKING.items()}


def _wrapped_rate(key, J):
    """What Nengo's wrappers' step takes: the base neuron's rate."""
    base = {"reg_lif": nengo.LIFRate(), "reg_relu": nengo.RectifiedLinear()}[key]
    return nengo_run(base, J, steps=1)[0]


def _spiking_run(precision):
    currents = _spiking_currents()
    h = NengoHarness(f"nengo_spiking_{precision}", precision)
    for key, (ours, _, _, _) in SPIKING.items():
        h.add(key, ours(), N_SPIKE)
    h.load(STEPS_SPIKE)
    for key in SPIKING:
        h.set_current(key, currents[key])
    h.genn.run(STEPS_SPIKE)
    return currents, {k: (h.raster(k, STEPS_SPIKE), h.var(k, "OutSum")) for k in SPIKING}


@pytest.fixture(scope="module")
def spiking_refs():
    currents = _spiking_currents()
    refs = {}
    for key, (_, theirs, state, _) in SPIKING.items():
        J = _wrapped_rate(key, currents[key]) if key.startswith("reg") else currents[key]
        refs[key] = nengo_run(theirs(), J, state(), STEPS_SPIKE)
    return refs


@pytest.fixture(scope="module")
def spiking_double():
    return _spiking_run("double")


@pytest.fixture(scope="module")
def spiking_float():
    return _spiking_run("float")


@pytest.mark.parametrize("key", list(SPIKING))
def test_spiking_neuron_spike_for_spike_double(spiking_double, spiking_refs, key):
    _, runs = spiking_double
    raster, out_sum = runs[key]
    ref = spiking_refs[key]
    assert ref.any(), "the test currents must make Nengo's neuron spike"
    np.testing.assert_array_equal(raster, ref != 0)
    np.testing.assert_allclose(out_sum, ref.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("key", list(SPIKING))
def test_spiking_neuron_counts_float(spiking_float, spiking_refs, key):
    _, runs = spiking_float
    raster, out_sum = runs[key]
    ref = spiking_refs[key]
    amp = ref[ref != 0].min() if key in ("srl", "reg_relu") else np.abs(ref).max()
    # spike counts (outputs in units of one spike's output) over 1 s
    np.testing.assert_allclose(out_sum / amp, ref.sum(axis=0) / amp, atol=1.0 + 1e-3)
    np.testing.assert_array_equal(raster.sum(axis=0) > 0, (ref != 0).sum(axis=0) > 0)


# ---------------------------------------------------------------------------
# Stochastic wrappers: confidence bounds (counts over 1 s)
# ---------------------------------------------------------------------------
N_STOCH = 8


# LIFRate rates between ~30 and ~300 Hz, a RectifiedLinear at up to 25 spikes
# per step (the Poisson draw works in chunks of mean 10) and Tanh's signed rates
STOCH_CURRENTS = {"sto": np.linspace(1.2, 12.0, N_STOCH).astype(f32),
                  "poi": np.linspace(1.2, 12.0, N_STOCH).astype(f32),
                  "poi_relu": np.linspace(100.0, 25000.0, N_STOCH).astype(f32),
                  "sto_tanh": np.linspace(-2.0, 2.0, N_STOCH).astype(f32)}


def _stochastic_outputs():
    """Sums of ``Out`` and ``Out**2`` of the wrappers over the run (seed 777)."""
    h = NengoHarness("nengo_stochastic", seed=777)
    h.add("sto", StochasticSpiking(LIFRate()), N_STOCH)
    h.add("poi", PoissonSpiking(LIFRate()), N_STOCH)
    h.add("poi_relu", PoissonSpiking(RectifiedLinear(), amplitude=0.5), N_STOCH)
    h.add("sto_tanh", StochasticSpiking(Tanh()), N_STOCH)
    h.load(STEPS_SPIKE)
    for key, J in STOCH_CURRENTS.items():
        h.set_current(key, J)
    h.genn.run(STEPS_SPIKE)
    return {k: (h.var(k, "OutSum"), h.var(k, "OutSqSum")) for k in h.pops}


@pytest.fixture(scope="module")
def stochastic_run():
    return STOCH_CURRENTS, _stochastic_outputs()


def _rate_of(key, J):
    base = {"sto": nengo.LIFRate(), "poi": nengo.LIFRate(), "poi_relu": nengo.RectifiedLinear(),
            "sto_tanh": nengo.Tanh()}[key]
    return nengo_run(base, J, steps=1)[0]


@pytest.mark.parametrize("key", ["sto", "sto_tanh"])
def test_stochastic_spiking_within_binomial_bound(stochastic_run, key):
    currents, out = stochastic_run
    rate = _rate_of(key, currents[key])
    e = np.abs(rate) * DT_S
    frac = e - np.floor(e)
    counts = out[key][0] * DT_S                  # amplitude 1: spikes, signed
    expected = rate * DT_S * STEPS_SPIKE
    bound = 5.0 * np.sqrt(STEPS_SPIKE * frac * (1 - frac)) + 1e-6
    assert np.all(np.abs(counts - expected) <= bound), (counts, expected, bound)
    assert np.all(np.sign(counts) == np.sign(np.round(expected)))
    # Nengo's StochasticSpiking (its own RNG) is within the same bound
    base = {"sto": nengo.LIFRate(), "sto_tanh": nengo.Tanh()}[key]
    theirs = nengo_run(nengo.StochasticSpiking(base), rate, steps=STEPS_SPIKE,
                       rng=np.random.RandomState(0))
    assert np.all(np.abs(theirs.sum(axis=0) * DT_S - expected) <= bound)


@pytest.mark.parametrize("key", ["poi", "poi_relu"])
def test_poisson_spiking_within_poisson_bound(stochastic_run, key):
    currents, (out_sum, out_sq) = stochastic_run[0], stochastic_run[1][key]
    amp = 0.5 if key == "poi_relu" else 1.0
    rate = _rate_of(key, currents[key])
    lam = rate * DT_S                            # mean spikes per step
    counts = out_sum * DT_S / amp
    expected = lam * STEPS_SPIKE
    assert np.all(np.abs(counts - expected) <= 5.0 * np.sqrt(expected)), (counts, expected)
    # per-step variance of a Poisson count equals its mean (a stochastic
    # rounding would give at most 1/4)
    per_step = out_sq * (DT_S / amp) ** 2 / STEPS_SPIKE
    var = per_step - (counts / STEPS_SPIKE) ** 2
    np.testing.assert_allclose(var, lam, rtol=0.25)
    theirs = nengo_run(nengo.PoissonSpiking({"poi": nengo.LIFRate(),
                                             "poi_relu": nengo.RectifiedLinear()}[key],
                                            amplitude=amp),
                       rate, steps=STEPS_SPIKE, rng=np.random.RandomState(0))
    assert np.all(np.abs(theirs.sum(axis=0) * DT_S / amp - expected)
                  <= 5.0 * np.sqrt(expected))


def test_stochastic_wrappers_are_seeded(stochastic_run):
    _, out = stochastic_run
    again = _stochastic_outputs()
    for key in STOCH_CURRENTS:
        np.testing.assert_array_equal(again[key][0], out[key][0])


# ---------------------------------------------------------------------------
# Gain and bias
# ---------------------------------------------------------------------------
GAIN_BIAS = [
    (lambda: LIFRate(), lambda: nengo.LIFRate()),
    (lambda: LIF(tau_rc=30.0, tau_ref=1.5), lambda: nengo.LIF(tau_rc=0.03, tau_ref=0.0015)),
    (lambda: RectifiedLinear(), lambda: nengo.RectifiedLinear()),
    (lambda: Sigmoid(), lambda: nengo.Sigmoid()),
    (lambda: Tanh(), lambda: nengo.Tanh()),
    (lambda: SoftLIFRate(sigma=0.5), lambda: nengo.LIFRate()),   # LIFRate's closed form
    (lambda: RegularSpiking(LIFRate()), lambda: nengo.RegularSpiking(nengo.LIFRate())),
]


@pytest.mark.parametrize("ours,theirs", GAIN_BIAS)
def test_gain_bias_as_nengo(ours, theirs):
    rng = np.random.default_rng(2)
    max_rates = rng.uniform(100, 300, 10)
    intercepts = rng.uniform(-0.9, 0.9, 10)
    gain, bias = ours().gain_bias(max_rates, intercepts)
    g_ref, b_ref = theirs().gain_bias(max_rates, intercepts)
    np.testing.assert_allclose(gain, g_ref, rtol=1e-12)
    np.testing.assert_allclose(bias, b_ref, rtol=1e-12, atol=1e-12)
    mr, ic = ours().max_rates_intercepts(gain, bias)
    np.testing.assert_allclose(mr, max_rates, rtol=1e-9)
    np.testing.assert_allclose(ic, intercepts, rtol=1e-9, atol=1e-12)


def test_gain_bias_numerical_for_izhikevich():
    izh = Izhikevich()
    gain, bias = izh.gain_bias([40.0, 60.0], [-0.5, 0.2])
    rates = izh.rates(np.array([1.0]), gain, bias)[0]
    np.testing.assert_allclose(rates, [40.0, 60.0], rtol=0.1)


def test_population_with_gain_bias_has_nengo_tuning_curves():
    """``J = gain * x + bias`` with ``gain``/``bias`` from ``max_rates`` and
    ``intercepts``: the population's rates are Nengo's ``rates(x, gain, bias)``."""
    n = 10
    rng = np.random.default_rng(4)
    max_rates = rng.uniform(150, 250, n)
    intercepts = rng.uniform(-0.8, 0.3, n)
    gain, bias = LIFRate().gain_bias(max_rates, intercepts)
    x = np.linspace(0.4, 1.0, n).astype(f32)        # above every intercept
    h = NengoHarness("nengo_gain_bias")
    h.add("p", LIFRate(gain=gain, bias=bias), n)
    h.load(1)
    h.set_current("p", x)
    h.genn.step_time()
    ours = h.var("p", "Out")
    ref = np.diag(nengo.LIFRate().rates(x.astype(np.float64), gain, bias))
    # J is computed in single precision, so near-threshold rates are looser
    np.testing.assert_allclose(ours, ref, rtol=2e-4)
    np.testing.assert_allclose(LIFRate().rates(1.0, gain, bias)[0], max_rates, rtol=1e-9)


# ---------------------------------------------------------------------------
# SoftLIF
# ---------------------------------------------------------------------------
def test_soft_lif_tends_to_lif_rate():
    J = np.concatenate([np.linspace(-3, 0.9, 50), np.linspace(1.1, 10, 50)])
    lif = nengo_run(nengo.LIFRate(), J, steps=1)[0]
    previous = np.inf
    for sigma in (0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0001):
        err = np.max(np.abs(SoftLIFRate(sigma=sigma).rate_function(J) - lif))
        assert err < previous
        previous = err
    # below threshold the smoothed rate decays like sigma / (tau_rc (1 - J))
    assert previous < 0.1            # Hz, out of up to ~190 Hz


def test_soft_lif_engine_tends_to_lif_rate():
    J = np.concatenate([np.linspace(-3, 0.8, 12), np.linspace(1.2, 10, 12)]).astype(f32)
    h = NengoHarness("nengo_soft_sigma")
    h.add("soft", SoftLIFRate(sigma=0.001), J.size)
    h.load(1)
    h.set_current("soft", J)
    h.genn.step_time()
    lif = nengo_run(nengo.LIFRate(), J, steps=1)[0]
    # 0 below threshold in LIFRate, at most ~0.25 Hz in SoftLIFRate
    np.testing.assert_allclose(h.var("soft", "Out"), lif, rtol=1e-5, atol=0.3)


def test_soft_lif_derivative_finite_at_threshold():
    """Finite differences of the engine's SoftLIFRate around ``J = 1`` (the
    LIF threshold, where LIFRate's derivative is infinite) are finite and
    match nengo_extras' analytic derivative."""
    sigma = 0.5
    h_step = 1e-2
    J = np.array([1.0 - h_step, 1.0, 1.0 + h_step], dtype=f32)
    h = NengoHarness("nengo_soft_derivative")
    h.add("soft", SoftLIFRate(sigma=sigma), 3)
    h.load(1)
    h.set_current("soft", J)
    h.genn.step_time()
    out = h.var("soft", "Out")
    fd = (out[2] - out[0]) / (float(J[2]) - float(J[0]))
    assert np.isfinite(fd) and fd > 0
    ref = soft_lif_rate(np.array([1.0 - 1e-6, 1.0 + 1e-6]), sigma)
    analytic = (ref[1] - ref[0]) / 2e-6
    if NengoSoftLIFRate is not None:
        analytic = NengoSoftLIFRate(sigma=sigma).derivative(np.array([1.0]), 1.0, 0.0)[0]
    np.testing.assert_allclose(fd, analytic, rtol=1e-3)
    # LIFRate's slope at threshold, for contrast, diverges
    lif = nengo_run(nengo.LIFRate(), np.array([1.0, 1.0 + 1e-9]), steps=1)[0]
    assert (lif[1] - lif[0]) / 1e-9 > 1e3 * analytic


# ---------------------------------------------------------------------------
# Construction, errors, models
# ---------------------------------------------------------------------------
def test_model_names_and_output_var():
    m = LIF().get_model(None, 0.5, 1)
    assert m.output_var_name == "Out"
    assert m.param_vals["TauRC"] == 0.02 and m.param_vals["TauRef"] == 0.002
    assert m.param_vals["DtS"] == 0.0005
    assert m.model["threshold_condition_code"] == "Out > 0.0"
    assert "threshold_condition_code" not in LIFRate().get_model(None, 1.0, 1).model
    assert StochasticSpiking(Tanh()).get_model(None, 1.0, 1).model[
        "threshold_condition_code"] == "Out != 0.0"
    w = RegularSpiking(AdaptiveLIFRate(tau_n=20.0), amplitude=3.0)
    m = w.get_model(None, 1.0, 1)
    assert m.param_vals["TauN"] == 0.02 and m.param_vals["SpikeAmplitude"] == 3.0
    assert m.param_vals["Amplitude"] == 1.0 and {"Rate", "V", "N"} <= set(m.var_vals)
    w.gain = 2.0
    assert w.base.gain == 2.0 and w.get_model(None, 1.0, 1).param_vals["Gain"] == 2.0


def test_bad_arguments():
    with pytest.raises(ValueError):
        LIF(tau_rc=-1.0)
    with pytest.raises(TypeError, match="'tau_rc' must be a number .* not the string 'abc'"):
        LIF(tau_rc="abc")
    with pytest.raises(ValueError):
        LIF(min_voltage=0.5)
    with pytest.raises(ValueError):
        SoftLIFRate(sigma=0.0)
    with pytest.raises(TypeError):
        RegularSpiking(LIF())
    with pytest.raises(TypeError):
        PoissonSpiking(RegularSpiking(LIFRate()))
    with pytest.raises(ValueError):
        Izhikevich.preset("XX")
    with pytest.raises(ValueError):
        LIFRate().gain_bias([600.0], [0.0])       # above 1 / tau_ref
    with pytest.raises(TypeError):
        LIFRate(tau_m=3.0)


def test_network_default_params():
    """Network defaults reach every neuron of the family (a subclass whose
    base class is decorated too must not receive its defaults twice)."""
    from ml_genn import Network
    net = Network(default_params={SpikingRectifiedLinear: {"v": 0.5, "amplitude": 2.0},
                                  Sigmoid: {"tau_ref": 4.0},
                                  RegularSpiking: {"v": 0.25},
                                  PoissonSpiking: {"amplitude": 3.0},
                                  AdaptiveLIF: {"tau_n": 50.0}})
    with net:
        srl = SpikingRectifiedLinear(gain=3.0)
        assert (srl.v, srl.amplitude, srl.gain) == (0.5, 2.0, 3.0)
        assert Sigmoid().tau_ref == 4.0 and Tanh().tau_ref == 2.5
        assert RegularSpiking(LIFRate()).v == 0.25
        assert PoissonSpiking(LIFRate()).amplitude == 3.0
        assert StochasticSpiking(LIFRate()).amplitude == 1.0
        assert AdaptiveLIF().tau_n == 50.0
        assert RectifiedLinear().amplitude == 1.0


def test_bias_hook_adds_to_input():
    m = LIF()
    model = m.get_model(None, 1.0, 1)
    m.add_bias(model, "B")
    assert model.model["sim_code"].startswith("const scalar J = (Gain * (Isyn + B)) + Bias;")


# ---------------------------------------------------------------------------
# Graded transmission in a hand-built network
# ---------------------------------------------------------------------------
def test_graded_network_reads_rates_as_currents():
    """RateInput -> Dense -> LIFRate -> Dense -> RectifiedLinear with the
    standard InferenceCompiler: each layer receives ``W . Out`` of the
    previous one (one step later), so after two steps the output is the
    rate network's (with Nengo's LIFRate for the hidden layer)."""
    from ml_genn import Connection, Network, Population
    from ml_genn.compilers import InferenceCompiler
    from ml_genn.connectivity import Dense
    from ml_genn.neurons import RateInput
    rng = np.random.default_rng(8)
    w1 = rng.uniform(0, 1, (4, 6)).astype(f32)
    w2 = rng.uniform(-0.01, 0.02, (6, 3)).astype(f32)
    x = rng.uniform(0, 2, (5, 4)).astype(f32)
    net = Network()
    with net:
        inp = Population(RateInput(), 4)
        hid = Population(LIFRate(), 6)
        out = Population(RectifiedLinear(readout="var"), 3)
        Connection(inp, hid, Dense(w1))
        Connection(hid, out, Dense(w2))
    compiled = InferenceCompiler(evaluate_timesteps=3, batch_size=5).compile(net)
    with compiled:
        pred, _ = compiled.predict({inp: x}, out, callbacks=[])
    hidden = nengo_run(nengo.LIFRate(), (x.astype(np.float64) @ w1), steps=1)
    expected = np.maximum(hidden.reshape(5, 6) @ w2, 0.0)
    np.testing.assert_allclose(pred[out], expected, rtol=1e-4, atol=1e-5)
