"""Backend-independent code generation.

The :class:`Backend` base renders every code string (neuron, postsynaptic,
current source, weight update, initialisation, custom update) into C lines
with the right names; subclasses only choose how those lines are wrapped:
loops or threads, atomics, qualifiers, and how the result is compiled.
"""
import math
import numbers
import os
from typing import NamedTuple

import numpy as np

from ..code import Environment, Function, Renderer, Value
from ..code.environment import Local
from ..errors import ModelError
from ..groups import constant_value, is_constant
from ..snippets import VarInit, derived_values, dynamic_slots
from ..types import (SynapseMatrixConnectivity as Conn, SynapseMatrixWeight as Weight,
                     VarAccessDim, VarAccessModeAttribute as Attr, access_mode,
                     custom_update_var_dims, var_dims)
from ..types import NUMERIC_TYPES
from ..layout import Layout
from ..names import comment
from .writer import CodeWriter

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


def c_literal(value, ctype, precision):
    """Render a parameter value as a C literal of the given type.

    Raises ModelError (without saying whose value it is: callers add that)
    for values the type cannot hold: a finite number beyond the float
    range, NaN, infinite or fractional values for integer types, integers
    outside the type's range."""
    t = ctype.replace("const ", "").strip()
    if isinstance(value, (str, bytes)) or not isinstance(value, (numbers.Number, np.number,
                                                                  np.bool_)):
        raise ModelError(f"{value!r} is not a number (type {t})")
    if t in ("scalar", "timepoint", "float", "double"):
        is_float = t == "float" or (t in ("scalar", "timepoint") and precision == "float")
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ModelError(f"{value!r} is not a real number (type {t})") from None
        if np.isinf(v):
            text = ("INFINITY" if v > 0 else "-INFINITY")
            return f"(({'float' if is_float else 'double'}){text})"
        if np.isnan(v):
            return "NAN"
        if is_float:
            with np.errstate(over="ignore"):
                f32 = float(np.float32(v))
            if np.isinf(f32):
                raise ModelError(f"{value!r} is out of range for single precision (largest "
                                 f"{float(np.finfo(np.float32).max):.7g}); use "
                                 "precision='double' or a smaller value")
            text = repr(f32)
        else:
            text = repr(v)
        if "e" not in text and "." not in text and "inf" not in text:
            text += ".0"
        return f"({text}f)" if is_float else f"({text})"
    if t == "bool":
        return "true" if value else "false"
    name = NUMERIC_TYPES.get(t)
    if isinstance(value, (bool, np.bool_)):
        iv = int(value)
    elif isinstance(value, (numbers.Integral, np.integer)):
        iv = int(value)
    else:
        try:
            fv = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ModelError(f"{value!r} is not a number (type {t})") from None
        if not math.isfinite(fv) or fv != math.floor(fv):
            raise ModelError(f"{value!r} is not an integer, but the type is {t}")
        iv = int(fv)
    if name is not None and np.dtype(name).kind in "iu":
        info = np.iinfo(np.dtype(name))
        if not info.min <= iv <= info.max:
            raise ModelError(f"{iv} is out of range for {t} ({info.min}..{info.max})")
    if t.startswith("u") or t.startswith("unsigned"):
        return f"({iv}u)" if iv <= 0xFFFFFFFF else f"({iv}ull)"
    if iv > 2 ** 31 - 1 or iv < -2 ** 31:
        return f"({iv}ll)" if iv > -2 ** 63 else f"(-{2 ** 63 - 1}ll - 1)"
    return f"({iv})"


IDX = "unsigned int"     # C type of indices and sizes in code strings
# variable types atomic_add_<var> accepts (those CUDA's atomicAdd takes)
_ATOMIC_ADD_TYPES = ("scalar", "float", "double", "int", "int32_t", "unsigned int", "unsigned",
                     "uint32_t")

# Error bits set by generated code (mg_fail) and raised by Python after the
# native call: nothing traps or writes out of bounds in the meantime.
ERROR_ROW = 1            # sparse row longer than its calc_max_row_len_func bound
ERROR_DIVISION = 2       # integer division or remainder by zero
ERROR_ASSERT = 4         # assert(...) in a code string failed
ERROR_EGP_INDEX = 8      # extra global parameter read or written outside its size
ERROR_SYNAPSE_INDEX = 16  # addSynapse(...) with a target or kernel index out of range
ERROR_DELAY = 32         # addToPostDelay(...) with a delay beyond the delay ring
ERROR_INDEX_RANGE = 64   # index_constraints broken: run() refused to step
ERROR_ADD_SYNAPSE = 128  # add_synapse(...) on a full row (custom connectivity update)
ERROR_CONNECTIVITY_MISMATCH = 256  # populations updated together hold different rows
ERROR_PAST_VALUE = 512   # postVar[d] with d beyond the dendritic delay ring
ERROR_ROW_LENGTH_WRITE = 1024  # host_update_code wrote a row length outside 0..row_stride
ERROR_INDEX_WRITE = 2048       # host_update_code wrote a postsynaptic index >= num_post
ERROR_MESSAGES = {
    ERROR_ROW: "sparse connectivity produced a row longer than its calc_max_row_len_func "
               "bound (raise the bound)",
    ERROR_DIVISION: "an integer division or remainder by zero (the result was replaced by 0)",
    ERROR_ASSERT: "an assert(...) in a code string failed",
    ERROR_EGP_INDEX: "an extra global parameter was indexed outside its size (set it with "
                     "set_init_values(...) to an array long enough for every index the code "
                     "uses), or, in host_update_code, a variable or the connectivity "
                     "(row_length, ind)",
    ERROR_SYNAPSE_INDEX: "addSynapse(...) was called with a postsynaptic or kernel index "
                         "outside the target population or kernel (the synapse was dropped)",
    ERROR_INDEX_RANGE: "an index range (index_constraints) lies outside its extra global "
                       "parameter; no step was run",
    ERROR_ADD_SYNAPSE: "add_synapse(...) in a custom connectivity update was called on a "
                       "row already as long as its padded length (the synapse was not "
                       "added; set max_connections on the synapse population before "
                       "build() to leave room)",
    ERROR_CONNECTIVITY_MISMATCH: "a custom connectivity update references a second synapse "
                                 "population whose connectivity differs from the updated "
                                 "one's (those rows were left unchanged)",
    ERROR_PAST_VALUE: "a postsynaptic variable was read d steps back (postVar[d]) with d "
                      "outside 0 .. max_dendritic_delay_timesteps - 1 (the oldest kept "
                      "value was read instead)",
    ERROR_ROW_LENGTH_WRITE: "host_update_code of a custom connectivity update wrote a row "
                            "length outside 0 .. row_stride (below 0, or longer than the "
                            "padded rows: raise max_connections; the write was skipped)",
    ERROR_INDEX_WRITE: "host_update_code of a custom connectivity update wrote a postsynaptic "
                       "index (ind[...]) outside the target population (the write was "
                       "skipped)",
    ERROR_DELAY: "addToPostDelay(...) was called with a delay outside 0 .. "
                 "max_dendritic_delay_timesteps - 1 (the input was dropped; raise "
                 "max_dendritic_delay_timesteps above the largest delay)",
}


def writable(access):
    return bool(int(access_mode(access)) & (Attr.READ_WRITE | Attr.REDUCE | Attr.BROADCAST))


def expand_multiline(lines):
    """Re-indent statements whose rendered text spans several lines."""
    out = []
    for line in lines:
        if "\n" not in line:
            out.append(line)
            continue
        first, *rest = line.split("\n")
        pad = first[:len(first) - len(first.lstrip())]
        out.append(first)
        out += [pad + r for r in rest]
    return out


#: spike times in code strings and their arrays (per neuron population, one
#: copy per delay slot, initialised to the lowest time)
SPIKE_TIMES = (("st", "st"), ("prev_st", "prevST"), ("set", "seT"), ("prev_set", "prevSET"))
SPIKE_TIME_WHAT = {"st": "time of the last spike", "prev_st": "time of the spike before",
                   "set": "time of the last spike-like event",
                   "prev_set": "time of the spike-like event before"}


class SpikeQueue(NamedTuple):
    """Where a neuron update queues its spikes (or spike-like events): the
    local names of the list and its count, and the arrays (count per
    ``batch * slots + slot``, list of ``n`` per slot)."""
    list_local: str
    count_local: str
    list_array: str
    count_array: str
    n: int
    slots: int


class SpikeRecording(NamedTuple):
    """A recording bitfield (one bit per neuron and step): local pointer name
    and array."""
    local: str
    array: str
    n: int


class Backend:
    """Base of the C++ and CUDA backends.

    The shared generators (:mod:`ml_genn.genn.generators`) are mixed into
    each backend and call it back for what differs between targets; every
    backend implements these hooks:

    - ``function_qualifier``: prefix of every generated member function.
    - ``neuron_loop(w, n)``: scope in which ``id`` is one neuron (a loop on
      the CPU, a guarded thread index on a GPU).
    - ``element_loops(w, index, n, batches)``: scope over ``index`` in
      ``0..n-1`` (and ``batch`` in ``0..batches-1`` unless None); the body
      may ``continue``.
    - ``queue_setup/queue_push/queue_finish(queue)``,
      ``recording_setup/recording_set/recording_finish(rec[, cond])``:
      lines that queue and record spikes.
    - ``dense_propagation/sparse_propagation/procedural_propagation/
      toeplitz_propagation``, ``post_learning_loops``,
      ``synapse_dynamics_loops``: the loops of the synapse update parts.
    - ``add_to_post(part, value)``, ``add_to(target, value)``: accumulation.
    - ``synapse_functions``, ``init_functions``, ``custom_update_functions``,
      ``custom_update_loops``: how the parts become functions.
    - ``custom_connectivity_grid(name, n)``: a custom connectivity update
      part ``name`` runs ``n`` independent iterations of ``element_loops``.
    """
    name = "base"
    rng_state_ref = "&_rng"
    function_qualifier = ""
    neuron_range_args = ""  # extra parameters of neuron updates (the CPU's range)
    shares_steps = False    # one batch element's steps shared among CPU threads
    traits = "std"          # namespace of make_unsigned, is_signed

    def __init__(self, model):
        self.model = model
        self.precision = model.precision
        self.renderer_cache = {}
        self.layout = Layout(model.precision)
        # keys (group, field) of the EGP arrays that rendered code reads or
        # writes: the runtime can insist they are set before run()
        self.egps_read = set()
        self.streams = {}

    # -- arrays ------------------------------------------------------------
    def add_array(self, group_name, field, ctype, size, fill=0, origin=""):
        """Declare (or find) an array in the model's :class:`~..layout.Layout`."""
        return self.layout.add(group_name, field, ctype, size, fill, origin)

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
                                      "maths function",
                                      returns="int" if name == "ilogb" else "double"))
        env.define("min", Function(lambda a: f"mg_min({a[0]}, {a[1]})", 2, 2, "function",
                                   returns="args"))
        env.define("max", Function(lambda a: f"mg_max({a[0]}, {a[1]})", 2, 2, "function",
                                   returns="args"))
        env.define("abs", Function(lambda a: f"mg_abs({a[0]})", 1, 1, "function",
                                   returns="args"))
        # the renderer checks the format and casts every argument ("printf")
        env.define("printf", Function(lambda a: f"printf({', '.join(a)})", 1, 99, "function",
                                      returns="printf"))
        # a failed assert must not abort the process: it is recorded and raised
        env.define("assert", Function(
            lambda a: f"if (!({a[0]})) {{ mg_fail({ERROR_ASSERT}); }}", 1, 1, "function",
            statement=True, returns="void"))
        if rng:
            s, r = self.sfx(), self.rng_state_ref
            env.define("gennrand", Function(lambda a: f"mg_rand_u32({r})", 0, 0, "RNG",
                                            returns="uint32_t"))
            env.define("gennrand_uniform", Function(lambda a: f"mg_uniform_{s}({r})", 0, 0, "RNG"))
            env.define("gennrand_normal", Function(lambda a: f"mg_normal_{s}({r})", 0, 0, "RNG"))
            env.define("gennrand_exponential",
                       Function(lambda a: f"mg_exponential_{s}({r})", 0, 0, "RNG"))
            env.define("gennrand_log_normal",
                       Function(lambda a: f"mg_log_normal_{s}({r}, {a[0]}, {a[1]})", 2, 2, "RNG"))
            env.define("gennrand_gamma",
                       Function(lambda a: f"mg_gamma_{s}({r}, {a[0]})", 1, 1, "RNG"))
            env.define("gennrand_binomial",
                       Function(lambda a: f"mg_binomial({r}, {a[0]}, {a[1]})", 2, 2, "RNG",
                                returns="unsigned int"))
        try:
            dt_text = c_literal(self.model.dt, "timepoint", self.precision)
        except ModelError as e:
            raise ModelError(f"dt = {self.model.dt!r}: {e}") from None
        env.define("dt", Value(dt_text,
                               description="time step", ctype="timepoint"))
        env.define("num_batch", Value(f"({self.model.batch_size}u)", ctype=IDX,
                                      description="batch size"))
        return env

    def element_env(self, group, snippet, params, size, dyn_field="dyn", egp_prefix="",
                    rng=True, id_description="neuron index", ctype=IDX):
        """Scope of code run once per neuron (or element): id, t, batch,
        num_neurons, the group's parameters and EGPs."""
        env = self.base_env(rng).child()
        env.define("id", Value("id", description=id_description, ctype=IDX))
        env.define("t", Value("t", description="time", ctype="timepoint"))
        env.define("batch", Value("batch", description="batch index", ctype=IDX))
        env.define("num_neurons", Value(f"({size}u)", description="population size", ctype=IDX))
        dynamic = group.psm_dynamic_params if dyn_field == "psm_dyn" else group.dynamic_params
        self.add_params(env, group, snippet, params, dynamic, self._dyn(group.name, dyn_field))
        self.add_egps(env, group, snippet.extra_global_params, egp_prefix)
        return env

    @staticmethod
    def uses_rng(env):
        return bool(env.root.used & set(RNG_FUNCTIONS))

    # -- parameters --------------------------------------------------------
    def add_params(self, env, group, snippet, params, dynamic, dyn_array):
        """Parameters become literals; dynamic ones (and the derived ones
        computed from them) read a slot of the group's dynamic array."""
        values = derived_values(snippet, params, self.model.dt)
        types = {p.name: p.type for p in snippet.params}
        types.update({d.name: d.type for d in snippet.derived_params})
        slots = dynamic_slots(snippet, params, dynamic, group._dt()) if dynamic else []
        for name, value in values.items():
            if name in slots:
                env.define(name, Value(f"{dyn_array}[{slots.index(name)}]", ctype="scalar",
                                       description="dynamic parameter"))
            else:
                try:
                    text = c_literal(value, types.get(name, "scalar"), self.precision)
                except ModelError as e:
                    kind = "derived parameter" if name not in params else "parameter"
                    raise ModelError(f"{group.kind} '{group.name}' (model "
                                     f"'{snippet.class_name}'): {kind} '{name}' = "
                                     f"{value!r}: {e}") from None
                env.define(name, Value(text,
                                       description="parameter",
                                       ctype=types.get(name, "scalar")))

    def egp_value(self, spec, description="extra global parameter"):
        """The code-string symbol of an EGP array: only ``name[index]`` is
        allowed (read or written, as in GeNN: e.g. EventProp's spike-time
        rings), and every use is recorded in :attr:`egps_read`."""
        def element(index, spec=spec):
            self.egps_read.add(spec.key)
            # bounds-checked: a too short (or unset) EGP never reads or writes
            # outside its array
            return f"(*mg_at({spec.c_name}, mg_size[{spec.index}], ({index})))"
        return Value(spec.c_name, pointer=True, writable=True, description=description,
                     ctype=spec.ctype, index=element)

    def add_egps(self, env, group, egps, field_prefix=""):
        for egp in egps:
            spec = self.add_array(group.name, field_prefix + egp.name,
                                  egp.type.rstrip("*").strip(), 0,
                                  origin=f"extra global parameter '{field_prefix}{egp.name}'")
            env.define(egp.name, self.egp_value(spec))

    # -- backend hooks: how accumulation is written --------------------
    def add_to(self, target, value):
        """Accumulate into shared memory: plain += here, atomics on GPUs."""
        return f"{target} += ({value})"

    def add_to_post(self, part, value):
        """``addToPost(value)`` in weight-update code ``part`` (the code
        field, e.g. "pre_spike_syn_code")."""
        return self.add_to("_out[id_post]", value)

    # -- definitions shared by every target -----------------------------
    def _header(self, backend_text):
        """First lines of a generated source: what it is, for whom."""
        return ["// " + comment(f'Generated by ml_genn.genn for model "{self.model.model_name}"'),
                f"// backend: {backend_text}, precision: {self.precision}, batch size: "
                f"{self.B}, dt: {self.model.dt}"]

    def _common_definitions(self):
        """Types, the random number generator and the helpers code strings
        call (after the target's includes and MG_HD)."""
        scalar = "float" if self.precision == "float" else "double"
        tp = "float" if self.model.time_precision == "float" else "double"
        with open(os.path.join(os.path.dirname(__file__), "philox.h")) as f:
            philox = f.read()
        return [
            f"typedef {scalar} scalar;",
            f"typedef {tp} timepoint;",
            philox,
            "template<typename A, typename B> static inline auto mg_min(A a, B b) -> decltype(a + b) { return (a < b) ? a : b; }",
            "template<typename A, typename B> static inline auto mg_max(A a, B b) -> decltype(a + b) { return (a > b) ? a : b; }",
            "template<typename A> static inline A mg_abs(A a) { return (a < 0) ? -a : a; }",
        ]

    # -- the state struct shared by every target ------------------------
    def _declare_arrays(self):
        """Every array of the model in the layout (generators add the EGPs
        they meet while rendering)."""
        m = self.model
        for ng in m.neuron_populations.values():
            self._neuron_arrays(ng)
        for sg in m.synapse_populations.values():
            self._synapse_arrays(sg)
        for cs in m.current_sources.values():
            for v in cs.vars.values():
                self._var_array(cs, v, cs.target.num_neurons)
        for g in list(m.current_sources.values()) + list(m.custom_updates.values()):
            if g.dynamic_params:
                self.add_array(g.name, "dyn", "scalar", len(g.dyn_slots()))
        if m.timing_enabled:
            # seconds spent per batch element: [synapse updates, neuron updates]
            self.add_array("<model>", "timers", "double", 2 * self.B)
        for cu in m.custom_updates.values():
            for v in cu.vars.values():
                dims = custom_update_var_dims(v.access, cu.update_dims())
                size = (self._custom_update_size(cu) if dims & VarAccessDim.ELEMENT else 1) * \
                    (self.B if dims & VarAccessDim.BATCH else 1)
                self.add_array(cu.name, v.name, v.type, size, origin=f"variable '{v.name}'")
        for ccu in m.custom_connectivity_updates.values():
            self._ccu_arrays(ccu)


    def _members(self):
        """The model's state and the helpers that report errors into it
        (members of the generated ``mg_model`` struct)."""
        w = CodeWriter()
        w.line("// arrays owned by Python (NumPy), bound by index with mg_set_array")
        for a in self.layout:
            w.line(f"{a.ctype}* {a.c_name} = nullptr;  // {comment(f'{a.key[0]}.{a.key[1]}')}")
        w.line(f"uint64_t mg_size[{max(len(self.layout), 1)}] = {{0}};  // elements of each array")
        w.line("uint64_t mg_seed = 0;")
        w.lines([
            "// errors found by generated code (bits: see ERROR_* in backends/base.py); the",
            "// step finishes and Python raises after the native call returns",
            "int mg_error = 0;",
            f"inline void mg_fail(int code) {{ {self.atomic_or('mg_error', 'code')}; }}",
            "// integer division and remainder: a zero divisor (or INT_MIN / -1) would trap",
            "template<typename A, typename B> inline auto mg_idiv(A a, B b) -> decltype(a / b) {",
            "    typedef decltype(a / b) R;",
            f"    typedef typename {self.traits}::make_unsigned<R>::type U;",
            f"    if (b == 0) {{ mg_fail({ERROR_DIVISION}); return R(0); }}",
            f"    if ({self.traits}::is_signed<R>::value && R(b) == R(-1)) {{ return (R)(U(0) - U(a)); }}",
            "    return a / b;",
            "}",
            "template<typename A, typename B> inline auto mg_imod(A a, B b) -> decltype(a % b) {",
            "    typedef decltype(a % b) R;",
            f"    if (b == 0) {{ mg_fail({ERROR_DIVISION}); return R(0); }}",
            f"    if ({self.traits}::is_signed<R>::value && R(b) == R(-1)) {{ return R(0); }}",
            "    return a % b;",
            "}",
            "// the slot of the value d steps before the last neuron update (postVar[d])",
            "template<typename D> inline unsigned int mg_past_slot(uint64_t step, D d, "
            "unsigned int ds) {",
            f"    if (d < 0 || (uint64_t)d >= ds) {{ mg_fail({ERROR_PAST_VALUE}); d = ds - 1; }}",
            "    return (unsigned int)((step + ds - 1u - (uint64_t)d) % ds);",
            "}",
            "template<typename A, typename B> inline A& mg_idiv_assign(A& a, B b) { a = (A)mg_idiv(a, b); return a; }",
            "template<typename A, typename B> inline A& mg_imod_assign(A& a, B b) { a = (A)mg_imod(a, b); return a; }",
            "// element i of an extra global parameter of n elements: outside it, the",
            "// error is recorded and a dummy element is read or written instead",
            "template<typename T, typename I> inline T* mg_at(T* p, uint64_t n, I i) {",
            "    if ((uint64_t)i < n) { return p + (uint64_t)i; }",
            f"    mg_fail({ERROR_EGP_INDEX});",
            *["    " + line for line in self.dummy_element()],
            "}",
            "// element i of connectivity (row lengths, indices) written by host_update_code:",
            "// op 0 sets, +1/-1 adds/subtracts v; a result outside 0..limit is refused, so",
            "// rows never outgrow their padding nor point outside the target; every",
            "// population sharing the connectivity (copies) gets the same value",
            "template<typename T, typename I, typename V> inline T mg_conn_store(",
            "        T* const* copies, unsigned int n_copies, uint64_t n, I i, int op, V v,",
            "        uint64_t limit, int error, bool old_value) {",
            f"    if ((uint64_t)i >= n) {{ mg_fail({ERROR_EGP_INDEX}); return T(0); }}",
            "    const T old = copies[0][(uint64_t)i];",
            "    const int64_t value = (op == 0) ? (int64_t)v : (int64_t)old + op * (int64_t)v;",
            "    if (value < 0 || (uint64_t)value > limit) {",
            "        mg_fail(error);",
            "        return old;",
            "    }",
            "    for (unsigned int c = 0; c < n_copies; c++) { copies[c][(uint64_t)i] = (T)value; }",
            "    return old_value ? old : (T)value;",
            "}",
            "",
        ])
        return w.result()

    def custom_connectivity_grid(self, name, n):
        """Launch size of a custom connectivity update part (CPU: loops)."""

    def atomic_or(self, target, value):
        """``target |= value`` done atomically (error bits from any thread)."""
        raise NotImplementedError

    def dummy_element(self):
        """Lines of ``mg_at`` returning a writable dummy element of type T."""
        raise NotImplementedError

    # -- arrays of every group ------------------------------------------
    def _var_size(self, var, count):
        dims = var_dims(var.access)
        size = count if dims & VarAccessDim.ELEMENT else 1
        if dims & VarAccessDim.BATCH:
            size *= self.B
        return size

    def _var_array(self, group, var, count, prefix=""):
        kind = {"": "variable", "psm_": "postsynaptic model variable",
                "pre_": "presynaptic variable", "post_": "postsynaptic variable"}[prefix]
        return self.add_array(group.name, prefix + var.name, var.type,
                              self._var_size(var, count), origin=f"{kind} '{var.name}'")

    def _neuron_arrays(self, ng):
        n = ng.num_neurons
        for v in ng.vars.values():
            self._var_array(ng, v, n)
        slots = ng.num_delay_slots
        self.add_array(ng.name, "spkCnt", "uint32_t", self.B * slots)
        self.add_array(ng.name, "spk", "uint32_t", self.B * slots * n)
        if ng.dynamic_params:
            self.add_array(ng.name, "dyn", "scalar", len(ng.dyn_slots()))
        if ng.spike_recording_enabled:
            self.add_array(ng.name, "recSpk", "uint32_t", 0)   # sized at load
        if getattr(ng, "spike_event_recording_enabled", False):
            self.add_array(ng.name, "recSpkEvnt", "uint32_t", 0)
        for field in self._spike_time_fields(ng):
            # one copy per delay slot: a delayed synapse reads the slot of the
            # spike it propagates
            self.add_array(ng.name, field, "timepoint", self.B * slots * n, fill="-max")
        for name in self._delayed_neuron_vars(ng):
            # values of past steps, per delay slot, read by delayed synapses
            self.add_array(ng.name, f"delayQueue.{name}", ng.vars[name].type,
                           self.B * slots * n)

    def _spike_time_fields(self, ng):
        """Spike-time arrays (``st``, ``prevST``, ``seT``, ``prevSET``) some
        code reads: the neuron's own code as st/prev_st/set/prev_set, weight
        update code of outgoing synapse populations with a ``_pre`` suffix and
        of incoming ones with ``_post``."""
        names = set(self._names_in(ng.snippet))
        # custom updates referencing them (create_(prev_)spike_time_var_ref)
        names |= {{"st": "st", "prevST": "prev_st"}[r.var_name]
                  for cu in self.model.custom_updates.values() for r in cu.var_refs.values()
                  if r.kind == "spike_time" and r.group is ng}
        for role, groups in (("pre", ng.out_syn), ("post", ng.in_syn)):
            for sg in groups:
                names |= {k[:-len(role) - 1] for k in self._names_in(sg.snippet)
                          if k.endswith("_" + role)}
        fields = []
        for code_name, field, base in (("st", "st", None), ("prev_st", "prevST", "st"),
                                       ("set", "seT", None), ("prev_set", "prevSET", "set")):
            # prev_* is updated from *: both are kept when either is read
            if code_name in names or (base is None and "prev_" + code_name in names):
                fields.append(field)
        return fields

    def _delayed_neuron_vars(self, ng):
        """Variables of ``ng`` that a delayed synapse population reads
        through a neuron variable reference (pre with an axonal delay, post
        with a back-propagation delay): they get per-slot copies."""
        out = []
        for role, groups in (("pre", ng.out_syn), ("post", ng.in_syn)):
            for sg in groups:
                if not self._role_delay(sg, role):
                    continue
                decls = getattr(sg.snippet, f"{role}_neuron_var_refs")
                values = getattr(sg.wu_initialiser, f"{role}_var_refs")
                for r in decls:
                    target = self._neuron_ref_target(sg, ng, r.name, values[r.name])
                    if writable(ng.vars[target].access) and target not in out:
                        out.append(target)
        return out

    @staticmethod
    def _role_delay(sg, role):
        """Steps a spike of the pre (post) neuron takes to reach ``sg``'s
        synaptic code: the axonal (back-propagation) delay."""
        return int(getattr(sg, "axonal_delay_steps" if role == "pre"
                           else "back_prop_delay_steps", 0) or 0)

    @staticmethod
    def _role_slot(role):
        """The local (set by the synapse update's prologue) holding the delay
        slot synaptic code reads pre (post) neuron state from."""
        return "_readSlot" if role == "pre" else "_postReadSlot"

    def _past_values(self, sg):
        """{code name: (array key of the present value, C type)} of the
        postsynaptic variables and neuron variable references that this
        group's synaptic code reads some steps back, as ``postVar[d]``
        (heterogeneous dendritic delays: GeNN keeps their last
        ``max_dendritic_delay_timesteps`` values)."""
        from ..code.tokenizer import tokenize
        wu = sg.snippet
        read_back = set()
        for field in ("pre_spike_syn_code", "pre_event_syn_code", "post_spike_syn_code",
                      "post_event_syn_code", "synapse_dynamics_code"):
            try:
                tokens = [t for t in tokenize(getattr(wu, field) or "")]
            except Exception:
                continue            # the renderer reports it, with its position
            read_back |= {a.text for a, b in zip(tokens, tokens[1:])
                          if a.kind == "ident" and b.text == "["}
        out = {}
        for v in sg.post_vars.values():
            if v.name in read_back:
                out[v.name] = ((sg.name, "post_" + v.name), v.type)
        for r in wu.post_neuron_var_refs:
            if r.name in read_back:
                target = self._neuron_ref_target(sg, sg.trg, r.name,
                                                 sg.wu_initialiser.post_var_refs[r.name])
                out[r.name] = ((sg.trg.name, target), sg.trg.vars[target].type)
        if out and sg.max_dendritic_delay_timesteps <= 1:
            raise ModelError(f"synapse population '{sg.name}': its code reads "
                             f"{', '.join(sorted(out))} some steps back ({sorted(out)[0]}[d]); "
                             "set max_dendritic_delay_timesteps (> the largest d) before "
                             "build()")
        return out

    def _past_readable(self, sg, name, value):
        """``value``, also readable ``d`` steps back as ``name[d]`` when the
        group keeps its past values (then read-only in synaptic code)."""
        past = self.layout.get(sg.name, f"pastValues.{name}")
        if past is None:
            return value
        ds, npost = sg.max_dendritic_delay_timesteps, sg.trg.num_neurons

        def back(d):
            return (f"{past.c_name}[(batch * {ds}u + mg_past_slot(step, ({d}), {ds}u)) * "
                    f"{npost}u + id_post]")
        return Value(value.text, ctype=value.ctype, index=back,
                     description=value.description + " (readable d steps back: name[d])",
                     read_only_hint="Variables read some steps back are read-only in "
                                    "synaptic code.")

    def _synapse_arrays(self, sg):
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        self.add_array(sg.name, "inSyn", "scalar", self.B * npost)
        ds = sg.max_dendritic_delay_timesteps
        for name, (_, ctype) in self._past_values(sg).items():
            # the values of the last ds steps, written by the target's update
            self.add_array(sg.name, f"pastValues.{name}", ctype, self.B * ds * npost)
        if sg.snippet.pre_event_threshold_condition_code.strip():
            slots = sg.src.num_delay_slots
            self.add_array(sg.name, "evntCnt", "uint32_t", self.B * slots)
            self.add_array(sg.name, "evnt", "uint32_t", self.B * slots * npre)
        if sg.snippet.post_event_threshold_condition_code.strip():
            slots = sg.trg.num_delay_slots
            self.add_array(sg.name, "postEvntCnt", "uint32_t", self.B * slots)
            self.add_array(sg.name, "postEvnt", "uint32_t", self.B * slots * npost)
        if "addToPre" in self._names_in(sg.snippet):
            self.add_array(sg.name, "outPre", "scalar", self.B * npre)
        if sg.max_dendritic_delay_timesteps > 1:
            self.add_array(sg.name, "denDelay", "scalar",
                           self.B * sg.max_dendritic_delay_timesteps * npost)
        for v in sg.psm_vars.values():
            self._var_array(sg, v, npost, "psm_")
        for v in sg.pre_vars.values():
            self._var_array(sg, v, npre, "pre_")
        for v in sg.post_vars.values():
            self._var_array(sg, v, npost, "post_")
        for role, ng, own in (("pre", sg.src, sg.pre_vars), ("post", sg.trg, sg.post_vars)):
            if self._role_delay(sg, role):
                for v in own.values():
                    if writable(v.access):
                        # values of past steps, read by the delayed synaptic code
                        self.add_array(sg.name, f"delayQueue.{role}_{v.name}", v.type,
                                       self.B * ng.num_delay_slots * ng.num_neurons)
        if sg.dynamic_params:
            self.add_array(sg.name, "dyn", "scalar", len(sg.dyn_slots()))
        if sg.psm_dynamic_params:
            self.add_array(sg.name, "psm_dyn", "scalar", len(sg.dyn_slots("psm_dyn")))
        if conn == Conn.SPARSE:
            stride = self.model._sizes[(sg.name, "stride")]
            self.add_array(sg.name, "rowLength", "uint32_t", npre)
            self.add_array(sg.name, "ind", "uint32_t", npre * stride)
            count = npre * stride
            if sg.snippet.post_spike_syn_code.strip() or sg.snippet.post_event_syn_code.strip():
                # column view of the rows for postsynaptic learning (built by the
                # runtime whenever the connectivity changes): the synapses onto
                # post neuron j are remap[colStart[j] .. colStart[j + 1] - 1], in
                # row-major order
                self.add_array(sg.name, "colStart", "uint32_t", npost + 1)
                self.add_array(sg.name, "remap", "uint32_t", npre * stride)
        elif conn == Conn.BITMASK:
            # one bit per (pre, post) pair, bit id_pre * num_post + id_post
            self.add_array(sg.name, "gp", "uint32_t", (npre * npost + 31) // 32)
            count = None
        elif conn == Conn.DENSE:
            count = npre * npost
        else:
            count = None
        for v in sg.vars.values():
            if weight == Weight.KERNEL:
                k = 1
                for d in sg.kernel_size:
                    k *= d
                self._var_array(sg, v, k)
            elif weight == Weight.INDIVIDUAL:
                self._var_array(sg, v, count)
            # PROCEDURAL weights are regenerated: no storage

    @staticmethod
    def _elem(var, idx):
        return idx if var_dims(var.access) & VarAccessDim.ELEMENT else "0"

    def _wu_neuron_env(self, sg, role):
        """Names of weight-update code run per pre (or post) neuron."""
        ng = sg.src if role == "pre" else sg.trg
        n = ng.num_neurons
        env = self.base_env().child()
        env.define("id", Value("id", description="neuron index", ctype=IDX))
        env.define(f"id_{role}", Value("id", description=f"{role}synaptic index", ctype=IDX))
        env.define("t", Value("t", description="time", ctype="timepoint"))
        env.define("batch", Value("batch", description="batch index", ctype=IDX))
        env.define("num_pre", Value(f"({sg.src.num_neurons}u)", description="size", ctype=IDX))
        env.define("num_post", Value(f"({sg.trg.num_neurons}u)", description="size", ctype=IDX))
        self.add_params(env, sg, sg.snippet, sg.params, sg.dynamic_params,
                        self._dyn(sg.name, "dyn"))
        self.add_egps(env, sg, sg.snippet.extra_global_params)
        own = sg.pre_vars if role == "pre" else sg.post_vars
        for v in own.values():
            spec = self._spec(sg.name, f"{role}_{v.name}")
            env.define(v.name, Value(f"{spec.c_name}[{self._batched_index(v, n, 'id')}]",
                                     writable=writable(v.access), ctype=v.type,
                                     description=f"{role}synaptic variable"))
        ref_names = {}
        decls = (sg.snippet.pre_neuron_var_refs if role == "pre"
                 else sg.snippet.post_neuron_var_refs)
        values = (sg.wu_initialiser.pre_var_refs if role == "pre"
                  else sg.wu_initialiser.post_var_refs)
        for r in decls:
            target = self._neuron_ref_target(sg, ng, r.name, values[r.name])
            ref_names[r.name] = target
            env.define(r.name, Value(target, writable=writable(r.access),
                                     ctype=ng.vars[target].type,
                                     description=f"{role}synaptic neuron variable reference"))
        for code_name, field in SPIKE_TIMES:
            if spec := self.layout.get(ng.name, field):
                # this step's slot (set up by the neuron update)
                env.define(f"{code_name}_{role}", Value(
                    f"_p_{spec.c_name}[id]", ctype="timepoint",
                    description=f"{role}synaptic {SPIKE_TIME_WHAT[code_name]}"))
        return env, ref_names

    def _neuron_ref_target(self, sg, ng, name, value):
        tname = value if isinstance(value, str) else getattr(value, "var_name", None)
        if tname not in ng.vars:
            raise ModelError(f"synapse population '{sg.name}': neuron var ref '{name}' "
                             f"names {tname!r}, which '{ng.name}' does not have "
                             f"(variables: {', '.join(ng.vars)})")
        return tname

    def _names_in(self, snippet):
        from ..code.tokenizer import tokenize
        names = set()
        for f in snippet.code_fields:
            code = getattr(snippet, f, "")
            if code:
                try:
                    names |= {t.text for t in tokenize(code) if t.kind == "ident"}
                except Exception:
                    pass    # the renderer reports the error with context
        return names

    def _dyn(self, group, field):
        """Name of a dynamic-parameter array, or "" if the group has none."""
        spec = self.layout.get(group, field)
        return spec.c_name if spec else ""

    def _array_name(self, group, field):
        return self._spec(group, field).c_name

    def _spec(self, group, field):
        return self.layout[group, field]

    def _batched_index(self, var, count, idx, batch="batch"):
        dims = var_dims(var.access)
        parts = []
        if dims & VarAccessDim.BATCH and self.B > 1:
            parts.append(f"{batch} * {count if dims & VarAccessDim.ELEMENT else 1}u")
        if dims & VarAccessDim.ELEMENT:
            parts.append(idx)
        return " + ".join(parts) or "0"

    def _wu_env(self, sg, conn, weight, procedural_inits, part):
        wu = sg.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        env = self.base_env().child()
        for name, desc in (("id_pre", "presynaptic index"), ("id_post", "postsynaptic index"),
                           ("t", "time"), ("batch", "batch index")):
            env.define(name, Value(name, description=desc,
                                   ctype="timepoint" if name == "t" else IDX))
        if conn in (Conn.DENSE, Conn.SPARSE):
            env.define("id_syn", Value("id_syn", description="synapse index", ctype=IDX))
        if weight == Weight.KERNEL:
            env.define("id_kernel", Value("id_kernel", description="kernel index", ctype=IDX))
        env.define("num_pre", Value(f"({npre}u)", description="presynaptic population size", ctype=IDX))
        env.define("num_post", Value(f"({npost}u)", description="postsynaptic population size", ctype=IDX))
        self.add_params(env, sg, wu, sg.params, sg.dynamic_params,
                        self._dyn(sg.name, "dyn"))
        self.add_egps(env, sg, wu.extra_global_params)
        for v in sg.vars.values():
            if weight == Weight.PROCEDURAL:
                if is_constant(v.init):
                    env.define(v.name, Value(c_literal(constant_value(v.init), v.type,
                                                       self.precision), ctype=v.type,
                                             description="constant synapse variable"))
                elif isinstance(v.init, VarInit):
                    if writable(v.access):
                        raise ModelError(f"synapse population '{sg.name}': variable '{v.name}' "
                                         "is read-write, so it needs storage; PROCEDURAL "
                                         "weights must be READ_ONLY")
                    if var_dims(v.access) & VarAccessDim.BATCH and self.B > 1:
                        raise ModelError(f"synapse population '{sg.name}' "
                                         f"({sg.matrix_type.name}): variable '{v.name}' has a "
                                         "copy per batch element, but procedural weights are "
                                         "computed once for the whole batch; declare it "
                                         "READ_ONLY (or use DENSE/SPARSE to store copies)")
                    procedural_inits.append(v)
                    env.define(v.name, Value(f"_w_{v.name}", description="procedural weight",
                                             ctype=v.type))
                else:
                    raise ModelError(f"synapse population '{sg.name}' is PROCEDURAL, so "
                                     f"variable '{v.name}' must be a constant or init_var(); "
                                     "per-synapse arrays need SPARSE or DENSE")
                continue
            spec = self._spec(sg.name, v.name)
            idx = "id_kernel" if weight == Weight.KERNEL else "id_syn"
            count = spec.size // (self.B if var_dims(v.access) & VarAccessDim.BATCH else 1)
            text = f"{spec.c_name}[{self._batched_index(v, count, idx)}]"
            if weight == Weight.KERNEL and writable(v.access):
                env.define(f"atomic_add_{v.name}", self._kernel_accumulator(sg, v, text))
                env.define(v.name, Value(text, ctype=v.type, description="kernel variable",
                                         read_only_hint=f"Every synapse using a kernel entry "
                                         f"shares it: accumulate with atomic_add_{v.name}(x)."))
                continue
            env.define(v.name, Value(text, writable=writable(v.access), ctype=v.type,
                                     description="synapse variable"))
        for role, ng, own, decls, values in (
                ("pre", sg.src, sg.pre_vars, wu.pre_neuron_var_refs, sg.wu_initialiser.pre_var_refs),
                ("post", sg.trg, sg.post_vars, wu.post_neuron_var_refs,
                 sg.wu_initialiser.post_var_refs)):
            idx = f"id_{role}"
            n = ng.num_neurons
            # a delayed synapse reads this neuron's state in the slot of the
            # spike it processes (set in the prologue)
            delayed = f"[(batch * {ng.num_delay_slots}u + {self._role_slot(role)}) * {n}u + {idx}]"
            for v in own.values():
                queue = self.layout.get(sg.name, f"delayQueue.{role}_{v.name}")
                if queue is not None:
                    env.define(v.name, Value(f"{queue.c_name}{delayed}", ctype=v.type,
                                             description=f"{role}synaptic variable (delayed)",
                                             read_only_hint="Delayed synapses read the value "
                                                            "of the spike's time step."))
                    continue
                spec = self._spec(sg.name, f"{role}_{v.name}")
                env.define(v.name, self._past_readable(
                    sg, v.name, Value(f"{spec.c_name}[{self._batched_index(v, n, idx)}]",
                                      writable=writable(v.access), ctype=v.type,
                                      description=f"{role}synaptic variable")))
            for r in decls:
                target = self._neuron_ref_target(sg, ng, r.name, values[r.name])
                v = ng.vars[target]
                queue = self.layout.get(ng.name, f"delayQueue.{target}")
                if queue is not None and self._role_delay(sg, role):
                    env.define(r.name, Value(
                        f"{queue.c_name}{delayed}", ctype=v.type,
                        description=f"{role}synaptic neuron variable reference (delayed)",
                        read_only_hint="Delayed synapses read the value of the spike's "
                                       "time step."))
                    continue
                spec = self._spec(ng.name, target)
                env.define(r.name, self._past_readable(
                    sg, r.name, Value(f"{spec.c_name}[{self._batched_index(v, n, idx)}]",
                                      writable=writable(r.access), ctype=v.type,
                                      description=f"{role}synaptic neuron variable reference")))
            # as in GeNN: the time the spike arrives here, stored time +
            # (axonal or back-propagation delay + 1) * dt
            shift = c_literal((self._role_delay(sg, role) + 1) * self.model.dt, "timepoint",
                              self.precision)
            for code_name, field in SPIKE_TIMES:
                spec = self.layout.get(ng.name, field)
                if spec is not None:
                    env.define(f"{code_name}_{role}", Value(
                        f"({spec.c_name}{delayed} + {shift})", ctype="timepoint",
                        description=f"{role}synaptic {SPIKE_TIME_WHAT[code_name]} (arrival)"))
        env.define("addToPost", Function(lambda a: self.add_to_post(part, a[0]), 1, 1,
                                         "function", statement=True, returns="void"))
        if (sg.name, "outPre") in self.layout:
            env.define("addToPre", Function(lambda a: self.add_to("_outPre[id_pre]", a[0]), 1, 1,
                                            "function", statement=True, returns="void"))
        ds = sg.max_dendritic_delay_timesteps
        if ds > 1:
            # a delay beyond the ring would silently arrive at the wrong step
            env.define("addToPostDelay", Function(
                lambda a: ("{ const unsigned int _dly = (unsigned int)(" + a[1] + "); "
                           f"if (_dly < {ds}u) {{ "
                           + self.add_to(f"_den[((_denPtr + _dly) % {ds}u) * {npost}u + id_post]",
                                         a[0])
                           + f"; }} else {{ mg_fail({ERROR_DELAY}); }} }}"),
                2, 2, "function", statement=True, returns="void", int_args=(1,)))
        else:
            env.define("addToPostDelay", Function(
                lambda a: (_ for _ in ()).throw(ModelError(
                    f"synapse population '{sg.name}' uses addToPostDelay: set "
                    "max_dendritic_delay_timesteps (> the largest delay) before build()")),
                2, 2, "function", statement=True, returns="void", int_args=(1,)))
        return env

    def _kernel_accumulator(self, sg, v, target):
        """``atomic_add_<var>(x)`` for a read-write kernel variable: the one
        race-free write to an entry many synapses share, through ``add_to``
        (atomic on a GPU, whose threads share a batch element; plain on the
        CPU, where one thread runs a kernel group's batch element: shared
        steps never split kernel groups, see ``CPUBackend._splittable``).
        Batch elements run on different threads, so the variable needs its
        own copy per batch element."""
        def render(args):
            if self.B > 1 and not var_dims(v.access) & VarAccessDim.BATCH:
                raise ModelError(f"synapse population '{sg.name}': atomic_add_{v.name} "
                                 f"accumulates into kernel variable '{v.name}', which has "
                                 "one copy for the whole batch, so batch elements running "
                                 "in parallel would race; give it VarAccess.READ_WRITE "
                                 "(one copy per batch element)")
            if v.type not in _ATOMIC_ADD_TYPES:
                raise ModelError(f"synapse population '{sg.name}': atomic_add_{v.name} "
                                 f"needs a variable of type {', '.join(_ATOMIC_ADD_TYPES)}, "
                                 f"not {v.type}")
            return self.add_to(target, args[0])
        return Function(render, 1, 1, "kernel accumulation", statement=True, returns="void")

    def _render_wu(self, sg, conn, weight, code, ctx, extra=None):
        proc_inits = []
        env = self._wu_env(sg, conn, weight, proc_inits, ctx[1])
        for k, v in (extra or {}).items():
            env.define(k, v)
        lines = self.renderer().statements(code, env, indent=0, context=ctx)
        return lines, proc_inits, env

    def _conn_env(self, sg, add_synapse, kind):
        """Environment of row/diagonal building code."""
        ci = sg.connectivity_initialiser
        snippet = ci.snippet
        env = self.base_env().child()
        # rows are built per presynaptic neuron, columns per postsynaptic one
        own, other = ("id_post", "pre") if kind == "col" else ("id_pre", "post")
        env.define(own, Value(own, description="index of the row or column", ctype=IDX))
        env.define("num_pre", Value(f"({sg.src.num_neurons}u)", description="size", ctype=IDX))
        env.define("num_post", Value(f"({sg.trg.num_neurons}u)", description="size", ctype=IDX))
        env.define(f"id_{other}_begin", Value("0u", description=f"first {other}synaptic index",
                                              ctype=IDX))
        env.define("id_thread", Value("0u", description="thread index", ctype=IDX))
        env.define("num_threads", Value("1u", description="thread count", ctype=IDX))
        self.add_params(env, sg, snippet, ci.params, [], "")
        self.add_egps(env, sg, snippet.extra_global_params, "conn_")
        nk = len(sg.kernel_size) if sg.kernel_size else 0
        env.define("addSynapse", Function(add_synapse, 1, 1 + nk, "function", statement=True,
                                          returns="void"))
        return env

    @staticmethod
    def _kernel_elements(sg):
        k = 1
        for d in sg.kernel_size or []:
            k *= int(d)
        return k

    def _kernel_index(self, sg, args):
        ks = sg.kernel_size or []
        if len(args) != len(ks):
            raise ModelError(f"synapse population '{sg.name}': addSynapse needs "
                             f"{len(ks)} kernel indices")
        expr = f"(unsigned int)({args[0]})"
        for k, a in zip(ks[1:], args[1:]):
            expr = f"({expr} * {k}u + (unsigned int)({a}))"
        return expr

    def _var_init_code(self, group, var, target, kind, extra_names=(), synapse_group=None):
        """Lines computing ``target`` from a variable's init snippet
        (``synapse_group``: the group whose sizes a per-synapse variable of
        another group, such as a connectivity update, sees; default ``group``)."""
        init = var.init
        snippet = init.snippet
        env = self.base_env().child()
        env.define("value", Local(target, description="value to initialise", ctype=var.type))
        for name in extra_names:
            env.define(name, Value(name, description="index", ctype=IDX))
        if kind == "neuron":
            env.define("id", Value("id", description="element index", ctype=IDX))
        count = var.count if isinstance(var.count, int) else 0   # synapses: no num_neurons
        env.define("num_neurons", Value(f"({count}u)", ctype=IDX,
                                        description="size"))
        if kind == "synapse":
            sg = synapse_group or group
            env.define("num_pre", Value(f"({sg.src.num_neurons}u)", description="size", ctype=IDX))
            env.define("num_post", Value(f"({sg.trg.num_neurons}u)", description="size", ctype=IDX))
            if sg.kernel_size or "id_kernel" in extra_names:
                env.define("id_kernel", Value("id_kernel", description="kernel index", ctype=IDX))
        self.add_params(env, group, snippet, init.params, [], "")
        for egp in snippet.extra_global_params:
            spec = self.add_array(group.name, f"{var.name}.{egp.name}",
                                  egp.type.rstrip("*").strip(), 0,
                                  origin=f"extra global parameter '{egp.name}' of the "
                                         f"initialisation of '{var.name}'")
            env.define(egp.name, self.egp_value(spec))
        lines = self.renderer().statements(
            snippet.var_init_code, env, indent=0, new_scope=True,
            context=(snippet.class_name, "var_init_code",
                     f"initialisation of '{group.name}.{var.name}'"))
        cw = CodeWriter()
        with cw.block():
            cw.lines(lines)
        return cw.result()

    def _custom_update_size(self, cu):
        """Elements a custom update runs over: neurons, or the synapses (or
        kernel entries) of the synapse population its references point at."""
        if isinstance(cu.size, int):
            return cu.size
        return next(self._ref_info(r)[2] for r in cu.var_refs.values())

    def _ref_info(self, ref):
        """(array spec, variable access, element count) of a reference."""
        g = ref.group
        if ref.kind == "neuron":
            v = g.vars[ref.var_name]
            return self._spec(g.name, ref.var_name), v.access, g.num_neurons
        if ref.kind == "custom":
            v = g.vars[ref.var_name]
            dims = custom_update_var_dims(v.access, g.update_dims())
            # a custom update over synapses has one element per synapse slot
            return (self._spec(g.name, ref.var_name), int(dims) | int(access_mode(v.access)),
                    self._custom_update_size(g))
        if ref.kind == "psm":
            v = g.psm_vars[ref.var_name]
            return self._spec(g.name, "psm_" + ref.var_name), v.access, g.trg.num_neurons
        if ref.kind in ("wu_pre", "wu_post", "ccu_pre", "ccu_post"):
            role = ref.kind.split("_")[1]
            v = (g.pre_vars if role == "pre" else g.post_vars)[ref.var_name]
            # (a custom connectivity update's variables have no batch copies)
            return (self._spec(g.name, f"{role}_{ref.var_name}"),
                    int(v.dims) | int(access_mode(v.access)), ref.size)
        if ref.kind in ("out_post", "den_delay", "spike_count", "spike_time"):
            from ..types import VarAccess
            field = {"out_post": "inSyn", "den_delay": "denDelay", "spike_count": "spkCnt",
                     "spike_time": ref.var_name}
            return self._spec(g.name, field[ref.kind]), VarAccess.READ_WRITE, ref.size
        if ref.kind == "wu":
            v = g.vars[ref.var_name]
            spec = self._spec(g.name, ref.var_name)
            nb = self.B if (var_dims(v.access) & VarAccessDim.BATCH) and self.B > 1 else 1
            return spec, v.access, spec.size // nb
        raise ModelError(f"unsupported reference kind '{ref.kind}'")

    def _synapse_update_indices(self, cu, env):
        """Custom updates on synapse variables see id_syn/id_pre/id_post.

        Returns lines that skip the padding slots of SPARSE rows."""
        wu_refs = [r for r in cu.var_refs.values() if r.kind == "wu"]
        if not wu_refs:
            return []
        sg = wu_refs[0].group
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        env.define("num_pre", Value(f"({npre}u)", description="size", ctype=IDX))
        env.define("num_post", Value(f"({npost}u)", description="size", ctype=IDX))
        if weight == Weight.KERNEL:
            env.define("id_kernel", Value("id", description="kernel index", ctype=IDX))
            return []
        env.define("id_syn", Value("id", description="synapse index", ctype=IDX))
        if conn == Conn.DENSE:
            env.define("id_pre", Value(f"(id / {npost}u)", description="presynaptic index", ctype=IDX))
            env.define("id_post", Value(f"(id % {npost}u)", description="postsynaptic index", ctype=IDX))
            return []
        stride = self.model._sizes[(sg.name, "stride")]
        env.define("id_pre", Value(f"(id / {stride}u)", description="presynaptic index", ctype=IDX))
        env.define("id_post", Value(f"{self._array_name(sg.name, 'ind')}[id]", ctype=IDX,
                                    description="postsynaptic index"))
        return [f"if (id % {stride}u >= {self._array_name(sg.name, 'rowLength')}"
                f"[id / {stride}u]) continue;  // padding of a SPARSE row"]
