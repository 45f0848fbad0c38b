"""ml_genn.connectivity and ml_genn.utils.connectivity.

Shape inference and errors are checked directly; numerics by pushing one
spike per active input neuron through the engine (every matrix type each
class offers) and comparing the integrated target input with independent
NumPy references: TF-style cross-correlation with explicit padding,
transposed convolution as the adjoint of the forward convolution, average
pooling by explicit windows.
"""
import itertools
from math import prod
from types import SimpleNamespace

import numpy as np
import pytest

from ml_genn.connectivity import (AvgPool2D, AvgPoolConv2D, AvgPoolDense2D, Connectivity,
                                  Conv2D, Conv2DTranspose, Dense, FixedProbability,
                                  OneToOne, default_connectivity)
from ml_genn.genn import (GeNNModel, SynapseMatrixType, VarAccess, create_neuron_model,
                          init_postsynaptic, init_var, init_weight_update)
from ml_genn.initializers import Normal, Uniform
from ml_genn.utils.connectivity import (KernelInit, PadMode, get_conv_same_padding,
                                        get_param_2d, update_target_shape)
from ml_genn.utils.value import is_value_constant, is_value_initializer

M = SynapseMatrixType

try:
    from ml_genn.compilers.compiler import SupportedMatrixType
except ImportError:       # compilers not written yet: a stand-in with the same contract
    class SupportedMatrixType:
        def __init__(self, supported):
            self.supported = list(supported)

        def get_best(self, available):
            for m in self.supported:
                if m in available:
                    return m
            return None

ALL_TYPES = [M.DENSE, M.SPARSE, M.PROCEDURAL, M.PROCEDURAL_KERNELG, M.TOEPLITZ]


# ---------------------------------------------------------------------------
# stand-ins for populations / connections (connect() only needs .shape)
# ---------------------------------------------------------------------------
class Pop:
    def __init__(self, shape=None):
        self.shape = None if shape is None else tuple(shape)


def make_conn(src, trg, name="Conn"):
    return SimpleNamespace(source=lambda: src, target=lambda: trg, name=name)


def connected(connectivity, src_shape, trg_shape=None):
    src, trg = Pop(src_shape), Pop(trg_shape)
    connectivity.connect(src, trg)
    return src, trg, make_conn(src, trg)


def snippet_for(connectivity, src_shape, matrix_types, trg_shape=None):
    _, _, conn = connected(connectivity, src_shape, trg_shape)
    return connectivity.get_snippet(conn, SupportedMatrixType(matrix_types))


# ---------------------------------------------------------------------------
# engine harness: spike once where x == 1, integrate V += Isyn
# ---------------------------------------------------------------------------
ONCE_SOURCE = create_neuron_model(
    "OnceSource",
    vars=[("Input", "scalar", VarAccess.READ_ONLY_DUPLICATE), ("Spiked", "scalar")],
    threshold_condition_code="Input > 0.5 && Spiked == 0.0",
    reset_code="Spiked = 1.0;")
INTEGRATOR = create_neuron_model("Integrator", vars=[("V", "scalar")], sim_code="V += Isyn;")


def weight_update_init(weight):
    if is_value_constant(weight):
        return init_weight_update("StaticPulseConstantWeight", {"g": weight})
    if is_value_initializer(weight):
        s = weight.get_snippet()
        value = init_var(s.snippet, dict(s.param_vals))
        value.extra_global_params.update(s.egp_vals)
    else:
        value = np.asarray(weight)
    return init_weight_update("StaticPulse", {}, {"g": value})


_model_counter = itertools.count()


def simulate(connectivity, src_shape, x, matrix_types, trg_shape=None, seed=1):
    """V of the target after 2 steps, per matrix type, shaped (batch,) + target shape.

    Also returns the engine synapse groups (to read sampled kernels)."""
    src, trg, conn = connected(connectivity, src_shape, trg_shape)
    batch = x.shape[0]
    model = GeNNModel("float", f"conn_test{next(_model_counter)}")
    model.dt = 1.0
    model.batch_size = batch
    model.seed = seed
    n_pre, n_post = prod(src.shape), prod(trg.shape)
    source = model.add_neuron_population("Src", n_pre, ONCE_SOURCE, {},
                                         {"Input": x.reshape(batch, n_pre), "Spiked": 0.0})
    targets, groups = {}, {}
    for mt in matrix_types:
        cs = connectivity.get_snippet(conn, SupportedMatrixType([mt]))
        assert cs.matrix_type == mt
        target = model.add_neuron_population(f"Trg{mt.name}", n_post, INTEGRATOR, {},
                                             {"V": 0.0})
        sg = model.add_synapse_population(f"Syn{mt.name}", cs.matrix_type, source, target,
                                          weight_update_init(cs.weight),
                                          init_postsynaptic("DeltaCurr"), cs.snippet)
        if cs.pre_ind is not None:
            sg.set_sparse_connections(cs.pre_ind, cs.post_ind)
        targets[mt], groups[mt] = target, sg
    model.build()
    model.load()
    model.run(2)
    out = {mt: t.vars["V"].view.reshape((batch,) + tuple(trg.shape)).copy()
           for mt, t in targets.items()}
    return out, groups, trg.shape


def spikes(rng, shape, batch=2, p=0.5):
    return (rng.random((batch,) + tuple(shape)) < p).astype(np.float32)


def quarter_ints(rng, shape, lo=-8, hi=8):
    """Weights that are exact in float32 (sums too, for these sizes)."""
    return rng.integers(lo, hi + 1, size=shape).astype(np.float32) / 4


# ---------------------------------------------------------------------------
# independent NumPy references
# ---------------------------------------------------------------------------
def tf_same_pads(in_size, k, s):
    out = -(-in_size // s)
    total = max((out - 1) * s + k - in_size, 0)
    return total // 2, total - total // 2


def conv2d_ref(x, w, strides, padding):
    """TF conv2d: x (B, H, W, C), w (kh, kw, ic, oc)."""
    kh, kw, _, oc = w.shape
    sh, sw = strides
    if padding == "same":
        x = np.pad(x, ((0, 0), tf_same_pads(x.shape[1], kh, sh),
                       tf_same_pads(x.shape[2], kw, sw), (0, 0)))
        oh, ow = -(-(x.shape[1] - kh + 1) // sh), -(-(x.shape[2] - kw + 1) // sw)
    else:
        oh, ow = -(-(x.shape[1] - kh + 1) // sh), -(-(x.shape[2] - kw + 1) // sw)
    out = np.zeros((x.shape[0], oh, ow, oc))
    for oy in range(oh):
        for ox in range(ow):
            patch = x[:, oy * sh:oy * sh + kh, ox * sw:ox * sw + kw, :]
            out[:, oy, ox, :] = np.einsum("bhwc,hwco->bo", patch, w)
    return out


def conv2d_transpose_ref(x, w, strides, padding, out_hw):
    """TF conv2d_transpose = adjoint of conv2d whose input has shape out_hw.

    w (kh, kw, filters, ic) is the HWIO kernel of that forward convolution
    (filters -> ic)."""
    oh, ow = out_hw
    filters = w.shape[2]
    n_out = oh * ow * filters
    basis = np.eye(n_out).reshape(n_out, oh, ow, filters)
    forward = conv2d_ref(basis, w, strides, padding)      # (n_out, ih, iw, ic)
    assert forward.shape[1:] == x.shape[1:]
    matrix = forward.reshape(n_out, -1)                  # forward: y_flat @ matrix
    return (x.reshape(x.shape[0], -1) @ matrix.T).reshape(x.shape[0], oh, ow, filters)


def avg_pool_ref(x, size, strides):
    (kh, kw), (sh, sw) = size, strides
    oh, ow = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for oy in range(oh):
        for ox in range(ow):
            out[:, oy, ox, :] = x[:, oy * sh:oy * sh + kh, ox * sw:ox * sw + kw, :].mean(
                axis=(1, 2))
    return out


# ===========================================================================
# utils.connectivity
# ===========================================================================
def test_get_param_2d():
    assert get_param_2d("a", 3) == (3, 3)
    assert get_param_2d("a", (2, 5)) == (2, 5)
    assert get_param_2d("a", [4, 1]) == (4, 1)
    assert get_param_2d("a", None, default=(1, 1)) == (1, 1)
    with pytest.raises(ValueError, match="cannot be None"):
        get_param_2d("conv_size", None)
    with pytest.raises(ValueError):
        get_param_2d("a", (1, 2, 3))
    with pytest.raises(TypeError):
        get_param_2d("a", 2.5)
    with pytest.raises(TypeError):
        get_param_2d("a", "3")


def test_pad_mode():
    assert PadMode("valid") is PadMode.VALID and PadMode("same") is PadMode.SAME
    with pytest.raises(ValueError):
        PadMode("full")


@pytest.mark.parametrize("in_size", range(1, 12))
@pytest.mark.parametrize("k", range(1, 6))
@pytest.mark.parametrize("s", range(1, 4))
def test_conv_same_padding_is_tf(in_size, k, s):
    assert get_conv_same_padding(in_size, k, s) == tf_same_pads(in_size, k, s)[0]


def test_update_target_shape():
    t = Pop()
    update_target_shape(t, (2, 3, 4), False)
    assert t.shape == (2, 3, 4)
    update_target_shape(t, (2, 3, 4), False)
    t = Pop()
    update_target_shape(t, (2, 3, 4), True)
    assert t.shape == (24,)
    update_target_shape(t, (2, 3, 4), True)
    with pytest.raises(RuntimeError, match="doesn't match"):
        update_target_shape(Pop((2, 3, 5)), (2, 3, 4), False)
    with pytest.raises(RuntimeError):
        update_target_shape(Pop((2, 3, 4)), (2, 3, 4), True)


def test_kernel_init():
    k = np.arange(24.0).reshape(2, 3, 2, 2)
    s = KernelInit(k).get_snippet()
    assert s.snippet == "Kernel" and s.param_vals == {}
    np.testing.assert_array_equal(s.egp_vals["kernel"], k.flatten())


def test_package_surface():
    import ml_genn.connectivity as c
    assert default_connectivity == {}
    assert sorted(c.__all__) == sorted(
        ["AvgPool2D", "AvgPoolConv2D", "AvgPoolDense2D", "Connectivity", "Conv2D",
         "Conv2DTranspose", "Dense", "FixedProbability", "OneToOne", "default_connectivity"])
    for name in c.__all__[:-1]:
        assert issubclass(getattr(c, name), Connectivity)


def test_no_supported_matrix_type_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="Conv2D.*compiler supports none"):
        snippet_for(Conv2D(1.0, 2, 3), (5, 5, 1), [M.DENSE])
    with pytest.raises(NotImplementedError, match="Dense"):
        snippet_for(Dense(np.ones((2, 3))), None, [M.SPARSE])


# ===========================================================================
# Dense
# ===========================================================================
def test_dense_shapes():
    w = np.ones((4, 3))
    src, trg, _ = connected(Dense(w), None)
    assert src.shape == (4,) and trg.shape == (3,)
    connected(Dense(w), (4,), (3,))
    with pytest.raises(RuntimeError, match="source"):
        connected(Dense(w), (5,))
    with pytest.raises(RuntimeError, match="target"):
        connected(Dense(w), (4,), (2, 1))
    with pytest.raises(RuntimeError):
        connected(Dense(w), (2, 3))
    # multi-dimensional populations of the right size (C-order flattening)
    connected(Dense(w), (2, 2), (3, 1))
    with pytest.raises(NotImplementedError):
        Dense(np.ones(12))
    with pytest.raises(RuntimeError, match="same shape"):
        Dense(w, delay=np.ones((3, 4)))
    # constants infer nothing
    src, trg, _ = connected(Dense(1.0), None)
    assert src.shape is None and trg.shape is None


def test_dense_snippet():
    w = np.arange(12.0).reshape(4, 3)
    cs = snippet_for(Dense(w, delay=2), None, ALL_TYPES[::-1])
    assert cs.matrix_type == M.DENSE and cs.snippet is None and cs.delay == 2
    np.testing.assert_array_equal(cs.weight, w.flatten())
    assert cs.trainable


def test_dense_numerics():
    rng = np.random.default_rng(1)
    w = quarter_ints(rng, (9, 5))
    x = spikes(rng, (9,))
    out, _, shape = simulate(Dense(w), None, x, [M.DENSE])
    assert shape == (5,)
    np.testing.assert_array_equal(out[M.DENSE], x @ w)
    out, _, _ = simulate(Dense(0.75), (9,), x, [M.DENSE], trg_shape=(5,))
    np.testing.assert_array_equal(out[M.DENSE], np.repeat(x.sum(1, keepdims=True) * 0.75,
                                                          5, axis=1))


# ===========================================================================
# OneToOne
# ===========================================================================
def test_one_to_one_shapes():
    src, trg, _ = connected(OneToOne(1.0), (2, 3))
    assert trg.shape == (2, 3)
    with pytest.raises(RuntimeError, match="equal source and target"):
        connected(OneToOne(1.0), (2, 3), (6,))
    with pytest.raises(RuntimeError, match="values"):
        connected(OneToOne(np.ones(5)), (2, 3))


def test_one_to_one_matrix_types():
    assert snippet_for(OneToOne(1.0), (4,), [M.PROCEDURAL, M.SPARSE]).matrix_type == \
        M.PROCEDURAL
    assert snippet_for(OneToOne(Normal()), (4,), [M.PROCEDURAL, M.SPARSE]).matrix_type == \
        M.PROCEDURAL
    # per-neuron arrays need stored synapses
    cs = snippet_for(OneToOne(np.ones((2, 2))), (2, 2), [M.PROCEDURAL, M.SPARSE])
    assert cs.matrix_type == M.SPARSE and cs.weight.shape == (4,)
    with pytest.raises(NotImplementedError):
        snippet_for(OneToOne(np.ones(4)), (4,), [M.PROCEDURAL, M.DENSE])


def test_one_to_one_numerics():
    rng = np.random.default_rng(2)
    x = spikes(rng, (3, 4))
    w = quarter_ints(rng, (3, 4))
    out, _, _ = simulate(OneToOne(w), (3, 4), x, [M.SPARSE])
    np.testing.assert_array_equal(out[M.SPARSE], x * w)
    out, _, _ = simulate(OneToOne(-1.25), (3, 4), x, [M.SPARSE, M.PROCEDURAL])
    for v in out.values():
        np.testing.assert_array_equal(v, x * -1.25)


# ===========================================================================
# Conv2D
# ===========================================================================
def test_conv2d_shapes_and_errors():
    _, trg, _ = connected(Conv2D(1.0, 4, 3), (8, 7, 2))
    assert trg.shape == (6, 5, 4)
    _, trg, _ = connected(Conv2D(1.0, 4, (3, 2), conv_strides=2), (8, 7, 2))
    assert trg.shape == (3, 3, 4)
    _, trg, _ = connected(Conv2D(1.0, 4, 3, conv_strides=(2, 3), conv_padding="same"),
                          (8, 7, 2))
    assert trg.shape == (4, 3, 4)
    _, trg, _ = connected(Conv2D(1.0, 4, 3, flatten=True, conv_padding="same"), (8, 7, 2))
    assert trg.shape == (8 * 7 * 4,)
    connected(Conv2D(1.0, 4, 3), (8, 7, 2), (6, 5, 4))
    with pytest.raises(RuntimeError, match="doesn't match"):
        connected(Conv2D(1.0, 4, 3), (8, 7, 2), (6, 5, 3))
    with pytest.raises(RuntimeError, match="3-D"):
        connected(Conv2D(1.0, 4, 3), (8, 7))
    with pytest.raises(RuntimeError, match="3-D"):
        connected(Conv2D(1.0, 4, 3), None)
    with pytest.raises(RuntimeError, match="expected"):
        connected(Conv2D(np.ones((3, 3, 1, 4)), 4, 3), (8, 7, 2))
    with pytest.raises(RuntimeError, match="expected"):
        connected(Conv2D(np.ones((3, 3, 2, 4)), 4, 3, delay=np.ones((3, 3, 2, 3))),
                  (8, 7, 2))
    with pytest.raises(RuntimeError, match="too small"):
        connected(Conv2D(1.0, 4, 5), (4, 7, 2))
    with pytest.raises(ValueError):
        Conv2D(1.0, 4, 3, conv_padding="full")
    with pytest.raises(ValueError):
        Conv2D(1.0, 4, None)


def test_conv2d_matrix_types_and_values():
    w = np.arange(3 * 3 * 2 * 4.0).reshape(3, 3, 2, 4)
    d = np.ones((3, 3, 2, 4))
    conv = Conv2D(w, 4, 3, delay=d)
    # priority order of the compiler wins among the available types
    for mt in (M.TOEPLITZ, M.PROCEDURAL_KERNELG, M.SPARSE):
        cs = snippet_for(conv, (8, 7, 2), [M.DENSE, mt] + ALL_TYPES)
        assert cs.matrix_type == mt
        if mt == M.SPARSE:
            assert isinstance(cs.weight, KernelInit) and isinstance(cs.delay, KernelInit)
            np.testing.assert_array_equal(cs.weight.get_snippet().egp_vals["kernel"],
                                          w.flatten())
        else:
            np.testing.assert_array_equal(cs.weight, w.flatten())
            np.testing.assert_array_equal(cs.delay, d.flatten())
    # no Toeplitz form with strides
    cs = snippet_for(Conv2D(w, 4, 3, conv_strides=(1, 2)), (8, 7, 2),
                     [M.TOEPLITZ, M.PROCEDURAL_KERNELG])
    assert cs.matrix_type == M.PROCEDURAL_KERNELG
    with pytest.raises(NotImplementedError):
        snippet_for(Conv2D(w, 4, 3, conv_strides=2), (8, 7, 2), [M.TOEPLITZ, M.DENSE])
    # initializers and constants pass through
    cs = snippet_for(Conv2D(Uniform(), 4, 3), (8, 7, 2), [M.SPARSE])
    assert isinstance(cs.weight, Uniform)


CONV_CASES = [
    # src shape, filters, kernel, strides, padding
    ((6, 5, 1), 2, (3, 3), (1, 1), "valid"),
    ((6, 5, 2), 3, (3, 2), (1, 1), "same"),
    ((7, 6, 3), 2, (2, 2), (1, 1), "same"),          # even kernel: pad after
    ((7, 6, 2), 3, (3, 3), (2, 2), "valid"),
    ((7, 6, 2), 2, (3, 3), (2, 2), "same"),          # 7 % 2 != 0
    ((8, 7, 1), 2, (4, 3), (2, 3), "same"),
    ((7, 7, 3), 1, (2, 3), (2, 1), "valid"),
    ((5, 6, 2), 2, (1, 1), (2, 2), "same"),
]


@pytest.mark.parametrize("src_shape, filters, kernel, strides, padding", CONV_CASES)
def test_conv2d_numerics(src_shape, filters, kernel, strides, padding):
    rng = np.random.default_rng(sum(src_shape) + filters)
    w = quarter_ints(rng, kernel + (src_shape[2], filters))
    x = spikes(rng, src_shape)
    types = [M.SPARSE, M.PROCEDURAL_KERNELG] + ([M.TOEPLITZ] if strides == (1, 1) else [])
    out, _, shape = simulate(Conv2D(w, filters, kernel, conv_strides=strides,
                                    conv_padding=padding), src_shape, x, types)
    ref = conv2d_ref(x, w, strides, padding)
    assert shape == ref.shape[1:]
    for mt, v in out.items():
        np.testing.assert_array_equal(v, ref, err_msg=mt.name)


def test_conv2d_constant_and_initializer_weights():
    rng = np.random.default_rng(5)
    src_shape = (6, 6, 2)
    x = spikes(rng, src_shape)
    types = [M.SPARSE, M.PROCEDURAL_KERNELG, M.TOEPLITZ]
    out, _, _ = simulate(Conv2D(0.5, 3, 3, conv_padding="same"), src_shape, x, types)
    ref = conv2d_ref(x, np.full((3, 3, 2, 3), 0.5), (1, 1), "same")
    for mt, v in out.items():
        np.testing.assert_array_equal(v, ref, err_msg=mt.name)
    # kernel weight types share one sampled kernel: read it back
    out, groups, _ = simulate(Conv2D(Uniform(-1.0, 1.0), 3, 3), src_shape, x,
                              [M.PROCEDURAL_KERNELG, M.TOEPLITZ])
    for mt, v in out.items():
        kernel = groups[mt].vars["g"].view.reshape(3, 3, 2, 3)
        assert np.all(np.abs(kernel) <= 1.0) and np.std(kernel) > 0.1
        np.testing.assert_allclose(v, conv2d_ref(x, kernel.astype(np.float64), (1, 1),
                                                 "valid"), rtol=1e-5, atol=1e-5)


# ===========================================================================
# Conv2DTranspose
# ===========================================================================
def test_conv2d_transpose_shapes_and_errors():
    _, trg, _ = connected(Conv2DTranspose(1.0, 4, 3), (4, 5, 2))
    assert trg.shape == (6, 7, 4)
    _, trg, _ = connected(Conv2DTranspose(1.0, 4, 3, conv_strides=2), (4, 5, 2))
    assert trg.shape == (9, 11, 4)
    _, trg, _ = connected(Conv2DTranspose(1.0, 4, (1, 3), conv_strides=2), (4, 5, 2))
    assert trg.shape == (8, 11, 4)
    _, trg, _ = connected(Conv2DTranspose(1.0, 4, 3, conv_strides=(2, 3),
                                          conv_padding="same"), (4, 5, 2))
    assert trg.shape == (8, 15, 4)
    _, trg, _ = connected(Conv2DTranspose(1.0, 4, 3, flatten=True), (4, 5, 2))
    assert trg.shape == (6 * 7 * 4,)
    with pytest.raises(RuntimeError, match="expected"):
        # (kh, kw, filters, ic), not HWIO
        connected(Conv2DTranspose(np.ones((3, 3, 2, 4)), 4, 3), (4, 5, 2))
    with pytest.raises(RuntimeError, match="3-D"):
        connected(Conv2DTranspose(1.0, 4, 3), (20,))
    with pytest.raises(RuntimeError, match="doesn't match"):
        connected(Conv2DTranspose(1.0, 4, 3), (4, 5, 2), (6, 7, 3))
    cs = snippet_for(Conv2DTranspose(np.ones((3, 3, 4, 2)), 4, 3), (4, 5, 2),
                     [M.TOEPLITZ, M.DENSE, M.SPARSE, M.PROCEDURAL_KERNELG])
    assert cs.matrix_type == M.SPARSE and isinstance(cs.weight, KernelInit)
    with pytest.raises(NotImplementedError):
        snippet_for(Conv2DTranspose(1.0, 4, 3), (4, 5, 2), [M.TOEPLITZ, M.DENSE])


TRANSPOSE_CASES = [
    ((3, 4, 1), 2, (3, 3), (1, 1), "valid"),
    ((3, 4, 2), 2, (3, 3), (2, 2), "valid"),
    ((3, 3, 2), 3, (3, 2), (2, 2), "same"),          # odd input, stride 2
    ((4, 3, 1), 2, (4, 4), (2, 2), "same"),
    ((3, 4, 2), 1, (1, 2), (2, 3), "valid"),         # kernel < stride
    ((3, 4, 3), 2, (2, 3), (3, 1), "same"),
]


@pytest.mark.parametrize("src_shape, filters, kernel, strides, padding", TRANSPOSE_CASES)
def test_conv2d_transpose_numerics(src_shape, filters, kernel, strides, padding):
    rng = np.random.default_rng(sum(src_shape) * 7 + filters)
    w = quarter_ints(rng, kernel + (filters, src_shape[2]))
    x = spikes(rng, src_shape)
    out, _, shape = simulate(Conv2DTranspose(w, filters, kernel, conv_strides=strides,
                                             conv_padding=padding),
                             src_shape, x, [M.SPARSE, M.PROCEDURAL_KERNELG])
    ref = conv2d_transpose_ref(x, w, strides, padding, shape[:2])
    for mt, v in out.items():
        np.testing.assert_array_equal(v, ref, err_msg=mt.name)


# ===========================================================================
# AvgPool2D
# ===========================================================================
def test_avg_pool_2d_shapes_and_errors():
    _, trg, _ = connected(AvgPool2D(2), (7, 6, 3))
    assert trg.shape == (3, 3, 3)
    _, trg, _ = connected(AvgPool2D((2, 3), pool_strides=(3, 4)), (8, 9, 2))
    assert trg.shape == (3, 2, 2)
    _, trg, _ = connected(AvgPool2D(2, flatten=True), (4, 4, 2))
    assert trg.shape == (8,)
    with pytest.raises(NotImplementedError):
        AvgPool2D(3, pool_strides=2)
    with pytest.raises(NotImplementedError):
        AvgPool2D(2, delay=np.ones(4))
    with pytest.raises(RuntimeError, match="3-D"):
        connected(AvgPool2D(2), (4, 4))
    with pytest.raises(RuntimeError, match="too small"):
        connected(AvgPool2D(3), (2, 4, 1))
    pool = AvgPool2D((2, 3), delay=2)
    assert pool.weight == pytest.approx(1 / 6)
    cs = snippet_for(pool, (4, 6, 1), [M.PROCEDURAL, M.SPARSE])
    assert cs.matrix_type == M.PROCEDURAL and not cs.trainable and cs.delay == 2
    assert snippet_for(AvgPool2D(2), (4, 4, 1), [M.SPARSE]).matrix_type == M.SPARSE
    with pytest.raises(NotImplementedError):
        snippet_for(AvgPool2D(2), (4, 4, 1), [M.DENSE, M.TOEPLITZ])


@pytest.mark.parametrize("src_shape, size, strides", [
    ((6, 6, 1), (2, 2), None),
    ((7, 5, 2), (2, 2), (2, 2)),                     # leftover row/col
    ((8, 9, 3), (2, 3), (3, 4)),                     # stride > size: gaps
])
def test_avg_pool_2d_numerics(src_shape, size, strides):
    rng = np.random.default_rng(prod(src_shape))
    x = spikes(rng, src_shape)
    out, _, shape = simulate(AvgPool2D(size, pool_strides=strides), src_shape, x,
                             [M.SPARSE, M.PROCEDURAL])
    ref = avg_pool_ref(x, size, strides or size)
    assert shape == ref.shape[1:]
    for mt, v in out.items():
        np.testing.assert_allclose(v, ref, rtol=1e-6, err_msg=mt.name)


# ===========================================================================
# AvgPoolConv2D
# ===========================================================================
def test_avg_pool_conv_2d_shapes_and_errors():
    w = np.ones((3, 3, 2, 4))
    _, trg, _ = connected(AvgPoolConv2D(w, 4, 2, 3), (9, 8, 2))
    assert trg.shape == (2, 2, 4)
    _, trg, _ = connected(AvgPoolConv2D(w, 4, 2, 3, conv_padding="same"), (9, 8, 2))
    assert trg.shape == (4, 4, 4)
    _, trg, _ = connected(AvgPoolConv2D(w, 4, 2, 3, flatten=True, pool_strides=3),
                          (9, 8, 2))
    assert trg.shape == (4,)
    with pytest.raises(NotImplementedError):
        AvgPoolConv2D(w, 4, 2, 3, conv_strides=2)
    with pytest.raises(NotImplementedError):
        AvgPoolConv2D(w, 4, 3, 3, pool_strides=2)
    with pytest.raises(NotImplementedError):
        AvgPoolConv2D(Normal(), 4, 2, 3)
    with pytest.raises(RuntimeError, match="expected"):
        connected(AvgPoolConv2D(w, 4, 2, 3), (9, 8, 3))
    with pytest.raises(RuntimeError, match="too small"):
        connected(AvgPoolConv2D(w, 4, 2, 3), (5, 8, 2))
    # Toeplitz needs valid padding or odd kernels
    src = (9, 8, 2)
    cs = snippet_for(AvgPoolConv2D(w, 4, 2, 3, conv_padding="same"), src,
                     [M.TOEPLITZ, M.SPARSE])
    assert cs.matrix_type == M.TOEPLITZ
    np.testing.assert_array_equal(cs.weight, w.flatten() / 4)
    w2 = np.ones((2, 3, 2, 4))
    assert snippet_for(AvgPoolConv2D(w2, 4, 2, (2, 3)), src,
                       [M.TOEPLITZ, M.SPARSE]).matrix_type == M.TOEPLITZ
    cs = snippet_for(AvgPoolConv2D(w2, 4, 2, (2, 3), conv_padding="same"), src,
                     [M.TOEPLITZ, M.SPARSE])
    assert cs.matrix_type == M.SPARSE and isinstance(cs.weight, KernelInit)


@pytest.mark.parametrize("src_shape, filters, pool, pool_strides, kernel, padding", [
    ((8, 8, 1), 2, (2, 2), None, (3, 3), "valid"),
    ((9, 7, 2), 3, (2, 2), None, (3, 3), "same"),
    ((10, 9, 2), 2, (2, 3), (3, 3), (2, 2), "valid"),
    ((8, 9, 3), 2, (2, 2), (2, 3), (2, 3), "same"),
])
def test_avg_pool_conv_2d_numerics(src_shape, filters, pool, pool_strides, kernel,
                                   padding):
    rng = np.random.default_rng(prod(src_shape) + filters)
    w = quarter_ints(rng, kernel + (src_shape[2], filters))
    x = spikes(rng, src_shape)
    conn = AvgPoolConv2D(w, filters, pool, kernel, pool_strides=pool_strides,
                         conv_padding=padding)
    types = [M.SPARSE, M.PROCEDURAL_KERNELG]
    if padding == "valid" or all(k % 2 == 1 for k in kernel):
        types.append(M.TOEPLITZ)
    out, _, shape = simulate(conn, src_shape, x, types)
    ref = conv2d_ref(avg_pool_ref(x, pool, pool_strides or pool), w, (1, 1), padding)
    assert shape == ref.shape[1:]
    for mt, v in out.items():
        np.testing.assert_allclose(v, ref, rtol=1e-5, atol=1e-6, err_msg=mt.name)


# ===========================================================================
# AvgPoolDense2D
# ===========================================================================
def test_avg_pool_dense_2d_shapes_and_errors():
    w = np.ones((3 * 2 * 2, 5))
    _, trg, _ = connected(AvgPoolDense2D(w, 2), (7, 5, 2))
    assert trg.shape == (5,)
    with pytest.raises(RuntimeError, match="rows"):
        connected(AvgPoolDense2D(w, 2), (8, 8, 2))
    with pytest.raises(RuntimeError, match="doesn't match"):
        connected(AvgPoolDense2D(w, 2), (7, 5, 2), (4,))
    with pytest.raises(NotImplementedError):
        AvgPoolDense2D(1.0, 2)
    with pytest.raises(NotImplementedError):
        AvgPoolDense2D(np.ones(12), 2)
    with pytest.raises(NotImplementedError):
        AvgPoolDense2D(w, 3, pool_strides=2)
    cs = snippet_for(AvgPoolDense2D(w, 2), (7, 5, 2), [M.SPARSE, M.DENSE])
    assert cs.matrix_type == M.DENSE and cs.snippet is None
    assert cs.weight.shape == (7 * 5 * 2 * 5,)


@pytest.mark.parametrize("src_shape, pool, strides", [
    ((6, 6, 1), (2, 2), None),
    ((7, 8, 2), (2, 3), (3, 3)),
])
def test_avg_pool_dense_2d_numerics(src_shape, pool, strides):
    rng = np.random.default_rng(prod(src_shape) + 3)
    pooled = avg_pool_ref(np.zeros((1,) + src_shape), pool, strides or pool).shape[1:]
    w = quarter_ints(rng, (prod(pooled), 6))
    x = spikes(rng, src_shape)
    out, _, shape = simulate(AvgPoolDense2D(w, pool, pool_strides=strides), src_shape, x,
                             [M.DENSE])
    ref = avg_pool_ref(x, pool, strides or pool).reshape(x.shape[0], -1) @ w
    assert shape == (6,)
    np.testing.assert_allclose(out[M.DENSE], ref, rtol=1e-5, atol=1e-6)


def test_avg_pool_dense_2d_accepts_expanded_weights():
    """Network.load hands back the compiled (expanded) matrix: used as is."""
    rng = np.random.default_rng(4)
    w = quarter_ints(rng, (2 * 2 * 1, 3))
    conn = AvgPoolDense2D(w, 2)
    _, _, c = connected(conn, (5, 4, 1))
    expanded = conn.get_snippet(c, SupportedMatrixType([M.DENSE])).weight
    g = expanded.reshape(20, 3)
    # pixel (y, x) in window (y // 2, x // 2); row 4 lies outside every window
    np.testing.assert_array_equal(g[4 * 4:], 0.0)
    np.testing.assert_array_equal(g[1 * 4 + 3], w[1] / 4)
    conn.weight = expanded
    np.testing.assert_array_equal(
        conn.get_snippet(c, SupportedMatrixType([M.DENSE])).weight, expanded)


# ===========================================================================
# FixedProbability and explicit sparse connectivity
# ===========================================================================
def test_fixed_probability_snippets_and_errors():
    fp = FixedProbability(0.25, 1.0)
    src, trg, _ = connected(fp, None)
    assert src.shape is None and trg.shape is None
    src, trg = Pop((6,)), Pop((5,))
    cs = fp.get_snippet(make_conn(src, trg), SupportedMatrixType([M.PROCEDURAL, M.SPARSE]))
    assert cs.matrix_type == M.PROCEDURAL
    assert cs.snippet.snippet.class_name == "FixedProbability"
    assert cs.snippet.params == {"prob": 0.25}
    # recurrent: no autapses unless allowed
    cs = fp.get_snippet(make_conn(src, src), SupportedMatrixType([M.SPARSE]))
    assert cs.snippet.snippet.class_name == "FixedProbabilityNoAutapse"
    cs = FixedProbability(0.25, 1.0, allow_self_connections=True).get_snippet(
        make_conn(src, src), SupportedMatrixType([M.SPARSE]))
    assert cs.snippet.snippet.class_name == "FixedProbability"
    with pytest.raises(RuntimeError):
        FixedProbability("0.5", 1.0)
    with pytest.raises(ValueError):
        FixedProbability(1.5, 1.0)
    # arrays need explicit synapses
    with pytest.raises(RuntimeError, match="pre_ind"):
        FixedProbability(0.5, np.ones(3)).get_snippet(make_conn(src, trg),
                                                      SupportedMatrixType([M.SPARSE]))
    fp = FixedProbability(0.5, 1.0)
    fp.pre_ind = np.array([0, 1])
    with pytest.raises(RuntimeError, match="both"):
        fp.get_snippet(make_conn(src, trg), SupportedMatrixType([M.SPARSE]))
    fp.post_ind = np.array([0, 1, 2])
    with pytest.raises(RuntimeError, match="differ"):
        fp.get_snippet(make_conn(src, trg), SupportedMatrixType([M.SPARSE]))
    fp.post_ind = np.array([3, 4])
    fp.weight = np.ones(3)
    with pytest.raises(RuntimeError, match="3 values"):
        fp.get_snippet(make_conn(src, trg), SupportedMatrixType([M.SPARSE]))
    fp.weight = np.array([0.5, 2.0])
    with pytest.raises(NotImplementedError):
        fp.get_snippet(make_conn(src, trg), SupportedMatrixType([M.PROCEDURAL]))
    cs = fp.get_snippet(make_conn(src, trg), SupportedMatrixType([M.PROCEDURAL, M.SPARSE]))
    assert cs.matrix_type == M.SPARSE and cs.snippet is None
    np.testing.assert_array_equal(cs.pre_ind, [0, 1])
    np.testing.assert_array_equal(cs.post_ind, [3, 4])


def test_fixed_probability_numerics():
    rng = np.random.default_rng(8)
    n_pre, n_post = 40, 30
    x = spikes(rng, (n_pre,), p=0.6)
    # p = 1 and p = 0 are deterministic
    out, _, _ = simulate(FixedProbability(1.0, 0.5), (n_pre,), x, [M.SPARSE, M.PROCEDURAL],
                         trg_shape=(n_post,))
    for v in out.values():
        np.testing.assert_array_equal(v, np.repeat(0.5 * x.sum(1, keepdims=True), n_post, 1))
    out, _, _ = simulate(FixedProbability(0.0, 0.5), (n_pre,), x, [M.SPARSE, M.PROCEDURAL],
                         trg_shape=(n_post,))
    for v in out.values():
        np.testing.assert_array_equal(v, 0.0)
    # p = 0.2: SPARSE against its own stored synapses; counts plausible for both
    ones = np.ones((1, n_pre), np.float32)
    out, groups, _ = simulate(FixedProbability(0.2, 1.0), (n_pre,), ones,
                              [M.SPARSE, M.PROCEDURAL], trg_shape=(n_post,))
    sg = groups[M.SPARSE]
    pre, post = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
    np.testing.assert_array_equal(out[M.SPARSE][0], np.bincount(post, minlength=n_post))
    assert len(set(zip(pre, post))) == len(pre)
    mean, sd = 0.2 * n_pre * n_post, np.sqrt(0.2 * 0.8 * n_pre * n_post)
    for v in out.values():
        assert abs(v.sum() - mean) < 5 * sd


def test_fixed_probability_no_autapse_numerics():
    n = 12
    x = np.ones((1, n), np.float32)
    fp = FixedProbability(1.0, 1.0)
    pop = Pop((n,))
    cs = fp.get_snippet(make_conn(pop, pop), SupportedMatrixType([M.SPARSE]))
    # build the recurrent snippet between two engine populations of the same size
    model = GeNNModel("float", "no_autapse")
    model.dt = 1.0
    src = model.add_neuron_population("Src", n, ONCE_SOURCE, {}, {"Input": x[0],
                                                                  "Spiked": 0.0})
    trg = model.add_neuron_population("Trg", n, INTEGRATOR, {}, {"V": 0.0})
    sg = model.add_synapse_population("Syn", cs.matrix_type, src, trg,
                                      weight_update_init(cs.weight),
                                      init_postsynaptic("DeltaCurr"), cs.snippet)
    model.build()
    model.load()
    model.run(2)
    np.testing.assert_array_equal(trg.vars["V"].view, n - 1)
    assert not np.any(sg.get_sparse_pre_inds() == sg.get_sparse_post_inds())


def test_explicit_sparse_synapses_numerics():
    rng = np.random.default_rng(9)
    n_pre, n_post = 10, 7
    mask = rng.random((n_pre, n_post)) < 0.4
    pre, post = np.nonzero(mask)
    order = rng.permutation(pre.size)            # any order of the pairs
    pre, post = pre[order], post[order]
    w = quarter_ints(rng, pre.size)
    dense = np.zeros((n_pre, n_post), np.float32)
    dense[pre, post] = w
    fp = FixedProbability(0.4, w)
    fp.pre_ind, fp.post_ind = pre, post
    x = spikes(rng, (n_pre,))
    out, _, _ = simulate(fp, (n_pre,), x, [M.SPARSE], trg_shape=(n_post,))
    np.testing.assert_array_equal(out[M.SPARSE], x @ dense)
    fp.weight = -0.5
    out, _, _ = simulate(fp, (n_pre,), x, [M.SPARSE], trg_shape=(n_post,))
    np.testing.assert_array_equal(out[M.SPARSE], x @ (-0.5 * mask))


# ===========================================================================
# end to end: Network -> InferenceCompiler, IF outputs that never fire
# ===========================================================================
@pytest.mark.parametrize("prefer_in_memory_connect", [True, False])
def test_end_to_end_inference(prefer_in_memory_connect):
    from ml_genn.compilers import InferenceCompiler
    from ml_genn.connection import Connection
    from ml_genn.network import Network
    from ml_genn.neurons import BinarySpikeInput, IntegrateFire
    from ml_genn.population import Population

    rng = np.random.default_rng(11)
    src_shape, n_examples = (6, 6, 2), 3
    x = spikes(rng, src_shape, batch=n_examples)
    w_dense = quarter_ints(rng, (prod(src_shape), 5))
    w_conv = quarter_ints(rng, (3, 3, 2, 3))
    w_tr = quarter_ints(rng, (2, 2, 2, 2))
    w_apc = quarter_ints(rng, (2, 2, 2, 3))
    w_apd = quarter_ints(rng, (3 * 3 * 2, 4))
    w_121 = quarter_ints(rng, src_shape)
    pre, post = np.nonzero(rng.random((prod(src_shape), 7)) < 0.3)
    w_sp = quarter_ints(rng, pre.size)
    sparse = FixedProbability(0.3, w_sp)
    sparse.pre_ind, sparse.post_ind = pre, post
    dense_sp = np.zeros((prod(src_shape), 7), np.float32)
    dense_sp[pre, post] = w_sp
    flat = x.reshape(n_examples, -1)

    cases = {
        "dense": (Dense(w_dense), None, flat @ w_dense),
        "conv_same": (Conv2D(w_conv, 3, 3, conv_padding="same"), None,
                      conv2d_ref(x, w_conv, (1, 1), "same")),
        "conv_valid_s2": (Conv2D(w_conv, 3, 3, conv_strides=2), None,
                          conv2d_ref(x, w_conv, (2, 2), "valid")),
        "transpose": (Conv2DTranspose(w_tr, 2, 2, conv_strides=2, conv_padding="same"),
                      None, conv2d_transpose_ref(x, w_tr, (2, 2), "same", (12, 12))),
        "pool": (AvgPool2D(2), None, avg_pool_ref(x, (2, 2), (2, 2))),
        "pool_conv": (AvgPoolConv2D(w_apc, 3, 2, 2), None,
                      conv2d_ref(avg_pool_ref(x, (2, 2), (2, 2)), w_apc, (1, 1), "valid")),
        "pool_dense": (AvgPoolDense2D(w_apd, 2), None,
                       avg_pool_ref(x, (2, 2), (2, 2)).reshape(n_examples, -1) @ w_apd),
        "one_to_one": (OneToOne(w_121), None, x * w_121),
        "sparse": (sparse, (7,), flat @ dense_sp),
        "fixed_prob_1": (FixedProbability(1.0, 0.25), (4,),
                         np.repeat(0.25 * flat.sum(1, keepdims=True), 4, 1)),
    }
    network = Network()
    with network:
        inp = Population(BinarySpikeInput(), src_shape)
        outputs, connections = {}, {}
        for key, (connectivity, shape, _) in cases.items():
            out = Population(IntegrateFire(v_thresh=1e9, readout="var"), shape)
            connections[key] = Connection(inp, out, connectivity)
            outputs[key] = out
    # one batch: a spike emitted in a batch's last step would otherwise reach
    # the next batch's first step (upstream issue #190, a compiler matter)
    compiler = InferenceCompiler(evaluate_timesteps=2, batch_size=n_examples,
                                 prefer_in_memory_connect=prefer_in_memory_connect)
    compiled = compiler.compile(network, f"conn_e2e_{int(prefer_in_memory_connect)}")
    expected_types = {"dense": M.DENSE, "pool_dense": M.DENSE, "sparse": M.SPARSE}
    if prefer_in_memory_connect:
        expected_types.update({k: M.SPARSE for k in cases if k not in expected_types})
    else:
        expected_types.update(conv_same=M.TOEPLITZ, conv_valid_s2=M.PROCEDURAL_KERNELG,
                              transpose=M.PROCEDURAL_KERNELG, pool=M.PROCEDURAL,
                              pool_conv=M.TOEPLITZ, one_to_one=M.SPARSE,
                              fixed_prob_1=M.PROCEDURAL)
    for key, conn in connections.items():
        assert compiled.connection_populations[conn].matrix_type == expected_types[key], key
    with compiled:
        result, _ = compiled.predict({inp: x}, list(outputs.values()), callbacks=[])
    for key, (_, _, ref) in cases.items():
        np.testing.assert_allclose(result[outputs[key]].reshape(ref.shape), ref, rtol=1e-5,
                                   atol=1e-6, err_msg=key)



@pytest.mark.parametrize("prefer_in_memory_connect", [True, False])
def test_end_to_end_delays(prefer_in_memory_connect):
    """Per-kernel-entry delays (SPARSE: expanded by KernelInit) and constant ones.

    An input spiking every step for T steps delivers a synapse with delay d
    ``T - 1 - d`` times by the end of the last step."""
    from ml_genn.compilers import InferenceCompiler
    from ml_genn.connection import Connection
    from ml_genn.network import Network
    from ml_genn.neurons import BinarySpikeInput, IntegrateFire
    from ml_genn.population import Population

    rng = np.random.default_rng(12)
    src_shape, steps = (5, 5, 2), 6
    x = spikes(rng, src_shape, batch=2)
    w = quarter_ints(rng, (3, 3, 2, 2))
    d = rng.integers(0, 4, size=w.shape)
    w_dense = quarter_ints(rng, (prod(src_shape), 3))
    network = Network()
    with network:
        inp = Population(BinarySpikeInput(), src_shape)
        conv_out = Population(IntegrateFire(v_thresh=1e9, readout="var"))
        dense_out = Population(IntegrateFire(v_thresh=1e9, readout="var"))
        # no max_delay_steps: the compiler takes the maximum from the delay
        # array even where SPARSE wraps it in a kernel initializer
        Connection(inp, conv_out, Conv2D(w, 2, 3, conv_padding="same", delay=d))
        Connection(inp, dense_out, Dense(w_dense, delay=2))
    compiler = InferenceCompiler(evaluate_timesteps=steps, batch_size=2,
                                 prefer_in_memory_connect=prefer_in_memory_connect)
    compiled = compiler.compile(network, f"conn_delay_{int(prefer_in_memory_connect)}")
    with compiled:
        result, _ = compiled.predict({inp: x}, [conv_out, dense_out], callbacks=[])
    ref = sum(conv2d_ref(x, np.where(d == k, w, 0.0), (1, 1), "same") * (steps - 1 - k)
              for k in range(4))
    np.testing.assert_array_equal(result[conv_out], ref)
    np.testing.assert_array_equal(result[dense_out],
                                  x.reshape(2, -1) @ w_dense * (steps - 1 - 2))
