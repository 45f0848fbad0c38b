"""C++ backend: plain loops (OpenMP over batch elements), g++, ctypes.

The whole run loop lives in native code.  Batch elements are independent
within a step, so each OpenMP thread simulates whole batch elements for all
requested steps; no barrier per step, and results cannot depend on the
number of threads.
"""
import os
from contextlib import ExitStack, contextmanager

from ..model import MAX_THREADS
from ..generators import (CustomConnectivityUpdate, CustomUpdate, Initialisation,
                          NeuronUpdate, SynapseUpdate)
from ..layout import c_ident, recording_words
from ..snippets import VarInit
from ..types import SynapseMatrixConnectivity as Conn, SynapseMatrixWeight as Weight
from .writer import INDENT, CodeWriter
from .base import ERROR_INDEX_RANGE, Backend


MAX_SHARES = MAX_THREADS      # a batch element is shared among at most this many threads
# one batch element is shared among threads only when a step has enough work
# to pay for the barriers (three per step): a model with fewer neurons and
# synapses than this runs on one thread at batch size 1
SPLIT_MIN_WORK = 1_000_000


class CPUBackend(NeuronUpdate, SynapseUpdate, Initialisation, CustomUpdate,
                 CustomConnectivityUpdate, Backend):
    name = "cpu"

    def maths_function(self, name):
        return "std::" + name

    # ------------------------------------------------------------------
    def generate(self):
        m = self.model
        self.B = m.batch_size
        self._check_macro_names()
        body = []
        self._declare_arrays()
        self.shares_steps = self._shares_steps()
        self._split_groups = {}       # synapse groups a step may share among threads
        for sg in m.synapse_populations.values():
            body += self._synapse_update(sg)
        self._gathers = []
        for ng in m.neuron_populations.values():
            self._queues = []
            body += self._neuron_update(ng)
            body += self._gather(ng)
        body += self._step_and_run()
        body += self._init()
        for group_name in sorted(set(m._custom_update_group_names())):
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
                  + list(m.current_sources.values()) + list(m.custom_updates.values())
                  + list(m.custom_connectivity_updates.values()))
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
        # parameters become literals, never C identifiers: only the others
        named = [(_DECLARED_KINDS.get(key, key), item.name, f"{sn.kind} '{sn.class_name}'")
                 for sn in snippets.values() for key, items in sn._declared().items()
                 if key not in ("params", "derived_params") for item in items]
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
        return [
            *self._header(f"C++ ({'OpenMP over batch elements' if self.B > 1 else 'single thread'})"),
            "#include <cstdint>", "#include <cstring>", "#include <cmath>", "#include <cfloat>",
            "#include <cstdio>", "#include <algorithm>", "#include <chrono>",
            "#include <type_traits>", "#include <new>", "#include <thread>", "#include <vector>",
            "#ifdef _OPENMP", "#include <omp.h>", "#endif",
            "#define MG_HD",
            *self._common_definitions(),
            "// first position in a[b..e) (sorted) whose value is >= v; branch-free halving,",
            "// as the outcome of each comparison is unpredictable",
            "static inline unsigned int mg_lower_bound(const uint32_t* a, unsigned int b, "
            "unsigned int e, unsigned int v) {",
            "    unsigned int n = e - b;",
            "    while (n > 1u) { const unsigned int half = n / 2u; "
            "b = (a[b + half - 1u] < v) ? b + half : b; n -= half; }",
            "    return (n == 1u && a[b] < v) ? b + 1u : b;",
            "}",
            "// all threads of a shared step wait here for each other: spinning (a step is",
            "// microseconds; OpenMP's barrier may sleep), yielding if it takes long",
            "static inline void mg_barrier(unsigned int* count, unsigned int* generation, "
            "unsigned int n) {",
            "    const unsigned int gen = __atomic_load_n(generation, __ATOMIC_ACQUIRE);",
            "    if (__atomic_add_fetch(count, 1u, __ATOMIC_ACQ_REL) == n) {",
            "        __atomic_store_n(count, 0u, __ATOMIC_RELAXED);",
            "        __atomic_store_n(generation, gen + 1u, __ATOMIC_RELEASE);",
            "        return;",
            "    }",
            "    for (unsigned int spins = 0; __atomic_load_n(generation, __ATOMIC_ACQUIRE) == gen; "
            "spins++) {",
            "        if (spins >= 4096u) { std::this_thread::yield(); }",
            "#if defined(__x86_64__) || defined(__i386__)",
            "        else { __builtin_ia32_pause(); }",
            "#endif",
            "    }",
            "}",
            "// first neuron of share s of n neurons split in k shares (at a multiple of 32,"
            "// so that no two shares write the same recording word)",
            "static inline unsigned int mg_share(unsigned int n, unsigned int s, unsigned int k) {",
            "    return s >= k ? n : (unsigned int)(((uint64_t)n * s / k) & ~(uint64_t)31u);",
            "}",
            "",
        ]

    def atomic_or(self, target, value):
        return f"__atomic_fetch_or(&{target}, {value}, __ATOMIC_RELAXED)"

    def dummy_element(self):
        return ["static thread_local typename std::remove_const<T>::type dummy;",
                "dummy = 0;",
                "return &dummy;"]

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
        groups = self.model._custom_update_group_names()
        for group_name in groups:
            f = f"mg_custom_update_{c_ident(group_name)}"
            w.line(f'extern "C" void {f}(void* m, uint64_t timestep, uint64_t step) {{ '
                   f"((mg_model*)m)->{f}(timestep, step); }}")
        # run() with custom updates after every step (e.g. a per-step softmax),
        # without returning to Python between steps; groups are numbered in
        # the order of _custom_update_group_names()
        with w.block('extern "C" void mg_run_with_updates(void* m, uint64_t* counters, '
                     "uint64_t n_steps, uint64_t num_rec, int num_threads, "
                     "const int32_t* groups, int32_t num_groups)"):
            w.line("mg_model* const s = (mg_model*)m;")
            with w.block("for (uint64_t i = 0; i < n_steps; i++)"):
                w.line("s->mg_run(counters, 1, num_rec, num_threads);")
                with w.block("for (int32_t g = 0; g < num_groups; g++)"):
                    with w.block("switch (groups[g])"):
                        for i, group_name in enumerate(groups):
                            w.line(f"case {i}: s->mg_custom_update_{c_ident(group_name)}"
                                   "(counters[0], counters[1]); break;")
                        w.line("default: break;")
        return w.result()

    # ------------------------------------------------------------------
    # hooks of the shared generators: plain loops; each batch element is
    # simulated by one thread, so accumulation is a plain +=
    # ------------------------------------------------------------------
    # a neuron update covers neurons [mg_lo, mg_hi) as share mg_seg of mg_nseg
    # (the whole population, share 0 of 1, except when one batch element is
    # shared among threads: see _step_and_run)
    neuron_range_args = (", unsigned int mg_lo, unsigned int mg_hi, unsigned int mg_seg, "
                         "unsigned int mg_nseg")

    @contextmanager
    def neuron_loop(self, w, n):
        with w.block("for (unsigned int id = mg_lo; id < mg_hi; id++)"):
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

    @contextmanager
    def serial_loop(self, w, index, n):
        with w.block(f"for (unsigned int {index} = 0; {index} < {n}u; {index}++)"):
            yield

    def queue_setup(self, q):
        self._queues.append(q)
        return [f"uint32_t* __restrict const {q.list_local} = {q.list_array} + "
                f"(batch * {q.slots}u + _slot) * {q.n}u + mg_lo;",
                f"uint32_t {q.count_local} = 0;"]

    def queue_push(self, q):
        return [f"{q.list_local}[{q.count_local}++] = id;"]

    def queue_finish(self, q):
        # a share's spikes start at its first neuron: mg_gather_* joins them
        segments = self.add_array(q.list_array, "segCount", "uint32_t", MAX_SHARES).c_name
        return [f"if (mg_nseg == 1u) {{ {q.count_array}[batch * {q.slots}u + _slot] = "
                f"{q.count_local}; }}",
                f"else {{ {segments}[mg_seg] = {q.count_local}; }}"]

    def recording_setup(self, rec):
        words = recording_words(rec.n)
        # shares start at multiples of 32 neurons: each clears its own words
        return [f"uint32_t* __restrict const {rec.local} = {rec.array} + "
                f"((size_t)rec_slot * {self.B}u + batch) * {words}u;",
                f"std::memset({rec.local} + mg_lo / 32u, 0, ((mg_hi + 31u) / 32u - mg_lo / 32u) "
                "* sizeof(uint32_t));"]

    def recording_set(self, rec, cond=None):
        bit = f"{rec.local}[id / 32u] |= 1u << (id % 32u);"
        return [f"if ({cond}) {bit}" if cond else bit]

    def recording_finish(self, rec):
        return []

    def synapse_functions(self, sg, header, prologue, parts):
        """One function per synapse population runs all its parts in order;
        a group whose only part is presynaptic propagation that writes
        nothing but its own synapses may be shared among threads by
        postsynaptic neuron ([mg_lo, mg_hi))."""
        cw = CodeWriter()
        cw.comment(header)
        if sg.name in self._split_groups and sg.matrix_type.connectivity == Conn.SPARSE:
            cw.lines(self._row_shares(sg))
        with cw.block(f"void mg_synapse_update_{c_ident(sg.name)}(unsigned int batch, "
                      "timepoint t, uint64_t timestep, uint64_t step, unsigned int mg_lo, "
                      "unsigned int mg_hi, unsigned int mg_seg, unsigned int mg_nseg)"):
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
            with cw.block("for (unsigned int id_post = mg_lo; id_post < mg_hi; id_post++)"):
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
            cw.line(f"unsigned int _rowStart = id_pre * {stride}u;")
            cw.line(f"unsigned int _rowEnd = _rowStart + {rl}[id_pre];")
            if sg.name in self._split_groups:
                with cw.block("if (mg_nseg > 1u)"):
                    cw.line("// this share's part of the (sorted) row: see mg_row_shares_*")
                    shares = f"mg_shares_{c_ident(sg.name)}"
                    cw.line(f"const uint32_t* const _share = {shares}.data() + (size_t)id_pre * "
                            "(mg_nseg + 1u) + mg_seg;")
                    cw.line("_rowStart = _share[0];")
                    cw.line("_rowEnd = _share[1];")
            with cw.block("for (unsigned int id_syn = _rowStart; id_syn < _rowEnd; id_syn++)"):
                cw.line(f"const unsigned int id_post = {ind}[id_syn];")
                cw.lines(code)
        return cw.result()

    def _synapse_update(self, sg):
        if self.shares_steps and self._splittable(sg):
            self._split_groups[sg.name] = sg
            if sg.matrix_type.connectivity == Conn.SPARSE:
                # set by the runtime: shares need rows sorted by postsynaptic
                # index (0: not sorted, else a version of the connectivity)
                self.add_array(sg.name, "rowOrder", "uint32_t", 1)
        return super()._synapse_update(sg)

    def _splittable(self, sg):
        """Propagation may be shared among threads by postsynaptic neuron
        when each thread's additions and writes touch only its neurons'
        inputs and synapses: DENSE or SPARSE individual weights, no
        addToPre, nothing written but the group's own per-synapse variables,
        and no learning or dynamics code."""
        wu = sg.snippet
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        if (wu.post_spike_syn_code.strip() or wu.synapse_dynamics_code.strip()
                or wu.post_event_syn_code.strip() or conn not in (Conn.DENSE, Conn.SPARSE) or weight != Weight.INDIVIDUAL
                or (sg.name, "outPre") in self.layout):
            return False
        written = set()
        for field in ("pre_spike_syn_code", "pre_event_syn_code"):
            code = getattr(wu, field)
            if code.strip():
                _, _, env = self._render_wu(sg, conn, weight, code,
                                            (wu.class_name, field, f"synapse population '{sg.name}'"))
                written |= env.root.written
        return written <= set(sg.vars)

    def _row_shares(self, sg):
        """Where each share of the postsynaptic neurons starts in each row,
        worked out when the thread count or the connectivity changes (a
        binary search per spike and step would wait on memory)."""
        name = c_ident(sg.name)
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        stride = self.model._sizes[(sg.name, "stride")]
        rl, ind = self._array_name(sg.name, "rowLength"), self._array_name(sg.name, "ind")
        order = self._array_name(sg.name, "rowOrder")
        w = CodeWriter()
        w.line(f"std::vector<uint32_t> mg_shares_{name};")
        w.line(f"uint32_t mg_shares_order_{name} = 0u, mg_shares_count_{name} = 0u;")
        with w.block(f"void mg_row_shares_{name}(unsigned int nseg)"):
            w.line(f"if (mg_shares_order_{name} == {order}[0] && mg_shares_count_{name} == nseg) "
                   "return;")
            w.line(f"mg_shares_{name}.resize((size_t){npre}u * (nseg + 1u));")
            with w.block(f"for (unsigned int i = 0; i < {npre}u; i++)"):
                w.line(f"const unsigned int b = i * {stride}u, e = b + {rl}[i];")
                w.line(f"uint32_t* const s = mg_shares_{name}.data() + (size_t)i * (nseg + 1u);")
                w.line("s[0] = b;")
                w.line("s[nseg] = e;")
                w.line(f"for (unsigned int k = 1u; k < nseg; k++) s[k] = mg_lower_bound({ind}, b, "
                       f"e, mg_share({npost}u, k, nseg));")
            w.line(f"mg_shares_order_{name} = {order}[0];")
            w.line(f"mg_shares_count_{name} = nseg;")
        w.line()
        return w.result()

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

    def bitmask_propagation(self, sg, count, spikes, code):
        cw = CodeWriter()
        with cw.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
            cw.line(f"const unsigned int id_pre = {spikes}[_i];")
            with cw.block("for (unsigned int id_post = mg_lo; id_post < mg_hi; id_post++)"):
                with cw.block(f"if ({self._bitmask_bit(sg, 'id_pre', 'id_post')})"):
                    cw.lines(code)
        return cw.result()

    def post_learning_loops(self, sg, count, post_spike, code):
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        conn = sg.matrix_type.connectivity
        cw = CodeWriter()
        with cw.block(f"for (uint32_t _j = 0; _j < {count}; _j++)"):
            cw.line(f"const unsigned int id_post = {post_spike};")
            if conn == Conn.SPARSE:
                # the column of id_post: its synapses in row-major order
                stride = self.model._sizes[(sg.name, "stride")]
                col, remap = (self._array_name(sg.name, "colStart"),
                              self._array_name(sg.name, "remap"))
                with cw.block(f"for (unsigned int _k = {col}[id_post]; _k < {col}[id_post + 1u]; "
                              "_k++)"):
                    cw.line(f"const unsigned int id_syn = {remap}[_k];")
                    cw.line(f"const unsigned int id_pre = id_syn / {stride}u;")
                    cw.lines(code)
            else:
                with cw.block(f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++)"):
                    if conn == Conn.BITMASK:
                        cw.line(f"if (!{self._bitmask_bit(sg, 'id_pre', 'id_post')}) continue;")
                    else:
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
        # step: steps run since load(), already counting the last one (its
        # neuron update wrote delay slot (step - 1) % slots)
        with w.block(f"void mg_custom_update_{c_ident(group_name)}(uint64_t timestep, "
                     "uint64_t step)"):
            w.line(f"const timepoint t = (timepoint)((double)timestep * "
                   f"{float(self.model.dt)!r});")
            w.line("(void)t; (void)step;")
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
            syn = [f"mg_synapse_update_{c_ident(sg.name)}(batch, t, timestep, step, 0u, "
                   f"{sg.trg.num_neurons}u, 0u, 1u);" for sg in m.synapse_populations.values()]
            neu = [f"mg_neuron_update_{c_ident(ng.name)}(batch, t, timestep, step, rec_slot, 0u, "
                   f"{ng.num_neurons}u, 0u, 1u);" for ng in m.neuron_populations.values()]
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
            if self.shares_steps:
                w.lines(self._shared_steps())
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

    def _shares_steps(self):
        """Share each step of a single batch element among threads?  Only
        when a step has work enough for the barriers (SPLIT_MIN_WORK, or
        ML_GENN_SHARE_STEPS=0/1 to decide) and no timers are kept."""
        m = self.model
        if self.B != 1 or m.timing_enabled:
            return False
        forced = os.environ.get("ML_GENN_SHARE_STEPS")
        if forced in ("0", "1"):
            return forced == "1"
        work = sum(ng.num_neurons for ng in m.neuron_populations.values())
        for sg in m.synapse_populations.values():
            spec = self.layout.get(sg.name, "ind")
            work += spec.size if spec is not None else \
                sg.src.num_neurons * sg.trg.num_neurons // 10
        return work >= SPLIT_MIN_WORK

    def _shared_steps(self):
        """Steps of one batch element shared among threads: synapse groups
        by postsynaptic neuron (or whole, one group per thread), neurons by
        ranges of multiples of 32, then one thread joins the shares' spike
        lists.  Every sum is formed in the same order as on one thread, so
        results do not depend on the number of threads."""
        m = self.model
        w = CodeWriter()
        w.line("#ifdef _OPENMP")
        with w.block("if (num_threads > 1)"):
            w.line("unsigned int bar_count = 0u, bar_generation = 0u;")
            w.line("#pragma omp parallel num_threads(num_threads)")
            with w.block():
                w.line("const unsigned int T = (unsigned int)omp_get_num_threads(), "
                       "k = (unsigned int)omp_get_thread_num();")
                prepare = [f"if ({self._array_name(sg.name, 'rowOrder')}[0]) "
                           f"mg_row_shares_{c_ident(sg.name)}(T);"
                           for sg in m.synapse_populations.values()
                           if (sg.name, "rowOrder") in self.layout]
                if prepare:
                    with w.block("if (k == 0u)"):
                        w.lines(prepare)
                    w.line("mg_barrier(&bar_count, &bar_generation, T);")
                with w.block("for (uint64_t s = 0; s < n_steps; s++)"):
                    w.line("const uint64_t ts = timestep + s, st = step + s;")
                    w.line(f"const timepoint t = (timepoint)((double)ts * {float(m.dt)!r});")
                    w.line("const unsigned int rec_slot = num_rec ? (unsigned int)(ts % num_rec) "
                           ": 0u;")
                    whole = 0
                    for sg in m.synapse_populations.values():
                        fn, npost = f"mg_synapse_update_{c_ident(sg.name)}", sg.trg.num_neurons
                        call_whole = f"{fn}(0u, t, ts, st, 0u, {npost}u, 0u, 1u);"
                        owner = f"if (k == {whole}u % T) {call_whole}"
                        whole += 1
                        if sg.name not in self._split_groups:
                            w.line(owner)
                            continue
                        shared = (f"{fn}(0u, t, ts, st, mg_share({npost}u, k, T), "
                                  f"mg_share({npost}u, k + 1u, T), k, T);")
                        sorted_flag = self.layout.get(sg.name, "rowOrder")
                        if sorted_flag is None:
                            w.line(shared)
                        else:
                            w.line(f"if ({sorted_flag.c_name}[0]) {{ {shared} }} else {{ "
                                   f"{owner} }}")
                    w.line("mg_barrier(&bar_count, &bar_generation, T);")
                    for ng in m.neuron_populations.values():
                        n = ng.num_neurons
                        w.line(f"mg_neuron_update_{c_ident(ng.name)}(0u, t, ts, st, rec_slot, "
                               f"mg_share({n}u, k, T), mg_share({n}u, k + 1u, T), k, T);")
                    w.line("mg_barrier(&bar_count, &bar_generation, T);")
                    with w.block("if (k == 0u)"):
                        for name in self._gathers:
                            w.line(f"{name}(0u, st, T);")
                    w.line("mg_barrier(&bar_count, &bar_generation, T);")
            w.line("counters[0] = timestep + n_steps;")
            w.line("counters[1] = step + n_steps;")
            w.line("return;")
        w.line("#endif")
        return w.result()

    def _gather(self, ng):
        """Join the spike lists the shares of a neuron update left at their
        first neurons (in share order: the order of one thread)."""
        if not self._queues:
            return []
        slots = ng.num_delay_slots
        name = f"mg_gather_{c_ident(ng.name)}"
        self._gathers.append(name)
        w = CodeWriter()
        with w.block(f"void {name}(unsigned int batch, uint64_t step, unsigned int nseg)"):
            w.line(f"const unsigned int _slot = "
                   f"{f'(unsigned int)(step % {slots}u)' if slots > 1 else '0u'};")
            for q in self._queues:
                segments = self._array_name(q.list_array, "segCount")
                with w.block():
                    w.line(f"uint32_t* const _list = {q.list_array} + (batch * {q.slots}u + "
                           f"_slot) * {q.n}u;")
                    w.line(f"unsigned int _total = {segments}[0];")
                    with w.block("for (unsigned int j = 1u; j < nseg; j++)"):
                        w.line(f"std::memmove(_list + _total, _list + mg_share({q.n}u, j, nseg), "
                               f"{segments}[j] * sizeof(uint32_t));")
                        w.line(f"_total += {segments}[j];")
                    w.line(f"{q.count_array}[batch * {q.slots}u + _slot] = _total;")
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
