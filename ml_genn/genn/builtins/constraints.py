"""Declarative value constraints of the built-in models and snippets.

Each built-in snippet object gets a ``constraints`` attribute (a
:class:`Constraints`): a rule per parameter, relations between parameters,
and for connectivity snippets the population sizes its parameters describe.
``GeNNModel._validate()`` checks them before any code is generated, so a NaN
time constant or a probability of 1.5 is a ``ModelError`` naming the
population, the model, the parameter, the value and the rule -- never a
``ZeroDivisionError``, an endless loop or an out-of-bounds write in native
code.  User-defined models carry no constraints (their parameters may mean
anything).
"""
import math
import numbers

from ..errors import ModelError
import importlib

# the package re-exports registries under the modules' names: import the modules
_conn = importlib.import_module(__package__ + ".connectivity_snippets")
_cs = importlib.import_module(__package__ + ".current_sources")
_init = importlib.import_module(__package__ + ".init_snippets")
_nm = importlib.import_module(__package__ + ".neuron_models")
_sm = importlib.import_module(__package__ + ".synapse_models")


def _num(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _int_like(v):
    return _num(v) and math.isfinite(v) and float(v) == int(v)


RULES = {
    "finite": (lambda v: _num(v) and math.isfinite(v), "must be a finite number"),
    "not_nan": (lambda v: _num(v) and not math.isnan(v), "must be a number (not NaN)"),
    "positive": (lambda v: _num(v) and math.isfinite(v) and v > 0,
                 "must be a finite number > 0"),
    "non_negative": (lambda v: _num(v) and math.isfinite(v) and v >= 0,
                     "must be a finite number >= 0"),
    "probability": (lambda v: _num(v) and 0.0 <= v <= 1.0,
                    "must be a probability in [0, 1]"),
    "positive_int": (lambda v: _int_like(v) and v > 0, "must be a positive integer"),
    "non_negative_int": (lambda v: _int_like(v) and v >= 0,
                         "must be a non-negative integer"),
    "non_zero": (lambda v: _num(v) and math.isfinite(v) and v != 0,
                 "must be a finite, non-zero number"),
}


def _normal_mass(p):
    """Probability that a Normal(mean, sd) draw lies in [min, max]."""
    mean, sd, lo, hi = p["mean"], p["sd"], p["min"], p["max"]
    if sd == 0:
        return 1.0 if lo <= mean <= hi else 0.0

    def cdf(x):
        if x == math.inf:
            return 1.0
        if x == -math.inf:
            return 0.0
        return 0.5 * (1.0 + math.erf((x - mean) / (sd * math.sqrt(2.0))))
    return cdf(hi) - cdf(lo)


class Constraints:
    """``params``: name -> rule (a key of RULES).  ``ordered``: pairs (a, b)
    with a <= b.  ``checks``: (function(params) -> bool, explanation).
    ``pre_size``/``post_size``: parameter names whose product must equal the
    number of source/target neurons (connectivity snippets)."""

    def __init__(self, params=None, ordered=(), checks=(), pre_size=None, post_size=None):
        self.params = dict(params or {})
        self.ordered = list(ordered)
        self.checks = list(checks)
        self.pre_size = pre_size
        self.post_size = post_size


def check(snippet, params, where, num_pre=None, num_post=None):
    """Raise ModelError when ``params`` break the constraints of ``snippet``."""
    cons = getattr(snippet, "constraints", None)
    if not isinstance(cons, Constraints):
        return
    owner = f"{where} (model '{snippet.class_name}')"
    for name, rule in cons.params.items():
        if name not in params:
            continue
        ok, text = RULES[rule]
        value = params[name]
        if not ok(value):
            raise ModelError(f"{owner}: parameter '{name}' = {value!r} {text}")
    for a, b in cons.ordered:
        if a in params and b in params and not params[a] <= params[b]:
            raise ModelError(f"{owner}: parameter '{a}' = {params[a]!r} must be <= "
                             f"parameter '{b}' = {params[b]!r}")
    for fn, text in cons.checks:
        if not fn(params):
            raise ModelError(f"{owner}: parameters {dict(params)!r}: {text}")
    for which, names, actual in (("source", cons.pre_size, num_pre),
                                 ("target", cons.post_size, num_post)):
        if names is None or actual is None:
            continue
        size = 1
        for n in names:
            size *= int(params[n])
        if size != actual:
            raise ModelError(f"{owner}: parameters {' * '.join(names)} = {size} must equal "
                             f"the number of {which} neurons ({actual})")


def _attach(obj, **kwargs):
    obj.constraints = Constraints(**kwargs)


_attach(_nm.LIF, params={"C": "positive", "TauM": "positive", "Vrest": "finite",
                         "Vreset": "finite", "Vthresh": "finite", "Ioffset": "finite",
                         "TauRefrac": "non_negative"})
_attach(_nm.Izhikevich, params={p: "finite" for p in ("a", "b", "c", "d")})
_attach(_nm.IzhikevichVariable)
_attach(_nm.RulkovMap, params={p: "finite" for p in ("Vspike", "alpha", "y", "beta")})
_attach(_nm.TraubMiles, params={"gNa": "non_negative", "ENa": "finite", "gK": "non_negative",
                                "EK": "finite", "gl": "non_negative", "El": "finite",
                                "C": "positive"})
_attach(_nm.Poisson, params={"rate": "non_negative"})
_attach(_nm.SpikeSourceArray)
_attach(_sm.ExpCurr, params={"tau": "positive"})
_attach(_sm.ExpCond, params={"tau": "positive", "E": "finite"})
_attach(_sm.StaticPulseConstantWeight, params={"g": "finite"})
_attach(_sm.StaticGraded, params={"Epre": "finite", "Vslope": "non_zero"})
_attach(_sm.STDP, params={"tauPlus": "positive", "tauMinus": "positive", "Aplus": "finite",
                          "Aminus": "finite", "Wmin": "finite", "Wmax": "finite"},
        ordered=[("Wmin", "Wmax")])
_attach(_cs.DC, params={"amp": "finite"})
_attach(_cs.GaussianNoise, params={"mean": "finite", "sd": "non_negative"})
_attach(_cs.PoissonExp, params={"weight": "finite", "tauSyn": "positive",
                                "rate": "non_negative"})
_attach(_init.Uniform, params={"min": "finite", "max": "finite"}, ordered=[("min", "max")])
_attach(_init.Normal, params={"mean": "finite", "sd": "non_negative"})
_attach(_init.NormalClipped,
        params={"mean": "finite", "sd": "non_negative", "min": "not_nan", "max": "not_nan"},
        ordered=[("min", "max")],
        checks=[(lambda p: _normal_mass(p) >= 1e-6,
                 "[min, max] must hold a reasonable share (>= 1e-6) of the normal "
                 "distribution, or initialisation would loop (almost) forever")])
_attach(_init.NormalClippedDelay,
        params={"mean": "finite", "sd": "non_negative", "min": "not_nan", "max": "not_nan"},
        ordered=[("min", "max")],
        checks=[(lambda p: _normal_mass(p) >= 1e-6,
                 "[min, max] must hold a reasonable share (>= 1e-6) of the normal "
                 "distribution, or initialisation would loop (almost) forever")])
_attach(_init.Exponential, params={"lambda": "positive"})
_attach(_init.Gamma, params={"a": "positive", "b": "positive"})
_attach(_init.Binomial, params={"n": "non_negative_int", "p": "probability"},
        checks=[(lambda p: p["n"] < 2 ** 32, "n must fit in an unsigned int (< 2**32)")])
_attach(_init.Uninitialised)
_attach(_conn.FixedProbability, params={"prob": "probability"})
_attach(_conn.FixedProbabilityNoAutapse, params={"prob": "probability"})
_attach(_conn.FixedNumberPostWithReplacement, params={"num": "non_negative_int"})
_attach(_conn.Uninitialised)
_attach(_conn.FixedNumberPreWithReplacement, params={"num": "non_negative_int"})
_attach(_conn.FixedNumberTotalWithReplacement, params={"num": "non_negative_int"})
_CONV = {n: "positive_int" for n in ("conv_kh", "conv_kw", "conv_sh", "conv_sw", "conv_ih",
                                     "conv_iw", "conv_ic", "conv_oh", "conv_ow", "conv_oc")}
_attach(_conn.Conv2D, params={**_CONV, "conv_padh": "non_negative_int",
                              "conv_padw": "non_negative_int"},
        pre_size=("conv_ih", "conv_iw", "conv_ic"), post_size=("conv_oh", "conv_ow", "conv_oc"))
_attach(_conn.ToeplitzConv2D,
        params={n: "positive_int" for n in ("conv_kh", "conv_kw", "conv_ih", "conv_iw",
                                            "conv_ic", "conv_oh", "conv_ow", "conv_oc")},
        pre_size=("conv_ih", "conv_iw", "conv_ic"), post_size=("conv_oh", "conv_ow", "conv_oc"))
_attach(_conn.ToeplitzAvgPoolConv2D,
        params={n: "positive_int" for n in ("conv_kh", "conv_kw", "pool_kh", "pool_kw",
                                            "pool_sh", "pool_sw", "pool_ih", "pool_iw",
                                            "pool_ic", "conv_oh", "conv_ow", "conv_oc")},
        checks=[(lambda p: p["pool_ih"] >= p["pool_kh"] and p["pool_iw"] >= p["pool_kw"],
                 "the pooling window must fit in the input (pool_kh <= pool_ih, "
                 "pool_kw <= pool_iw)")],
        pre_size=("pool_ih", "pool_iw", "pool_ic"), post_size=("conv_oh", "conv_ow", "conv_oc"))

# Built-in Toeplitz snippets whose addSynapse targets are in range by
# construction once the constraints above hold (post index = (row * ow + col)
# * oc + channel with row < oh, col < ow, channel < oc, and oh * ow * oc the
# target size; kernel indices below the kernel's own sizes): the generated
# spike loop needs no per-synapse bounds check for them.
_conn.ToeplitzConv2D.indices_in_range = True
_conn.ToeplitzAvgPoolConv2D.indices_in_range = True

# Runtime index checks: (start var, end var, EGP) -- the generated code reads
# EGP[start .. end-1], so start <= end <= len(EGP) is checked before each run.
_nm.SpikeSourceArray.index_constraints = [("startSpike", "endSpike", "spikeTimes")]

# Minimum EGP sizes of variable initialisers: "kernel_size" = the number of
# kernel elements of the synapse population (the code reads kernel[id_kernel]).
_init.Kernel.egp_min_sizes = {"kernel": "kernel_size"}
