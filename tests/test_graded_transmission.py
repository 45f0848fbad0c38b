"""Graded transmission through the plain compilers.

Neurons with ``graded_output = True`` (the Nengo family, ``RateInput``) are
read by the next layer as ``g * Out``. The ``Compiler`` base class builds
that weight update, so the standard ``InferenceCompiler`` (no special
compiler) must give what a NumPy reference, written here from the
equations, computes:

* ``RateInput``:        ``Out[n] = x``;
* ``RectifiedLinear``:  ``Out[n] = amplitude * max(gain * I[n] + bias, 0)``;
* ``SpikingRectifiedLinear``: ``V += max(J, 0) * dt_s``, ``k = floor(V)``,
  ``Out = amplitude * k / dt_s``, ``V -= k`` (a spike when ``k > 0``);
* ``LeakyIntegrate``:   ``V[n] = alpha * V[n - 1] + I[n]``,
  ``alpha = exp(-dt / tau_mem)``;
* a connection with weights ``W`` and delay ``d`` (steps, per synapse)
  gives its target ``I[n] = sum_i W[i, j] * Out_i[n - 1 - d[i, j]]`` (a
  value arrives one step after it is produced, ``d`` steps later with a
  delay; nothing before the first step).

No Nengo needed.
"""
import numpy as np
import pytest

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import SpikeRecorder, VarRecorder
from ml_genn.compilers import InferenceCompiler
from ml_genn.compilers.weight_update_models import static_pulse_model
from ml_genn.connectivity import Dense
from ml_genn.neurons import (LeakyIntegrate, RateInput, RectifiedLinear,
                             SpikingRectifiedLinear)
from ml_genn.utils.model import WeightUpdateModel

f32 = np.float32


def delivered(out_history, w, delay, n):
    """Input at step ``n`` of a connection: ``sum_i W[i, j] * Out_i[n - 1 -
    d[i, j]]`` with ``out_history[m]`` the source's ``(batch, n_pre)``
    outputs at step ``m``."""
    w = np.asarray(w, dtype=np.float64)
    d = np.broadcast_to(np.asarray(delay, dtype=int), w.shape)
    total = np.zeros((out_history[0].shape[0], w.shape[1]))
    for i, j in np.ndindex(w.shape):
        m = n - 1 - d[i, j]
        if m >= 0:
            total[:, j] += w[i, j] * out_history[m][:, i]
    return total


def reference_rate_network(x, w1, d1, w2, d2, gain, bias, amplitude, alpha, steps):
    """RateInput -> (w1, d1) -> RectifiedLinear -> (w2, d2) -> LeakyIntegrate:
    the readout ``V`` at every step, ``(steps, batch, n_out)``. ``x`` is
    ``(batch, n_in)``, or ``(batch, steps, n_in)``: one frame a step."""
    x = np.asarray(x, dtype=np.float64)
    inp, hid, vs = [], [], []
    v = np.zeros((x.shape[0], np.shape(w2)[1]))
    for n in range(steps):
        inp.append(x[:, n] if x.ndim == 3 else x)
        hid.append(amplitude * np.maximum(gain * delivered(inp, w1, d1, n) + bias, 0.0))
        v = alpha * v + delivered(hid, w2, d2, n)
        vs.append(v)
    return np.array(vs)


def _run_rate_network(x, w1, w2, gain, bias, amplitude, tau_mem, steps, batch_size,
                      d1=0, d2=0):
    net = Network()
    with net:
        inp = Population(RateInput(input_frames=x.shape[1]) if x.ndim == 3 else RateInput(),
                         w1.shape[0])
        hid = Population(RectifiedLinear(amplitude=amplitude, gain=gain, bias=bias),
                         w1.shape[1], record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=tau_mem, readout="var"), w2.shape[1])
        Connection(inp, hid, Dense(w1, delay=d1))
        Connection(hid, out, Dense(w2, delay=d2))
    compiled = InferenceCompiler(evaluate_timesteps=steps,
                                 batch_size=batch_size).compile(net)
    with compiled:
        pred, data = compiled.predict(
            {inp: x}, out, callbacks=[VarRecorder(out, "v", key="v"),
                                      SpikeRecorder(hid, key="spikes", record_counts=True)])
    return pred[out], np.array(data["v"]), np.array(data["spikes"])


def test_rate_input_and_rectified_linear_to_leaky_integrate():
    """InferenceCompiler, no special compiler: every step's readout ``V`` is
    the reference's; the rate neurons never spike; a short last batch and
    the reset between batches change nothing."""
    rng = np.random.default_rng(21)
    n_in, n_hid, n_out, steps = 5, 7, 3, 6
    x = rng.uniform(0, 2, (5, n_in)).astype(f32)
    x[1, :2] = 0.0                                      # silent inputs
    w1 = rng.uniform(-1, 1, (n_in, n_hid)).astype(f32)
    w2 = rng.uniform(-0.02, 0.03, (n_hid, n_out)).astype(f32)
    gain = rng.uniform(20, 60, n_hid).astype(f32)
    bias = rng.uniform(-20, 10, n_hid).astype(f32)
    amplitude, tau_mem = 0.5, 8.0
    pred, v, spikes = _run_rate_network(x, w1, w2, gain, bias, amplitude, tau_mem, steps,
                                        batch_size=3)
    ref = reference_rate_network(x, w1, 0, w2, 0, gain, bias, amplitude,
                                 np.exp(-1.0 / tau_mem), steps)
    assert np.count_nonzero(ref[-1]) == ref[-1].size          # the output is driven
    assert np.any(gain * (x @ w1) + bias < 0)                 # ... and some ReLUs are off
    np.testing.assert_allclose(v, ref.transpose(1, 0, 2), rtol=1e-5,
                               atol=1e-6 * np.abs(ref).max())
    np.testing.assert_allclose(pred, ref[-1], rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    assert not spikes.any(), "rate neurons transmit on events, never spike"


def test_graded_delays_constant_and_per_synapse():
    """A delay of ``d`` steps delivers ``g * Out`` of the step ``d`` steps
    earlier (through the dendritic ring, so the delayed value is the one
    emitted, not the source's value when it arrives), for a constant delay
    and per-synapse delays. The input changes every step (one frame a
    step), so reading the wrong step would show."""
    rng = np.random.default_rng(5)
    steps, tau_mem = 9, 4.0
    x = rng.uniform(0.5, 2, (3, steps, 4)).astype(f32)
    w1 = rng.uniform(0, 1, (4, 5)).astype(f32)
    w2 = rng.uniform(-0.5, 1, (5, 2)).astype(f32)
    alpha = np.exp(-1.0 / tau_mem)
    gain = rng.uniform(1, 3, 5).astype(f32)
    _, v, _ = _run_rate_network(x, w1, w2, gain, -0.5, 1.0, tau_mem, steps, 3, d1=2, d2=1)
    ref = reference_rate_network(x, w1, 2, w2, 1, gain, -0.5, 1.0, alpha, steps)
    np.testing.assert_allclose(v, ref.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)
    # the input of step 0 reaches the hidden layer at step 3, the output at 5
    assert not ref[4].any() and ref[5].all()

    d1 = rng.integers(0, 4, w1.shape)
    d2 = rng.integers(0, 3, w2.shape)
    _, v, _ = _run_rate_network(x, w1, w2, gain, -0.5, 1.0, tau_mem, steps, 3, d1=d1, d2=d2)
    ref = reference_rate_network(x, w1, d1, w2, d2, gain, -0.5, 1.0, alpha, steps)
    np.testing.assert_allclose(v, ref.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)


def test_spiking_graded_source_delivers_weight_times_output():
    """SpikingRectifiedLinear -> LeakyIntegrate: each spike delivers ``g *
    amplitude * k / dt_s`` (``k`` spikes in the step), spike for spike.
    ``dt`` is 1000 / 1024 ms, so ``dt_s = 2**-10`` and the spiking is exact
    in single precision."""
    dt = 1000.0 / 1024.0
    dt_s = 2.0 ** -10
    steps, amplitude, tau_mem = 12, 0.25, 10.0
    x = np.array([[1.0, 0.5, 2.0], [0.0, 3.0, 1.5]], dtype=f32)
    w1 = np.array([[256, -128, 512, 64], [128, 384, 0, 1024],
                   [64, 256, -256, 2048]], dtype=f32)
    w2 = np.array([[0.5, -0.25], [0.125, 1.0], [-0.5, 0.75], [0.25, 0.0625]], dtype=f32)
    net = Network()
    with net:
        inp = Population(RateInput(), 3)
        hid = Population(SpikingRectifiedLinear(amplitude=amplitude), 4, record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=tau_mem, readout="var"), 2)
        Connection(inp, hid, Dense(w1))
        Connection(hid, out, Dense(w2))
    compiled = InferenceCompiler(evaluate_timesteps=steps, batch_size=2, dt=dt).compile(net)
    with compiled:
        _, data = compiled.predict({inp: x}, out, callbacks=[
            VarRecorder(out, "v", key="v"), SpikeRecorder(hid, key="spikes")])
    # the reference, from the equations
    alpha = np.exp(-dt / tau_mem)
    inp_out, hid_out, spikes, vs = [], [], [], []
    v_hid = np.zeros((2, 4))
    v = np.zeros((2, 2))
    for n in range(steps):
        inp_out.append(x.astype(np.float64))
        v_hid += np.maximum(delivered(inp_out, w1, 0, n), 0.0) * dt_s
        k = np.floor(v_hid)
        v_hid -= k
        hid_out.append(amplitude * k / dt_s)
        spikes.append(k > 0)
        v = alpha * v + delivered(hid_out, w2, 0, n)
        vs.append(v)
    ref = np.array(vs).transpose(1, 0, 2)
    assert np.array(spikes).any() and (np.array(hid_out).max() > amplitude / dt_s)
    np.testing.assert_allclose(np.array(data["v"]), ref, rtol=1e-5, atol=1e-6)
    times, ids = data["spikes"]
    for b in range(2):
        raster = np.zeros((steps, 4), dtype=bool)
        raster[np.round(np.asarray(times[b]) / dt).astype(int), ids[b]] = True
        np.testing.assert_array_equal(raster, np.array(spikes)[:, b])


# ---------------------------------------------------------------------------
# What the base cannot make graded is refused, naming the connection
# ---------------------------------------------------------------------------
def _graded_net(neuron=None, delay=0):
    net = Network()
    with net:
        inp = Population(RateInput(), 2)
        hid = Population(neuron or RectifiedLinear(), 2)
        out = Population(LeakyIntegrate(readout="var"), 2)
        Connection(inp, hid, Dense(np.eye(2, dtype=f32)), name="in_to_hid")
        Connection(hid, out, Dense(np.eye(2, dtype=f32), delay=delay), name="hid_to_out")
    return net


def test_weight_update_that_ignores_graded_output_is_refused():
    class ConstantPulse(InferenceCompiler):
        def build_weight_update_model(self, conn, connect_snippet, compile_state):
            return WeightUpdateModel(dict(static_pulse_model), {"g": connect_snippet.weight})

    with pytest.raises(NotImplementedError, match="'in_to_hid'.*graded output"):
        ConstantPulse(evaluate_timesteps=2).compile(_graded_net())


def test_axonal_delay_on_graded_connection_is_refused():
    class Axonal(InferenceCompiler):
        def apply_delay(self, genn_pop, conn, delay, compile_state):
            genn_pop.axonal_delay_steps = 2

    with pytest.raises(NotImplementedError, match="'in_to_hid'.*axonal delay"):
        Axonal(evaluate_timesteps=2).compile(_graded_net())


def test_graded_neuron_with_negative_spikes_is_refused():
    class SignedRelu(RectifiedLinear):
        def get_model(self, population, dt, batch_size):
            model = super().get_model(population, dt, batch_size)
            model.model["negative_threshold_condition_code"] = "Out < 0.0"
            return model

    with pytest.raises(NotImplementedError, match="'hid_to_out'.*negative spikes"):
        InferenceCompiler(evaluate_timesteps=2).compile(_graded_net(SignedRelu()))
