"""C++ backend: plain loops (OpenMP over batch elements), g++, ctypes.

The whole run loop lives in native code.  Batch elements are independent
within a step, so each OpenMP thread simulates whole batch elements for all
requested steps; no barrier per step, and results cannot depend on the
number of threads.
"""
import os
from contextlib import ExitStack, contextmanager

from ..generators import CustomUpdate, Initialisation, NeuronUpdate, SynapseUpdate
from ..names import comment
from ..layout import c_ident, recording_words
from ..snippets import VarInit
from ..types import SynapseMatrixConnectivity as Conn, VarAccessDim, custom_update_var_dims
from .writer import INDENT, CodeWriter
from .base import ERROR_DIVISION, ERROR_EGP_INDEX, ERROR_INDEX_RANGE, Backend


_HERE = os.path.dirname(__file__)


class CPUBackend(NeuronUpdate, SynapseUpdate, Initialisation, CustomUpdate, Backend):
    name = "cpu"

    def maths_function(self, name):
        return "std::" + name

    # ------------------------------------------------------------------
    def generate(self):
        m = self.model
        self.B = m.batch_size
        self._check_macro_names()
        body = []
        for ng in m.neuron_populations.values():
            self._neuron_arrays(ng)
        for sg in m.synapse_populations.values():
            self._synapse_arrays(sg)
        for cs in m.current_sources.values():
            for v in cs.vars.values():
                self._var_array(cs, v, cs.target.num_neurons)
        for g in list(m.current_sources.values()) + list(m.custom_updates.values()):
            if g.dynamic_params:
                self.add_array(g.name, "dyn", "scalar", len(g.dynamic_params))
        if m.timing_enabled:
            # seconds spent per batch element: [synapse updates, neuron updates]
            self.add_array("<model>", "timers", "double", 2 * self.B)
        for cu in m.custom_updates.values():
            for v in cu.vars.values():
                dims = custom_update_var_dims(v.access, cu.update_dims())
                size = (cu.size if dims & VarAccessDim.ELEMENT else 1) * \
                    (self.B if dims & VarAccessDim.BATCH else 1)
                self.add_array(cu.name, v.name, v.type, size, origin=f"variable '{v.name}'")

        for sg in m.synapse_populations.values():
            body += self._synapse_update(sg)
        for ng in m.neuron_populations.values():
            body += self._neuron_update(ng)
        body += self._step_and_run()
        body += self._init()
        for group_name in sorted({cu.group_name for cu in m.custom_updates.values()}):
            body += self._custom_update_group(group_name)

        w = CodeWriter().lines(self._prelude())
        w.lines(["// ---- the state of one loaded model: every array, the seed and the error",
                 "// bits live in an instance (created by Python with mg_create), so two",
                 "// models of one library never share state; no static globals ----"])
        with w.block("struct mg_model", tail="};"):
            w.lines(self._members())
            w.lines(body)
        w.lines(self._entry_points())
        return w.text()

    def _check_macro_names(self):
        """Names declared by the model's snippets become plain C++ locals:
        none may be a macro that the compiler defines (exact list from the
        compiler; the static list already rejected the common ones)."""
        from ..cache import find_cxx
        from ..errors import BuildError
        from ..names import check_macro_clashes
        from ..snippets import _DECLARED_KINDS
        try:
            cxx = find_cxx()
        except BuildError:
            return      # the build reports the missing compiler itself
        m = self.model
        snippets = {}
        groups = (list(m.neuron_populations.values()) + list(m.synapse_populations.values())
                  + list(m.current_sources.values()) + list(m.custom_updates.values()))
        for g in groups:
            found = [g.snippet]
            for attr in ("ps_initialiser", "connectivity_initialiser"):
                init = getattr(g, attr, None)
                if init is not None:
                    found.append(init.snippet)
            for attr in ("vars", "psm_vars", "pre_vars", "post_vars"):
                for v in getattr(g, attr, {}).values():
                    if isinstance(v.init, VarInit):
                        found.append(v.init.snippet)
            for sn in found:
                snippets[id(sn)] = sn
        named = [(_DECLARED_KINDS.get(key, key), item.name, f"{sn.kind} '{sn.class_name}'")
                 for sn in snippets.values() for key, items in sn._declared().items()
                 for item in items]
        includes = tuple(line.split("<", 1)[1].rstrip(">").strip()
                         for line in self._prelude() if line.startswith("#include <"))
        flags = tuple(f for f in os.environ.get("ML_GENN_CXXFLAGS", "").split()
                      if f.startswith(("-D", "-U", "-std", "-f", "-m", "-I")))
        check_macro_clashes(named, cxx, includes, flags)

    # ------------------------------------------------------------------
    # arrays
    # ------------------------------------------------------------------

    # ------------------------------------------------------------------
    def _prelude(self):
        scalar = "float" if self.precision == "float" else "double"
        tp = "float" if self.model.time_precision == "float" else "double"
        with open(os.path.join(_HERE, "philox.h")) as f:
            philox = f.read()
        return [
            "// " + comment(f'Generated by ml_genn.genn for model "{self.model.model_name}"'),
            f"// backend: C++ ({'OpenMP over batch elements' if self.B > 1 else 'single thread'}), "
            f"precision: {self.precision}, batch size: {self.B}, dt: {self.model.dt}",
            "#include <cstdint>", "#include <cstring>", "#include <cmath>", "#include <cfloat>",
            "#include <cstdio>", "#include <algorithm>", "#include <chrono>",
            "#include <type_traits>", "#include <new>",
            f"typedef {scalar} scalar;",
            f"typedef {tp} timepoint;",
            "#define MG_HD",
            philox,
            "template<typename A, typename B> static inline auto mg_min(A a, B b) -> decltype(a + b) { return (a < b) ? a : b; }",
            "template<typename A, typename B> static inline auto mg_max(A a, B b) -> decltype(a + b) { return (a > b) ? a : b; }",
            "template<typename A> static inline A mg_abs(A a) { return (a < 0) ? -a : a; }",
            "",
        ]

    def _members(self):
        """The model's state and the helpers that report errors into it."""
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
            "inline void mg_fail(int code) { __atomic_fetch_or(&mg_error, code, __ATOMIC_RELAXED); }",
            "// integer division and remainder: a zero divisor (or INT_MIN / -1) would trap",
            "template<typename A, typename B> inline auto mg_idiv(A a, B b) -> decltype(a / b) {",
            "    typedef decltype(a / b) R;",
            "    typedef typename std::make_unsigned<R>::type U;",
            f"    if (b == 0) {{ mg_fail({ERROR_DIVISION}); return R(0); }}",
            "    if (std::is_signed<R>::value && R(b) == R(-1)) { return (R)(U(0) - U(a)); }",
            "    return a / b;",
            "}",
            "template<typename A, typename B> inline auto mg_imod(A a, B b) -> decltype(a % b) {",
            "    typedef decltype(a % b) R;",
            f"    if (b == 0) {{ mg_fail({ERROR_DIVISION}); return R(0); }}",
            "    if (std::is_signed<R>::value && R(b) == R(-1)) { return R(0); }",
            "    return a % b;",
            "}",
            "template<typename A, typename B> inline A& mg_idiv_assign(A& a, B b) { a = (A)mg_idiv(a, b); return a; }",
            "template<typename A, typename B> inline A& mg_imod_assign(A& a, B b) { a = (A)mg_imod(a, b); return a; }",
            "// element i of an extra global parameter of n elements: outside it, the",
            "// error is recorded and a dummy element is read or written instead",
            "template<typename T, typename I> inline T* mg_at(T* p, uint64_t n, I i) {",
            "    if ((uint64_t)i < n) { return p + (uint64_t)i; }",
            f"    mg_fail({ERROR_EGP_INDEX});",
            "    static thread_local typename std::remove_const<T>::type dummy;",
            "    dummy = 0;",
            "    return &dummy;",
            "}",
            "",
        ])
        return w.result()

    def _entry_points(self):
        """The C interface Python calls: every function takes the instance."""
        w = CodeWriter()
        w.line()
        w.line("// ---- called from Python (ctypes) ----")
        w.line('extern "C" void* mg_create() { return new (std::nothrow) mg_model(); }')
        w.line('extern "C" void mg_destroy(void* m) { delete (mg_model*)m; }')
        with w.block('extern "C" void mg_set_array(void* m, unsigned int index, void* ptr)'):
            w.line("mg_model* const s = (mg_model*)m;")
            with w.block("switch (index)"):
                for a in self.layout:
                    w.line(f"case {a.index}: s->{a.c_name} = ({a.ctype}*)ptr; break;")
        with w.block('extern "C" void mg_set_size(void* m, unsigned int index, uint64_t size)'):
            w.line(f"if (index < {len(self.layout)}u) {{ ((mg_model*)m)->mg_size[index] = size; }}")
        w.line('extern "C" void mg_set_seed(void* m, uint64_t seed) { ((mg_model*)m)->mg_seed = seed; }')
        w.line('extern "C" int mg_get_error(void* m) { return __atomic_exchange_n('
               "&((mg_model*)m)->mg_error, 0, __ATOMIC_RELAXED); }")
        w.line('extern "C" void mg_run(void* m, uint64_t* counters, uint64_t n_steps, '
               "uint64_t num_rec, int num_threads) {")
        w.line(INDENT + "((mg_model*)m)->mg_run(counters, n_steps, num_rec, num_threads);")
        w.line("}")
        w.line('extern "C" void mg_init(void* m, const uint8_t* build_connectivity) { '
               "((mg_model*)m)->mg_init(build_connectivity); }")
        for group_name in sorted({cu.group_name for cu in self.model.custom_updates.values()}):
            f = f"mg_custom_update_{c_ident(group_name)}"
            w.line(f'extern "C" void {f}(void* m, uint64_t timestep) {{ '
                   f"((mg_model*)m)->{f}(timestep); }}")
        return w.result()

    # ------------------------------------------------------------------
    # hooks of the shared generators: plain loops; each batch element is
    # simulated by one thread, so accumulation is a plain +=
    # ------------------------------------------------------------------
    @contextmanager
    def neuron_loop(self, w, n):
        with w.block(f"for (unsigned int id = 0; id < {n}u; id++)"):
            yield

    @contextmanager
    def element_loops(self, w, index, n, batches):
        with ExitStack() as scopes:
            if batches is not None:
                scopes.enter_context(
                    w.block(f"for (unsigned int batch = 0; batch < {batches}u; batch++)"))
            scopes.enter_context(
                w.block(f"for (unsigned int {index} = 0; {index} < {n}u; {index}++)"))
            yield

    def queue_setup(self, q):
        return [f"uint32_t* __restrict const {q.list_local} = {q.list_array} + "
                f"(batch * {q.slots}u + _slot) * {q.n}u;",
                f"uint32_t {q.count_local} = 0;"]

    def queue_push(self, q):
        return [f"{q.list_local}[{q.count_local}++] = id;"]

    def queue_finish(self, q):
        return [f"{q.count_array}[batch * {q.slots}u + _slot] = {q.count_local};"]

    def recording_setup(self, rec):
        words = recording_words(rec.n)
        return [f"uint32_t* __restrict const {rec.local} = {rec.array} + "
                f"((size_t)rec_slot * {self.B}u + batch) * {words}u;",
                f"std::memset({rec.local}, 0, {words} * sizeof(uint32_t));"]

    def recording_set(self, rec, cond=None):
        bit = f"{rec.local}[id / 32u] |= 1u << (id % 32u);"
        return [f"if ({cond}) {bit}" if cond else bit]

    def recording_finish(self, rec):
        return []

    def synapse_functions(self, sg, header, prologue, parts):
        """One function per synapse population runs all its parts in order."""
        cw = CodeWriter()
        cw.comment(header)
        with cw.block(f"void mg_synapse_update_{c_ident(sg.name)}(unsigned int batch, "
                      "timepoint t, uint64_t timestep, uint64_t step)"):
            cw.lines(prologue)
            for _, lines in parts:
                cw.lines(lines)
        cw.line()
        return cw.result()

    def dense_propagation(self, sg, count, spikes, code):
        npost = sg.trg.num_neurons
        cw = CodeWriter()
        with cw.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
            cw.line(f"const unsigned int id_pre = {spikes}[_i];")
            with cw.block(f"for (unsigned int id_post = 0; id_post < {npost}u; id_post++)"):
                cw.line(f"const unsigned int id_syn = id_pre * {npost}u + id_post;")
                cw.lines(code)
        return cw.result()

    def sparse_propagation(self, sg, count, spikes, code):
        stride = self.model._sizes[(sg.name, "stride")]
        rl = self._array_name(sg.name, "rowLength")
        ind = self._array_name(sg.name, "ind")
        cw = CodeWriter()
        with cw.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
            cw.line(f"const unsigned int id_pre = {spikes}[_i];")
            cw.line(f"const unsigned int _rowStart = id_pre * {stride}u;")
            cw.line(f"const unsigned int _rowEnd = _rowStart + {rl}[id_pre];")
            with cw.block("for (unsigned int id_syn = _rowStart; id_syn < _rowEnd; id_syn++)"):
                cw.line(f"const unsigned int id_post = {ind}[id_syn];")
                cw.lines(code)
        return cw.result()

    def procedural_propagation(self, sg, count, spikes, row):
        cw = CodeWriter()
        with cw.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
            cw.line(f"const unsigned int id_pre = {spikes}[_i];")
            cw.lines(row)
        return cw.result()

    def toeplitz_propagation(self, sg, num_diag, diagonal):
        cw = CodeWriter()
        with cw.block(f"for (unsigned int id_diag = 0; id_diag < {num_diag}u; id_diag++)"):
            cw.lines(diagonal)
        return cw.result()

    def post_learning_loops(self, sg, count, post_spike, code):
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        cw = CodeWriter()
        with cw.block(f"for (uint32_t _j = 0; _j < {count}; _j++)"):
            cw.line(f"const unsigned int id_post = {post_spike};")
            with cw.block(f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++)"):
                cw.line(f"const unsigned int id_syn = id_pre * {npost}u + id_post;")
                cw.lines(code)
        return cw.result()

    def synapse_dynamics_loops(self, sg, conn, code):
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        cw = CodeWriter()
        with cw.block(f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++)"):
            if conn == Conn.DENSE:
                with cw.block(f"for (unsigned int id_post = 0; id_post < {npost}u; id_post++)"):
                    cw.line(f"const unsigned int id_syn = id_pre * {npost}u + id_post;")
                    cw.lines(code)
            else:
                stride = self.model._sizes[(sg.name, "stride")]
                rl = self._array_name(sg.name, "rowLength")
                ind = self._array_name(sg.name, "ind")
                with cw.block(f"for (unsigned int id_syn = id_pre * {stride}u; id_syn < id_pre * "
                              f"{stride}u + {rl}[id_pre]; id_syn++)"):
                    cw.line(f"const unsigned int id_post = {ind}[id_syn];")
                    cw.lines(code)
        return cw.result()

    def init_functions(self, sections):
        """One function runs every section in order."""
        w = CodeWriter()
        w.lines(["// ==== initialisation of variables and connectivity from snippets ====",
                 "// build_connectivity[i]: build synapse population i's connectivity from its",
                 "// snippet (0 when it was given with set_sparse_connections)"])
        with w.block("void mg_init(const uint8_t* build_connectivity)"):
            for section in sections:
                if section.condition is None:
                    w.lines(section.lines)
                    continue
                w.line("// " + section.title)
                with w.block(f"if (build_connectivity[{section.condition}])"):
                    w.lines(section.lines)
        w.line()
        return w.result()

    def custom_update_functions(self, group_name, updates):
        """One function per group runs its updates in order."""
        w = CodeWriter()
        w.comment(f"==== custom update group '{group_name}' ====")
        with w.block(f"void mg_custom_update_{c_ident(group_name)}(uint64_t timestep)"):
            w.line(f"const timepoint t = (timepoint)((double)timestep * "
                   f"{float(self.model.dt)!r});")
            w.line("(void)t;")
            for _, lines in updates:
                w.lines(lines)
        w.line()
        return w.result()

    def custom_update_loops(self, kind, n, batches, reductions, acc_init, body, acc_store):
        if kind == "batch_reduction":
            outer, inner = (f"for (unsigned int id = 0; id < {n}u; id++)",
                            f"for (unsigned int batch = 0; batch < {batches}u; batch++)")
        elif kind == "neuron_reduction":
            outer, inner = (f"for (unsigned int batch = 0; batch < {batches}u; batch++)",
                            f"for (unsigned int id = 0; id < {n}u; id++)")
        else:
            outer, inner = (f"for (int batch = 0; batch < {batches}; batch++)",
                            f"for (unsigned int id = 0; id < {n}u; id++)")
        cw = CodeWriter()
        with cw.block(outer):
            cw.lines(acc_init)
            with cw.block(inner):
                cw.lines(body)
            cw.lines(acc_store)
        return cw.result()

    # ------------------------------------------------------------------
    # step, run
    # ------------------------------------------------------------------
    def _step_and_run(self):
        m = self.model
        w = CodeWriter()
        w.line("// ==== one time step of one batch element ====")
        with w.block("void mg_step(unsigned int batch, uint64_t timestep, uint64_t step, "
                     "unsigned int rec_slot)"):
            w.line(f"const timepoint t = (timepoint)((double)timestep * {float(m.dt)!r});")
            syn = [f"mg_synapse_update_{c_ident(sg.name)}(batch, t, timestep, step);"
                   for sg in m.synapse_populations.values()]
            neu = [f"mg_neuron_update_{c_ident(ng.name)}(batch, t, timestep, step, rec_slot);"
                   for ng in m.neuron_populations.values()]
            if m.timing_enabled:
                timers = self._array_name("<model>", "timers")
                w.line("const auto _t0 = std::chrono::steady_clock::now();")
                w.lines(syn)
                w.line("const auto _t1 = std::chrono::steady_clock::now();")
                w.lines(neu)
                w.line("const auto _t2 = std::chrono::steady_clock::now();")
                w.line(f"{timers}[2 * batch] += std::chrono::duration<double>(_t1 - _t0).count();")
                w.line(f"{timers}[2 * batch + 1] += "
                       "std::chrono::duration<double>(_t2 - _t1).count();")
            else:
                w.lines(syn + neu)
        w.line()
        w.lines(["// Run n_steps steps.  counters[0] (timestep) gives t and the recording slot",
                 "// (timestep % num_rec); counters[1] (step) counts every step since load() and",
                 "// is never reset: it indexes the spike queues and delay rings and keys the",
                 "// random streams.  Both are advanced here, when the steps have run, so the",
                 "// caller's bookkeeping is right however the call returns to Python."])
        ranges = self._index_ranges()
        if ranges:
            w.line("// index ranges the update reads through (index_constraints): checked")
            w.line("// before any step, so a bad range never runs")
            with w.block("bool mg_index_ranges_ok()"):
                # branch-free and in the indices' own width, so it vectorises
                # (10x faster than with bool or 64-bit compares)
                w.line("unsigned int bad = 0;")
                for start, end, egp, n in ranges:
                    # a shared (per-neuron) array pairs with every batch element
                    rows = max(start.size, end.size) // n
                    t = "uint64_t" if "int64" in start.ctype or "int64" in end.ctype \
                        else "uint32_t"
                    with w.block():
                        w.line(f"const uint64_t size64 = mg_size[{egp.index}];")
                        w.line(f"const {t} size = size64 > ({t})~({t})0 ? ({t})~({t})0 : "
                               f"({t})size64;")
                        with w.block(f"for (unsigned int b = 0; b < {rows}u; b++)"):
                            for name, spec in (("s", start), ("e", end)):
                                offset = f"b * {n}u" if spec.size > n else "0"
                                w.line(f"const {spec.ctype}* {name} = {spec.c_name} + {offset};")
                            with w.block(f"for (unsigned int i = 0; i < {n}u; i++)"):
                                w.line(f"const {t} si = ({t})s[i], ei = ({t})e[i];")
                                w.line("bad |= (unsigned int)(si > ei) | ((unsigned int)(si < ei) "
                                       "& (unsigned int)(ei > size));")
                w.line("return bad == 0;")
            w.line()
        with w.block('void mg_run(uint64_t* counters, uint64_t n_steps, '
                     "uint64_t num_rec, int num_threads)"):
            if ranges:
                w.line(f"if (!mg_index_ranges_ok()) {{ mg_fail({ERROR_INDEX_RANGE}); return; }}")
            w.line("const uint64_t timestep = counters[0], step = counters[1];")
            if self.B > 1:
                w.line("#pragma omp parallel for schedule(static) num_threads(num_threads)")
            else:
                w.line("(void)num_threads;")
            with w.block(f"for (int batch = 0; batch < {self.B}; batch++)"):
                with w.block("for (uint64_t s = 0; s < n_steps; s++)"):
                    w.line("const uint64_t ts = timestep + s;")
                    w.line("mg_step((unsigned int)batch, ts, step + s, "
                           "num_rec ? (unsigned int)(ts % num_rec) : 0u);")
            w.line("counters[0] = timestep + n_steps;")
            w.line("counters[1] = step + n_steps;")
        w.line()
        return w.result()

    def _index_ranges(self):
        """(start, end, EGP array specs, neurons) of every ``index_constraints`` entry
        (SpikeSourceArray: spikeTimes[startSpike .. endSpike - 1] is read)."""
        out = []
        for ng in self.model.neuron_populations.values():
            for start, end, egp in getattr(ng.snippet, "index_constraints", ()):
                specs = [self.layout.get(ng.name, f) for f in (start, end, egp)]
                if all(specs) and specs[0].size and specs[1].size:
                    out.append((*specs, ng.num_neurons))
        return out
