"""Backend-independent code generation.

The :class:`Backend` base renders every code string (neuron, postsynaptic,
current source, weight update, initialisation, custom update) into C lines
with the right names; subclasses only choose how those lines are wrapped:
loops or threads, atomics, qualifiers, and how the result is compiled.
"""
import re
from dataclasses import dataclass

import numpy as np

from ..code import Environment, Function, Renderer, Value
from ..code.environment import Local
from ..errors import ModelError
from ..groups import constant_value, is_constant, numpy_dtype
from ..snippets import VarInit, derived_values
from ..types import (SynapseMatrixConnectivity as Conn, SynapseMatrixWeight as Weight,
                     VarAccessDim, VarAccessMode, VarAccessModeAttribute, access_mode,
                     custom_update_var_dims, var_dims)

# C99 maths functions and their argument counts.
MATHS = {
    **{f: 1 for f in ("cos", "sin", "tan", "acos", "asin", "atan", "cosh", "sinh", "tanh",
                      "acosh", "asinh", "atanh", "exp", "expm1", "exp2", "log", "log1p",
                      "log2", "log10", "sqrt", "cbrt", "ceil", "floor", "round", "rint",
                      "trunc", "nearbyint", "fabs", "erf", "erfc", "tgamma", "lgamma",
                      "logb", "ilogb")},
    **{f: 2 for f in ("atan2", "pow", "hypot", "fmod", "remainder", "fdim", "fmax", "fmin",
                      "copysign", "nextafter", "ldexp", "scalbn")},
    "fma": 3,
}
RNG_FUNCTIONS = ("gennrand", "gennrand_uniform", "gennrand_normal", "gennrand_exponential",
                 "gennrand_log_normal", "gennrand_gamma", "gennrand_binomial")


@dataclass
class ArraySpec:
    """One array shared between Python and native code."""
    index: int
    c_name: str
    ctype: str        # C element type
    dtype: object     # numpy dtype
    size: int         # elements (0 = set at run time, e.g. EGPs)
    key: tuple        # (group name, field)
    fill: object = 0


def c_ident(name):
    """A C identifier derived from a user's group name."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not s or s[0].isdigit():
        s = "g" + s
    return s.lstrip("_") or "g"


def c_literal(value, ctype, precision):
    """Render a parameter value as a C literal of the given type."""
    t = ctype.replace("const ", "").strip()
    if t in ("scalar", "timepoint", "float", "double"):
        is_float = t == "float" or (t in ("scalar", "timepoint") and precision == "float")
        v = float(value)
        if np.isinf(v):
            text = ("INFINITY" if v > 0 else "-INFINITY")
            return f"(({'float' if is_float else 'double'}){text})"
        if np.isnan(v):
            return "NAN"
        text = repr(float(np.float32(v))) if is_float else repr(v)
        if "e" not in text and "." not in text and "inf" not in text:
            text += ".0"
        return f"({text}f)" if is_float else f"({text})"
    if t == "bool":
        return "true" if value else "false"
    iv = int(value)
    if t.startswith("u") or t.startswith("unsigned"):
        return f"({iv}u)"
    return f"({iv})"


class Backend:
    """Base of the C++ and CUDA backends."""
    name = "base"
    rng_state_ref = "&_rng"

    def __init__(self, model):
        self.model = model
        self.precision = model.precision
        self.renderer_cache = {}
        self.arrays = []
        self._array_index = {}
        self.streams = {}

    # -- arrays ------------------------------------------------------------
    def add_array(self, group_name, field, ctype, size, fill=0):
        key = (group_name, field)
        if key in self._array_index:
            return self._array_index[key]
        c_name = f"{c_ident(group_name)}_{field.replace('.', '_')}"
        spec = ArraySpec(len(self.arrays), c_name, ctype,
                         numpy_dtype(ctype, self.precision), int(size), key, fill)
        self.arrays.append(spec)
        self._array_index[key] = spec
        return spec

    def stream(self, *key):
        """A distinct RNG stream id per (group, purpose)."""
        return self.streams.setdefault(key, len(self.streams) + 1)

    # -- renderers ---------------------------------------------------------
    def renderer(self, hooks=None):
        return Renderer(self.precision, hooks)

    def sfx(self):
        return "f" if self.precision == "float" else "d"

    def maths_function(self, name):
        """How a maths call is written (overridden by backends)."""
        return name

    def base_env(self, rng=True):
        """Maths, RNG and utility functions available to every code string."""
        env = Environment()
        for name, n in MATHS.items():
            fname = self.maths_function(name)
            env.define(name, Function(lambda a, f=fname: f"{f}({', '.join(a)})", n, n,
                                      "maths function"))
        env.define("min", Function(lambda a: f"mg_min({a[0]}, {a[1]})", 2, 2, "function"))
        env.define("max", Function(lambda a: f"mg_max({a[0]}, {a[1]})", 2, 2, "function"))
        env.define("abs", Function(lambda a: f"mg_abs({a[0]})", 1, 1, "function"))
        env.define("printf", Function(lambda a: f"printf({', '.join(a)})", 1, 99, "function"))
        env.define("assert", Function(lambda a: f"assert({a[0]})", 1, 1, "function"))
        if rng:
            s, r = self.sfx(), self.rng_state_ref
            env.define("gennrand", Function(lambda a: f"mg_rand_u32({r})", 0, 0, "RNG"))
            env.define("gennrand_uniform", Function(lambda a: f"mg_uniform_{s}({r})", 0, 0, "RNG"))
            env.define("gennrand_normal", Function(lambda a: f"mg_normal_{s}({r})", 0, 0, "RNG"))
            env.define("gennrand_exponential",
                       Function(lambda a: f"mg_exponential_{s}({r})", 0, 0, "RNG"))
            env.define("gennrand_log_normal",
                       Function(lambda a: f"mg_log_normal_{s}({r}, {a[0]}, {a[1]})", 2, 2, "RNG"))
            env.define("gennrand_gamma",
                       Function(lambda a: f"mg_gamma_{s}({r}, {a[0]})", 1, 1, "RNG"))
            env.define("gennrand_binomial",
                       Function(lambda a: f"mg_binomial({r}, {a[0]}, {a[1]})", 2, 2, "RNG"))
        env.define("dt", Value(c_literal(self.model.dt, "timepoint", self.precision),
                               description="time step"))
        env.define("num_batch", Value(f"({self.model.batch_size}u)",
                                      description="batch size"))
        return env

    @staticmethod
    def uses_rng(env):
        return bool(env.root.used & set(RNG_FUNCTIONS))

    # -- parameters --------------------------------------------------------
    def add_params(self, env, group, snippet, params, dynamic, dyn_array):
        """Parameters become literals, dynamic ones read an array slot."""
        values = derived_values(snippet, params, self.model.dt)
        types = {p.name: p.type for p in snippet.params}
        types.update({d.name: d.type for d in snippet.derived_params})
        for name, value in values.items():
            if name in dynamic:
                env.define(name, Value(f"{dyn_array}[{dynamic.index(name)}]",
                                       description="dynamic parameter"))
            else:
                env.define(name, Value(c_literal(value, types.get(name, "scalar"),
                                                 self.precision),
                                       description="parameter"))

    def add_egps(self, env, group, egps, field_prefix=""):
        for egp in egps:
            spec = self.add_array(group.name, field_prefix + egp.name,
                                  egp.type.rstrip("*").strip(), 0)
            env.define(egp.name, Value(spec.c_name, pointer=True,
                                       description="extra global parameter"))

    def check_fields(self, snippet, name, render):
        """Render a snippet's code fields once, turning errors into CodeErrors."""
        return render
