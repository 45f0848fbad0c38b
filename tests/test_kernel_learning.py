"""Learning into shared kernel variables: weight-update code of kernel
connectivity (TOEPLITZ, PROCEDURAL_KERNELG) accumulating into read-write
kernel variables with ``atomic_add_<var>(x)`` (GeNN's name), against a
NumPy reference built from the convolution equation, for batch 1 and 2 and
any number of CPU threads (EventProp's shared-kernel weight gradients are
this pattern).

Every value is a multiple of 1/2 and every sum stays far below 2**23, so the
sums are exact in float32 whatever order the synapses add in: the results
must match the reference, and each other, bit for bit."""
import numpy as np
import pytest

from ml_genn.genn import (GeNNModel, VarAccess, VarAccessDim, VarAccessMode,
                          create_neuron_model, create_weight_update_model, init_postsynaptic,
                          init_sparse_connectivity, init_toeplitz_connectivity,
                          init_weight_update)
from ml_genn.genn.backends.cuda import CUDABackend
from ml_genn.genn.errors import CodeError, ModelError

from test_cuda_backend import needs_gpu

f32 = np.float32
STEPS = 14

# spikes when Phase reaches Period (per batch element)
SPIKER = create_neuron_model(
    "Spiker", vars=[("Phase", "scalar"), ("Period", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    sim_code="Phase += 1.0;", threshold_condition_code="Phase >= Period",
    reset_code="Phase = 0.0;")
INTEGRATOR = create_neuron_model("Integrator", vars=[("V", "scalar")], sim_code="V += Isyn;")
# spikes propagate the kernel and accumulate the target's V (+ 1) per
# synapse; spike-like events (Phase == 1 after the sim code) subtract half
# of it and count themselves per kernel entry
ACCUMULATE = create_weight_update_model(
    "Accumulate",
    vars=[("g", "scalar", VarAccess.READ_ONLY), ("G", "scalar"), ("H", "int")],
    pre_neuron_var_refs=[("Phase_pre", "scalar")],
    post_neuron_var_refs=[("V_post", "scalar")],
    pre_event_threshold_condition_code="Phase_pre == 1.0",
    pre_spike_syn_code="addToPost(g);\natomic_add_G(V_post + 1.0);",
    pre_event_syn_code="atomic_add_G(-0.5 * V_post);\natomic_add_H(1);")

# (ih, iw, ic), (kh, kw), oc, stride, padding, (oh, ow)
TOEPLITZ = ((6, 6, 2), (3, 3), 3, (1, 1), (1, 1), (6, 6))       # "same"
PROCEDURAL = ((6, 6, 2), (3, 3), 2, (2, 2), (1, 1), (3, 3))


def _synapses(geometry):
    """(pre, post, kernel entry) of every synapse of a convolution:
    ``out[oy, ox, oc] += in[oy*sh - ph + ky, ox*sw - pw + kx, ic] *
    K[ky, kx, ic, oc]``, neurons (row, col, channel) with channel fastest,
    the kernel flattened in HWIO order."""
    (ih, iw, ic), (kh, kw), oc, (sh, sw), (ph, pw), (oh, ow) = geometry
    out = []
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                for kx in range(kw):
                    iy, ix = oy * sh - ph + ky, ox * sw - pw + kx
                    if not (0 <= iy < ih and 0 <= ix < iw):
                        continue
                    for c in range(ic):
                        for o in range(oc):
                            out.append(((iy * iw + ix) * ic + c, (oy * ow + ox) * oc + o,
                                        ((ky * kw + kx) * ic + c) * oc + o))
    return np.array(out).T


def _reference(geometry, kernel, periods):
    """V of the targets and G, H of the kernel after STEPS steps: the
    spikes (events) of step n reach the synapses in step n + 1, which read
    V as the neuron update of step n left it."""
    pre, post, k = _synapses(geometry)
    batch, n_pre = periods.shape
    n_post = int(np.prod(geometry[5])) * geometry[2]
    phase = np.zeros((batch, n_pre))
    spikes = np.zeros((batch, n_pre), bool)
    events = np.zeros((batch, n_pre), bool)
    v = np.zeros((batch, n_post))
    G = np.zeros((batch, kernel.size))
    H = np.zeros((batch, kernel.size), np.int64)
    for _ in range(STEPS):
        for b in range(batch):
            s, e = spikes[b, pre], events[b, pre]
            np.add.at(G[b], k[s], v[b, post[s]] + 1.0)
            np.add.at(G[b], k[e], -0.5 * v[b, post[e]])
            np.add.at(H[b], k[e], 1)
            np.add.at(v[b], post[s], kernel[k[s]])
        phase += 1
        events = phase == 1.0
        spikes = phase >= periods
        phase[spikes] = 0
    return v, G, H


def _conv_init(geometry, matrix):
    (ih, iw, ic), (kh, kw), oc, (sh, sw), (ph, pw), (oh, ow) = geometry
    shape = {"conv_kh": kh, "conv_kw": kw, "conv_ih": ih, "conv_iw": iw, "conv_ic": ic,
             "conv_oh": oh, "conv_ow": ow, "conv_oc": oc}
    if matrix == "TOEPLITZ":
        return init_toeplitz_connectivity("Conv2D", shape)
    return init_sparse_connectivity("Conv2D", {**shape, "conv_sh": sh, "conv_sw": sw,
                                               "conv_padh": ph, "conv_padw": pw})


def _inputs(batch):
    rng = np.random.default_rng(21)
    periods = rng.integers(2, 6, size=(batch, 72)).astype(f32)
    kernels = {m: (rng.integers(-4, 5, size=int(np.prod(g[1])) * g[0][2] * g[2]) / 2.0)
               .astype(f32) for m, g in (("TOEPLITZ", TOEPLITZ),
                                         ("PROCEDURAL_KERNELG", PROCEDURAL))}
    return periods, kernels


def _model(batch, precision="float", backend="cpu"):
    """Both kinds of kernel connectivity from one source (two synapse
    groups, so that shared steps hand them to different threads)."""
    periods, kernels = _inputs(batch)
    model = GeNNModel(precision, f"kernel_learning_{batch}_{precision}_{backend}",
                      backend=backend)
    model.dt = 1.0
    model.batch_size = batch
    src = model.add_neuron_population("Src", 72, SPIKER, {},
                                      {"Phase": 0.0, "Period": periods})
    groups = {}
    for matrix, geometry in (("TOEPLITZ", TOEPLITZ), ("PROCEDURAL_KERNELG", PROCEDURAL)):
        n_post = int(np.prod(geometry[5])) * geometry[2]
        trg = model.add_neuron_population(f"Trg{matrix}", n_post, INTEGRATOR, {}, {"V": 0.0})
        syn = model.add_synapse_population(
            f"Conv{matrix}", matrix, src, trg,
            init_weight_update(ACCUMULATE, {}, {"g": kernels[matrix], "G": 0.0, "H": 0},
                               pre_var_refs={"Phase_pre": "Phase"},
                               post_var_refs={"V_post": "V"}),
            init_postsynaptic("DeltaCurr"), _conv_init(geometry, matrix))
        groups[matrix] = (geometry, trg, syn)
    return model, periods, kernels, groups


def _run(batch, precision, threads=1, backend="cpu"):
    model, periods, kernels, groups = _model(batch, precision, backend)
    if backend == "cpu":
        model.num_threads = threads
    model.build()
    model.load()
    model.run(STEPS)
    out = {}
    for matrix, (_, trg, syn) in groups.items():
        trg.vars["V"].pull_from_device()
        for name in ("G", "H"):
            syn.vars[name].pull_from_device()
        n_post, n_k = trg.num_neurons, kernels[matrix].size
        out[matrix] = (trg.vars["V"].values.reshape(batch, n_post).copy(),
                       syn.vars["G"].values.reshape(batch, n_k).copy(),
                       syn.vars["H"].values.reshape(batch, n_k).copy())
    return periods, kernels, out


@pytest.mark.parametrize("batch, precision", [(1, "float"), (2, "float"), (2, "double")])
def test_kernel_accumulation_matches_numpy_for_any_thread_count(monkeypatch, batch, precision):
    # batch 1: each step shared among the threads (whole synapse groups
    # per thread); batch 2: batch elements in parallel. (double: CUDA's
    # atomicAdd on doubles is compiled to PTX too)
    monkeypatch.setenv("ML_GENN_SHARE_STEPS", "1")
    periods, kernels, one = _run(batch, precision, 1)
    _, _, two = _run(batch, precision, 2)
    _check(periods, kernels, one, two)


def _check(periods, kernels, *results):
    for matrix, geometry in (("TOEPLITZ", TOEPLITZ), ("PROCEDURAL_KERNELG", PROCEDURAL)):
        v, G, H = _reference(geometry, kernels[matrix].astype(np.float64), periods)
        assert H.min() > 0 and np.abs(G).max() > 10     # every entry saw events
        for got in results:
            np.testing.assert_array_equal(got[matrix][0], v, err_msg=f"{matrix} V")
            np.testing.assert_array_equal(got[matrix][1], G, err_msg=f"{matrix} G")
            np.testing.assert_array_equal(got[matrix][2], H, err_msg=f"{matrix} H")
        if len(periods) == 2:
            assert not np.array_equal(G[0], G[1])      # per-batch copies


@needs_gpu
@pytest.mark.parametrize("precision", ["float", "double"])
def test_cuda_kernel_accumulation_matches_numpy(precision):
    """GPU threads (one per diagonal or spike) adding into shared entries
    (exact sums: any order gives the reference)."""
    periods, kernels, got = _run(2, precision, backend="cuda")
    _check(periods, kernels, got)


def test_cuda_accumulates_kernel_variables_atomically():
    """Many GPU threads share a kernel entry: every write to G and H is an
    atomicAdd (the C++ backend adds plainly: one thread owns a batch
    element's copy)."""
    model, _, _, groups = _model(2)
    source = CUDABackend(model).generate()
    for _, _, syn in groups.values():
        for name in ("G", "H"):
            array = next(w for w in source.split() if w.endswith(f"_{syn.name}_{name}"))
            uses = [line.strip() for line in source.splitlines() if f"{array}[" in line
                    and "id_kernel" in line]
            assert uses and all(u.startswith(f"atomicAdd(&{array}[batch * ") for u in uses), uses


def _single(name, code, g_access=VarAccess.READ_WRITE, g_type="scalar", batch=1):
    model = GeNNModel("float", name)
    model.batch_size = batch
    src = model.add_neuron_population("Src", 72, SPIKER, {},
                                      {"Phase": 0.0, "Period": 2.0})
    trg = model.add_neuron_population("Trg", 108, INTEGRATOR, {}, {"V": 0.0})
    wu = create_weight_update_model("Bad", vars=[("G", g_type, g_access)],
                                    pre_spike_syn_code=code)
    model.add_synapse_population("S", "TOEPLITZ", src, trg, init_weight_update(wu, {}, {"G": 0}),
                                 init_postsynaptic("DeltaCurr"),
                                 _conv_init(TOEPLITZ, "TOEPLITZ"))
    return model


def test_errors_of_kernel_accumulation():
    # a plain write would race between the synapses sharing the entry
    with pytest.raises(CodeError, match=r"cannot assign to 'G'.*kernel variable.*"
                                        r"accumulate with atomic_add_G\(x\)"):
        _single("kernel_plain_write", "G += 1.0;").build()
    # reading what other synapses are adding to
    with pytest.raises(ModelError, match="both reads kernel variable 'G' and accumulates into "
                                         "it with atomic_add_G"):
        _single("kernel_read_and_add", "atomic_add_G(G);").build()
    # one copy for the whole batch: batch elements run in parallel
    shared = VarAccessMode.READ_WRITE | VarAccessDim.ELEMENT
    with pytest.raises(ModelError, match="kernel variable 'G', which has one copy for the whole "
                                         r"batch.*VarAccess.READ_WRITE"):
        _single("kernel_unbatched", "atomic_add_G(1.0);", shared, batch=2).build()
    _single("kernel_unbatched_1", "atomic_add_G(1.0);", shared).build()   # fine with batch 1
    # types CUDA cannot add atomically
    with pytest.raises(ModelError, match="atomic_add_G needs a variable of type .* not uint8_t"):
        _single("kernel_uint8", "atomic_add_G(1);", g_type="uint8_t").build()
    # only kernel variables have it
    with pytest.raises(CodeError, match="unknown identifier 'atomic_add_G'"):
        _single("kernel_read_only", "atomic_add_G(1.0);", VarAccess.READ_ONLY).build()
