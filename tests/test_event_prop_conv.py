"""EventPropCompiler with convolutions: shared-kernel gradients against
finite differences of independent references, checkpoints of the kernel,
and the errors of unsupported convolutional configurations.

A convolution is a dense matrix whose entries repeat kernel entries, so the
loss as a function of the kernel is the dense reference loss of
``tests/test_event_prop.py`` evaluated at the matrix the convolution
equation (spec 4.4, 4.5) builds from the kernel; its central differences
are the reference. The engine sums, into one ``Gradient`` per kernel entry,
what every synapse sharing that entry contributes. The tolerances are those
of the dense tests (see that module: the O(dt / tau_syn) discretisation
error of the adjoint), since the kernel gradient is a sum of such terms.
"""
import numpy as np
import pytest

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Checkpoint
from ml_genn.compilers.event_prop_compiler import EventPropCompiler, default_params
from ml_genn.connectivity import AvgPoolConv2D, Conv2D, Conv2DTranspose, Dense
from ml_genn.genn import SynapseMatrixType
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Exponential

from test_event_prop import (TAU_MEM, TAU_SYN, _backward_values, _central_difference,
                             _compile_error, _cross_entropy, _hidden_loss, _li, _li_trace,
                             _relative_error, _spikes)


# -- the convolution equations as dense matrices ------------------------------
def _conv_matrix(kernel, in_shape, stride, padding, out_hw):
    """``W[in, out]`` of ``out[oy, ox, oc] += in[oy*sh - ph + ky, ox*sw - pw +
    kx, ic] * K[ky, kx, ic, oc]`` (Conv2D), neurons (row, col, channel)."""
    ih, iw, ic = in_shape
    kh, kw, _, oc = kernel.shape
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, out_hw
    w = np.zeros((ih * iw * ic, oh * ow * oc))
    for oy, ox, ky, kx in np.ndindex(oh, ow, kh, kw):
        iy, ix = oy * sh - ph + ky, ox * sw - pw + kx
        if 0 <= iy < ih and 0 <= ix < iw:
            for c, o in np.ndindex(ic, oc):
                w[(iy * iw + ix) * ic + c, (oy * ow + ox) * oc + o] += kernel[ky, kx, c, o]
    return w


def _transpose_matrix(kernel, in_shape, stride, padding, out_hw):
    """``W[in, out]`` of ``out[iy*sh - ph + ky, ix*sw - pw + kx, oc] +=
    in[iy, ix, ic] * K[ky, kx, oc, ic]`` (Conv2DTranspose)."""
    ih, iw, ic = in_shape
    kh, kw, oc, _ = kernel.shape
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, out_hw
    w = np.zeros((ih * iw * ic, oh * ow * oc))
    for iy, ix, ky, kx in np.ndindex(ih, iw, kh, kw):
        oy, ox = iy * sh - ph + ky, ix * sw - pw + kx
        if 0 <= oy < oh and 0 <= ox < ow:
            for c, o in np.ndindex(ic, oc):
                w[(iy * iw + ix) * ic + c, (oy * ow + ox) * oc + o] += kernel[ky, kx, o, c]
    return w


# name: (connectivity, input shape, kernel shape, dense matrix of a kernel, engine matrix type)
CASES = {
    # stride 1: TOEPLITZ
    "conv_valid": (lambda k: Conv2D(k, 2, 3, flatten=True), (4, 4, 1), (3, 3, 1, 2),
                   lambda k: _conv_matrix(k, (4, 4, 1), (1, 1), (0, 0), (2, 2)),
                   SynapseMatrixType.TOEPLITZ),
    # strided, TF "same" padding (ceil(5 / 2) = 3 rows, 1 padding row): PROCEDURAL_KERNELG
    "conv_strided_same": (lambda k: Conv2D(k, 2, 3, flatten=True, conv_strides=2,
                                           conv_padding="same"),
                          (5, 5, 1), (3, 3, 1, 2),
                          lambda k: _conv_matrix(k, (5, 5, 1), (2, 2), (1, 1), (3, 3)),
                          SynapseMatrixType.PROCEDURAL_KERNELG),
    # 2 x 2 x 2 -> 5 x 5 x 2: PROCEDURAL_KERNELG
    "transpose": (lambda k: Conv2DTranspose(k, 2, 3, flatten=True, conv_strides=2),
                  (2, 2, 2), (3, 3, 2, 2),
                  lambda k: _transpose_matrix(k, (2, 2, 2), (2, 2), (0, 0), (5, 5)),
                  SynapseMatrixType.PROCEDURAL_KERNELG),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_kernel_gradient_matches_finite_differences(case):
    """SpikeInput -> convolution -> LeakyIntegrate (avg_var, cross-entropy),
    batch 2: the kernel gradient against the discrete NumPy forward pass."""
    connectivity, in_shape, k_shape, matrix, matrix_type = CASES[case]
    dt, steps = 0.5, 60
    rng = np.random.default_rng(4)
    kernel = rng.normal(0.0, 1.0, k_shape)
    n_in, n_out = matrix(kernel).shape
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), in_shape)
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="avg_var"), n_out)
        conn = Connection(inp, out, connectivity(kernel), Exponential(TAU_SYN))
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=2, dt=dt).compile(net, f"ep_conv_{case}")
    events = [[(1.0 + 2.5 * j, int(i)) for j, i in enumerate(rng.permutation(n_in)[:6])]
              for _ in range(2)]
    labels = np.array([1, n_out - 2])
    with compiled:
        assert compiled.connection_populations[conn].matrix_type == matrix_type
        got = _backward_values(compiled, inp, out, [_spikes(e, n_in) for e in events], labels,
                               steps, {"g": (conn, "Gradient")})["g"].reshape(k_shape)
    spikes = [[(int(round(t / dt)), i) for t, i in e] for e in events]
    want = _central_difference(
        lambda k: _cross_entropy(np.array([_li_trace(matrix(k), s, steps, dt).mean(axis=0)
                                           for s in spikes]), labels), kernel, 1e-4)
    assert np.count_nonzero(np.abs(want) > 1e-4) >= want.size // 2
    # measured: 0.9 % (conv_valid), 0.8 % (conv_strided_same), 1.0 % (transpose)
    assert _relative_error(got * TAU_MEM, want) < 0.02


def test_hidden_convolutions_match_spike_time_reference():
    """SpikeInput -> Dense -> LIF (4 x 4 x 1) -> Conv2D -> LIF (2 x 2 x 2)
    would need a second spike-time layer in the reference; instead two
    networks cover both directions a kernel carries the adjoint:

    * input conv: SpikeInput (4 x 4 x 1) -> Conv2D -> LIF -> Dense -> output:
      the kernel acts only through hidden spike times;
    * hidden conv: SpikeInput -> Dense -> LIF (4 x 4 x 1) -> Conv2D -> output:
      the kernel's events also send ``g * (LambdaV - LambdaI)`` back into the
      hidden layer (``addToPre`` from kernel connectivity), which the input
      weights' gradient needs.
    """
    dt, t_end = 0.05, 40.0
    steps = int(round(t_end / dt))
    rng = np.random.default_rng(3)
    labels = np.array([0, 1])

    # input conv: (4, 4, 1) -> 3 x 3 kernel, 2 filters -> 8 hidden -> 2 outputs
    kernel = rng.uniform(2.0, 5.0, (3, 3, 1, 2))
    w_out = rng.normal(0.0, 1.0, (8, 2))
    examples = [[(1.0, 5), (2.0, 0), (4.0, 10), (6.0, 15)],
                [(1.0, 6), (3.0, 9), (5.0, 3), (7.0, 12)]]
    conv = lambda k: _conv_matrix(k, (4, 4, 1), (1, 1), (0, 0), (2, 2))  # noqa: E731
    got = _hidden_network(Conv2D(kernel, 2, 3, flatten=True), Dense(w_out), (4, 4, 1), 8, 2,
                          examples, labels, dt, steps, "ep_conv_in")
    want_k = _central_difference(
        lambda k: _hidden_loss(conv(k), w_out, examples, labels, dt, t_end), kernel, 1e-5)
    want_out = _central_difference(
        lambda w: _hidden_loss(conv(kernel), w, examples, labels, dt, t_end), w_out, 1e-5)
    assert np.count_nonzero(np.abs(want_k) > 1e-4) >= 12
    # measured: 1.4 % (kernel), 0.07 % (output weights)
    assert _relative_error(got["in"].reshape(kernel.shape) * TAU_MEM, want_k) < 0.05
    assert _relative_error(got["out"].reshape(w_out.shape) * TAU_MEM, want_out) < 0.01

    # hidden conv: 3 -> (4, 4, 1) hidden -> 3 x 3 kernel, 2 filters -> 8 outputs
    w_in = rng.normal(3.0, 1.5, (3, 16))
    kernel = rng.normal(0.0, 1.0, (3, 3, 1, 2))
    examples = [[(1.0, 0), (3.0, 1), (6.0, 2)], [(2.0, 1), (4.0, 0), (5.0, 2)]]
    labels = np.array([2, 5])
    got = _hidden_network(Dense(w_in), Conv2D(kernel, 2, 3, flatten=True), 3, (4, 4, 1), 8,
                          examples, labels, dt, steps, "ep_conv_hid")
    want_in = _central_difference(
        lambda w: _hidden_loss(w, conv(kernel), examples, labels, dt, t_end), w_in, 1e-5)
    want_k = _central_difference(
        lambda k: _hidden_loss(w_in, conv(k), examples, labels, dt, t_end), kernel, 1e-5)
    assert np.count_nonzero(np.abs(want_in) > 1e-4) >= 24
    # measured: 0.4 % (input weights, through the kernel's addToPre), 0.13 % (kernel)
    assert _relative_error(got["in"].reshape(w_in.shape) * TAU_MEM, want_in) < 0.05
    assert _relative_error(got["out"].reshape(kernel.shape) * TAU_MEM, want_k) < 0.01


def _hidden_network(conn_in, conn_out, in_shape, hid_shape, n_out, examples, labels, dt,
                    steps, name):
    """SpikeInput -> LIF (hidden) -> LeakyIntegrate (avg_var): the engine's
    gradients ``{"in": ..., "out": ...}`` summed over the batch."""
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), in_shape)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=TAU_MEM), hid_shape)
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="avg_var"), n_out)
        c_in = Connection(inp, hid, conn_in, Exponential(TAU_SYN))
        c_out = Connection(hid, out, conn_out, Exponential(TAU_SYN))
    compiled = EventPropCompiler(steps, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=len(examples), dt=dt).compile(net, name)
    n_in = int(np.prod(inp.shape))
    with compiled:
        return _backward_values(compiled, inp, out, [_spikes(e, n_in) for e in examples],
                                labels, steps, {"in": (c_in, "Gradient"),
                                                "out": (c_out, "Gradient")})


def test_kernel_checkpoint_round_trip(tmp_path):
    """Adam trains the kernel; a checkpoint saves it and Network.load puts
    it back (as the flat kernel, which Conv2D takes)."""
    np.random.seed(0)
    rng = np.random.default_rng(8)
    kernel = rng.normal(0.0, 1.0, (3, 3, 1, 2))
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), (4, 4, 1))
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="avg_var"), 8)
        conn = Connection(inp, out, Conv2D(kernel, 2, 3, flatten=True), Exponential(TAU_SYN))
    x = [_spikes([(1.0 + j, int(i)) for j, i in enumerate(rng.permutation(16)[:5])], 16)
         for _ in range(8)]
    y = rng.integers(0, 8, 8)
    compiled = EventPropCompiler(20, "sparse_categorical_crossentropy", optimiser=Adam(0.05),
                                 batch_size=2).compile(net, "ep_conv_checkpoint")
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=2,
                       callbacks=[Checkpoint(Numpy(str(tmp_path)))])
        genn_syn = compiled.connection_populations[conn]
        genn_syn.vars["g"].pull_from_device()
        trained = np.array(genn_syn.vars["g"].values, copy=True)
    assert trained.shape == (kernel.size,)
    # every entry saw a gradient: Adam moved each by about its learning rate
    assert np.all(np.abs(trained - kernel.ravel()) > 0.01)
    net.load((1,), Numpy(str(tmp_path)))
    np.testing.assert_array_equal(np.ravel(conn.connectivity.weight), trained)
    compiled = EventPropCompiler(20, "sparse_categorical_crossentropy", optimiser=Adam(0.0),
                                 batch_size=2).compile(net, "ep_conv_checkpoint_reload")
    with compiled:
        genn_syn = compiled.connection_populations[conn]
        genn_syn.vars["g"].pull_from_device()
        np.testing.assert_array_equal(genn_syn.vars["g"].values, trained)


# -- unsupported configurations ---------------------------------------------------
def _conv_net(connectivity, **connection_kwargs):
    def build():
        inp = Population(SpikeInput(max_spikes=10), (4, 4, 1))
        hid = Population(LeakyIntegrateFire(), (2, 2, 2))
        Connection(inp, hid, connectivity, Exponential(), **connection_kwargs)
        Connection(hid, _li(), Dense(1.0), Exponential())
    return build


def test_error_kernel_connectivity_with_delays():
    _compile_error(_conv_net(Conv2D(1.0, 2, 3, delay=2)),
                   r"\(Conv2D\) shares kernel weights and has delays.*use delay=0",
                   NotImplementedError)
    _compile_error(_conv_net(Conv2D(1.0, 2, 3, delay=np.ones((3, 3, 1, 2)))),
                   "shares kernel weights and has delays", NotImplementedError)


def test_error_kernel_connectivity_with_learned_delays():
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=10), (4, 4, 1))
        hid = Population(LeakyIntegrateFire(), (2, 2, 2))
        conn = Connection(inp, hid, Conv2D(1.0, 2, 3), Exponential(), max_delay_steps=4)
        Connection(hid, _li(), Dense(1.0), Exponential())
    with pytest.raises(NotImplementedError, match="shares kernel weights and has learned delays"):
        EventPropCompiler(20, "sparse_categorical_crossentropy",
                          delay_learn_conns=[conn]).compile(net, "ep_error")


def test_error_avg_pool_conv2d():
    _compile_error(_conv_net(AvgPoolConv2D(np.ones((1, 1, 1, 2)), 2, 2, 1)),
                   "AvgPoolConv2D.*Network.load would divide again.*use AvgPool2D followed "
                   "by a Conv2D", NotImplementedError)
