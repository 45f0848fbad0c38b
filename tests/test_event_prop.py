"""EventPropCompiler: gradients against independent references, training,
checkpoints and the errors of unsupported configurations.

Gradients are read from the engine after the backward pass of a first batch
has run (during a second batch of empty inputs) and compared with:

* central finite differences of a NumPy simulation of the same discrete
  forward pass, written from the equations (spec 3.2, 3.8, 4.1, 11.5), when
  the loss is smooth in the weights (non-spiking outputs);
* central finite differences of a continuous-time reference with exact
  spike times (root finding on the closed-form membrane potential) when
  the gradient flows through spike times (hidden LIF, first-spike outputs).

How close they must be: the engine's adjoint integrates the continuous
adjoint ODEs exactly over each step, with the loss drive held constant over
the step, and reads it at the discrete spike and arrival times; the forward
pass it differentiates uses the step-averaged synaptic current. Both differ
from the exact derivative of either model by O(dt / tau_syn): with
``tau_syn = 5 ms`` that is a few per cent at dt = 0.5 ms for outputs (and
the error halves with dt, checked below), and a few per cent at dt = 0.05
ms where spike times (quantised to the step) enter. A sign error, a missing
term or a wrong factor (tau, batch size, dt) is off by far more.

Scale: ``Gradient`` is ``dL/dw / tau_mem`` of the output population for
non-spiking outputs (upstream mlGeNN's normalisation of the loss drive) and
``dL/dw`` for first-spike-time losses; ``L`` averaged over the batch.
"""
import numpy as np
import pytest
from scipy.optimize import brentq

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Callback, Checkpoint
from ml_genn.compilers.event_prop_compiler import EventPropCompiler, default_params
from ml_genn.connectivity import AvgPool2D, Dense, FixedProbability
from ml_genn.initializers import Normal
from ml_genn.losses import RelativeMeanSquareError
from ml_genn.metrics import Metric
from ml_genn.neurons import (BinarySpikeInput, IntegrateFire, LeakyIntegrate,
                             LeakyIntegrateFire, SpikeInput)
from ml_genn.optimisers import Adam
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Delta, Exponential
from ml_genn.utils.data import preprocess_spikes

TAU_MEM, TAU_SYN = 20.0, 5.0


# -- references -------------------------------------------------------------
def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _cross_entropy(z, y):
    """Mean over the batch of -log softmax(z)[y]."""
    return -np.mean(np.log(_softmax(z)[np.arange(len(y)), y]))


def _central_difference(f, w, eps):
    grad = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (f(up) - f(down)) / (2.0 * eps)
    return grad


def _li_trace(w, spikes, steps, dt, delays=None, scale_i=True):
    """Discrete forward pass of SpikeInput -> Exponential -> LeakyIntegrate
    (both with ``scale_i``): ``V`` after every step, shape (steps, nout).

    A spike of step s arrives in step s + 1 + d; each step the synapse
    injects IScale * inSyn (inSyn without scale_i), then decays;
    V <- alpha V + (1 - alpha) Isyn (V <- alpha V + Isyn without scale_i)."""
    alpha, beta = np.exp(-dt / TAU_MEM), np.exp(-dt / TAU_SYN)
    i_scale = (TAU_SYN / dt) * (1.0 - beta) if scale_i else 1.0
    v_scale = (1.0 - alpha) if scale_i else 1.0
    delays = np.zeros(w.shape, dtype=int) if delays is None else delays
    in_syn = np.zeros(w.shape[1])
    v = np.zeros(w.shape[1])
    trace = np.zeros((steps, w.shape[1]))
    arrivals = {}
    for step, i in spikes:
        for j in range(w.shape[1]):
            arrivals.setdefault(step + 1 + delays[i, j], []).append((i, j))
    for n in range(steps):
        for i, j in arrivals.get(n, []):
            in_syn[j] += w[i, j]
        i_syn = in_syn * i_scale
        in_syn = in_syn * beta
        v = (alpha * v) + (v_scale * i_syn)
        trace[n] = v
    return trace


def _readout(trace, readout, dt):
    steps = len(trace)
    if readout == "avg_var":
        return trace.mean(axis=0)
    if readout == "sum_var":
        return trace.sum(axis=0)
    if readout == "avg_var_exp_weight":
        return (np.exp(-np.arange(steps) / steps)[:, None] * trace).sum(axis=0) / steps
    if readout == "max_var":
        return np.maximum(trace.max(axis=0), 0.0)
    raise ValueError(readout)


def _kernel(t):
    """V(t) of tau_m dV/dt = -V + I after I jumps by 1 at t = 0 (tau_s dI/dt = -I)."""
    t = np.asarray(t, float)
    k = (TAU_SYN / (TAU_MEM - TAU_SYN)) * (np.exp(-t / TAU_MEM) - np.exp(-t / TAU_SYN))
    return np.where(t > 0.0, k, 0.0)


def _kernel_integral(u):
    """Integral of the kernel from 0 to u."""
    u = np.maximum(np.asarray(u, float), 0.0)
    return (TAU_SYN / (TAU_MEM - TAU_SYN)) * (TAU_MEM * (1.0 - np.exp(-u / TAU_MEM))
                                              - TAU_SYN * (1.0 - np.exp(-u / TAU_SYN)))


def _lif_spike_times(arrivals, weights, t_end, v_thresh=1.0, grid=0.01):
    """Exact spike times of a continuous LIF (reset to 0) driven by current
    jumps ``weights`` at times ``arrivals``."""
    spikes = []

    def v_minus_thresh(t):
        v = np.sum(weights * _kernel(t - arrivals))
        v -= sum(v_thresh * np.exp(-(t - s) / TAU_MEM) for s in spikes if t > s)
        return v - v_thresh

    times = np.arange(0.0, t_end + grid, grid)
    drive = (weights[None, :] * _kernel(times[:, None] - arrivals[None, :])).sum(axis=1)
    while True:
        v = drive - v_thresh - sum(np.where(times > s, v_thresh * np.exp(-(times - s) / TAU_MEM),
                                            0.0) for s in spikes)
        last = spikes[-1] if spikes else -1.0
        up = np.nonzero((times[1:] > last + 1e-9) & (v[:-1] < 0.0) & (v[1:] >= 0.0))[0]
        if len(up) == 0:
            return np.array(spikes)
        spikes.append(brentq(v_minus_thresh, times[up[0]], times[up[0] + 1], xtol=1e-13))


def _recurrent_spike_times(arrivals, w_in, w_rec, t_end, v_thresh=1.0, grid=0.01):
    """Exact spike times of a recurrently connected continuous LIF layer:
    ``w_in`` (inputs, neurons) with input current jumps at ``arrivals``
    (one per input row of ``w_in``), ``w_rec`` (neurons, neurons); a spike
    reaches its targets as it happens. Returns a list of spike times per
    neuron."""
    n = w_in.shape[1]
    times = np.arange(0.0, t_end + grid, grid)
    spikes = [[] for _ in range(n)]
    events = []                                     # (time, neuron) so far

    def v_minus_thresh(j, t):
        """At a time or an array of times."""
        t = np.asarray(t, float)
        v = (w_in[:, j] * _kernel(t[..., None] - arrivals)).sum(axis=-1)
        for s, k in events:
            v = v + w_rec[k, j] * _kernel(t - s)
            if k == j:
                v = v - np.where(t > s, v_thresh * np.exp(-(t - s) / TAU_MEM), 0.0)
        return v - v_thresh

    return _next_spikes(v_minus_thresh, n, times, grid, spikes, events)


def _next_spikes(distance, n, times, grid, spikes, events):
    """Event-driven root finding: repeatedly the earliest upward zero
    crossing of ``distance(j, t)`` (membrane minus threshold of neuron ``j``,
    given the spikes in ``events`` so far) over all neurons, located on
    ``times`` and refined to 1e-13; each found spike is appended to
    ``spikes[j]`` and ``events``. Returns ``spikes``."""
    last = -1.0
    while True:
        first = None
        for j in range(n):
            v = distance(j, times)
            up = np.nonzero((times[1:] > last + 1e-9) & (v[:-1] < 0.0) & (v[1:] >= 0.0))[0]
            if len(up) and (first is None or times[up[0]] < first[0]):
                first = (times[up[0]], j)
        if first is None:
            return spikes
        j = first[1]
        t = brentq(lambda u: float(distance(j, u)), first[0], first[0] + grid, xtol=1e-13)
        spikes[j].append(t)
        events.append((t, j))
        last = t


def _relative_error(got, want):
    return np.linalg.norm(got - want) / np.linalg.norm(want)


# -- engine helpers -----------------------------------------------------------
def _spikes(events, n):
    """PreprocessedSpikes from [(time, neuron)]."""
    return preprocess_spikes(np.array([t for t, _ in events], dtype=float),
                             np.array([i for _, i in events], dtype=int), n)


class _ReadAfterBackwardPass(Callback):
    """Copies variables of synapse groups at the end of the last step of the
    second batch, when the first batch's backward pass is complete."""

    def __init__(self, groups, steps, out):
        self.groups, self.steps, self.out = groups, steps, out
        self.batch = None

    def on_batch_begin(self, batch):
        self.batch = batch

    def on_timestep_end(self, timestep):
        if self.batch == 1 and timestep == self.steps - 1:
            for key, (group, var) in self.groups.items():
                group.vars[var].pull_from_device()
                # .values: sparse synapses in the order of get_sparse_*_inds
                self.out[key] = np.array(group.vars[var].values, copy=True)


def _backward_values(compiled, inp, out, x, y, steps, wanted,
                     metrics="sparse_categorical_accuracy"):
    """Train one epoch on ``x`` (one batch) followed by a batch of empty
    inputs (targets: zeros); ``wanted`` is ``{key: (Connection, var)}``:
    returns ``{key: value summed over the batch}`` after the backward pass
    of ``x``."""
    batch = len(x)
    n_in = int(np.prod(inp.shape))
    groups = {k: (compiled.connection_populations[c], v) for k, (c, v) in wanted.items()}
    values = {}
    y = np.asarray(y)
    compiled.train({inp: list(x) + [_spikes([], n_in)] * batch},
                   {out: np.concatenate([y, np.zeros_like(y)])}, num_epochs=1,
                   shuffle=False, metrics=metrics,
                   callbacks=[_ReadAfterBackwardPass(groups, steps, values)])
    return {k: v.reshape(batch, -1).sum(axis=0) if v.size % batch == 0 and batch > 1
            else v.reshape(-1) for k, v in values.items()}


def _output_network(w, readout, dt, delay=0, max_delay_steps=None):
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), w.shape[0])
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout=readout), w.shape[1])
        conn = Connection(inp, out, Dense(w, delay=delay), Exponential(TAU_SYN),
                          max_delay_steps=max_delay_steps)
    return net, inp, out, conn


W_OUT = np.array([[0.8, -0.4, 0.3], [-0.6, 0.9, 0.2], [0.4, 0.1, -0.7], [0.2, -0.3, 0.5]])
X_OUT = [[(2.0, 0), (5.0, 1), (9.0, 2)], [(1.0, 3), (7.0, 0), (12.0, 1)]]
Y_OUT = np.array([1, 2])


def _output_gradient_error(readout, dt, name):
    steps = int(round(30.0 / dt))
    net, inp, out, conn = _output_network(W_OUT, readout, dt)
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy",
                                 optimiser=Adam(0.0), batch_size=2, dt=dt).compile(net, name)
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(e, 4) for e in X_OUT], Y_OUT,
                               steps, {"g": (conn, "Gradient")})["g"].reshape(W_OUT.shape)
    spikes = [[(int(round(t / dt)), i) for t, i in e] for e in X_OUT]
    want = _central_difference(
        lambda w: _cross_entropy(np.array([_readout(_li_trace(w, s, steps, dt), readout, dt)
                                           for s in spikes]), Y_OUT), W_OUT, 1e-4)
    # sum_var drives the adjoint as avg_var does (upstream): dt / T smaller
    scale = TAU_MEM * (steps if readout == "sum_var" else 1)
    return _relative_error(got * scale, want)


# -- gradients: non-spiking outputs -------------------------------------------
@pytest.mark.parametrize("readout", ["avg_var", "sum_var", "avg_var_exp_weight", "max_var"])
def test_output_weight_gradient_matches_finite_differences(readout):
    # measured: 0.8 % (avg_var), 0.9 % (sum_var), 1.1 % (exp weight) at dt = 0.5
    assert _output_gradient_error(readout, 0.5, f"ep_out_{readout}") < 0.02


def test_output_gradient_without_scale_i():
    """Synapse and neuron without ``scale_i`` (not EventProp's default
    parameters): the same gradient of the loss of that model."""
    dt, steps = 0.5, 60
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=64), 4)
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, scale_i=False, readout="avg_var"), 3)
        conn = Connection(inp, out, Dense(0.05 * W_OUT), Exponential(TAU_SYN, scale_i=False))
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=2, dt=dt).compile(net, "ep_no_scale_i")
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(e, 4) for e in X_OUT], Y_OUT,
                               steps, {"g": (conn, "Gradient")})["g"].reshape(W_OUT.shape)
    spikes = [[(int(round(t / dt)), i) for t, i in e] for e in X_OUT]
    want = _central_difference(
        lambda w: _cross_entropy(np.array([_li_trace(w, s, steps, dt, scale_i=False)
                                           .mean(axis=0) for s in spikes]), Y_OUT),
        0.05 * W_OUT, 1e-5)
    assert _relative_error(got * TAU_MEM, want) < 0.02


def test_output_gradient_error_is_discretisation_error():
    """Halving dt halves the difference: it is the O(dt) discretisation
    error, not a wrong term."""
    coarse = _output_gradient_error("avg_var", 0.5, "ep_out_conv_coarse")
    fine = _output_gradient_error("avg_var", 0.25, "ep_out_conv_fine")
    assert 0.4 < fine / coarse < 0.6


def test_sparse_output_gradient_matches_finite_differences():
    """FixedProbability connectivity: one gradient per existing synapse."""
    dt, steps = 0.5, 60
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), 4)
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="avg_var"), 3)
        conn = Connection(inp, out, FixedProbability(0.6, Normal(0.0, 1.0)),
                          Exponential(TAU_SYN))
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=2, dt=dt, rng_seed=11).compile(net, "ep_sparse")
    with compiled:
        genn_syn = compiled.connection_populations[conn]
        genn_syn.pull_connectivity_from_device()
        genn_syn.vars["g"].pull_from_device()
        pre, post = genn_syn.get_sparse_pre_inds(), genn_syn.get_sparse_post_inds()
        g = np.array(genn_syn.vars["g"].values)
        gradient = _backward_values(compiled, inp, out, [_spikes(e, 4) for e in X_OUT],
                                    Y_OUT, steps, {"g": (conn, "Gradient")})["g"]
    assert 0 < len(pre) < 12
    spikes = [[(int(round(t / dt)), i) for t, i in e] for e in X_OUT]

    def loss(values):
        w = np.zeros((4, 3))
        w[pre, post] = values
        return _cross_entropy(np.array([_li_trace(w, s, steps, dt).mean(axis=0)
                                        for s in spikes]), Y_OUT)

    want = _central_difference(loss, g.astype(float), 1e-4)
    assert _relative_error(gradient * TAU_MEM, want) < 0.02


def test_binary_spike_input_gradient():
    """Any input neuron: BinarySpikeInput spikes every step its input is
    positive."""
    dt, steps = 0.5, 40
    net = Network(default_params)
    with net:
        inp = Population(BinarySpikeInput(), 4)
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="avg_var"), 3)
        conn = Connection(inp, out, Dense(0.1 * W_OUT), Exponential(TAU_SYN))
    x = np.array([[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=2, dt=dt).compile(net, "ep_binary")
    values = {}
    with compiled:
        compiled.train({inp: np.concatenate([x, np.zeros_like(x)])},
                       {out: np.concatenate([Y_OUT, [0, 0]])}, num_epochs=1, shuffle=False,
                       callbacks=[_ReadAfterBackwardPass(
                           {"g": (compiled.connection_populations[conn], "Gradient")},
                           steps, values)])
    got = values["g"].reshape(2, -1).sum(axis=0).reshape(4, 3)
    spikes = [[(n, i) for n in range(steps) for i in np.nonzero(row > 0)[0]] for row in x]
    want = _central_difference(
        lambda w: _cross_entropy(np.array([_li_trace(w, s, steps, dt).mean(axis=0)
                                           for s in spikes]), Y_OUT), 0.1 * W_OUT, 1e-4)
    # measured 2.6 % (a spike every step: the O(dt) error of each adds up);
    # the spikes of the last step reach nothing and must not block the
    # backward pass of the earlier ones
    assert _relative_error(got * TAU_MEM, want) < 0.04


def test_pooling_carries_the_adjoint_back():
    """AvgPool2D (not trainable) between hidden and output layers: the
    hidden layer's gradient is that of the same network with the pooling
    written as a Dense matrix."""
    rng = np.random.default_rng(9)
    w_in = rng.normal(3.0, 1.5, (3, 16))
    pool = np.zeros((16, 4))
    for y in range(4):
        for x in range(4):
            pool[y * 4 + x, (y // 2) * 2 + (x // 2)] = 0.25
    w_out = rng.normal(0.0, 1.0, (4, 3))
    events = [[(1.0, 0), (3.0, 1), (6.0, 2)], [(2.0, 1), (4.0, 0), (5.0, 2)]]
    gradients = []
    for name, pooling in (("ep_pool", AvgPool2D(2, flatten=True)), ("ep_pool_dense", Dense(pool))):
        net = Network(default_params)
        with net:
            inp = Population(SpikeInput(max_spikes=64), 3)
            hid = Population(LeakyIntegrateFire(v_thresh=1.0), (4, 4, 1))
            mid = Population(LeakyIntegrateFire(v_thresh=0.05), 4)
            out = Population(LeakyIntegrate(readout="avg_var"), 3)
            c_in = Connection(inp, hid, Dense(w_in), Exponential(TAU_SYN))
            Connection(hid, mid, pooling, Exponential(TAU_SYN))
            Connection(mid, out, Dense(w_out), Exponential(TAU_SYN))
        compiled = EventPropCompiler(40, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                     batch_size=2).compile(net, name)
        with compiled:
            gradients.append(_backward_values(compiled, inp, out, [_spikes(e, 3) for e in events],
                                              np.array([0, 1]), 40,
                                              {"g": (c_in, "Gradient")})["g"])
    assert np.any(gradients[1] != 0.0)
    np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-5, atol=1e-9)


# -- gradients through hidden spike times ----------------------------------------
def _hidden_loss(w_in, w_out, examples, labels, dt, t_end):
    """Cross-entropy of the continuous-time SpikeInput -> LIF (hidden) ->
    LeakyIntegrate (avg_var) network with exact spike times."""
    # the engine's input spike of step n reaches the hidden current at
    # (n + 1) dt; a hidden spike reaches the output as it happens
    readouts = []
    for events in examples:
        arrivals = np.array([t + dt for t, _ in events])
        ids = [i for _, i in events]
        avg = np.zeros(w_out.shape[1])
        for j in range(w_in.shape[1]):
            for s in _lif_spike_times(arrivals, w_in[ids, j], t_end):
                avg += w_out[j] * _kernel_integral(t_end - s) / t_end
        readouts.append(avg)
    return _cross_entropy(np.array(readouts), labels)


def _hidden_case(w_in, w_out, examples, labels, dt, name):
    """SpikeInput -> LIF (hidden) -> LeakyIntegrate (avg_var, cross-entropy):
    ``(engine gradients * tau_mem, continuous-time references)``."""
    t_end = 40.0
    steps = int(round(t_end / dt))
    n_in, n_hid = w_in.shape
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), n_in)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=TAU_MEM), n_hid)
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="avg_var"), w_out.shape[1])
        c_in = Connection(inp, hid, Dense(w_in), Exponential(TAU_SYN))
        c_out = Connection(hid, out, Dense(w_out), Exponential(TAU_SYN))
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=len(examples), dt=dt).compile(net, name)
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(e, n_in) for e in examples],
                               labels, steps, {"in": (c_in, "Gradient"),
                                               "out": (c_out, "Gradient")})

    want_in = _central_difference(
        lambda w: _hidden_loss(w, w_out, examples, labels, dt, t_end), w_in, 1e-5)
    want_out = _central_difference(
        lambda w: _hidden_loss(w_in, w, examples, labels, dt, t_end), w_out, 1e-5)
    return (got["in"].reshape(w_in.shape) * TAU_MEM, want_in,
            got["out"].reshape(w_out.shape) * TAU_MEM, want_out)


def test_hidden_weight_gradient_matches_spike_time_reference():
    """One spike per hidden neuron and example: the input weights act only
    through the hidden spike times."""
    w_in = 2.0 * np.array([[2.5, 1.0], [1.5, 2.8], [0.5, 1.2]])
    w_out = np.array([[1.0, -0.5, 0.3], [-0.4, 0.8, 0.2]])
    examples = [[(1.0, 0), (3.0, 1), (6.0, 2)], [(2.0, 1), (4.0, 0), (5.0, 2)]]
    got_in, want_in, got_out, want_out = _hidden_case(w_in, w_out, examples,
                                                      np.array([0, 1]), 0.05, "ep_hidden")
    assert np.all(np.abs(want_in) > 1e-5)      # every input weight matters
    assert _relative_error(got_out, want_out) < 0.01
    assert _relative_error(got_in, want_in) < 0.05


def test_hidden_gradient_through_reset():
    """Two spikes of one hidden neuron, each caused by its own input: the
    first input's weight moves the second spike only through the reset
    after the first ((Vthresh - Vreset) * LambdaV term of the jump)."""
    w_in = np.array([[9.0], [9.0]])
    w_out = np.array([[1.0, -1.0]])
    got_in, want_in, _, _ = _hidden_case(w_in, w_out, [[(1.0, 0), (12.0, 1)]],
                                         np.array([0]), 0.05, "ep_hidden_reset")
    # a test of the reset term: without it the first weight's gradient
    # would lack the part carried by the second spike
    assert _relative_error(got_in, want_in) < 0.05


def test_recurrent_hidden_gradient():
    """A recurrent hidden layer: feed-forward and recurrent weights against
    the exact spike times of the continuous recurrent layer."""
    dt, t_end = 0.05, 30.0
    steps = int(round(t_end / dt))
    w_in = np.array([[5.5, 1.0], [1.0, 3.0]])
    w_rec = np.array([[0.0, 4.0], [-2.0, 0.0]])
    w_out = np.array([[1.0, -0.5], [-0.4, 0.8]])
    events = [(1.0, 0), (2.0, 1)]
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=16), 2)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=TAU_MEM), 2)
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="avg_var"), 2)
        c_in = Connection(inp, hid, Dense(w_in), Exponential(TAU_SYN))
        c_rec = Connection(hid, hid, Dense(w_rec), Exponential(TAU_SYN))
        Connection(hid, out, Dense(w_out), Exponential(TAU_SYN))
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 dt=dt).compile(net, "ep_recurrent")
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(events, 2)], np.array([1]), steps,
                               {"in": (c_in, "Gradient"), "rec": (c_rec, "Gradient")})

    def loss(w_in, w_rec):
        arrivals = np.array([t + dt for t, _ in events])
        avg = np.zeros(2)
        for j, times in enumerate(_recurrent_spike_times(arrivals, w_in, w_rec, t_end)):
            for s in times:
                avg += w_out[j] * _kernel_integral(t_end - s) / t_end
        return _cross_entropy(avg[None, :], np.array([1]))

    want_in = _central_difference(lambda w: loss(w, w_rec), w_in, 1e-5)
    want_rec = _central_difference(lambda w: loss(w_in, w), w_rec, 1e-5)
    assert _relative_error(got["in"].reshape(2, 2) * TAU_MEM, want_in) < 0.05
    # the diagonal (self-connections, weight 0) is in the dense matrix too
    assert _relative_error(got["rec"].reshape(2, 2) * TAU_MEM, want_rec) < 0.05


# -- gradients of first-spike-time losses ----------------------------------------
W_TTFS = np.array([[5.0, 3.0, 4.0], [3.5, 6.0, 2.5], [2.0, 3.0, 5.5]])
X_TTFS = [[(1.0, 0), (2.5, 1), (4.0, 2)], [(1.5, 2), (2.0, 1), (3.5, 0)]]
Y_TTFS = np.array([0, 2])


def _ttfs_case(loss, loss_fn, name, **compiler_kwargs):
    """SpikeInput -> LIF output (first_spike_time): ``(engine gradient,
    central differences of loss_fn(first spike times) of the continuous
    model)``."""
    dt, t_end = 0.05, 30.0
    steps = int(round(t_end / dt))
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), 3)
        out = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=TAU_MEM,
                                            readout="first_spike_time"), 3)
        conn = Connection(inp, out, Dense(W_TTFS), Exponential(TAU_SYN))
    compiled = EventPropCompiler(steps, loss, optimiser=Adam(0.0), batch_size=2, dt=dt,
                                 **compiler_kwargs).compile(net, name)
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(e, 3) for e in X_TTFS], Y_TTFS,
                               steps, {"g": (conn, "Gradient")})["g"].reshape(W_TTFS.shape)

    def first_spikes(w):
        # the engine records a spike at the start of the step that crosses:
        # the continuous model is fed at the input spike times themselves
        times = np.zeros((len(X_TTFS), 3))
        for b, events in enumerate(X_TTFS):
            arrivals = np.array([t for t, _ in events])
            ids = [i for _, i in events]
            for j in range(3):
                times[b, j] = _lif_spike_times(arrivals, w[ids, j], t_end)[0]
        return times

    return got, _central_difference(lambda w: loss_fn(first_spikes(w)), W_TTFS, 1e-5)


def test_first_spike_time_cross_entropy_gradient():
    alpha, temperature, t_end = 0.05, 0.5, 30.0

    def loss_fn(times):
        correct = times[np.arange(len(Y_TTFS)), Y_TTFS]
        return (_cross_entropy(-times / temperature, Y_TTFS)
                + np.mean(alpha / (1.01 * t_end - correct)))

    got, want = _ttfs_case("sparse_categorical_crossentropy", loss_fn, "ep_ttfs_sce",
                           ttfs_alpha=alpha, softmax_temperature=temperature)
    assert _relative_error(got, want) < 0.05


def test_first_spike_time_relative_mse_gradient():
    delta = 2.0

    def loss_fn(times):
        total = 0.0
        for t, y in zip(times, Y_TTFS):
            total += 0.5 * sum((t[y] - t[i] + delta) ** 2 for i in range(3) if i != y)
        return total

    got, want = _ttfs_case(RelativeMeanSquareError(delta), loss_fn, "ep_ttfs_rmse")
    assert _relative_error(got, want) < 0.05


# -- per-timestep losses ---------------------------------------------------------------
class _LastStepError(Metric):
    """Squared error of the last step (per-timestep targets against the Var
    readout, which is the last step's V)."""

    def __init__(self):
        self.reset()

    def update(self, y_true, y_pred, communicator):
        self.total += float(np.sum((np.asarray(y_true)[:, -1] - y_pred) ** 2))

    def reset(self):
        self.total = 0.0

    @property
    def result(self):
        return self.total


def _per_timestep_case(loss, readout, y, loss_fn, name, metrics, **kwargs):
    dt, steps = 0.5, 60
    net, inp, out, conn = _output_network(W_OUT, readout, dt)
    compiled = EventPropCompiler(steps, loss, optimiser=Adam(0.0), batch_size=2, dt=dt,
                                 **kwargs).compile(net, name)
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(e, 4) for e in X_OUT], y, steps,
                               {"g": (conn, "Gradient")}, metrics)["g"].reshape(W_OUT.shape)
    spikes = [[(int(round(t / dt)), i) for t, i in e] for e in X_OUT]
    want = _central_difference(
        lambda w: loss_fn(np.array([_li_trace(w, s, steps, dt) for s in spikes])), W_OUT, 1e-4)
    return _relative_error(got * TAU_MEM, want)


def test_mean_square_error_gradient():
    """L = 1/(2 B T) sum over the batch and steps of (V - y)^2."""
    t = np.arange(60)[None, :, None] * 0.5
    y = 0.3 * np.sin(t / 5.0 + np.arange(3)[None, None, :]) * np.array([1.0, -1.0])[:, None, None]

    def loss_fn(traces):
        return 0.5 * np.mean(np.sum((traces - y) ** 2, axis=2))

    # measured 2.9 % at dt = 0.5 ms, 1.4 % at 0.25, 0.7 % at 0.125
    assert _per_timestep_case("mean_square_error", "var", y, loss_fn, "ep_mse",
                              _LastStepError()) < 0.04


def test_per_timestep_cross_entropy_gradient():
    """L = 1/(B T) sum over the batch and steps of the cross-entropy of
    softmax(V) (upstream's wiring of this mode is broken)."""
    def loss_fn(traces):
        return np.mean([_cross_entropy(traces[:, n], Y_OUT) for n in range(traces.shape[1])])

    assert _per_timestep_case("sparse_categorical_crossentropy", "avg_var", Y_OUT, loss_fn,
                              "ep_step_sce", "sparse_categorical_accuracy",
                              per_timestep_loss=True) < 0.02


# -- delays -------------------------------------------------------------------------
def test_fixed_delay_gradient():
    """Heterogeneous fixed delays (in steps): the adjoint is read d steps back."""
    dt, steps = 0.5, 60
    delays = np.array([[0, 3, 7], [5, 1, 0], [2, 9, 4], [6, 0, 8]])
    net, inp, out, conn = _output_network(W_OUT, "avg_var", dt, delay=delays)
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=2, dt=dt).compile(net, "ep_fixed_delay")
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(e, 4) for e in X_OUT], Y_OUT, steps,
                               {"g": (conn, "Gradient")})["g"].reshape(W_OUT.shape)
    spikes = [[(int(round(t / dt)), i) for t, i in e] for e in X_OUT]
    want = _central_difference(
        lambda w: _cross_entropy(np.array([_li_trace(w, s, steps, dt, delays).mean(axis=0)
                                           for s in spikes]), Y_OUT), W_OUT, 1e-4)
    assert _relative_error(got * TAU_MEM, want) < 0.02


def test_learned_delay_gradient_and_update():
    """DelayGradient * tau_mem is dL/d(delay in ms): compared with a central
    difference of one step either way; with a delay optimiser the delays
    move against it and stay within [0, max_delay_steps]."""
    dt, steps, max_delay = 0.25, 120, 20
    delays = np.array([[4, 6, 8], [10, 5, 7], [3, 9, 6], [8, 4, 5]], dtype=float)
    net, inp, out, conn = _output_network(W_OUT, "avg_var", dt, delay=delays,
                                          max_delay_steps=max_delay)
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=2, dt=dt, delay_learn_conns=[conn],
                                 delay_optimiser=Adam(0.5)).compile(net, "ep_learn_delay")
    with compiled:
        got = _backward_values(compiled, inp, out, [_spikes(e, 4) for e in X_OUT], Y_OUT, steps,
                               {"g": (conn, "Gradient"), "d": (conn, "DelayGradient")})
        genn_syn = compiled.connection_populations[conn]
        for var in ("d", "g"):
            genn_syn.vars[var].pull_from_device()
        new_delays = np.array(genn_syn.vars["d"].values).reshape(delays.shape)
        weights = np.array(genn_syn.vars["g"].values).reshape(W_OUT.shape)
    # Adam (optimisation step 1: the gradient of batch 0 is applied at the
    # end of batch 1) moves each delay by a fixed amount against the sign of
    # its gradient; the weights' Adam has alpha 0
    b1, b2, grad = 0.9, 0.999, got["d"].reshape(4, 3).astype(float)
    m, v = (1 - b1) * grad / (1 - b1 ** 2), (1 - b2) * grad ** 2 / (1 - b2 ** 2)
    np.testing.assert_allclose(new_delays, delays - 0.5 * m / (np.sqrt(v) + 1e-8),
                               atol=1e-5)
    np.testing.assert_allclose(weights, W_OUT, rtol=1e-6)
    spikes = [[(int(round(t / dt)), i) for t, i in e] for e in X_OUT]

    def loss(d):
        return _cross_entropy(np.array([_li_trace(W_OUT, s, steps, dt, d.astype(int)).mean(axis=0)
                                        for s in spikes]), Y_OUT)

    want_d = _central_difference(loss, delays, 1.0) / dt
    want_g = _central_difference(
        lambda w: _cross_entropy(np.array([_li_trace(w, s, steps, dt, delays.astype(int))
                                           .mean(axis=0) for s in spikes]), Y_OUT), W_OUT, 1e-4)
    assert _relative_error(got["g"].reshape(3 * 4) * TAU_MEM, want_g.ravel()) < 0.02
    assert _relative_error(got["d"].reshape(3 * 4) * TAU_MEM, want_d.ravel()) < 0.05


# -- training ------------------------------------------------------------------------
def _pattern_data(n, seed):
    """Three classes of input spike patterns: each class fires the six input
    neurons in its own order (1 ms apart), with jitter."""
    rng = np.random.default_rng(seed)
    orders = [np.arange(6), np.arange(6)[::-1], np.array([3, 0, 4, 1, 5, 2])]
    labels = rng.integers(0, 3, n)
    x = []
    for y in labels:
        times = 2.0 + 3.0 * np.argsort(orders[y]) + rng.uniform(0.0, 1.0, 6)
        x.append(_spikes(list(zip(np.round(times), range(6))), 6))
    return x, labels


def _pattern_network(seed):
    rng = np.random.default_rng(seed)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=6 * 16), 6)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), 12,
                         record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 3)
        Connection(inp, hid, Dense(rng.normal(2.5, 1.0, (6, 12))), Exponential(5.0))
        Connection(hid, out, Dense(rng.normal(0.0, 0.5, (12, 3))), Exponential(5.0))
    return net, inp, hid, out


def test_training_learns_spike_patterns():
    """Cross-entropy with a hidden LIF layer: accuracy goes from chance to
    (nearly) perfect in a few epochs."""
    np.random.seed(0)                       # train() shuffles with NumPy's generator
    net, inp, _, out = _pattern_network(1)
    x, y = _pattern_data(48, 2)
    compiled = EventPropCompiler(40, "sparse_categorical_crossentropy",
                                 optimiser=Adam(0.05), batch_size=4).compile(net, "ep_train")
    with compiled:
        first, _ = compiled.train({inp: x}, {out: y}, num_epochs=1, callbacks=[])
        first = first[out].result
        # (measured: 100 % from epoch 15 on)
        x_val, y_val = _pattern_data(24, 3)
        metrics, val_metrics, _, _ = compiled.train(
            {inp: x}, {out: y}, num_epochs=29, start_epoch=1, callbacks=[],
            validation_x={inp: x_val}, validation_y={out: y_val}, validation_callbacks=[])
    assert first < 0.6
    assert metrics[out].result >= 0.95
    assert val_metrics[out].result >= 0.9


def test_checkpoint_round_trip(tmp_path):
    """Checkpoint saves the trained weights; Network.load puts them back."""
    np.random.seed(0)
    net, inp, hid, out = _pattern_network(3)
    x, y = _pattern_data(16, 4)
    compiled = EventPropCompiler(40, "sparse_categorical_crossentropy", optimiser=Adam(0.05),
                                 batch_size=4).compile(net, "ep_checkpoint")
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=2,
                       callbacks=[Checkpoint(Numpy(str(tmp_path)))])
        trained = {}
        for conn, genn_syn in compiled.connection_populations.items():
            genn_syn.vars["g"].pull_from_device()
            trained[conn] = np.array(genn_syn.vars["g"].values, copy=True)
    initial = {conn: np.array(conn.connectivity.weight, copy=True) for conn in net.connections}
    assert all(not np.allclose(trained[c], initial[c].ravel()) for c in net.connections)
    net.load((1,), Numpy(str(tmp_path)))
    for conn in net.connections:
        np.testing.assert_array_equal(np.ravel(conn.connectivity.weight), trained[conn])
    # the loaded network compiles and trains on from the saved weights
    compiled = EventPropCompiler(40, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=4).compile(net, "ep_checkpoint_reload")
    with compiled:
        for conn, genn_syn in compiled.connection_populations.items():
            genn_syn.vars["g"].pull_from_device()
            np.testing.assert_array_equal(genn_syn.vars["g"].values, trained[conn])


def test_regularisation_reduces_hidden_spikes():
    """A strong upper spike-count penalty (target reg_nu_upper = 0) halves
    the hidden spikes within a few epochs; without it they do not fall."""
    from ml_genn.callbacks import SpikeRecorder

    def spike_counts(reg_lambda_upper, name):
        np.random.seed(0)
        net, inp, hid, out = _pattern_network(5)
        x, y = _pattern_data(16, 6)
        compiled = EventPropCompiler(40, "sparse_categorical_crossentropy",
                                     optimiser=Adam(0.05), batch_size=4,
                                     reg_lambda_upper=reg_lambda_upper,
                                     reg_nu_upper=0.0).compile(net, name)
        counts = []
        with compiled:
            for _ in range(7):
                _, data = compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                                         callbacks=[SpikeRecorder(hid, key="s",
                                                                  record_counts=True)])
                counts.append(np.sum(data["s"]))
        return counts

    regularised = spike_counts(1e3, "ep_reg")
    control = spike_counts(0.0, "ep_no_reg")
    assert regularised[0] > 100
    assert regularised[-1] < 0.5 * regularised[0]
    assert control[-1] > 0.9 * control[0]


# -- unsupported configurations ---------------------------------------------------------
def _compile_error(build, match, error, **kwargs):
    net = Network(default_params)
    with net:
        build()
    compiler = EventPropCompiler(20, kwargs.pop("losses", "sparse_categorical_crossentropy"),
                                 **kwargs)
    with pytest.raises(error, match=match):
        compiler.compile(net, "ep_error")


def _inp(n=4):
    return Population(SpikeInput(max_spikes=10), n)


def _li(readout="avg_var", n=3):
    return Population(LeakyIntegrate(readout=readout), n)


def test_error_without_output():
    _compile_error(lambda: Connection(_inp(), Population(LeakyIntegrateFire(), 3),
                                      Dense(1.0), Exponential()),
                   "no output population", RuntimeError)


@pytest.mark.parametrize("neuron, name", [(IntegrateFire(), "IntegrateFire")])
def test_error_unsupported_hidden_neuron(neuron, name):
    def build():
        hid = Population(neuron, 5)
        Connection(_inp(), hid, Dense(1.0), Exponential())
        Connection(hid, _li(), Dense(1.0), Exponential())
    _compile_error(build, f"{name} neurons; EventProp supports LeakyIntegrateFire",
                   NotImplementedError)


def test_error_refractory_hidden_neuron():
    def build():
        hid = Population(LeakyIntegrateFire(tau_refrac=2.0), 5)
        Connection(_inp(), hid, Dense(1.0), Exponential())
        Connection(hid, _li(), Dense(1.0), Exponential())
    _compile_error(build, "tau_refrac=None", NotImplementedError)


def test_error_delta_synapse():
    """Delta synapses work into LeakyIntegrate outputs and LIF hidden
    neurons (tests/test_event_prop_extensions.py), not into LIF outputs."""
    _compile_error(lambda: Connection(_inp(), Population(LeakyIntegrateFire(
                       readout="first_spike_time"), 3), Dense(1.0), Delta()),
                   "first-spike times do not depend on the weights", NotImplementedError)


def test_error_mixed_synapse_time_constants():
    def build():
        out = _li()
        Connection(_inp(), out, Dense(1.0), Exponential(5.0))
        Connection(_inp(), out, Dense(1.0), Exponential(10.0))
    _compile_error(build, r"time constants \[5.0, 10.0\]", NotImplementedError)


@pytest.mark.parametrize("readout, loss, match, kwargs", [
    ("spike_count", "sparse_categorical_crossentropy", "SpikeCount readout; per-trial", {}),
    ("var", "sparse_categorical_crossentropy", "Var readout; per-trial cross-entropy", {}),
    ("max_var", "sparse_categorical_crossentropy", "MaxVar readout; per-timestep",
     {"per_timestep_loss": True}),
    ("avg_var", "mean_square_error", "needs the Var readout", {}),
    ("avg_var", RelativeMeanSquareError(1.0), "RelativeMeanSquareError is not supported",
     {})])
def test_error_unsupported_leaky_integrate_output(readout, loss, match, kwargs):
    _compile_error(lambda: Connection(_inp(), _li(readout), Dense(1.0), Exponential()),
                   match, NotImplementedError, losses=loss, **kwargs)


def test_error_lif_output_without_first_spike_time():
    _compile_error(lambda: Connection(_inp(), Population(LeakyIntegrateFire(readout="avg_var"),
                                                         3), Dense(1.0), Exponential()),
                   "LIF outputs need FirstSpikeTime", NotImplementedError)


def test_error_lif_output_with_mean_square_error():
    _compile_error(lambda: Connection(_inp(), Population(LeakyIntegrateFire(
        readout="first_spike_time"), 3), Dense(1.0), Exponential()),
        "MeanSquareError is not supported", NotImplementedError, losses="mean_square_error")


def test_error_learned_delays_need_max_delay_steps():
    holder = {}

    def build():
        holder["conn"] = Connection(_inp(), _li(), Dense(1.0), Exponential())
    net = Network(default_params)
    with net:
        build()
    with pytest.raises(RuntimeError, match="needs max_delay_steps"):
        EventPropCompiler(20, "sparse_categorical_crossentropy",
                          delay_learn_conns=[holder["conn"]]).compile(net, "ep_error")


def test_error_regularisation_of_non_hidden_population():
    holder = {}
    net = Network(default_params)
    with net:
        holder["out"] = _li()
        Connection(_inp(), holder["out"], Dense(1.0), Exponential())
    with pytest.raises(ValueError, match="not a hidden"):
        EventPropCompiler(20, "sparse_categorical_crossentropy",
                          reg_lambda_upper={holder["out"]: 1.0}).compile(net, "ep_error")


def test_strict_buffer_checking_reports_overflow():
    """A neuron spiking more often in one trial than max_spikes: an error
    after the batch with strict checking."""
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=100), 1)
        hid = Population(LeakyIntegrateFire(v_thresh=0.1), 1)
        out = _li(n=2)
        Connection(inp, hid, Dense(np.array([[50.0]])), Exponential())
        Connection(hid, out, Dense(np.array([[1.0, -1.0]])), Exponential())
    compiled = EventPropCompiler(30, "sparse_categorical_crossentropy", max_spikes=3,
                                 strict_buffer_checking=True).compile(net, "ep_strict")
    with compiled, pytest.raises(RuntimeError, match="beyond max_spikes=3"):
        compiled.train({inp: [_spikes([(1.0, 0)], 1)]}, {out: np.array([0])}, num_epochs=1,
                       callbacks=[])


# -- Deep-R ---------------------------------------------------------------------------
def test_deep_r_rewires_and_keeps_the_number_of_synapses():
    """Deep-R on a sparse EventProp connection: weights whose sign flips
    (a large learning rate makes many) are moved elsewhere."""
    np.random.seed(0)
    rng = np.random.default_rng(7)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=6 * 16), 6)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), 12)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 3)
        sparse = Connection(inp, hid, FixedProbability(0.5, Normal(2.0, 1.5)),
                            Exponential(5.0))
        Connection(hid, out, Dense(rng.normal(0.0, 0.5, (12, 3))), Exponential(5.0))
    x, y = _pattern_data(16, 8)
    compiled = EventPropCompiler(40, "sparse_categorical_crossentropy", optimiser=Adam(0.5),
                                 batch_size=4, deep_r_conns=[sparse],
                                 deep_r_record_rewirings={sparse: "rewirings"},
                                 rng_seed=3).compile(net, "ep_deep_r")
    with compiled:
        genn_syn = compiled.connection_populations[sparse]
        genn_syn.pull_connectivity_from_device()
        before = len(genn_syn.get_sparse_pre_inds())
        _, data = compiled.train({inp: x}, {out: y}, num_epochs=3, callbacks=[])
        genn_syn.pull_connectivity_from_device()
        after = len(genn_syn.get_sparse_pre_inds())
    rewirings = np.array(data["rewirings"])
    assert rewirings.shape == (12, 2)                 # one record per batch
    assert rewirings[:, 0].sum() > 0                  # some synapses moved
    assert after == before - rewirings[:, 1].sum()    # only failed rewirings are lost


def test_sequential_network_with_layer_keyed_options():
    """SequentialNetwork layers as keys of losses and regularisation dicts,
    and as delay_learn_conns."""
    from ml_genn import InputLayer, Layer, SequentialNetwork
    np.random.seed(0)
    net = SequentialNetwork(default_params)
    with net:
        inp = InputLayer(SpikeInput(max_spikes=6 * 4), 6)
        hid = Layer(Dense(Normal(2.5, 1.0)), LeakyIntegrateFire(v_thresh=1.0), 12,
                    Exponential(5.0), max_delay_steps=5)
        out = Layer(Dense(Normal(0.0, 0.5)), LeakyIntegrate(readout="avg_var"), 3,
                    Exponential(5.0))
    x, y = _pattern_data(8, 1)
    compiled = EventPropCompiler(40, {out: "sparse_categorical_crossentropy"},
                                 reg_lambda_upper={hid: 1e-3}, delay_learn_conns=[hid],
                                 batch_size=4).compile(net, "ep_sequential")
    # weights of every connection, delays of the learned ones
    assert compiled.checkpoint_connection_vars == [
        (hid.connection(), "g"), (out.connection(), "g"), (hid.connection(), "d")]
    with compiled:
        metrics, _ = compiled.train({inp: x}, {out: y}, num_epochs=1, callbacks=[])
    assert metrics[out].result is not None
