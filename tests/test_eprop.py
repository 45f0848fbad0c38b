"""EPropCompiler against a NumPy implementation of e-prop written from the
equations of Bellec et al. (2020) as the spec (7.5) states them: the
eligibility traces and accumulated gradients after some steps, Adam applied
to them, a short learning task, checkpoints and the compile-time errors."""
import numpy as np
import pytest

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Callback, Checkpoint, VarRecorder
from ml_genn.communicators import Communicator
from ml_genn.compilers.eprop_compiler import EPropCompiler, default_params
from ml_genn.connectivity import AvgPool2D, Dense, FixedProbability
from ml_genn.initializers import Normal, Uniform
from ml_genn.metrics import Metric
from ml_genn.neurons import (AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire,
                             SpikeInput)
from ml_genn.optimisers import Adam
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Exponential
from ml_genn.utils.callback_list import CallbackList
from ml_genn.utils.data import preprocess_spikes

DT = 1.0
N_IN, N_HID, N_OUT = 3, 5, 2
TAU_MEM, TAU_OUT, TAU_ADAPT, TAU_REG = 20.0, 15.0, 200.0, 300.0
V_THRESH, TAU_REFRAC, BETA = 0.6, 2.0, 0.2
C_REG, F_TARGET = 0.5, 40.0
STEPS = 30


# -- NumPy reference --------------------------------------------------------
def _softmax(v):
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class EPropReference:
    """input -> recurrent hidden (LIF or ALIF) -> LeakyIntegrate output, one
    time step at a time, in float64. Spikes of step n reach their targets in
    step n+1; the synaptic rule of step n reads the traces, pseudo-
    derivatives and errors the neurons left at the end of step n-1.
    ``feedback``: fixed feedback weights B (N_HID, N_OUT) through which the
    output error reaches the hidden neurons (random e-prop); None: the
    current output weights (symmetric e-prop)."""

    def __init__(self, w_in, w_rec, w_out, bias, batch, adaptive, refractory, softmax,
                 feedback=None):
        self.w = {"in": w_in.astype(np.float64), "rec": w_rec.astype(np.float64),
                  "out": w_out.astype(np.float64)}
        self.feedback = None if feedback is None else np.asarray(feedback, np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.adaptive, self.refractory, self.softmax = adaptive, refractory, softmax
        B = batch
        self.alpha = np.exp(-DT / TAU_MEM)
        self.kappa = np.exp(-DT / TAU_OUT)
        self.rho = np.exp(-DT / TAU_ADAPT)
        self.alpha_fav = np.exp(-DT / TAU_REG)
        self.f_target = F_TARGET * DT / 1000.0
        z = np.zeros
        self.v_h, self.refrac, self.a = z((B, N_HID)), z((B, N_HID)), z((B, N_HID))
        self.e_h, self.z_h = z((B, N_HID)), z((B, N_HID))
        self.z_in = z((B, N_IN))
        self.v_o, self.e_o, self.softmax_o = z((B, N_OUT)), z((B, N_OUT)), z((B, N_OUT))
        self.readout_sum = z((B, N_OUT))
        self.delta_bias = z((B, N_OUT))
        self.zf_in, self.zf_h = z((B, N_IN)), z((B, N_HID))
        self.psi, self.favg = z((B, N_HID)), z((B, N_HID))
        self.ef = {"in": z((B, N_IN, N_HID)), "rec": z((B, N_HID, N_HID))}
        self.eps_a = {"in": z((B, N_IN, N_HID)), "rec": z((B, N_HID, N_HID))}
        self.dg = {"in": z((B, N_IN, N_HID)), "rec": z((B, N_HID, N_HID)),
                   "out": z((B, N_HID, N_OUT))}
        self.margin = np.inf       # closest approach of V to a threshold
        self.hidden_spikes = []

    def _eligibility(self, key, zf):
        psi = self.psi[:, None, :]
        zf = zf[:, :, None]
        if self.adaptive:
            eps = self.eps_a[key]
            e = zf * psi - psi * BETA * eps
            self.eps_a[key] = psi * zf + (self.rho * eps - psi * BETA * eps)
        else:
            e = zf * psi
        self.ef[key] = self.alpha * self.ef[key] + e
        self.dg[key] += (self.ef[key] * self.e_h[:, None, :]
                         + (self.favg - self.f_target)[:, None, :] * C_REG * e)

    def step(self, z_in_now, y_now):
        """``z_in_now``: input spikes emitted this step (batch, N_IN);
        ``y_now``: target values (MSE, (batch, N_OUT)) or labels (batch,)."""
        # synapse update: last step's spikes, errors and traces
        self._eligibility("in", self.zf_in)
        self._eligibility("rec", self.zf_h)
        feedback = self.e_o @ (self.w["out"] if self.feedback is None else self.feedback).T
        self.dg["out"] += self.zf_h[:, :, None] * self.e_o[:, None, :]
        i_h = self.z_in @ self.w["in"] + self.z_h @ self.w["rec"]
        i_o = self.z_h @ self.w["out"]
        # neuron update: input
        self.z_in = z_in_now.astype(np.float64)
        self.zf_in = self.alpha * self.zf_in + self.z_in
        # hidden
        self.v_h = self.alpha * self.v_h + i_h
        self.refrac = np.where(self.refrac > 0.0, self.refrac - DT, self.refrac)
        if self.adaptive:
            self.a = self.rho * self.a
        self.e_h = feedback
        thresh = V_THRESH + (BETA * self.a if self.adaptive else 0.0)
        self.favg = self.alpha_fav * self.favg
        psi = (0.3 / V_THRESH) * np.maximum(0.0, 1.0 - np.abs(self.v_h - thresh) / V_THRESH)
        self.psi = np.where(self.refrac > 0.0, 0.0, psi)
        spike = (self.v_h >= thresh) & (self.refrac <= 0.0)
        self.margin = min(self.margin, np.min(np.abs(self.v_h - thresh)))
        self.z_h = spike.astype(np.float64)
        self.zf_h = self.alpha * self.zf_h + self.z_h
        self.favg += self.z_h * (1.0 - self.alpha_fav)
        self.v_h -= self.z_h * V_THRESH
        if self.refractory:
            self.refrac = np.where(spike, TAU_REFRAC, self.refrac)
        if self.adaptive:
            self.a += self.z_h
        self.hidden_spikes.append(spike.copy())
        # output
        self.v_o = self.kappa * self.v_o + i_o + self.bias
        if self.softmax:
            # the softmax of the previous step (it runs after each step)
            self.readout_sum += self.softmax_o
            self.e_o = self.softmax_o - np.eye(N_OUT)[y_now]
            self.softmax_o = _softmax(self.v_o)
        else:
            self.e_o = self.v_o - y_now
        self.delta_bias += self.e_o

    def adam_step(self, step, alpha, beta1=0.9, beta2=0.999, eps=1e-8):
        """Adam on the weights and the bias from the batch-summed gradients,
        which are then zeroed."""
        if not hasattr(self, "moments"):
            self.moments = {}
        grads = {k: g.sum(axis=0) for k, g in self.dg.items()}
        grads["bias"] = self.delta_bias.sum(axis=0)
        for k, grad in grads.items():
            m, v = self.moments.get(k, (0.0, 0.0))
            m = beta1 * m + (1.0 - beta1) * grad
            v = beta2 * v + (1.0 - beta2) * grad * grad
            self.moments[k] = (m, v)
            s1, s2 = 1.0 / (1.0 - beta1 ** (step + 1)), 1.0 / (1.0 - beta2 ** (step + 1))
            update = alpha * m * s1 / (np.sqrt(v * s2) + eps)
            if k == "bias":
                self.bias = self.bias - update
            else:
                self.w[k] = self.w[k] - update
        for g in self.dg.values():
            g[...] = 0.0
        self.delta_bias[...] = 0.0


# -- the network under test -------------------------------------------------
def _input_spikes(rng, batch, steps, rate=0.3):
    """Random input raster (steps, batch, N_IN) and the SpikeInput data."""
    raster = rng.random((steps, batch, N_IN)) < rate
    data = []
    for b in range(batch):
        t, i = np.nonzero(raster[:, b, :])
        data.append(preprocess_spikes(t.astype(float) * DT, i, N_IN))
    return raster, data


def _weights(seed):
    rng = np.random.default_rng(seed)
    w_in = rng.uniform(0.1, 0.6, (N_IN, N_HID)).astype(np.float32)
    w_rec = rng.normal(0.0, 0.15, (N_HID, N_HID)).astype(np.float32)
    w_out = rng.normal(0.0, 0.5, (N_HID, N_OUT)).astype(np.float32)
    bias = rng.normal(0.0, 0.05, N_OUT).astype(np.float32)
    return w_in, w_rec, w_out, bias


def _network(weights, adaptive=False, refractory=True, readout="var", sparse_rec=False):
    w_in, w_rec, w_out, bias = weights
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=2000), N_IN, record_spikes=True)
        refrac = TAU_REFRAC if refractory else None
        if adaptive:
            neuron = AdaptiveLeakyIntegrateFire(v_thresh=V_THRESH, tau_mem=TAU_MEM,
                                                tau_refrac=refrac, tau_adapt=TAU_ADAPT,
                                                beta=BETA)
        else:
            neuron = LeakyIntegrateFire(v_thresh=V_THRESH, tau_mem=TAU_MEM,
                                        tau_refrac=refrac)
        hid = Population(neuron, N_HID, record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=TAU_OUT, bias=bias, readout=readout), N_OUT)
        conns = {"in": Connection(inp, hid, Dense(w_in)),
                 "rec": Connection(hid, hid, Dense(w_rec)),
                 "out": Connection(hid, out, Dense(w_out))}
    return net, inp, hid, out, conns


def _compile(net, name, batch, loss, **kwargs):
    compiler = EPropCompiler(example_timesteps=STEPS, losses=loss, c_reg=C_REG,
                             f_target=F_TARGET, tau_reg=TAU_REG, batch_size=batch, **kwargs)
    return compiler.compile(net, name=name)


def _events(times, ids):
    """Recorded spikes as (step, neuron) rows sorted by step, then neuron."""
    events = np.column_stack([np.round(np.asarray(times) / DT).astype(int), ids])
    return events[np.lexsort((events[:, 1], events[:, 0]))]


CASES = [  # (neuron, refractory, loss, batch)
    ("lif", True, "mean_square_error", 1),
    ("lif", True, "mean_square_error", 2),
    ("alif", True, "mean_square_error", 2),
    ("alif", False, "sparse_categorical_crossentropy", 1),
    ("lif", False, "sparse_categorical_crossentropy", 2)]


def _targets(rng, batch, softmax):
    if softmax:
        return rng.integers(0, N_OUT, batch)
    return rng.normal(0.0, 1.0, (batch, STEPS, N_OUT)).astype(np.float32)


@pytest.mark.parametrize("neuron, refractory, loss, batch", CASES)
def test_traces_and_gradients_match_numpy(neuron, refractory, loss, batch):
    """After STEPS steps every e-prop state variable (and the spikes) equals
    the NumPy reference's."""
    adaptive, softmax = neuron == "alif", loss.startswith("sparse")
    rng = np.random.default_rng(7)
    weights = _weights(3)
    raster, x = _input_spikes(rng, batch, STEPS)
    y = _targets(rng, batch, softmax)
    net, inp, hid, out, conns = _network(weights, adaptive, refractory,
                                         "sum_var" if softmax else "var")
    cn = _compile(net, f"eprop_ref_{neuron}_{refractory}_{batch}_{softmax}", batch, loss)
    ref = EPropReference(*weights, batch, adaptive, refractory, softmax)
    for n in range(STEPS):
        ref.step(raster[n], y if softmax else y[:, n, :])
    # spike times must not hinge on rounding: V stays clear of the threshold
    assert ref.margin > 1e-4
    assert 5 < np.sum(ref.hidden_spikes) < 0.8 * STEPS * batch * N_HID

    with cn:
        callbacks = CallbackList(cn.base_train_callbacks, compiled_network=cn,
                                 num_batches=1)
        cn.set_input({inp: x})
        cn.losses[out].set_target(cn.neuron_populations[out], y, out.shape, batch, STEPS)
        for _ in range(STEPS):
            cn.step_time(callbacks)
        cn.genn_model.pull_recording_buffers_from_device()
        spikes = cn.neuron_populations[hid].spike_recording_data
        in_spikes = cn.neuron_populations[inp].spike_recording_data
        syn = {k: cn.connection_populations[c] for k, c in conns.items()}
        hid_pop, out_pop = cn.neuron_populations[hid], cn.neuron_populations[out]

        def values(group, var, kind="vars"):
            v = getattr(group, kind)[var]
            v.pull_from_device()
            return np.reshape(v.values, (batch, -1))

        for b in range(batch):
            np.testing.assert_array_equal(_events(*in_spikes[b]),
                                          np.argwhere(raster[:, b]))
            np.testing.assert_array_equal(_events(*spikes[b]),
                                          np.argwhere(np.array(ref.hidden_spikes)[:, b]))

        tol = dict(rtol=2e-5, atol=2e-6)
        for k in ("in", "rec", "out"):
            np.testing.assert_allclose(values(syn[k], "DeltaG"),
                                       ref.dg[k].reshape(batch, -1), **tol)
        for k in ("in", "rec"):
            np.testing.assert_allclose(values(syn[k], "eFiltered"),
                                       ref.ef[k].reshape(batch, -1), **tol)
            if adaptive:
                np.testing.assert_allclose(values(syn[k], "epsilonA"),
                                           ref.eps_a[k].reshape(batch, -1), **tol)
        np.testing.assert_allclose(values(syn["in"], "ZFilter", "pre_vars"), ref.zf_in, **tol)
        for k in ("rec", "out"):
            np.testing.assert_allclose(values(syn[k], "ZFilter", "pre_vars"), ref.zf_h, **tol)
        for k in ("in", "rec"):
            np.testing.assert_allclose(values(syn[k], "Psi", "post_vars"), ref.psi, **tol)
            np.testing.assert_allclose(values(syn[k], "FAvg", "post_vars"), ref.favg, **tol)
        np.testing.assert_allclose(values(hid_pop, "E"), ref.e_h, **tol)
        np.testing.assert_allclose(values(hid_pop, "V"), ref.v_h, **tol)
        np.testing.assert_allclose(values(out_pop, "E"), ref.e_o, **tol)
        np.testing.assert_allclose(values(out_pop, "DeltaBias"), ref.delta_bias, **tol)
        if softmax:
            np.testing.assert_allclose(values(out_pop, "VSoftmax"), ref.softmax_o, **tol)
            np.testing.assert_allclose(cn.get_readout(out), ref.readout_sum, **tol)
        else:
            np.testing.assert_allclose(cn.get_readout(out), ref.v_o, **tol)


class _FinalStepError(Metric):
    """Mean squared error of the readout (the output at the last step)
    against the last step's target: the built-in metrics compare one value
    per example, MeanSquareError targets have one per step."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.sum, self.total = 0.0, 0

    def update(self, y_true, y_pred, communicator=None):
        y_true = np.asarray(y_true)[:, -1]
        self.sum += float(np.sum((y_true - y_pred) ** 2))
        self.total += y_true.size

    @property
    def result(self):
        return None if self.total == 0 else self.sum / self.total


@pytest.mark.parametrize("batch", [1, 2])
def test_training_loop_applies_adam_to_the_reference_gradients(batch):
    """train(): two examples, two epochs. Per batch the gradients are summed
    over the batch and Adam (its step count continuing across epochs)
    updates the weights and output biases; the network state carries over
    from batch to batch. Everything equals the NumPy reference."""
    rng = np.random.default_rng(11)
    weights = _weights(5)
    raster, x = _input_spikes(rng, 2, STEPS)
    y = _targets(rng, 2, False)
    net, inp, hid, out, conns = _network(weights)
    alpha = 0.02
    cn = _compile(net, f"eprop_adam_{batch}", batch, "mean_square_error",
                  optimiser=Adam(alpha))
    ref = EPropReference(*weights, batch, False, True, False)
    grads, final_errors = [], []
    step = 0
    for epoch in range(2):
        final_errors = []
        for first in range(0, 2, batch):
            sel = slice(first, first + batch)
            for n in range(STEPS):
                ref.step(raster[n, sel], y[sel, n, :])
            grads += [np.abs(g.sum(axis=0)) for g in ref.dg.values()]
            final_errors.append((y[sel, -1] - ref.v_o) ** 2)
            ref.adam_step(step, alpha)
            step += 1
    assert ref.margin > 1e-4
    # Adam's first steps move by about alpha * sign(gradient): no gradient
    # may be so small that float32 rounding could flip its sign
    grads = np.concatenate([g.ravel() for g in grads])
    assert np.all((grads == 0.0) | (grads > 1e-2))

    with cn:
        metrics, _ = cn.train({inp: x}, {out: y}, num_epochs=2, shuffle=False,
                              metrics=_FinalStepError(), callbacks=[])
        for k, conn in conns.items():
            g = cn.connection_populations[conn].vars["g"]
            g.pull_from_device()
            np.testing.assert_allclose(g.values, ref.w[k].ravel(), rtol=1e-5, atol=1e-6)
        bias = cn.neuron_populations[out].vars["Bias"]
        bias.pull_from_device()
        np.testing.assert_allclose(bias.values, ref.bias, rtol=1e-5, atol=1e-6)
    assert metrics[out].result == pytest.approx(np.mean(final_errors), rel=1e-5)


def test_learns_a_pattern():
    """MSE training reproduces a target trace (two sinusoids, variance 0.17)
    from frozen input spikes: within 300 presentations the mean squared
    error drops from above 1 to below 0.05."""
    steps, n_in, n_hid = 100, 10, 30
    rng = np.random.default_rng(2)
    t, i = np.nonzero(rng.random((steps, n_in)) < 0.1)
    x = [preprocess_spikes(t.astype(float), i, n_in)]
    phase = 2.0 * np.pi * np.arange(steps) / steps
    y = (0.5 * np.sin(phase) + 0.3 * np.sin(2.0 * phase + 1.0)).astype(np.float32)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=1000), n_in)
        hid = Population(LeakyIntegrateFire(v_thresh=0.6, tau_mem=20.0, tau_refrac=2.0),
                         n_hid)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="var"), 1)
        Connection(inp, hid, Dense(rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hid))))
        Connection(hid, hid, Dense(rng.normal(0.0, 1.0 / np.sqrt(n_hid), (n_hid, n_hid))))
        Connection(hid, out, Dense(rng.normal(0.0, 1.0 / np.sqrt(n_hid), (n_hid, 1))))
    compiler = EPropCompiler(example_timesteps=steps, losses="mean_square_error",
                             optimiser=Adam(0.005), c_reg=0.1)
    cn = compiler.compile(net, name="eprop_learn")
    with cn:
        _, data = cn.train({inp: x}, {out: y[None, :, None]}, num_epochs=300,
                           metrics=_FinalStepError(), callbacks=[VarRecorder(out, "v", key="v")])
    mse = np.mean((np.array(data["v"])[:, :, 0] - y) ** 2, axis=1)
    assert mse[0] > 1.0
    assert np.mean(mse[-10:]) < 0.05


def test_checkpoint_saves_what_network_load_restores(tmp_path):
    """Checkpoint writes every connection's g and every output Bias;
    Network.load puts them back, so a new compile starts from them."""
    weights = _weights(5)
    rng = np.random.default_rng(4)
    _, x = _input_spikes(rng, 1, STEPS)
    y = _targets(rng, 1, False)
    net, inp, hid, out, conns = _network(weights)
    cn = _compile(net, "eprop_ckpt", 1, "mean_square_error", optimiser=Adam(0.05))
    with cn:
        cn.train({inp: x}, {out: y}, num_epochs=2, metrics=_FinalStepError(),
                 callbacks=[Checkpoint(Numpy(str(tmp_path)))])
        trained = {}
        for k, conn in conns.items():
            g = cn.connection_populations[conn].vars["g"]
            g.pull_from_device()
            trained[k] = g.values.copy()
        bias = cn.neuron_populations[out].vars["Bias"]
        bias.pull_from_device()
        trained["bias"] = bias.values.copy()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{e}-{c.name}-g.npy" for e in (0, 1) for c in conns.values()]
        + [f"{e}-{out.name}-Bias.npy" for e in (0, 1)])
    for k, w in zip(("in", "rec", "out", "bias"), weights):
        assert np.max(np.abs(trained[k] - np.ravel(w))) > 0.04     # it did learn

    net.load((1,), Numpy(str(tmp_path)))
    cn = _compile(net, "eprop_ckpt", 1, "mean_square_error")
    with cn:
        for k, conn in conns.items():
            np.testing.assert_array_equal(cn.connection_populations[conn].vars["g"].values,
                                          trained[k])
        np.testing.assert_array_equal(cn.neuron_populations[out].vars["Bias"].values,
                                      trained["bias"])


def test_deep_r_keeps_the_number_and_signs_of_synapses():
    """A FixedProbability recurrent connection rewired by Deep-R while
    training: its number of synapses never changes and after every batch
    each weight agrees with its synapse's sign flag."""
    rng = np.random.default_rng(9)
    _, x = _input_spikes(rng, 4, STEPS)
    y = _targets(rng, 4, False)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=2000), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=V_THRESH, tau_mem=TAU_MEM,
                                            tau_refrac=TAU_REFRAC), 20)
        out = Population(LeakyIntegrate(tau_mem=TAU_OUT, readout="var"), N_OUT)
        Connection(inp, hid, Dense(Normal(mean=0.3, sd=0.2)))
        rec = Connection(hid, hid, FixedProbability(0.3, Normal(sd=0.01)))
        Connection(hid, out, Dense(Normal(sd=0.3)))
    compiler = EPropCompiler(example_timesteps=STEPS, losses="mean_square_error",
                             optimiser=Adam(0.05), batch_size=2, rng_seed=2,
                             deep_r_conns=[rec], deep_r_l1_strength=0.5,
                             deep_r_record_rewirings={rec: "rewired"})
    cn = compiler.compile(net, name="eprop_deep_r")
    group = cn.connection_populations[rec]

    class Check(Callback):
        """After every batch (Deep-R ran): count synapses and check signs."""
        def set_params(self, compiled_network, **kwargs):
            self.counts, self.sign_errors = [], 0
            self.deep_r = next(cb for cb in compiled_network.base_train_callbacks
                               if hasattr(cb, "deep_rs")).deep_rs[0]

        def on_batch_end(self, batch, metrics):
            group.pull_connectivity_from_device()
            g = group.vars["g"]
            g.pull_from_device()
            pre, post = group.get_sparse_pre_inds(), group.get_sparse_post_inds()
            inhibitory = self.deep_r.get_inhibitory()[pre, post]
            self.counts.append(len(pre))
            self.sign_errors += int(np.sum((g.values > 0) & inhibitory)
                                    + np.sum((g.values < 0) & ~inhibitory))

        def get_data(self):
            return "check", (self.counts, self.sign_errors)

    with cn:
        group.pull_connectivity_from_device()
        initial = len(group.get_sparse_pre_inds())
        _, data = cn.train({inp: x}, {out: y}, num_epochs=5, shuffle=False,
                           metrics=_FinalStepError(), callbacks=[Check()])
    counts, sign_errors = data["check"]
    assert counts == [initial] * 10
    assert sign_errors == 0
    rewired = np.array(data["rewired"])
    assert rewired.shape == (10, 2)
    assert rewired[:, 0].sum() > 0 and rewired[:, 1].sum() == 0


def _small_net(hidden_neuron=None, synapse="delta", delay=0, out_neuron=None,
               second_hidden=None, link_second=True):
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=10), 2)
        hid = Population(hidden_neuron or LeakyIntegrateFire(tau_refrac=2.0), 3)
        out = Population(out_neuron or LeakyIntegrate(readout="var"), 2)
        Connection(inp, hid, Dense(0.1, delay=delay), synapse=synapse)
        Connection(hid, out, Dense(0.1))
        if second_hidden is not None:
            hid2 = Population(second_hidden, 3)
            Connection(hid, hid2, Dense(0.1))
            if link_second:
                Connection(hid2, out, Dense(0.1))
    return net


@pytest.mark.parametrize("net_kwargs, compiler_kwargs, error, match", [
    ({"synapse": Exponential(5.0)}, {}, NotImplementedError, "only supports Delta"),
    ({"delay": np.array([[0, 1, 2], [1, 1, 1]])}, {}, NotImplementedError,
     "heterogeneous delays"),
    ({"hidden_neuron": LeakyIntegrate()}, {}, NotImplementedError,
     "LeakyIntegrateFire and AdaptiveLeakyIntegrateFire"),
    ({"second_hidden": LeakyIntegrateFire(), "link_second": False}, {}, RuntimeError,
     "no direct connection to an output"),
    ({"second_hidden": LeakyIntegrateFire(tau_mem=10.0)}, {}, NotImplementedError,
     "tau_mem=10 but other hidden neurons have 20"),
    ({"hidden_neuron": LeakyIntegrateFire(tau_mem=np.array([10.0, 20.0, 30.0]))}, {},
     NotImplementedError, "per-neuron tau_mem"),
    ({"second_hidden": AdaptiveLeakyIntegrateFire(tau_adapt=100.0),
      "hidden_neuron": AdaptiveLeakyIntegrateFire()}, {}, NotImplementedError,
     "tau_adapt=100 but other hidden neurons have 2000"),
    ({"out_neuron": LeakyIntegrateFire(readout="spike_count")}, {}, RuntimeError,
     "no Bias parameter to train"),
    ({}, {"losses": "relative_mean_square_error"}, RuntimeError, "unknown"),
    ({}, {"deep_r_conns": "first"}, RuntimeError, "Deep-R connection .* uses DENSE"),
])
def test_unsupported_networks_are_refused_before_building(net_kwargs, compiler_kwargs,
                                                          error, match):
    net = _small_net(**net_kwargs)
    kwargs = {"losses": "mean_square_error", **compiler_kwargs}
    if kwargs.get("deep_r_conns") == "first":
        kwargs["deep_r_conns"] = [net.connections[0]]
    with pytest.raises(error, match=match):
        EPropCompiler(example_timesteps=10, **kwargs).compile(net, name="eprop_err")


def test_other_refusals():
    from ml_genn.losses import RelativeMeanSquareError
    net = _small_net()
    with pytest.raises(NotImplementedError, match="supports SparseCategoricalCrossentropy "
                                                  "and MeanSquareError"):
        EPropCompiler(10, RelativeMeanSquareError(1.0)).compile(net, name="eprop_err")
    with pytest.raises(RuntimeError, match="no output population"):
        EPropCompiler(10, "mean_square_error").compile(
            _small_net(out_neuron=LeakyIntegrate()), name="eprop_err")
    other = _small_net()
    with pytest.raises(RuntimeError, match="not part of the network"):
        EPropCompiler(10, "mean_square_error", deep_r_conns=[other.connections[0]]).compile(
            net, name="eprop_err")
    with pytest.raises(RuntimeError, match="not in deep_r_conns"):
        EPropCompiler(10, "mean_square_error",
                      deep_r_record_rewirings={net.connections[0]: "x"})
    with pytest.raises(ValueError, match="c_reg must be a finite number >= 0"):
        EPropCompiler(10, "mean_square_error", c_reg=-1.0)
    with pytest.raises(ValueError, match="tau_reg"):
        EPropCompiler(10, "mean_square_error", tau_reg=0.0)
    with pytest.raises(RuntimeError, match="Optimiser object 'sgd' unknown"):
        EPropCompiler(10, "mean_square_error", optimiser="sgd")
    pooled = Network(default_params)
    with pooled:
        inp = Population(SpikeInput(max_spikes=10), (4, 4, 1))
        hid = Population(LeakyIntegrateFire(), None)
        Connection(inp, hid, AvgPool2D(2))
        Connection(hid, Population(LeakyIntegrate(readout="var"), 2), Dense(0.1))
    with pytest.raises(NotImplementedError, match="AvgPool2D connectivity, which has no "
                                                  "trainable weights"):
        EPropCompiler(10, "mean_square_error").compile(pooled, name="eprop_err")
    with pytest.raises(RuntimeError, match="dictionary keys must match"):
        EPropCompiler(10, {net.populations[1]: "mean_square_error"}).compile(
            net, name="eprop_err")


def test_warnings_for_neurons_eprop_does_not_assume():
    for neuron, match in [(LeakyIntegrateFire(integrate_during_refrac=False, tau_refrac=2.0),
                           "does not integrate during its refractory period"),
                          (LeakyIntegrateFire(relative_reset=False), "absolute reset")]:
        with pytest.warns(UserWarning, match=match):
            EPropCompiler(10, "mean_square_error").compile(_small_net(neuron),
                                                           name="eprop_warn")


class _MirrorCommunicator(Communicator):
    """Rank 0 of two ranks whose partner holds the same data: every sum over
    the ranks is twice this rank's value."""
    rank, num_ranks = 0, 2

    def barrier(self):
        pass

    def broadcast(self, data, root):
        return data

    def reduce_sum(self, value):
        return 2 * np.asarray(value) if isinstance(value, np.ndarray) else 2 * value


def test_gradients_are_summed_over_ranks_before_the_optimiser():
    """With a communicator the batch is split over the ranks (here one
    example per rank); the batch-reduced gradients are summed over the ranks
    between the batch reduction and the optimiser."""
    rng = np.random.default_rng(11)
    weights = _weights(5)
    raster, x = _input_spikes(rng, 1, STEPS)
    y = _targets(rng, 1, False)
    net, inp, hid, out, conns = _network(weights)
    cn = _compile(net, "eprop_ranks", 2, "mean_square_error", optimiser=Adam(0.02),
                  communicator=_MirrorCommunicator())
    assert cn.genn_model.batch_size == 1
    names = [getattr(cb, "name", type(cb).__name__) for cb in cn.base_train_callbacks]
    assert names == ["GradientBatchReduce", "AllReduceGradients", "GradientLearn"]
    ref = EPropReference(*weights, 1, False, True, False)
    for n in range(STEPS):
        ref.step(raster[n], y[:, n, :])
    summed = {k: 2.0 * g.sum(axis=0) for k, g in ref.dg.items()}
    summed["bias"] = 2.0 * ref.delta_bias.sum(axis=0)
    ref.adam_step(0, 0.02)
    with cn:
        cn.train({inp: x}, {out: y}, num_epochs=1, metrics=_FinalStepError(), callbacks=[])
        reduced = {cu.name: cu for cu in cn.genn_model.custom_updates.values()
                   if cu.group_name == "GradientBatchReduce"}
        assert len(reduced) == 4
        for k, conn in conns.items():
            cu = next(c for c in reduced.values()
                      if c.var_refs["Gradient"].group is cn.connection_populations[conn])
            np.testing.assert_allclose(cu.vars["ReducedGradient"].values,
                                       summed[k].ravel(), rtol=2e-5, atol=2e-6)
            np.testing.assert_allclose(cn.connection_populations[conn].vars["g"].values,
                                       ref.w[k].ravel(), rtol=1e-5, atol=1e-6)
        cu = next(c for c in reduced.values()
                  if c.var_refs["Gradient"].group is cn.neuron_populations[out])
        np.testing.assert_allclose(cu.vars["ReducedGradient"].values, summed["bias"],
                                   rtol=2e-5, atol=2e-6)


def test_network_without_hidden_layer():
    """Input -> output only (upstream fails, mlGeNN issue #97): the output
    weights' gradient is the input spikes filtered with the output's own
    time constant times the error, as in the reference; nothing is fed
    back."""
    rng = np.random.default_rng(5)
    raster, x = _input_spikes(rng, 1, STEPS)
    y = _targets(rng, 1, False)
    w = rng.normal(0.0, 0.5, (N_IN, N_OUT)).astype(np.float32)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=2000), N_IN)
        out = Population(LeakyIntegrate(tau_mem=TAU_OUT, readout="var"), N_OUT)
        conn = Connection(inp, out, Dense(w))
    cn = _compile(net, "eprop_no_hidden", 1, "mean_square_error")
    kappa = np.exp(-DT / TAU_OUT)
    z_prev, zf, v, e, dg = (np.zeros(N_IN), np.zeros(N_IN), np.zeros(N_OUT),
                            np.zeros(N_OUT), np.zeros((N_IN, N_OUT)))
    for n in range(STEPS):
        dg += np.outer(zf, e)
        v = kappa * v + z_prev @ w
        z_prev = raster[n, 0].astype(float)
        zf = kappa * zf + z_prev
        e = v - y[0, n]
    with cn:
        cn.set_input({inp: x})
        cn.losses[out].set_target(cn.neuron_populations[out], y, out.shape, 1, STEPS)
        cn.genn_model.run(STEPS)
        np.testing.assert_allclose(cn.connection_populations[conn].vars["DeltaG"].values,
                                   dg.ravel(), rtol=2e-5, atol=2e-6)


def test_validation_does_not_leak_into_the_next_gradient():
    """The learning rule also runs on validation examples; the next training
    epoch still starts from zero gradients (the base callbacks clear them
    before the user's on_epoch_begin), while the validation epoch did
    accumulate something."""
    rng = np.random.default_rng(6)
    _, x = _input_spikes(rng, 2, STEPS)
    y = _targets(rng, 2, False)
    net, inp, hid, out, conns = _network(_weights(2))
    cn = _compile(net, "eprop_validation", 1, "mean_square_error")

    def gradients():
        values = []
        for group, var in ([(cn.connection_populations[c], "DeltaG") for c in conns.values()]
                           + [(cn.neuron_populations[out], "DeltaBias")]):
            group.vars[var].pull_from_device()
            values.append(np.array(group.vars[var].values))
        return np.concatenate([v.ravel() for v in values])

    class AtEpochBegin(Callback):
        def set_params(self, **kwargs):
            self.seen = []

        def on_epoch_begin(self, epoch):
            self.seen.append(np.max(np.abs(gradients())))

        def get_data(self):
            return "train", self.seen

    class AtValidationEnd(AtEpochBegin):
        def on_epoch_end(self, epoch, metrics):
            self.seen.append(np.max(np.abs(gradients())))

        def get_data(self):
            return "validation", self.seen

    with cn:
        _, _, train_data, validation_data = cn.train(
            {inp: x[:1]}, {out: y[:1]}, num_epochs=3, metrics=_FinalStepError(),
            validation_x={inp: x[1:]}, validation_y={out: y[1:]},
            callbacks=[AtEpochBegin()], validation_callbacks=[AtValidationEnd()])
    assert train_data["train"] == [0.0, 0.0, 0.0]
    assert all(v > 1.0 for v in validation_data["validation"][1::2])


def test_output_bias_is_fixed_when_not_trained():
    net, inp, hid, out, conns = _network(_weights(1))
    cn = _compile(net, "eprop_fixed_bias", 1, "mean_square_error", train_output_bias=False)
    assert "DeltaBias" not in cn.neuron_populations[out].vars
    assert cn.checkpoint_population_vars == []
    assert cn.checkpoint_connection_vars == [(c, "g") for c in conns.values()]
    assert len(cn.optimisers[0][1]) == 3


# -- random feedback (random e-prop) ---------------------------------------
def _run_steps(cn, inp, out, x, y, batch):
    callbacks = CallbackList(cn.base_train_callbacks, compiled_network=cn, num_batches=1)
    cn.set_input({inp: x})
    cn.losses[out].set_target(cn.neuron_populations[out], y, out.shape, batch, STEPS)
    for _ in range(STEPS):
        cn.step_time(callbacks)


def _pulled(group, var, kind="vars"):
    v = getattr(group, kind)[var]
    v.pull_from_device()
    return np.array(v.values)


def _check_hidden_learning(cn, ref, conns, hid, out, batch, adaptive, out_synapses=None):
    """Hidden E and V, output E, and every e-prop trace and gradient equal
    the reference's; ``out_synapses``: (pre, post) of a sparse output
    connection (the reference holds it densely, zeros where no synapse)."""
    tol = dict(rtol=2e-5, atol=2e-6)
    syn = {k: cn.connection_populations[c] for k, c in conns.items()}
    for k in ("in", "rec"):
        np.testing.assert_allclose(_pulled(syn[k], "DeltaG").reshape(batch, -1),
                                   ref.dg[k].reshape(batch, -1), **tol)
        np.testing.assert_allclose(_pulled(syn[k], "eFiltered").reshape(batch, -1),
                                   ref.ef[k].reshape(batch, -1), **tol)
        if adaptive:
            np.testing.assert_allclose(_pulled(syn[k], "epsilonA").reshape(batch, -1),
                                       ref.eps_a[k].reshape(batch, -1), **tol)
    dg_out = ref.dg["out"].reshape(batch, -1) if out_synapses is None \
        else ref.dg["out"][:, out_synapses[0], out_synapses[1]]
    np.testing.assert_allclose(_pulled(syn["out"], "DeltaG").reshape(batch, -1), dg_out,
                               **tol)
    hid_pop, out_pop = cn.neuron_populations[hid], cn.neuron_populations[out]
    np.testing.assert_allclose(_pulled(hid_pop, "E").reshape(batch, -1), ref.e_h, **tol)
    np.testing.assert_allclose(_pulled(hid_pop, "V").reshape(batch, -1), ref.v_h, **tol)
    np.testing.assert_allclose(_pulled(out_pop, "E").reshape(batch, -1), ref.e_o, **tol)


@pytest.mark.parametrize("neuron, refractory, loss, batch, as_dict", [
    ("lif", True, "mean_square_error", 2, False),
    ("alif", False, "sparse_categorical_crossentropy", 1, True)])
def test_random_feedback_matches_numpy(neuron, refractory, loss, batch, as_dict):
    """feedback="random" with given feedback weights B: the hidden errors
    are E_out @ B.T (not E_out @ W_out.T) and the traces and gradients of
    every connection follow the reference fed back through B."""
    adaptive, softmax = neuron == "alif", loss.startswith("sparse")
    rng = np.random.default_rng(7)
    weights = _weights(3)
    feedback = np.random.default_rng(8).normal(0.0, 0.5, (N_HID, N_OUT)).astype(np.float32)
    raster, x = _input_spikes(rng, batch, STEPS)
    y = _targets(rng, batch, softmax)
    net, inp, hid, out, conns = _network(weights, adaptive, refractory,
                                         "sum_var" if softmax else "var")
    cn = _compile(net, f"eprop_random_fb_{neuron}_{batch}", batch, loss, feedback="random",
                  feedback_weight_init={conns["out"]: feedback} if as_dict else feedback)
    assert cn.checkpoint_connection_vars == (
        [(c, "g") for c in conns.values()] + [(conns["out"], "gFeedback")])
    ref = EPropReference(*weights, batch, adaptive, refractory, softmax, feedback=feedback)
    symmetric = EPropReference(*weights, batch, adaptive, refractory, softmax)
    for n in range(STEPS):
        ref.step(raster[n], y if softmax else y[:, n, :])
        symmetric.step(raster[n], y if softmax else y[:, n, :])
    assert ref.margin > 1e-4
    assert 5 < np.sum(ref.hidden_spikes) < 0.8 * STEPS * batch * N_HID
    # the test can tell the two feedbacks apart
    assert np.max(np.abs(ref.dg["in"] - symmetric.dg["in"])) > 0.1
    with cn:
        np.testing.assert_array_equal(
            _pulled(cn.connection_populations[conns["out"]], "gFeedback"), feedback.ravel())
        _run_steps(cn, inp, out, x, y, batch)
        _check_hidden_learning(cn, ref, conns, hid, out, batch, adaptive)


def test_random_feedback_is_fixed_trained_around_and_checkpointed(tmp_path):
    """Training with random feedback: the output weights are trained (Adam
    on the reference's gradients computed with B), B never changes; the
    checkpoint holds it and passing the saved array back resumes with it."""
    rng = np.random.default_rng(11)
    weights = _weights(5)
    feedback = np.random.default_rng(12).normal(0.0, 0.7, (N_HID, N_OUT)).astype(np.float32)
    raster, x = _input_spikes(rng, 2, STEPS)
    y = _targets(rng, 2, False)
    net, inp, hid, out, conns = _network(weights)
    alpha = 0.02
    cn = _compile(net, "eprop_random_fb_adam", 1, "mean_square_error", optimiser=Adam(alpha),
                  feedback="random", feedback_weight_init=feedback)
    ref = EPropReference(*weights, 1, False, True, False, feedback=feedback)
    grads, step = [], 0
    for epoch in range(2):
        for example in range(2):
            for n in range(STEPS):
                ref.step(raster[n, example:example + 1], y[example:example + 1, n, :])
            grads += [np.abs(g.sum(axis=0)) for g in ref.dg.values()]
            ref.adam_step(step, alpha)
            step += 1
    assert ref.margin > 1e-4
    grads = np.concatenate([g.ravel() for g in grads])
    assert np.all((grads == 0.0) | (grads > 1e-2))
    with cn:
        cn.train({inp: x}, {out: y}, num_epochs=2, shuffle=False,
                 metrics=_FinalStepError(), callbacks=[Checkpoint(Numpy(str(tmp_path)))])
        out_syn = cn.connection_populations[conns["out"]]
        for k, conn in conns.items():
            np.testing.assert_allclose(_pulled(cn.connection_populations[conn], "g"),
                                       ref.w[k].ravel(), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(_pulled(out_syn, "gFeedback"), feedback.ravel())
        assert len(cn.optimisers[0][1]) == 4      # 3 weights and the bias: not B
    assert np.max(np.abs(ref.w["out"] - weights[2])) > 0.04
    saved = np.load(tmp_path / f"1-{conns['out'].name}-gFeedback.npy")
    np.testing.assert_array_equal(saved, feedback.ravel())

    net.load((1,), Numpy(str(tmp_path)))
    cn = _compile(net, "eprop_random_fb_resume", 1, "mean_square_error", feedback="random",
                  feedback_weight_init={conns["out"]: saved})
    with cn:
        out_syn = cn.connection_populations[conns["out"]]
        np.testing.assert_array_equal(_pulled(out_syn, "gFeedback"), feedback.ravel())
        np.testing.assert_allclose(_pulled(out_syn, "g"), ref.w["out"].ravel(),
                                   rtol=1e-5, atol=1e-6)


def _wide_network(out_connectivity):
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=2000), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=V_THRESH, tau_mem=TAU_MEM,
                                            tau_refrac=TAU_REFRAC), 100)
        out = Population(LeakyIntegrate(tau_mem=TAU_OUT, readout="var"), 4)
        Connection(inp, hid, Dense(Normal(mean=0.3, sd=0.2)))
        conn = Connection(hid, out, out_connectivity)
    return net, inp, out, conn


def test_random_feedback_default_weights_follow_the_seed():
    """Default B: Normal(0, 1/sqrt(number of outputs)); the same rng_seed
    draws the same B (and the same output weights as symmetric feedback),
    another seed another B."""
    def draw(seed, feedback):
        net, _, _, conn = _wide_network(Dense(Normal(sd=0.3)))
        kwargs = {"feedback": feedback} if feedback else {}
        cn = EPropCompiler(example_timesteps=STEPS, losses="mean_square_error",
                           rng_seed=seed, **kwargs).compile(net, name="eprop_fb_seed")
        with cn:
            syn = cn.connection_populations[conn]
            return (_pulled(syn, "g"),
                    _pulled(syn, "gFeedback") if feedback else None)

    g1, b1 = draw(5, "random")
    g2, b2 = draw(5, "random")
    g3, b3 = draw(6, "random")
    g_sym, _ = draw(5, None)
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(g1, g_sym)
    assert not np.any(b1 == b3)
    assert b1.shape == (400,)
    assert abs(np.mean(b1)) < 0.1 and 0.42 < np.std(b1) < 0.58     # sd 1/sqrt(4)
    assert not np.allclose(b1, g1)


def test_random_feedback_through_a_sparse_output_connection():
    """A FixedProbability output connection feeds back only along its
    synapses: the reference with dense W_out and B that are 0 where no
    synapse exists gives the same hidden errors and gradients."""
    rng = np.random.default_rng(7)
    w_in, w_rec, _, bias = _weights(3)
    raster, x = _input_spikes(rng, 1, STEPS)
    y = _targets(rng, 1, False)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=2000), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=V_THRESH, tau_mem=TAU_MEM,
                                            tau_refrac=TAU_REFRAC), N_HID)
        out = Population(LeakyIntegrate(tau_mem=TAU_OUT, bias=bias, readout="var"), N_OUT)
        conns = {"in": Connection(inp, hid, Dense(w_in)),
                 "rec": Connection(hid, hid, Dense(w_rec)),
                 "out": Connection(hid, out, FixedProbability(0.6, Normal(sd=0.5)))}
    cn = _compile(net, "eprop_random_fb_sparse", 1, "mean_square_error", rng_seed=4,
                  feedback="random", feedback_weight_init=Uniform(-1.0, 1.0))
    with cn:
        syn = cn.connection_populations[conns["out"]]
        assert syn.is_sparse
        syn.pull_connectivity_from_device()
        pre, post = syn.get_sparse_pre_inds(), syn.get_sparse_post_inds()
        assert 0 < len(pre) < N_HID * N_OUT
        w_out, feedback = np.zeros((N_HID, N_OUT)), np.zeros((N_HID, N_OUT))
        w_out[pre, post] = _pulled(syn, "g")
        feedback[pre, post] = _pulled(syn, "gFeedback")
        assert np.all(np.abs(feedback[pre, post]) <= 1.0)
        ref = EPropReference(w_in, w_rec, w_out, bias, 1, False, True, False,
                             feedback=feedback)
        for n in range(STEPS):
            ref.step(raster[n], y[:, n, :])
        assert ref.margin > 1e-4 and np.max(np.abs(ref.e_h)) > 0.01
        _run_steps(cn, inp, out, x, y, 1)
        _check_hidden_learning(cn, ref, conns, hid, out, 1, False, out_synapses=(pre, post))


def test_random_feedback_with_deep_r_on_the_output_connection():
    """Deep-R rewiring the output connection: a synapse keeps its feedback
    weight while it lives; each synapse Deep-R creates draws a new one
    (from feedback_weight_init), so the feedback does not fade away."""
    rng = np.random.default_rng(9)
    _, x = _input_spikes(rng, 4, STEPS)
    y = _targets(rng, 4, False)[..., :1].repeat(4, axis=2)
    net, inp, out, conn = _wide_network(FixedProbability(0.3, Normal(sd=0.01)))
    compiler = EPropCompiler(example_timesteps=STEPS, losses="mean_square_error",
                             optimiser=Adam(0.05), batch_size=2, rng_seed=2,
                             deep_r_conns=[conn], deep_r_l1_strength=0.5,
                             deep_r_record_rewirings={conn: "rewired"}, feedback="random",
                             feedback_weight_init=Normal(mean=2.0, sd=0.1))
    cn = compiler.compile(net, name="eprop_random_fb_deep_r")
    group = cn.connection_populations[conn]

    def feedback_by_synapse():
        group.pull_connectivity_from_device()
        pre, post = group.get_sparse_pre_inds(), group.get_sparse_post_inds()
        return dict(zip(zip(pre.tolist(), post.tolist()), _pulled(group, "gFeedback")))

    class Check(Callback):
        def set_params(self, **kwargs):
            self.snapshots = []

        def on_batch_end(self, batch, metrics):
            self.snapshots.append(feedback_by_synapse())

        def get_data(self):
            return "feedback", self.snapshots

    with cn:
        initial = feedback_by_synapse()
        _, data = cn.train({inp: x}, {out: y}, num_epochs=3, shuffle=False,
                           metrics=_FinalStepError(), callbacks=[Check()])
    rewired = np.array(data["rewired"])
    assert rewired.shape == (6, 2) and rewired[:, 0].sum() > 0 and rewired[:, 1].sum() == 0
    previous = initial
    for snapshot, (created, _) in zip(data["feedback"], rewired):
        assert len(snapshot) == len(initial)
        # a synapse created where one was just removed has the old key
        changed = [b for key, b in snapshot.items() if previous.get(key) != b]
        assert len(changed) == created        # every other one kept its weight
        assert all(1.4 < b < 2.6 for b in changed)        # drawn anew, not 0
        previous = snapshot


@pytest.mark.parametrize("kwargs, error, match", [
    ({"feedback": "adaptive"}, NotImplementedError, "adaptive e-prop.*not implemented"),
    ({"feedback": "transposed"}, ValueError, "feedback must be one of 'symmetric', 'random'"),
    ({"feedback": None}, ValueError, "feedback must be one of"),
    ({"feedback_weight_init": 0.5}, ValueError, "only used with feedback='random'"),
    ({"feedback": "random", "feedback_weight_init": "normal"}, TypeError,
     "must be an initializer"),
    ({"feedback": "random", "feedback_weight_init": True}, TypeError,
     "must be an initializer"),
    ({"feedback": "random", "feedback_weight_init": float("nan")}, ValueError, "finite"),
    ({"feedback": "random", "feedback_weight_init": np.array([[1.0, np.inf]])}, ValueError,
     "NaN/inf"),
    ({"feedback": "random", "feedback_weight_init": {"out": 1.0}}, TypeError,
     r"feedback_weight_init \(its keys\) must hold Connections or Layers"),
    ({"feedback": "random", "feedback_weight_init": np.zeros(0)}, ValueError, "empty"),
])
def test_bad_feedback_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        EPropCompiler(10, "mean_square_error", **kwargs)


def test_bad_feedback_weights_for_the_network():
    net = _small_net()
    inp_hid, hid_out = net.connections
    for shape in [(2, 2), (2, 3)]:      # too few values; transposed
        with pytest.raises(ValueError, match=rf"has shape \({shape[0]}, {shape[1]}\) but the "
                                             r"connection's weights have shape .* = \(3, 2\)"):
            EPropCompiler(10, "mean_square_error", feedback="random",
                          feedback_weight_init=np.ones(shape)).compile(net, name="eprop_err")
    with pytest.raises(RuntimeError, match="not hidden -> output connections"):
        EPropCompiler(10, "mean_square_error", feedback="random",
                      feedback_weight_init={inp_hid: 1.0}).compile(net, name="eprop_err")
    sparse = Network(default_params)
    with sparse:
        inp = Population(SpikeInput(max_spikes=10), 2)
        hid = Population(LeakyIntegrateFire(tau_refrac=2.0), 3)
        out = Population(LeakyIntegrate(readout="var"), 2)
        Connection(inp, hid, Dense(0.1))
        conn = Connection(hid, out, FixedProbability(0.5, 0.1))
    with pytest.raises(NotImplementedError, match="must therefore be a number, Normal or "
                                                  "Uniform"):
        EPropCompiler(10, "mean_square_error", feedback="random", deep_r_conns=[conn],
                      feedback_weight_init=np.ones(3)).compile(sparse, name="eprop_err")
