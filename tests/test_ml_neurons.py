"""ml_genn.neurons and ml_genn.synapses against NumPy references written from
the equations of the API spec (§3, §4.1), driven directly through the engine.

Arithmetic is float32 in both the engine (no FMA contraction) and the
references, with parameters computed the same way, so traces must match
exactly; a tolerance is only used where the engine evaluates ``exp``.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from ml_genn.initializers import Normal
from ml_genn.network import Network
from ml_genn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, FewSpikeRelu,
                             FewSpikeReluInput, Input, IntegrateFire, IntegrateFireInput,
                             LeakyIntegrate, LeakyIntegrateFire, LeakyIntegrateFireInput,
                             Neuron, PoissonInput, SpikeInput, default_neurons)
from ml_genn.neurons.input import InputBase
from ml_genn.readouts import SpikeCount
from ml_genn.synapses import Delta, Exponential, Synapse, default_synapses
from ml_genn.utils.data import preprocess_spikes
from ml_genn.utils.value import get_genn_var_name

from ml_harness import Harness, ref_if, ref_lif, spike_raster

f32 = np.float32


def fake_pop(shape, name="P", sources=()):
    """Stand-in for a Population: what get_model looks at."""
    conns = [(lambda s=s: SimpleNamespace(source=lambda: s)) for s in sources]
    return SimpleNamespace(name=name, shape=tuple(shape), incoming_connections=conns)


def model_of(neuron, shape=(4,), dt=1.0, batch_size=1):
    return neuron.get_model(fake_pop(shape), dt, batch_size)


# ---------------------------------------------------------------------------
# Driven neurons: IF, every LIF / ALIF variant, LeakyIntegrate (one build)
# ---------------------------------------------------------------------------
N, BATCH, STEPS = 12, 2, 60
_rng = np.random.default_rng(1234)
VTH_ARRAY = _rng.uniform(0.8, 1.6, N)
V0_ARRAY = _rng.uniform(0.0, 0.5, N)

DRIVEN = {"if_": dict(kind="if", scale=0.5, offset=-0.1,
                     neuron=lambda: IntegrateFire(v_thresh=VTH_ARRAY, v_reset=-0.25))}
for rel in (True, False):
    for scale_i in (False, True):
        for refrac in (None, True, False):
            key = f"lif_r{int(rel)}_s{int(scale_i)}_{refrac}"
            DRIVEN[key] = dict(
                kind="lif", rel=rel, scale_i=scale_i, refrac=refrac,
                scale=3.5 if scale_i else 0.35, offset=0.0,
                neuron=lambda rel=rel, scale_i=scale_i, refrac=refrac: LeakyIntegrateFire(
                    v_thresh=VTH_ARRAY if rel else 1.0, v_reset=0.1, v=V0_ARRAY,
                    tau_mem=10.0, tau_refrac=None if refrac is None else 3.0,
                    relative_reset=rel, integrate_during_refrac=bool(refrac),
                    scale_i=scale_i))
    for refrac in (None, True, False):
        key = f"alif_r{int(rel)}_{refrac}"
        DRIVEN[key] = dict(
            kind="alif", rel=rel, refrac=refrac, scale=0.45, offset=0.0,
            neuron=lambda rel=rel, refrac=refrac: AdaptiveLeakyIntegrateFire(
                v_thresh=1.0, v_reset=0.2, beta=0.3, tau_mem=10.0, tau_adapt=30.0,
                tau_refrac=None if refrac is None else 2.0, relative_reset=rel,
                integrate_during_refrac=bool(refrac)))
for scale_i in (False, True):
    DRIVEN[f"li_s{int(scale_i)}"] = dict(
        kind="li", scale_i=scale_i, scale=1.0, offset=-0.5,
        neuron=lambda scale_i=scale_i: LeakyIntegrate(v=0.5, bias=0.05, tau_mem=8.0,
                                                      scale_i=scale_i))


@pytest.fixture(scope="module")
def driven():
    rng = np.random.default_rng(7)
    h = Harness("ml_driven_neurons", dt=1.0, batch_size=BATCH)
    currents, record = {}, []
    for key, spec in DRIVEN.items():
        nm = spec["neuron"]().get_model(fake_pop((N,)), 1.0, BATCH)
        h.add(key, nm, N, record_spikes=spec["kind"] != "li")
        currents[key] = (spec["offset"] + spec["scale"]
                         * rng.uniform(0, 1, (STEPS, BATCH, N))).astype(f32)
        record.append((key, "V"))
        if spec["kind"] == "alif":
            record.append((key, "A"))
    h.load(num_recording_timesteps=STEPS)
    traces = h.run(STEPS, currents, record)
    rasters = {k: spike_raster(h.pops[k], BATCH, STEPS, N) for k, s in DRIVEN.items()
               if s["kind"] != "li"}
    return currents, traces, rasters


@pytest.mark.parametrize("key", list(DRIVEN))
def test_driven_neuron_matches_reference(driven, key):
    currents, traces, rasters = driven
    spec, cur = DRIVEN[key], currents[key]
    if spec["kind"] == "if":
        ref = ref_if(cur, VTH_ARRAY, -0.25)
    elif spec["kind"] == "lif":
        ref = ref_lif(cur, VTH_ARRAY if spec["rel"] else 1.0, 0.1, np.exp(-1.0 / 10.0),
                      v0=V0_ARRAY, tau_refrac=None if spec["refrac"] is None else 3.0,
                      relative_reset=spec["rel"],
                      integrate_during_refrac=bool(spec["refrac"]),
                      scale_i=spec["scale_i"])
    elif spec["kind"] == "alif":
        ref = ref_lif(cur, 1.0, 0.2, np.exp(-1.0 / 10.0),
                      tau_refrac=None if spec["refrac"] is None else 2.0,
                      relative_reset=spec["rel"],
                      integrate_during_refrac=bool(spec["refrac"]), beta=0.3,
                      rho=np.exp(-1.0 / 30.0))
        np.testing.assert_array_equal(traces[(key, "A")], ref["A"])
    else:
        ref = ref_lif(cur, 0.0, 0.0, np.exp(-1.0 / 8.0), v0=0.5, bias=0.05,
                      scale_i=spec["scale_i"], spiking=False)
    if spec["kind"] != "li":
        n_spikes = ref["spikes"].sum()
        assert 20 < n_spikes < 0.8 * ref["spikes"].size, n_spikes
        np.testing.assert_array_equal(rasters[key], ref["spikes"])
    np.testing.assert_array_equal(traces[(key, "V")], ref["V"])


def test_refractory_variants_really_differ(driven):
    """The references (and so the engine) distinguish the variants."""
    _, traces, rasters = driven
    assert not np.array_equal(rasters["lif_r1_s0_None"], rasters["lif_r1_s0_True"])
    assert not np.array_equal(traces[("lif_r1_s0_True", "V")],
                              traces[("lif_r1_s0_False", "V")])
    assert not np.array_equal(traces[("alif_r1_None", "V")], traces[("alif_r0_None", "V")])
    # with a refractory period of 3 steps (dt = 1) no neuron spikes twice within 3 steps
    r = rasters["lif_r1_s0_True"]
    assert not (r[1:] & r[:-1]).any() and not (r[2:] & r[:-2]).any()


# ---------------------------------------------------------------------------
# Input neurons (static and time-varying input), SpikeInput, Poisson
# ---------------------------------------------------------------------------
SHAPE = (2, 3)
IN_STEPS = 16


def frame_index(steps, frames, frame_timesteps):
    return np.minimum(np.arange(steps) // frame_timesteps, frames - 1)


INPUTS = {
    "ifin": dict(neuron=lambda: IntegrateFireInput(v_thresh=1.0, v_reset=0.0),
                 data=lambda rng: rng.uniform(0, 0.6, (1,) + SHAPE)),   # batch padded
    "lifin": dict(neuron=lambda: LeakyIntegrateFireInput(tau_mem=10.0, tau_refrac=2.0,
                                                         scale_i=True),
                  data=lambda rng: rng.uniform(0, 3.0, (BATCH,) + SHAPE)),
    "ifin_frames": dict(neuron=lambda: IntegrateFireInput(input_frames=3,
                                                          input_frame_timesteps=4),
                        data=lambda rng: rng.uniform(0, 0.6, (BATCH, 3) + SHAPE),
                        frames=(3, 4)),
    "lifin_frames": dict(neuron=lambda: LeakyIntegrateFireInput(
                             tau_mem=5.0, relative_reset=False, input_frames=5,
                             input_frame_timesteps=2),
                         data=lambda rng: rng.uniform(0, 0.6, (1, 5) + SHAPE),
                         frames=(5, 2)),
    "bin": dict(neuron=lambda: BinarySpikeInput(),
                data=lambda rng: rng.integers(-1, 2, (BATCH,) + SHAPE).astype(float)),
    "bin_signed": dict(neuron=lambda: BinarySpikeInput(signed_spikes=True),
                       data=lambda rng: rng.integers(-1, 2, (BATCH,) + SHAPE) * 0.5),
    "bin_frames": dict(neuron=lambda: BinarySpikeInput(input_frames=4,
                                                       input_frame_timesteps=3),
                       data=lambda rng: rng.integers(-1, 2, (BATCH, 4) + SHAPE)
                       .astype(float), frames=(4, 3)),
}


def input_current(key, data):
    """The input each neuron sees at each step: (steps, batch, n)."""
    data = np.asarray(data, f32)
    frames = INPUTS[key].get("frames")
    k = data.shape[0]
    if frames is None:
        per_step = np.repeat(data.reshape(1, k, -1), IN_STEPS, axis=0)
    else:
        f = frame_index(IN_STEPS, *frames)
        per_step = np.transpose(data.reshape(k, frames[0], -1)[:, f], (1, 0, 2))
    out = np.zeros((IN_STEPS, BATCH, per_step.shape[-1]), f32)
    out[:, :k] = per_step
    return out


POISSON_RATES = np.repeat([0.0, 0.02, 0.1, 0.5, 2.0], 80)
SPIKE_EXAMPLE = [
    # neuron 0: two spikes, one overdue pair; neuron 2: a spike at 0; neuron 4: late
    preprocess_spikes(np.array([0.5, 3.0, 3.2, 0.0, 9.0, 2.0]),
                      np.array([0, 0, 0, 2, 4, 4]), 6),
    preprocess_spikes(np.array([1.0, 1.0, 15.0]), np.array([1, 5, 5]), 6)]


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(11)
    n = int(np.prod(SHAPE))
    h = Harness("ml_input_neurons", dt=1.0, batch_size=BATCH)
    neurons = {}
    for key, spec in INPUTS.items():
        neurons[key] = spec["neuron"]()
        h.add(key, neurons[key].get_model(fake_pop(SHAPE), 1.0, BATCH), n, current=False,
              record_spikes=True)
    neurons["poisson"] = PoissonInput()
    neurons["poisson_signed"] = PoissonInput(signed_spikes=True)
    neurons["poisson_frames"] = PoissonInput(input_frames=2, input_frame_timesteps=8)
    for key in ("poisson", "poisson_signed", "poisson_frames"):
        h.add(key, neurons[key].get_model(fake_pop((len(POISSON_RATES),)), 1.0, BATCH),
              len(POISSON_RATES), current=False, record_spikes=True)
    neurons["spikes"] = SpikeInput(max_spikes=20)
    h.add("spikes", neurons["spikes"].get_model(fake_pop((6,)), 1.0, BATCH), 6,
          current=False, record_spikes=True)
    h.load(num_recording_timesteps=IN_STEPS)

    data = {}
    for key, spec in INPUTS.items():
        data[key] = spec["data"](rng)
        neurons[key].set_input(h.pops[key], BATCH, SHAPE, data[key])
    neurons["poisson"].set_input(h.pops["poisson"], BATCH, (len(POISSON_RATES),),
                                 np.stack([POISSON_RATES, POISSON_RATES[::-1]]))
    neurons["poisson_signed"].set_input(h.pops["poisson_signed"], BATCH,
                                        (len(POISSON_RATES),),
                                        np.stack([-POISSON_RATES, POISSON_RATES]))
    frames = np.stack([POISSON_RATES, np.zeros_like(POISSON_RATES)])   # rate, then 0
    neurons["poisson_frames"].set_input(h.pops["poisson_frames"], BATCH,
                                        (len(POISSON_RATES),), np.stack([frames, frames[::-1]]))
    neurons["spikes"].set_input(h.pops["spikes"], BATCH, (6,), SPIKE_EXAMPLE[:1])
    record = [(k, "V") for k in ("ifin", "lifin", "ifin_frames", "lifin_frames")]
    record.append(("poisson_signed", "PoissonEvent"))
    traces = h.run(IN_STEPS, {}, record)
    rasters = {k: spike_raster(h.pops[k], BATCH, IN_STEPS, h.sizes[k]) for k in h.pops}
    # a second batch of spikes (2 examples) on the same model, time reset to 0
    h.genn.timestep = 0
    neurons["spikes"].set_input(h.pops["spikes"], BATCH, (6,), SPIKE_EXAMPLE)
    h.genn.run(IN_STEPS)
    rasters["spikes2"] = spike_raster(h.pops["spikes"], BATCH, IN_STEPS, 6)
    return h, neurons, data, traces, rasters


@pytest.mark.parametrize("key", ["ifin", "lifin", "ifin_frames", "lifin_frames"])
def test_integrate_fire_inputs(inputs, key):
    _, neurons, data, traces, rasters = inputs
    x = input_current(key, data[key])
    neuron = neurons[key]
    if isinstance(neuron, LeakyIntegrateFire):
        ref = ref_lif(x, 1.0, 0.0, np.exp(-1.0 / neuron.tau_mem),
                      tau_refrac=neuron.tau_refrac, relative_reset=neuron.relative_reset,
                      scale_i=neuron.scale_i)
    else:
        ref = ref_if(x, 1.0, 0.0)
    assert ref["spikes"].sum() > 5
    np.testing.assert_array_equal(traces[(key, "V")], ref["V"])
    np.testing.assert_array_equal(rasters[key], ref["spikes"])
    if key == "ifin":     # the missing second example is zero input
        assert not traces[(key, "V")][:, 1].any()


@pytest.mark.parametrize("key", ["bin", "bin_signed", "bin_frames"])
def test_binary_spike_input(inputs, key):
    _, _, data, _, rasters = inputs
    x = input_current(key, data[key])
    assert (x > 0).any() and (x < 0).any()
    np.testing.assert_array_equal(rasters[key], x > 0)


def test_poisson_input_rates(inputs):
    _, _, _, traces, rasters = inputs
    for key, rates_b in (("poisson", [POISSON_RATES, POISSON_RATES[::-1]]),
                         ("poisson_signed", [None, POISSON_RATES])):
        for b, rates in enumerate(rates_b):
            r = rasters[key][:, b]
            if rates is None:           # negative rates: no (positive) spikes
                assert not r.any()
                continue
            for rate in np.unique(rates):
                sel = rates == rate
                count = r[:, sel].sum()
                n = r[:, sel].size
                q = 1.0 - np.exp(-rate)
                assert abs(count - n * q) <= 5 * np.sqrt(n * q * (1 - q)) + 1, (key, rate)
    # the signed model's event variable follows |rate| whatever the sign
    ev = traces[("poisson_signed", "PoissonEvent")].astype(bool)
    for b in range(BATCH):
        for rate in np.unique(POISSON_RATES):
            sel = POISSON_RATES == rate
            q = 1.0 - np.exp(-rate)
            n = ev[:, b, sel].size
            assert abs(ev[:, b, sel].sum() - n * q) <= 5 * np.sqrt(n * q * (1 - q)) + 1
        # positive spikes exactly where there was an event and the rate is positive
        rate_b = -POISSON_RATES if b == 0 else POISSON_RATES
        np.testing.assert_array_equal(rasters["poisson_signed"][:, b], ev[:, b] & (rate_b > 0))
    # frames: the rate, then silence (batch 0); silence, then the rate (batch 1)
    r = rasters["poisson_frames"]
    assert not r[8:, 0].any() and not r[:8, 1].any()
    assert not r[:, :, POISSON_RATES == 0].any()
    assert r[:8, 0, POISSON_RATES == 2.0].mean() > 0.75
    assert r[8:, 1, POISSON_RATES == 2.0].mean() > 0.75


def ref_spike_input(examples, steps, n):
    """First step whose t >= ts, at most one spike per neuron per step."""
    raster = np.zeros((steps, BATCH, n), bool)
    for b, ex in enumerate(examples):
        starts = np.concatenate(([0], ex.end_spikes[:-1]))
        for i in range(n):
            pending = sorted(ex.spike_times[starts[i]:ex.end_spikes[i]])
            for s in range(steps):
                if pending and s * 1.0 >= pending[0]:
                    raster[s, b, i] = True
                    pending.pop(0)
    return raster


def test_spike_input(inputs):
    _, _, _, _, rasters = inputs
    np.testing.assert_array_equal(rasters["spikes"],
                                  ref_spike_input(SPIKE_EXAMPLE[:1], IN_STEPS, 6))
    np.testing.assert_array_equal(rasters["spikes2"],
                                  ref_spike_input(SPIKE_EXAMPLE, IN_STEPS, 6))
    # neuron 0 of example 0: spikes at 0.5, 3.0, 3.2 -> steps 1, 3, 4
    assert list(np.nonzero(rasters["spikes"][:, 0, 0])[0]) == [1, 3, 4]
    assert not rasters["spikes"][:, 1].any()          # padded example
    assert rasters["spikes2"][:, 1].sum() == 3
    assert rasters["spikes2"][15, 1, 5]               # the spike at 15.0 is at step 15


def test_spike_input_buffer_too_small(inputs):
    h, _, _, _, _ = inputs
    small = SpikeInput(max_spikes=5)
    with pytest.raises(RuntimeError, match="max_spikes"):
        small.set_input(h.pops["spikes"], BATCH, (6,), SPIKE_EXAMPLE)
    with pytest.raises(RuntimeError, match="neurons"):
        SpikeInput().set_input(h.pops["spikes"], BATCH, (5,), SPIKE_EXAMPLE)
    with pytest.raises(RuntimeError):
        SpikeInput().set_input(h.pops["spikes"], 1, (6,), SPIKE_EXAMPLE)


class _Recorder:
    """A fake engine population recording what set_input writes."""

    def __init__(self, var_shape=None, egp_size=None):
        self.pushed = []
        outer = self

        class _Arr:
            def __init__(self, name, shape):
                self.name, self.view = name, np.full(shape, np.nan, f32)

            def push_to_device(self):
                outer.pushed.append(self.name)
        self.vars = {"Input": _Arr("Input", var_shape)} if var_shape else {}
        self.extra_global_params = {"Input": _Arr("EGP", egp_size)} if egp_size else {}


@pytest.mark.parametrize("batch,frames,data_shape,ok", [
    (1, 1, (2, 3), True), (1, 1, (1, 2, 3), True), (1, 1, (2, 2, 3), False),
    (1, 1, (3, 2), False), (1, 1, (3,), False), (4, 1, (3, 2, 3), True),
    (4, 1, (5, 2, 3), False), (4, 1, (2, 3), False), (1, 2, (2, 2, 3), True),
    (1, 2, (1, 2, 2, 3), True), (1, 2, (3, 2, 3), False), (3, 2, (2, 2, 2, 3), True),
    (3, 2, (4, 2, 2, 3), False), (3, 2, (2, 3, 2, 3), False), (3, 2, (2, 2, 3), False)])
def test_set_input_shape_rules(batch, frames, data_shape, ok):
    neuron = BinarySpikeInput(input_frames=frames)
    n = 6
    if frames == 1:
        pop = _Recorder(var_shape=(batch, n) if batch > 1 else (n,))
    else:
        pop = _Recorder(egp_size=batch * frames * n)
    data = np.arange(np.prod(data_shape), dtype=float).reshape(data_shape) + 1
    if not ok:
        with pytest.raises(RuntimeError):
            neuron.set_input(pop, batch, SHAPE, data)
        return
    neuron.set_input(pop, batch, (2, 3), data)
    view = (pop.vars or pop.extra_global_params)["Input"].view
    flat = np.ravel(view)
    size = data.size
    np.testing.assert_array_equal(flat[:size], data.ravel())
    assert not flat[size:].any()                       # zero padded
    assert len(pop.pushed) == 1


def test_input_argument_errors():
    with pytest.raises(RuntimeError, match="egp_name"):
        InputBase(input_frames=2)
    with pytest.raises(ValueError):
        IntegrateFireInput(input_frames=0)
    with pytest.raises(ValueError):
        PoissonInput(input_frame_timesteps=1.5)
    with pytest.raises(NotImplementedError):
        BinarySpikeInput(signed_spikes=True, input_frames=2)
    with pytest.raises(NotImplementedError):
        PoissonInput(signed_spikes=True, input_frames=3)
    assert isinstance(BinarySpikeInput(), Input) and isinstance(SpikeInput(), Input)
    assert not issubclass(Input, Neuron)


# ---------------------------------------------------------------------------
# FewSpike neurons: binary expansion and decoding
# ---------------------------------------------------------------------------
def fs_encode_unsigned(v, k, scale):
    """Spike pattern (k, ...) from the spec's thresholds h_p = scale 2^(k-1-p)."""
    v = np.array(v, np.float64)
    spikes = np.zeros((k,) + v.shape, bool)
    for p in range(k):
        h = scale * 2.0 ** (k - 1 - p)
        spikes[p] = v >= h
        v = np.where(spikes[p], v - h, v)
    return spikes


def fs_encode_signed(v, k, scale):
    v = np.array(v, np.float64)
    half = k // 2
    spikes = np.zeros((k,) + v.shape, bool)
    value = np.zeros(v.shape)
    for p in range(k):
        h = scale * 2.0 ** (half - 1 - p // 2)
        if p % 2 == 0:
            spikes[p] = v >= h
            v = np.where(spikes[p], v - h, v)
            value += spikes[p] * h
        else:
            spikes[p] = v < -h
            v = np.where(spikes[p], v + h, v)
            value -= spikes[p] * h
    return spikes, value


FS_CASES = {
    # name: (k, input alpha, signed, relu alpha, relu2 alpha)
    "unsigned_k8": (8, 4.0, False, 4.0, 2.0),
    "signed_k6": (6, 3.0, True, 4.0, None),
    "signed_k5": (5, 2.0, True, 4.0, None),
}
FS_IN, FS_OUT, FS_PRESENT = 5, 4, 4


@pytest.fixture(scope="module")
def few_spike():
    rng = np.random.default_rng(5)
    h = Harness("ml_few_spike", dt=1.0, batch_size=BATCH)
    setup = {}
    for name, (k, alpha, signed, alpha1, alpha2) in FS_CASES.items():
        inp = FewSpikeReluInput(k=k, alpha=alpha, signed_input=signed)
        pin = fake_pop((FS_IN,), f"{name}_in")
        pin.neuron = inp
        relu = FewSpikeRelu(k=k, alpha=alpha1)
        p1 = fake_pop((FS_OUT,), f"{name}_r1", [pin])
        p1.neuron = relu
        pops = [(f"{name}_in", inp, pin, FS_IN), (f"{name}_r1", relu, p1, FS_OUT)]
        if alpha2 is not None:
            p2 = fake_pop((3,), f"{name}_r2", [p1])
            pops.append((f"{name}_r2", FewSpikeRelu(k=k, alpha=alpha2), p2, 3))
        for key, neuron, pop, n in pops:
            nm = SpikeCount().add_readout_logic(neuron.get_model(pop, 1.0, BATCH))
            h.add(key, nm, n, current=False)
        w1 = rng.integers(-6, 9, (FS_IN, FS_OUT)) / 4.0
        h.connect(f"{name}_w1", f"{name}_in", f"{name}_r1", w1, Delta().get_model(None, 1, 1))
        w2 = None
        if alpha2 is not None:
            w2 = rng.integers(-4, 9, (FS_OUT, 3)) / 8.0
            h.connect(f"{name}_w2", f"{name}_r1", f"{name}_r2", w2,
                      Delta().get_model(None, 1, 1))
        # inputs: exact codes, plus saturating and negative values
        if signed:
            x = rng.uniform(-alpha, alpha, (FS_PRESENT, BATCH, FS_IN))
        else:
            x = rng.integers(0, 2 ** k, (FS_PRESENT, BATCH, FS_IN)) * alpha * 2.0 ** -k
            x[1, 0, 0] = 1.5 * alpha
            x[2, 1, 1] = -1.0
        setup[name] = dict(inp=inp, w1=w1, w2=w2, x=x, keys=[p[0] for p in pops])
    h.load()
    record = {}
    for name, s in setup.items():
        k = FS_CASES[name][0]
        counts = {key: [] for key in s["keys"]}
        fx = {key: [] for key in s["keys"][1:]}
        for m in range(FS_PRESENT + 2):
            h.genn.timestep = 0          # FewSpikeCompiler: time restarts per presentation
            xin = s["x"][m] if m < FS_PRESENT else np.zeros((BATCH, FS_IN))
            s["inp"].set_input(h.pops[s["keys"][0]], BATCH, (FS_IN,), xin)
            for _ in range(k):
                h.genn.step_time()
                for key in s["keys"]:
                    counts[key].append(h.var(key, "Scount").copy())
            for key in fx:
                fx[key].append(h.var(key, "Fx").copy())
        record[name] = dict(
            spikes={key: np.diff(np.array(c), axis=0, prepend=0).reshape(
                FS_PRESENT + 2, k, BATCH, -1).astype(bool) for key, c in counts.items()},
            fx={key: np.array(v) for key, v in fx.items()})
    return setup, record


@pytest.mark.parametrize("name", list(FS_CASES))
def test_few_spike_relu_pipeline(few_spike, name):
    setup, record = few_spike
    k, alpha, signed, alpha1, alpha2 = FS_CASES[name]
    s, r = setup[name], record[name]
    key_in, key_r1 = s["keys"][:2]
    x = s["x"]
    # input encoder
    if signed:
        scale = alpha * 2.0 ** (-k // 2)
        ref_in, decoded = fs_encode_signed(x, k, scale)
        if k % 2 == 0:    # even K: the exact binary expansion of round-down |x| codes
            assert np.all(np.abs(decoded - x) < scale)
    else:
        scale = alpha * 2.0 ** -k
        ref_in = fs_encode_unsigned(x, k, scale)
        codes = np.clip(np.floor(np.maximum(x, 0) / scale), 0, 2 ** k - 1).astype(int)
        bits = (codes[None] >> np.arange(k - 1, -1, -1)[:, None, None, None]) & 1
        np.testing.assert_array_equal(ref_in, bits.astype(bool))
        decoded = codes * scale
    got_in = np.moveaxis(r["spikes"][key_in][:FS_PRESENT], 1, 0)
    np.testing.assert_array_equal(got_in, ref_in)
    assert got_in.any()
    # first FS ReLU: presentation m+1 re-encodes relu(w1 . decoded input m)
    z1 = decoded @ s["w1"]
    scale1 = alpha1 * 2.0 ** -k
    ref_r1 = fs_encode_unsigned(z1, k, scale1)
    got_r1 = np.moveaxis(r["spikes"][key_r1][1:FS_PRESENT + 1], 1, 0)
    np.testing.assert_array_equal(got_r1, ref_r1)
    assert got_r1.any() and (z1 < 0).any()
    # Fx after presentation m holds w1 . decoded input m, minus the bit sent at
    # the last step (it arrives in the next presentation)
    if signed:
        h_last = scale * 2.0 ** (k // 2 - 1 - (k - 1) // 2)
        last = ref_in[k - 1] * (h_last if (k - 1) % 2 == 0 else -h_last)
    else:
        last = ref_in[k - 1] * scale
    np.testing.assert_allclose(r["fx"][key_r1][:FS_PRESENT], (decoded - last) @ s["w1"],
                               atol=1e-5)
    if alpha2 is not None:
        codes1 = fs_encode_unsigned(z1, k, scale1)
        dec1 = np.tensordot(2.0 ** np.arange(k - 1, -1, -1) * scale1, codes1, axes=1)
        z2 = dec1 @ s["w2"]
        ref_r2 = fs_encode_unsigned(z2, k, alpha2 * 2.0 ** -k)
        got_r2 = np.moveaxis(r["spikes"][s["keys"][2]][2:FS_PRESENT + 2], 1, 0)
        np.testing.assert_array_equal(got_r2, ref_r2)
        assert got_r2.any()


def test_few_spike_relu_source_checks():
    def model(sources, relu=None):
        relu = relu or FewSpikeRelu(k=8, alpha=4)
        srcs = []
        for i, n in enumerate(sources):
            p = fake_pop((3,), f"S{i}")
            p.neuron = n
            srcs.append(p)
        return relu.get_model(fake_pop((2,), "R", srcs), 1.0, 1)

    ok = model([FewSpikeReluInput(k=8, alpha=2), FewSpikeRelu(k=8, alpha=2)])
    assert ok.param_vals["SrcScale"] == 2 * 2.0 ** -8
    assert ok.param_vals["Scale"] == 4 * 2.0 ** -8
    signed = model([FewSpikeReluInput(k=7, alpha=2, signed_input=True)],
                   FewSpikeRelu(k=7, alpha=4))
    assert signed.param_vals["SrcScale"] == 2 * 2.0 ** (-7 // 2)
    assert model([]).param_vals["SrcScale"] == 4 * 2.0 ** -8     # own alpha
    with pytest.raises(ValueError):
        model([IntegrateFire()])
    with pytest.raises(ValueError):
        model([FewSpikeReluInput(k=6, alpha=4)])
    with pytest.raises(ValueError):
        model([FewSpikeReluInput(k=8, alpha=4), FewSpikeRelu(k=8, alpha=2)])
    with pytest.raises(ValueError):
        model([FewSpikeReluInput(k=8, alpha=4, signed_input=True),
               FewSpikeReluInput(k=8, alpha=4)])
    with pytest.raises(RuntimeError):
        FewSpikeRelu(k=Normal())
    with pytest.raises(RuntimeError):
        FewSpikeReluInput(alpha=np.ones(3))
    assert FewSpikeRelu.pipelined is True
    assert ok.output_var_name == "Fx"


# ---------------------------------------------------------------------------
# Synapses (§4.1)
# ---------------------------------------------------------------------------
def test_synapses_delta_and_exponential():
    dt, steps, n_pre = 0.5, 30, 3
    spikes = preprocess_spikes(np.array([0.0, 2.0, 2.2, 4.0, 7.5]),
                               np.array([0, 0, 0, 1, 2]), n_pre)
    w = np.array([[1.0, 0.5], [-0.25, 2.0], [0.75, 0.0]])
    synapses = {"delta": Delta(), "exp": Exponential(tau=3.0),
                "exp_scaled": Exponential(tau=3.0, scale_i=True),
                "exp_array": Exponential(tau=np.array([2.0, 5.0]), scale_i=True)}
    h = Harness("ml_synapses", dt=dt, batch_size=1)
    src = SpikeInput(max_spikes=10)
    h.add("src", src.get_model(fake_pop((n_pre,)), dt, 1), n_pre, current=False,
          record_spikes=True)
    for key, syn in synapses.items():
        h.add(key, IntegrateFire(v_thresh=1e9).get_model(fake_pop((2,)), dt, 1), 2,
              current=False)
        h.connect(f"syn_{key}", "src", key, w, syn.get_model(None, dt, 1))
    h.load(num_recording_timesteps=steps)
    src.set_input(h.pops["src"], 1, (n_pre,), [spikes])
    traces = h.run(steps, {}, [(k, "V") for k in synapses])
    raster = spike_raster(h.pops["src"], 1, steps, n_pre, dt)[:, 0]
    # spikes at the first step with t >= ts: steps 0, 4, 5, 8, 15
    assert list(np.nonzero(raster.any(axis=1))[0]) == [0, 4, 5, 8, 15]
    for key, syn in synapses.items():
        tau = np.broadcast_to(np.asarray(getattr(syn, "tau", 1.0), float), (2,))
        decay = f32(np.exp(-dt / tau)) if key != "delta" else np.zeros(2, f32)
        iscale = (f32((tau / dt) * (1.0 - np.exp(-dt / tau))) if getattr(syn, "scale_i", 0)
                  else np.ones(2, f32))
        in_syn = np.zeros(2, f32)
        V = np.zeros(2, f32)
        ref = []
        for s in range(steps):
            if s > 0:                          # spikes of step s-1 arrive in step s
                in_syn = in_syn + raster[s - 1].astype(f32) @ w.astype(f32)
            V = V + in_syn * iscale
            in_syn = in_syn * decay
            ref.append(V)
        np.testing.assert_allclose(traces[(key, "V")][:, 0], np.array(ref), rtol=1e-6,
                                   atol=1e-6)
    # delta: the total input arrives exactly once per spike
    np.testing.assert_allclose(traces[("delta", "V")][-1, 0], raster.sum(axis=0) @ w)


def test_synapse_model_description():
    delta = Delta().get_model(None, 1.0, 1)
    assert "injectCurrent(inSyn)" in delta.model["sim_code"]
    exp = Exponential(tau=4.0, scale_i=True).get_model(None, 0.5, 1)
    np.testing.assert_allclose(exp.param_vals["ExpDecay"], np.exp(-0.5 / 4.0))
    np.testing.assert_allclose(exp.param_vals["IScale"], 8.0 * (1.0 - np.exp(-0.5 / 4.0)))
    assert [p[0] for p in Exponential().get_model(None, 1.0, 1).model["params"]] == \
        ["ExpDecay"]
    with pytest.raises(NotImplementedError):
        Exponential(tau=Normal())
    with pytest.raises(NotImplementedError):
        Exponential(tau="normal")
    assert set(default_synapses) == {"delta", "exponential"}
    assert all(issubclass(c, Synapse) for c in default_synapses.values())
    with Network({Exponential: {"tau": 7.0}}):
        assert Exponential().tau == 7.0
        assert Exponential(2.0).tau == 2.0
        assert Exponential(tau=3.0).tau == 3.0
    assert Exponential().tau == 5.0


# ---------------------------------------------------------------------------
# Model descriptions: GeNN-visible names (§3.14), defaults, registries
# ---------------------------------------------------------------------------
def names(nm, key):
    return [v[0] for v in nm.model.get(key, [])]


@pytest.mark.parametrize("neuron,vars_,params,egps", [
    (IntegrateFire(), ["V"], ["Vthresh", "Vreset"], []),
    (IntegrateFireInput(), ["V", "Input"], ["Vthresh", "Vreset"], []),
    (IntegrateFireInput(input_frames=2), ["V"], ["Vthresh", "Vreset"], ["Input"]),
    (LeakyIntegrateFire(), ["V"], ["Vthresh", "Vreset", "Alpha"], []),
    (LeakyIntegrateFire(tau_refrac=2.0), ["V", "RefracTime"],
     ["Vthresh", "Vreset", "Alpha", "TauRefrac"], []),
    (LeakyIntegrateFireInput(tau_refrac=1.0), ["V", "RefracTime", "Input"],
     ["Vthresh", "Vreset", "Alpha", "TauRefrac"], []),
    (AdaptiveLeakyIntegrateFire(), ["V", "A"], ["Vthresh", "Vreset", "Alpha", "Beta", "Rho"],
     []),
    (AdaptiveLeakyIntegrateFire(tau_refrac=1.0), ["V", "A", "RefracTime"],
     ["Vthresh", "Vreset", "Alpha", "Beta", "Rho", "TauRefrac"], []),
    (LeakyIntegrate(), ["V"], ["Alpha", "Bias"], []),
    (BinarySpikeInput(), ["Input"], [], []),
    (BinarySpikeInput(input_frames=3), [], [], ["Input"]),
    (PoissonInput(), ["Input"], [], []),
    (SpikeInput(), ["StartSpike", "EndSpike"], [], ["SpikeTimes"]),
    (FewSpikeReluInput(), ["V"], ["K", "Scale"], []),
    (FewSpikeRelu(), ["Fx", "V"], ["K", "Scale", "SrcScale"], []),
])
def test_genn_visible_names(neuron, vars_, params, egps):
    nm = model_of(neuron)
    assert names(nm, "vars") == vars_
    assert names(nm, "params") == params
    assert names(nm, "extra_global_params") == egps
    assert set(nm.param_vals) == set(params)
    assert set(nm.var_vals) == set(vars_)
    assert set(nm.egp_vals) == set(egps)


def test_model_values_and_egp_sizes():
    lif = model_of(LeakyIntegrateFire(tau_mem=10.0, v_thresh=[1.0, 2.0], tau_refrac=3.0),
                   dt=0.5)
    np.testing.assert_allclose(lif.param_vals["Alpha"], np.exp(-0.05))
    np.testing.assert_array_equal(lif.param_vals["Vthresh"], [1.0, 2.0])
    assert lif.param_vals["TauRefrac"] == 3.0 and lif.var_vals["RefracTime"] == 0.0
    processed = lif.process()
    assert "Vthresh" in processed.var_vals and "Vthresh" not in processed.constant_param_vals
    alif = model_of(AdaptiveLeakyIntegrateFire(tau_adapt=100.0, beta=0.5), dt=2.0)
    np.testing.assert_allclose(alif.param_vals["Rho"], np.exp(-0.02))
    assert alif.param_vals["Beta"] == 0.5
    frames = model_of(BinarySpikeInput(input_frames=3), shape=(2, 5), batch_size=4)
    assert frames.egp_vals["Input"].shape == (4 * 3 * 10,)
    assert model_of(IntegrateFireInput(input_frames=2), shape=(7,)).egp_vals["Input"] \
        .shape == (14,)
    assert model_of(SpikeInput(max_spikes=123)).egp_vals["SpikeTimes"].shape == (123,)
    signed = model_of(BinarySpikeInput(signed_spikes=True))
    assert signed.model["negative_threshold_condition_code"] == "Input < 0.0"
    psigned = model_of(PoissonInput(signed_spikes=True))
    assert names(psigned, "vars") == ["PoissonEvent", "Input"]
    assert "negative_threshold_condition_code" not in model_of(PoissonInput()).model
    fs = model_of(FewSpikeReluInput(k=6, alpha=3.0, signed_input=True))
    assert fs.param_vals == {"K": 6, "Scale": 3.0 * 2.0 ** -3}
    # a fresh dict per call: compilers edit the model
    m1, m2 = model_of(IntegrateFire()), model_of(IntegrateFire())
    m1.model["vars"].append(("X", "scalar"))
    assert names(m2, "vars") == ["V"]


def test_output_vars_and_genn_var_names():
    assert model_of(IntegrateFire()).output_var_name == "V"
    assert model_of(LeakyIntegrate()).output_var_name == "V"
    assert model_of(FewSpikeRelu()).output_var_name == "Fx"
    assert model_of(BinarySpikeInput()).output_var_name is None
    assert model_of(SpikeInput()).output_var_name is None
    lif = LeakyIntegrateFire()
    assert get_genn_var_name(lif, "v") == "V"
    assert get_genn_var_name(lif, "v_thresh") == "Vthresh"
    assert get_genn_var_name(LeakyIntegrate(), "bias") == "Bias"
    assert get_genn_var_name(AdaptiveLeakyIntegrateFire(), "a") == "A"
    with pytest.raises(RuntimeError):
        get_genn_var_name(lif, "tau_mem")
    with pytest.raises(AttributeError):
        get_genn_var_name(lif, "nonexistent")


def test_registry_and_readout_argument():
    assert set(default_neurons) == {
        "adaptive_leaky_integrate_fire", "binary_spike_input", "few_spike_relu",
        "few_spike_relu_input", "integrate_fire", "integrate_fire_input", "leaky_integrate",
        "leaky_integrate_fire", "leaky_integrate_fire_input", "poisson_input", "spike_input"}
    from ml_genn.readouts import SpikeCount as SC, Var
    assert isinstance(LeakyIntegrateFire(readout="spike_count").readout, SC)
    assert isinstance(IntegrateFire(readout=Var()).readout, Var)
    assert IntegrateFireInput().readout is None
    with pytest.raises(RuntimeError):
        IntegrateFire(readout="nonsense")
    with pytest.raises(RuntimeError):
        IntegrateFire().get_readout(None, 1, (3,))


@pytest.mark.parametrize("cls,kwargs", [
    (LeakyIntegrateFire, {"tau_mem": 5.0, "v_thresh": 2.0}),
    (AdaptiveLeakyIntegrateFire, {"beta": 0.5, "tau_adapt": 50.0}),
    (LeakyIntegrate, {"bias": 0.25}),
    (LeakyIntegrateFireInput, {"tau_mem": 7.0, "input_frames": 2}),
])
def test_network_default_params(cls, kwargs):
    with Network({cls: kwargs}):
        n = cls()
        for k, v in kwargs.items():
            assert getattr(n, k) == v
        name, value = next(iter(kwargs.items()))
        assert getattr(cls(**{name: 11.0}), name) == 11.0
    assert getattr(cls(), name) != value


def test_network_defaults_only_for_decorated_classes():
    with Network({IntegrateFire: {"v_thresh": 3.0}, LeakyIntegrateFire: {"tau_mem": 9.0}}):
        assert IntegrateFire().v_thresh == 1.0            # not decorated (as upstream)
        assert LeakyIntegrateFireInput().tau_mem == 20.0   # exact class only


def test_descriptor_errors():
    with pytest.raises(NotImplementedError):
        LeakyIntegrateFire(tau_mem=Normal())
    with pytest.raises(RuntimeError):
        IntegrateFire(v_thresh=object())
    lif = LeakyIntegrateFire(v=Normal(0.0, 1.0))
    assert isinstance(lif.v, Normal)


# ---------------------------------------------------------------------------
# End to end through InferenceCompiler
# ---------------------------------------------------------------------------
def _predict(build, x, evaluate_timesteps, batch_size=1, **kwargs):
    from ml_genn.compilers import InferenceCompiler
    from ml_genn.network import Network
    net = Network()
    with net:
        inp, out = build()
    compiled = InferenceCompiler(evaluate_timesteps=evaluate_timesteps,
                                 batch_size=batch_size, **kwargs).compile(net)
    with compiled:
        result, _ = compiled.predict({inp: x}, [out], callbacks=[])
    return result[out]


def _dense_net(input_neuron, w, output_neuron):
    from ml_genn.connection import Connection
    from ml_genn.connectivity import Dense
    from ml_genn.population import Population

    def build():
        inp = Population(input_neuron, w.shape[0])
        out = Population(output_neuron, w.shape[1])
        Connection(inp, out, Dense(w))
        return inp, out
    return build


@pytest.mark.parametrize("batch_size", [1, 2])
def test_e2e_binary_spike_input_signed_and_unsigned(batch_size):
    rng = np.random.default_rng(21)
    w = rng.integers(-4, 5, (6, 3)).astype(float)
    x = rng.integers(-2, 3, (5, 6)).astype(float)
    got = _predict(_dense_net(BinarySpikeInput(), w,
                              IntegrateFire(v_thresh=1e9, readout="var")), x, 2, batch_size)
    np.testing.assert_array_equal(got, (x > 0) @ w)      # exactly one copy after 2 steps
    got = _predict(_dense_net(BinarySpikeInput(signed_spikes=True), w,
                              IntegrateFire(v_thresh=1e9, readout="var")), x, 4, batch_size)
    np.testing.assert_array_equal(got, 3 * (np.sign(x) @ w))


def test_e2e_signed_poisson_input():
    rng = np.random.default_rng(22)
    w = rng.integers(-4, 5, (8, 3)).astype(float)
    x = rng.choice([-30.0, 0.0, 30.0], (3, 8))     # event probability 1 - e^-30 per step
    got = _predict(_dense_net(PoissonInput(signed_spikes=True), w,
                              IntegrateFire(v_thresh=1e9, readout="var")), x, 5, 2)
    np.testing.assert_array_equal(got, 4 * (np.sign(x) @ w))
    got = _predict(_dense_net(PoissonInput(), w,
                              IntegrateFire(v_thresh=1e9, readout="var")), x, 5, 2)
    np.testing.assert_array_equal(got, 4 * ((x > 0) @ w))


def test_e2e_time_varying_binary_input():
    rng = np.random.default_rng(23)
    frames, frame_steps, steps = 3, 2, 9
    w = rng.integers(-4, 5, (5, 2)).astype(float)
    x = rng.integers(0, 2, (3, frames, 5)).astype(float)       # 3 examples, batches of 2
    got = _predict(_dense_net(BinarySpikeInput(input_frames=frames,
                                               input_frame_timesteps=frame_steps), w,
                              IntegrateFire(v_thresh=1e9, readout="var")), x, steps, 2)
    f = frame_index(steps - 1, frames, frame_steps)            # steps 0..T-2 are delivered
    np.testing.assert_array_equal(got, x[:, f].sum(axis=1) @ w)


def test_e2e_spike_input():
    w = np.array([[1.0, 2.0], [0.5, -1.0], [4.0, 0.0]])
    examples = [preprocess_spikes(np.array([0.0, 1.0, 2.5, 7.0]), np.array([0, 0, 2, 1]), 3),
                preprocess_spikes(np.array([3.0]), np.array([1]), 3),
                preprocess_spikes(np.array([0.2, 0.4, 0.6]), np.array([2, 2, 2]), 3)]
    got = _predict(_dense_net(SpikeInput(max_spikes=20), w,
                              IntegrateFire(v_thresh=1e9, readout="var")),
                   examples, 6, 2)
    # spikes emitted at steps <= 4 reach the output within 6 steps
    counts = np.array([[2, 0, 1], [0, 1, 0], [0, 0, 3]])
    np.testing.assert_array_equal(got, counts @ w)


E2E_READOUTS = ["var", "spike_count", "avg_var", "sum_var", "max_var", "first_spike_time",
                "avg_var_exp_weight"]


@pytest.fixture(scope="module")
def e2e_readouts():
    """One network, one LIF output population per readout, 5 examples in
    batches of 3 (so state must be reset between batches)."""
    from ml_genn.compilers import InferenceCompiler
    from ml_genn.connection import Connection
    from ml_genn.connectivity import Dense
    from ml_genn.network import Network
    from ml_genn.population import Population
    rng = np.random.default_rng(24)
    steps, dt = 25, 0.5
    w = (rng.uniform(0, 0.4, (6, 4)) * np.array([1.0, 1.0, 0.1, 0.5])).astype(f32)
    x = rng.integers(0, 2, (5, 6)).astype(float)
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), 6)
        outs = {}
        for r in E2E_READOUTS:
            outs[r] = Population(LeakyIntegrateFire(tau_mem=4.0, tau_refrac=1.0, readout=r),
                                 4)
            Connection(inp, outs[r], Dense(w))
    compiled = InferenceCompiler(evaluate_timesteps=steps, batch_size=3, dt=dt).compile(net)
    with compiled:
        got, _ = compiled.predict({inp: x}, list(outs.values()), callbacks=[])
    current = np.zeros((steps, len(x), 4), f32)
    for i, xi in enumerate(x):     # spikes of step s-1 arrive in step s; sum in w's order
        row = np.zeros(4, f32)
        for j in np.nonzero(xi > 0)[0]:
            row = row + w[j]
        current[1:, i] = row
    ref = ref_lif(current, 1.0, 0.0, np.exp(-dt / 4.0), tau_refrac=1.0, dt=dt)
    assert ref["spikes"].any() and not ref["spikes"].all()
    t = np.arange(steps)[:, None, None] * dt
    expected = {
        "var": ref["V"][-1],
        "spike_count": ref["spikes"].sum(axis=0),
        "avg_var": (ref["Vpre"] / f32(steps)).sum(axis=0),
        "sum_var": ref["Vpre"].sum(axis=0),
        "max_var": np.maximum(ref["Vpre"].max(axis=0), 0),
        "first_spike_time": np.where(ref["spikes"].any(axis=0),
                                     -np.argmax(ref["spikes"], axis=0) * dt,
                                     -np.finfo(f32).max),
        "avg_var_exp_weight": (np.exp(-t / (dt * steps)) * ref["Vpre"] / steps).sum(axis=0),
    }
    return {r: (got[outs[r]], expected[r]) for r in E2E_READOUTS}


@pytest.mark.parametrize("readout", E2E_READOUTS)
def test_e2e_lif_readouts_with_resets_between_batches(e2e_readouts, readout):
    got, expected = e2e_readouts[readout]
    assert got.shape == (5, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_e2e_exponential_synapse_and_integrate_fire_input():
    from ml_genn.compilers import InferenceCompiler
    from ml_genn.connection import Connection
    from ml_genn.connectivity import Dense
    from ml_genn.network import Network
    from ml_genn.population import Population
    w = np.array([[0.5, 1.0], [2.0, -1.0]])
    x = np.array([[1.0, 0.0], [0.4, 0.6], [0.0, 0.3]])
    steps, tau = 12, 3.0
    net = Network()
    with net:
        inp = Population(IntegrateFireInput(v_thresh=1.0), 2)
        out = Population(LeakyIntegrate(tau_mem=1e9, readout="var"), 2)
        Connection(inp, out, Dense(w), synapse=Exponential(tau=tau))
    compiled = InferenceCompiler(evaluate_timesteps=steps, batch_size=2,
                                 reset_in_syn_between_batches=True).compile(net)
    with compiled:
        got, _ = compiled.predict({inp: x}, [out], callbacks=[])
    # reference: IF input spikes, then the exponential synapse into a (non-leaky) LI
    ref = ref_if(np.repeat(x[None].astype(f32), steps, axis=0), 1.0, 0.0)
    decay = np.exp(-1.0 / tau)
    in_syn = np.zeros((len(x), 2))
    V = np.zeros((len(x), 2))
    for s in range(1, steps):
        in_syn += ref["spikes"][s - 1] @ w
        V += in_syn
        in_syn *= decay
    assert ref["spikes"].sum() > 5
    np.testing.assert_allclose(got[out], V, rtol=1e-5)
