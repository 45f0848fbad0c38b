"""Independent NumPy reference simulator for the engine tests.

Written from the equations in DESIGN.md ("Execution semantics") and the GeNN 5
model definitions (LIF, DeltaCurr, ExpCurr, StaticPulse,
StaticPulseDendriticDelay) -- never from the engine's generated code.

Arithmetic mirrors what a C compiler emits for single-precision GeNN code
strings: every operation on ``scalar`` values is rounded to float32, in the
order the code string writes them; derived parameters are computed in float64
on the host and then cast to float32 (they become float literals).

Time step ``n`` (``t = n * dt``), for each batch element:

1. synapse update: every projection delivers the spikes its source emitted at
   step ``n - 1 - axonal_delay``, in ascending source-id order.  Without
   dendritic delays each spike adds its weight row into the target's ``inSyn``
   (``addToPost``); with dendritic delays weight ``W[i, j]`` goes into the
   ring slot of step ``n + D[i, j]`` (``addToPostDelay``).
2. neuron update: for each incoming projection (in the order the projections
   were given) the ring slot of step ``n`` is added into ``inSyn`` and
   cleared, then the postsynaptic model runs (``DeltaCurr``:
   ``Isyn += inSyn; inSyn = 0``; ``ExpCurr``: ``Isyn += init * inSyn;
   inSyn *= expDecay``); then the LIF sim code; the threshold is tested after
   the update; a spike resets the neuron and is recorded at step ``n``.

Note: the float32 sum ``Isyn`` is independent of summation order only for at
most two incoming projections per population (``0 + a + b == 0 + b + a``);
tests that need exact equality should keep to that.
"""
import numpy as np

F = np.float32


def _as_batched(value, batch_size, n, dtype=F):
    """Broadcast a scalar, (n,) or (batch, n) initial value to (batch, n)."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full((batch_size, n), arr, dtype=dtype)
    if arr.ndim == 1:
        assert arr.shape == (n,), arr.shape
        return np.tile(arr, (batch_size, 1))
    assert arr.shape == (batch_size, n), arr.shape
    return arr.copy()


class LIFPop:
    """GeNN 5 ``LIF`` population.

    ``Ioffset`` may be a scalar (the built-in LIF's parameter) or an ``(n,)``
    array (a custom LIF-like model whose offset current is a per-neuron
    read-only variable; same arithmetic). ``V0``/``RefracTime0`` may be
    scalars, ``(n,)`` or ``(batch, n)`` arrays.
    """

    def __init__(self, n, *, C=1.0, TauM=20.0, Vrest=-65.0, Vreset=-65.0,
                 Vthresh=-50.0, Ioffset=0.0, TauRefrac=2.0, V0=-65.0,
                 RefracTime0=0.0):
        self.n = n
        self.C = C
        self.TauM = TauM
        self.Vrest = Vrest
        self.Vreset = Vreset
        self.Vthresh = Vthresh
        self.Ioffset = Ioffset
        self.TauRefrac = TauRefrac
        self.V0 = V0
        self.RefracTime0 = RefracTime0


class Projection:
    """Static-pulse projection with an explicit weight matrix.

    ``W[pre, post]``: weight, 0 = no synapse. ``dendritic_delay``: integer
    matrix of per-synapse delays (steps) or None (plain ``addToPost``).
    ``max_dendritic_delay`` defaults to ``max(D) + 1``.
    ``psm``: "DeltaCurr" or "ExpCurr" (needs ``tau``).
    """

    def __init__(self, pre, post, W, *, psm="DeltaCurr", tau=None,
                 axonal_delay=0, dendritic_delay=None,
                 max_dendritic_delay=None):
        self.pre = pre
        self.post = post
        self.W = np.asarray(W, dtype=F)
        assert psm in ("DeltaCurr", "ExpCurr")
        assert psm == "DeltaCurr" or tau is not None
        self.psm = psm
        self.tau = tau
        self.axonal_delay = int(axonal_delay)
        self.D = (None if dendritic_delay is None
                  else np.asarray(dendritic_delay, dtype=np.int64))
        if self.D is not None:
            assert self.D.shape == self.W.shape
            assert self.D.min() >= 0
            if max_dendritic_delay is None:
                max_dendritic_delay = int(self.D.max()) + 1
            assert self.D.max() < max_dendritic_delay
        self.max_dendritic_delay = max_dendritic_delay


class Result:
    def __init__(self, spikes, state):
        #: spikes[pop_name][batch] = (steps: int64 array, ids: int64 array),
        #: sorted by step then id
        self.spikes = spikes
        #: final state[pop_name] = dict(V=(batch, n), RefracTime=(batch, n))
        self.state = state

    def spike_times(self, name, b, dt):
        steps, ids = self.spikes[name][b]
        return steps * dt, ids


def simulate(pops, projections, n_steps, dt, batch_size=1):
    """Run the network for ``n_steps`` steps; return a :class:`Result`.

    ``pops``: dict name -> :class:`LIFPop` (evaluation order does not matter:
    populations only interact through spikes of the previous step).
    ``projections``: list of :class:`Projection`.
    """
    dt32 = F(dt)

    # Population state and derived parameters (float64 on host -> float32)
    st = {}
    for name, p in pops.items():
        st[name] = dict(
            V=_as_batched(p.V0, batch_size, p.n),
            RefracTime=_as_batched(p.RefracTime0, batch_size, p.n),
            ExpTC=F(np.exp(-dt / p.TauM)),
            Rmembrane=F(p.TauM / p.C),
            Ioffset=np.asarray(p.Ioffset, dtype=F),
            Vrest=F(p.Vrest), Vreset=F(p.Vreset), Vthresh=F(p.Vthresh),
            TauRefrac=F(p.TauRefrac))

    # Projection state
    pst = []
    for pr in projections:
        n_post = pops[pr.post].n
        assert pr.W.shape == (pops[pr.pre].n, n_post), (pr.W.shape,)
        s = dict(inSyn=np.zeros((batch_size, n_post), dtype=F))
        if pr.psm == "ExpCurr":
            decay = np.exp(-dt / pr.tau)
            s["expDecay"] = F(decay)
            s["init"] = F((pr.tau * (1.0 - decay)) / dt)
        if pr.D is not None:
            s["ring"] = np.zeros((batch_size, pr.max_dendritic_delay, n_post),
                                 dtype=F)
        # Row structure for event-driven delivery
        s["rows"] = [np.nonzero(pr.W[i])[0] for i in range(pr.W.shape[0])]
        pst.append(s)

    # spike history: hist[name][step][b] -> ascending int array of ids
    hist = {name: [] for name in pops}

    for n in range(n_steps):
        # 1. synapse update
        for pr, s in zip(projections, pst):
            src = n - 1 - pr.axonal_delay
            if src < 0:
                continue
            for b in range(batch_size):
                for i in hist[pr.pre][src][b]:
                    js = s["rows"][i]
                    if len(js) == 0:
                        continue
                    w = pr.W[i, js]
                    if pr.D is None:
                        s["inSyn"][b, js] += w
                    else:
                        slots = (n + pr.D[i, js]) % pr.max_dendritic_delay
                        # (slot, j) pairs are unique within one row
                        s["ring"][b, slots, js] += w

        # 2. neuron update
        for name, p in pops.items():
            q = st[name]
            Isyn = np.zeros((batch_size, p.n), dtype=F)
            for pr, s in zip(projections, pst):
                if pr.post != name:
                    continue
                if pr.D is not None:
                    slot = n % pr.max_dendritic_delay
                    s["inSyn"] += s["ring"][:, slot, :]
                    s["ring"][:, slot, :] = 0.0
                if pr.psm == "DeltaCurr":
                    Isyn += s["inSyn"]
                    s["inSyn"][:] = 0.0
                else:
                    Isyn += s["init"] * s["inSyn"]
                    s["inSyn"] *= s["expDecay"]

            V, R = q["V"], q["RefracTime"]
            active = R <= F(0.0)
            alpha = ((Isyn + q["Ioffset"]) * q["Rmembrane"]) + q["Vrest"]
            Vnew = alpha - (q["ExpTC"] * (alpha - V))
            V = np.where(active, Vnew, V).astype(F)
            R = np.where(active, R, R - dt32).astype(F)
            spike = (R <= F(0.0)) & (V >= q["Vthresh"])
            V[spike] = q["Vreset"]
            R[spike] = q["TauRefrac"]
            q["V"], q["RefracTime"] = V, R
            hist[name].append([np.nonzero(spike[b])[0]
                               for b in range(batch_size)])

    spikes = {}
    for name in pops:
        per_batch = []
        for b in range(batch_size):
            steps = [np.full(len(h[b]), k, dtype=np.int64)
                     for k, h in enumerate(hist[name])]
            ids = [h[b].astype(np.int64) for h in hist[name]]
            per_batch.append((np.concatenate(steps) if steps
                              else np.zeros(0, np.int64),
                              np.concatenate(ids) if ids
                              else np.zeros(0, np.int64)))
        spikes[name] = per_batch
    state = {name: dict(V=st[name]["V"], RefracTime=st[name]["RefracTime"])
             for name in pops}
    return Result(spikes, state)


# ---------------------------------------------------------------------------
# Convolution references (TF/Keras semantics: cross-correlation, HWIO kernel,
# neurons laid out (row, col, channel) with channel fastest)
# ---------------------------------------------------------------------------
def conv2d(x, kernel, out_shape, stride=(1, 1), padding=(0, 0)):
    """``out[oy, ox, oc] = sum in[oy*sh - ph + ky, ox*sw - pw + kx, ic] *
    K[ky, kx, ic, oc]`` (out-of-range inputs are zero).

    ``x``: (ih, iw, ic); ``kernel``: (kh, kw, ic, oc); returns (oh, ow, oc)
    computed in float64 (tests use exactly representable values).
    """
    ih, iw, ic = x.shape
    kh, kw, kic, oc = kernel.shape
    assert kic == ic
    oh, ow = out_shape
    sh, sw = stride
    ph, pw = padding
    out = np.zeros((oh, ow, oc), dtype=np.float64)
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                iy = oy * sh - ph + ky
                if iy < 0 or iy >= ih:
                    continue
                for kx in range(kw):
                    ix = ox * sw - pw + kx
                    if ix < 0 or ix >= iw:
                        continue
                    out[oy, ox] += x[iy, ix].astype(np.float64) @ kernel[ky, kx].astype(np.float64)
    return out


def sum_pool2d(x, pool, stride):
    """Sum (not average) pooling with TF "valid" windows; requires
    stride >= pool size (non-overlapping windows)."""
    ih, iw, ic = x.shape
    kh, kw = pool
    sh, sw = stride
    oh = int(np.ceil((ih - kh + 1) / sh))
    ow = int(np.ceil((iw - kw + 1) / sw))
    out = np.zeros((oh, ow, ic), dtype=np.float64)
    for oy in range(oh):
        for ox in range(ow):
            out[oy, ox] = x[oy * sh:oy * sh + kh,
                            ox * sw:ox * sw + kw].sum(axis=(0, 1))
    return out
