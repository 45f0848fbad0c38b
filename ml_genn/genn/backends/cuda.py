"""CUDA backend: the shared generators rendered as device code, compiled at
run time with NVRTC.

Thread mapping (``MG_BLOCK`` threads per block, batch element on the grid's
y axis):

- neuron update: a thread per neuron; spikes and spike-like events are
  queued in a deterministic order (a block-level prefix sum writes each
  block's spikes in neuron order, then one block per batch element
  concatenates the blocks' lists in block order), recording bitfields are
  written a warp's word at a time (``__ballot_sync``): no atomics, so the
  spike lists equal the C++ backend's;
- presynaptic propagation: DENSE a thread per postsynaptic neuron looping
  over the spikes and accumulating in a register (the same additions in the
  same order as on the CPU), BITMASK likewise testing a bit per spike; SPARSE a thread per row position (post-span) or
  per spike (pre-span, long rows); PROCEDURAL a thread per spike; TOEPLITZ a
  thread per diagonal; these accumulate with ``atomicAdd``;
- postsynaptic learning (spikes and spike-like events): a thread per
  presynaptic neuron (SPARSE: per position in the column view); synapse dynamics:
  a thread per synapse;
- initialisation and custom updates: a thread per element; reductions over
  the batch loop in the thread, reductions over elements use one block per
  batch element and a shared-memory tree.

State lives in one ``mg_model`` struct in device memory (as on the CPU); a
kernel takes a pointer to it.  ``self.kernels`` lists every kernel with its
grid and when it runs, for the runtime.
"""
from contextlib import contextmanager

from ..generators import (CustomConnectivityUpdate, CustomUpdate, Initialisation,
                          NeuronUpdate, SynapseUpdate)
from ..layout import c_ident, recording_words
from ..types import ParallelismHint, SynapseMatrixConnectivity as Conn
from .writer import CodeWriter
from .base import Backend


BLOCK = 128             # threads per block: a power of two, a multiple of 32
PRE_SPAN_ROW = 256      # SPARSE rows longer than this propagate a thread per spike

# NVRTC includes no system header: what the generated code needs of them
_CUDA_PRELUDE = """typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#define FLT_MAX 3.402823466e+38F
#define DBL_MAX 1.7976931348623158e+308
#define MG_HD
#define MG_BLOCK {block}u
namespace mg_traits {{
template<typename T> struct make_unsigned {{ typedef T type; }};
template<> struct make_unsigned<signed char> {{ typedef unsigned char type; }};
template<> struct make_unsigned<short> {{ typedef unsigned short type; }};
template<> struct make_unsigned<int> {{ typedef unsigned int type; }};
template<> struct make_unsigned<long> {{ typedef unsigned long type; }};
template<> struct make_unsigned<long long> {{ typedef unsigned long long type; }};
template<typename T> struct is_signed {{ static const bool value = T(-1) < T(0); }};
}}
"""

_BLOCK_HELPERS = """// exclusive prefix sum of v over the block (every thread must call it);
// *total: the sum over the block
static inline unsigned int mg_block_scan(unsigned int v, unsigned int* total) {
    __shared__ unsigned int warp_sums[32];
    const unsigned int lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    unsigned int x = v;
    for (unsigned int d = 1u; d < 32u; d <<= 1) {
        const unsigned int y = __shfl_up_sync(0xffffffffu, x, d);
        if (lane >= d) x += y;
    }
    if (lane == 31u) warp_sums[warp] = x;
    __syncthreads();
    unsigned int before = 0u, all = 0u;
    for (unsigned int w = 0u; w < (blockDim.x >> 5); w++) {
        const unsigned int s = warp_sums[w];
        if (w < warp) before += s;
        all += s;
    }
    __syncthreads();
    *total = all;
    return before + x - v;
}
// sum (or max) of v over the block, in a fixed order (every thread calls it)
template<typename T> static inline T mg_block_reduce(T v, bool is_max) {
    __shared__ T buf[MG_BLOCK];
    buf[threadIdx.x] = v;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2u; s > 0u; s >>= 1) {
        if (threadIdx.x < s) {
            const T a = buf[threadIdx.x], b = buf[threadIdx.x + s];
            buf[threadIdx.x] = is_max ? (a > b ? a : b) : a + b;
        }
        __syncthreads();
    }
    const T r = buf[0];
    __syncthreads();
    return r;
}
"""


def _scoped(lines):
    """``{ lines }``: each propagation (spikes, then events) has its own
    thread index variables."""
    w = CodeWriter()
    with w.block():
        w.lines(lines)
    return w.result()


class CUDABackend(NeuronUpdate, SynapseUpdate, Initialisation, CustomUpdate,
                 CustomConnectivityUpdate, Backend):
    name = "cuda"
    traits = "mg_traits"

    def __init__(self, model):
        super().__init__(model)
        # (kernel name, grid x, grid y, phase, build-connectivity flag or None);
        # phase: "init", "step" or "custom:<group>", launched in list order
        self.kernels = []
        self._queues = []
        self._part_threads = {}

    def maths_function(self, name):
        return name          # CUDA's maths library overloads float and double

    # ------------------------------------------------------------------
    def generate(self):
        m = self.model
        self.B = m.batch_size
        self._declare_arrays()
        body = []
        step_syn, step_neuron = [], []
        for sg in m.synapse_populations.values():
            self._part_threads = {}
            body += self._synapse_update(sg)
            step_syn += self._synapse_kernels
        for ng in m.neuron_populations.values():
            self._queues = []
            body += self._neuron_update(ng)
            step_neuron += self._neuron_kernels(ng)
            body += self._compactions
        init = self._init()
        body += init
        for group_name in sorted(set(m._custom_update_group_names())):
            body += self._custom_update_group(group_name)
        self.kernels = self._init_kernels + step_syn + step_neuron + [
            ("mg_k_advance", 1, 1, "step", None)] + self._custom_kernels
        # the first of a step's kernels are the synapse updates (timing_enabled
        # times them apart from the neuron updates)
        self.num_synapse_step_kernels = len(step_syn)

        w = CodeWriter().lines(self._prelude())
        w.lines(["// ---- the state of one loaded model, in device memory ----"])
        with w.block("struct mg_model", tail="};"):
            w.lines(self._members())
            w.line("uint64_t mg_timestep = 0, mg_step = 0;  // advanced by mg_k_advance")
            w.line("uint32_t mg_num_rec = 0;  // recorded steps (0: none)")
            w.line("uint64_t mg_dummy[1] = {0};  // target of out-of-range EGP accesses")
            w.lines(body)
        w.lines(self._kernel_text())
        return w.text()

    def _prelude(self):
        return [
            *self._header(f"CUDA ({BLOCK} threads per block, batch on the grid's y axis)"),
            _CUDA_PRELUDE.format(block=BLOCK),
            *self._common_definitions(),
            _BLOCK_HELPERS,
        ]

    def atomic_or(self, target, value):
        return f"atomicOr(&{target}, {value})"

    def dummy_element(self):
        # a race on the dummy is harmless: the error is reported either way
        return ["mg_dummy[0] = 0;",
                "return (T*)mg_dummy;"]

    def add_to(self, target, value):
        return f"atomicAdd(&{target}, ({value}))"

    def add_to_post(self, part, value):
        if part in ("pre_spike_syn_code", "pre_event_syn_code") and self._dense_post_span:
            return f"_lout += ({value})"
        return self.add_to("_out[id_post]", value)

    _dense_post_span = False

    @staticmethod
    def _blocks(n):
        return max(1, (int(n) + BLOCK - 1) // BLOCK)

    # ------------------------------------------------------------------
    # neuron update: a thread per neuron
    # ------------------------------------------------------------------
    @contextmanager
    def neuron_loop(self, w, n):
        w.line("const unsigned int id = blockIdx.x * blockDim.x + threadIdx.x;")
        with w.block(f"if (id < {n}u)"):
            yield

    def queue_setup(self, q):
        self._queues.append(q)
        return [f"bool {q.list_local}_flag = false;"]

    def queue_push(self, q):
        return [f"{q.list_local}_flag = true;"]

    def _queue_arrays(self, q):
        blocks = self._blocks(q.n)
        tmp = self.add_array(q.list_array, "blockList", "uint32_t", self.B * blocks * BLOCK)
        cnt = self.add_array(q.list_array, "blockCount", "uint32_t", self.B * blocks)
        return tmp.c_name, cnt.c_name, blocks

    def queue_finish(self, q):
        tmp, cnt, blocks = self._queue_arrays(q)
        w = CodeWriter()
        w.comment("queue this block's spikes in neuron order (concatenated by mg_compact_*)")
        with w.block():
            w.line("unsigned int _total;")
            w.line(f"const unsigned int _pos = mg_block_scan({q.list_local}_flag ? 1u : 0u, "
                   "&_total);")
            w.line(f"if ({q.list_local}_flag) {{ {tmp}[(batch * {blocks}u + blockIdx.x) * "
                   "MG_BLOCK + _pos] = id; }")
            w.line(f"if (threadIdx.x == 0u) {{ {cnt}[batch * {blocks}u + blockIdx.x] = _total; }}")
        return w.result()

    def _compaction(self, index, q):
        """Device function concatenating the blocks' spike lists (one block
        per batch element; each thread takes a run of consecutive blocks)."""
        tmp, cnt, blocks = self._queue_arrays(q)
        per = (blocks + BLOCK - 1) // BLOCK
        slot = f"(unsigned int)(step % {q.slots}u)" if q.slots > 1 else "0u"
        w = CodeWriter()
        with w.block(f"void mg_compact_{index}(unsigned int batch, uint64_t step)"):
            w.line(f"const unsigned int _slot = {slot};")
            w.line(f"const uint32_t* const _cnt = {cnt} + batch * {blocks}u;")
            w.line(f"const unsigned int _first = threadIdx.x * {per}u;")
            w.line("unsigned int _mine = 0u;")
            w.line(f"for (unsigned int b = _first; b < _first + {per}u && b < {blocks}u; b++) "
                   "_mine += _cnt[b];")
            w.line("unsigned int _total;")
            w.line("unsigned int _offset = mg_block_scan(_mine, &_total);")
            w.line(f"uint32_t* const _dst = {q.list_array} + (batch * {q.slots}u + _slot) * "
                   f"{q.n}u;")
            with w.block(f"for (unsigned int b = _first; b < _first + {per}u && b < {blocks}u; "
                         "b++)"):
                w.line(f"const uint32_t* const _src = {tmp} + (batch * {blocks}u + b) * "
                       "MG_BLOCK;")
                w.line("for (unsigned int j = 0u; j < _cnt[b]; j++) _dst[_offset + j] = _src[j];")
                w.line("_offset += _cnt[b];")
            w.line(f"if (threadIdx.x == 0u) {{ {q.count_array}[batch * {q.slots}u + _slot] = "
                   "_total; }")
        w.line()
        return w.result()

    def recording_setup(self, rec):
        return [f"bool {rec.local}_flag = false;"]

    def recording_set(self, rec, cond=None):
        return [f"if ({cond}) {rec.local}_flag = true;" if cond else f"{rec.local}_flag = true;"]

    def recording_finish(self, rec):
        words = recording_words(rec.n)
        w = CodeWriter()
        w.comment("record: one 32-bit word per warp")
        with w.block():
            w.line(f"const uint32_t _word = __ballot_sync(0xffffffffu, {rec.local}_flag);")
            w.line(f"if ((threadIdx.x & 31u) == 0u && id < {rec.n}u) {{ {rec.array}"
                   f"[((size_t)rec_slot * {self.B}u + batch) * {words}u + id / 32u] = _word; }}")
        return w.result()

    def _neuron_kernels(self, ng):
        name = c_ident(ng.name)
        out = [(f"mg_k_neuron_update_{name}", self._blocks(ng.num_neurons), self.B, "step",
                None)]
        self._compactions = []
        for q in self._queues:
            index = len(self._compaction_index)
            self._compaction_index.append(q)
            self._compactions += self._compaction(index, q)
            out.append((f"mg_k_compact_{index}", 1, self.B, "step", None))
        return out

    _compaction_index = None

    # ------------------------------------------------------------------
    # synapse update: one device function (and kernel) per part
    # ------------------------------------------------------------------
    def synapse_functions(self, sg, header, prologue, parts):
        name = c_ident(sg.name)
        cw = CodeWriter()
        cw.comment(header)
        self._synapse_kernels = []
        for part, lines in parts:
            fn = f"mg_synapse_{part}_{name}"
            with cw.block(f"void {fn}(unsigned int batch, timepoint t, uint64_t timestep, "
                          "uint64_t step)"):
                cw.lines(prologue)
                cw.lines(lines)
            cw.line()
            self._synapse_kernels.append((f"mg_k_{fn[3:]}", self._blocks(
                self._part_threads.get(part, 1)), self.B, "step", None))
        return cw.result()

    def _threads(self, part, n):
        self._part_threads[part] = max(self._part_threads.get(part, 1), int(n))

    def _post_span(self, sg, count, spikes, inner):
        """A thread per postsynaptic neuron loops over the spikes, adding in a
        register: the additions of the C++ backend, in its order (identical
        sums); ``inner(cw)`` writes one spike's code."""
        npost = sg.trg.num_neurons
        self._threads("presynaptic", npost)
        cw = CodeWriter()
        cw.line("const unsigned int id_post = blockIdx.x * blockDim.x + threadIdx.x;")
        with cw.block(f"if (id_post < {npost}u)"):
            cw.line("scalar _lout = _out[id_post];")
            with cw.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
                cw.line(f"const unsigned int id_pre = {spikes}[_i];")
                inner(cw)
            cw.line("_out[id_post] = _lout;")
        return _scoped(cw.result())

    def dense_propagation(self, sg, count, spikes, code):
        npost = sg.trg.num_neurons

        def inner(cw):
            cw.line(f"const unsigned int id_syn = id_pre * {npost}u + id_post;")
            cw.lines(code)
        return self._post_span(sg, count, spikes, inner)

    def bitmask_propagation(self, sg, count, spikes, code):
        # as DENSE, testing one bit per spike
        def inner(cw):
            with cw.block(f"if ({self._bitmask_bit(sg, 'id_pre', 'id_post')})"):
                cw.lines(code)
        return self._post_span(sg, count, spikes, inner)

    def _render_wu(self, sg, conn, weight, code, ctx, extra=None):
        self._dense_post_span = conn in (Conn.DENSE, Conn.BITMASK)
        try:
            return super()._render_wu(sg, conn, weight, code, ctx, extra)
        finally:
            self._dense_post_span = False

    def sparse_propagation(self, sg, count, spikes, code):
        stride = self.model._sizes[(sg.name, "stride")]
        rl = self._array_name(sg.name, "rowLength")
        ind = self._array_name(sg.name, "ind")
        cw = CodeWriter()
        hint = getattr(sg, "parallelism_hint", None)
        if hint == ParallelismHint.PRESYNAPTIC or (hint is None and stride > PRE_SPAN_ROW):
            self._threads("presynaptic", sg.src.num_neurons)
            cw.line("const unsigned int _i = blockIdx.x * blockDim.x + threadIdx.x;")
            with cw.block(f"if (_i < {count})"):
                cw.line(f"const unsigned int id_pre = {spikes}[_i];")
                cw.line(f"const unsigned int _rowStart = id_pre * {stride}u;")
                cw.line(f"const unsigned int _rowEnd = _rowStart + {rl}[id_pre];")
                with cw.block("for (unsigned int id_syn = _rowStart; id_syn < _rowEnd; "
                              "id_syn++)"):
                    cw.line(f"const unsigned int id_post = {ind}[id_syn];")
                    cw.lines(code)
            return _scoped(cw.result())
        self._threads("presynaptic", stride)
        cw.line("const unsigned int _j = blockIdx.x * blockDim.x + threadIdx.x;")
        with cw.block(f"if (_j < {stride}u)"):
            with cw.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
                cw.line(f"const unsigned int id_pre = {spikes}[_i];")
                with cw.block(f"if (_j < {rl}[id_pre])"):
                    cw.line(f"const unsigned int id_syn = id_pre * {stride}u + _j;")
                    cw.line(f"const unsigned int id_post = {ind}[id_syn];")
                    cw.lines(code)
        return _scoped(cw.result())

    def procedural_propagation(self, sg, count, spikes, row):
        self._threads("presynaptic", sg.src.num_neurons)
        cw = CodeWriter()
        cw.line("const unsigned int _i = blockIdx.x * blockDim.x + threadIdx.x;")
        with cw.block(f"if (_i < {count})"):
            cw.line(f"const unsigned int id_pre = {spikes}[_i];")
            cw.lines(row)
        return _scoped(cw.result())

    def toeplitz_propagation(self, sg, num_diag, diagonal):
        self._threads("presynaptic", num_diag)
        cw = CodeWriter()
        cw.line("const unsigned int id_diag = blockIdx.x * blockDim.x + threadIdx.x;")
        with cw.block(f"if (id_diag < {num_diag}u)"):
            cw.lines(diagonal)
        return _scoped(cw.result())

    def post_learning_loops(self, sg, count, post_spike, code):
        """DENSE and BITMASK: a thread per presynaptic neuron; SPARSE: a
        thread per position in a column (a column is at most num_pre long),
        each looping over the neurons that spiked."""
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        conn = sg.matrix_type.connectivity
        self._threads("postsynaptic", npre)
        cw = CodeWriter()
        if conn == Conn.SPARSE:
            stride = self.model._sizes[(sg.name, "stride")]
            col, remap = (self._array_name(sg.name, "colStart"),
                          self._array_name(sg.name, "remap"))
            cw.line("const unsigned int _k = blockIdx.x * blockDim.x + threadIdx.x;")
            with cw.block(f"if (_k < {npre}u)"):
                with cw.block(f"for (uint32_t _j = 0; _j < {count}; _j++)"):
                    cw.line(f"const unsigned int id_post = {post_spike};")
                    cw.line(f"const unsigned int _colStart = {col}[id_post];")
                    with cw.block(f"if (_k < {col}[id_post + 1u] - _colStart)"):
                        cw.line(f"const unsigned int id_syn = {remap}[_colStart + _k];")
                        cw.line(f"const unsigned int id_pre = id_syn / {stride}u;")
                        cw.lines(code)
            return _scoped(cw.result())
        cw.line("const unsigned int id_pre = blockIdx.x * blockDim.x + threadIdx.x;")
        with cw.block(f"if (id_pre < {npre}u)"):
            with cw.block(f"for (uint32_t _j = 0; _j < {count}; _j++)"):
                cw.line(f"const unsigned int id_post = {post_spike};")
                if conn == Conn.BITMASK:
                    cw.line(f"if (!{self._bitmask_bit(sg, 'id_pre', 'id_post')}) continue;")
                else:
                    cw.line(f"const unsigned int id_syn = id_pre * {npost}u + id_post;")
                cw.lines(code)
        return _scoped(cw.result())

    def synapse_dynamics_loops(self, sg, conn, code):
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        cw = CodeWriter()
        if conn == Conn.DENSE:
            self._threads("synapse_dynamics", npre * npost)
            with cw.block(f"for (unsigned int id_syn = blockIdx.x * blockDim.x + threadIdx.x; "
                          f"id_syn < {npre * npost}u; id_syn += blockDim.x * gridDim.x)"):
                cw.line(f"const unsigned int id_pre = id_syn / {npost}u, "
                        f"id_post = id_syn % {npost}u;")
                cw.lines(code)
            return cw.result()
        stride = self.model._sizes[(sg.name, "stride")]
        rl = self._array_name(sg.name, "rowLength")
        ind = self._array_name(sg.name, "ind")
        self._threads("synapse_dynamics", npre * stride)
        with cw.block(f"for (unsigned int id_syn = blockIdx.x * blockDim.x + threadIdx.x; "
                      f"id_syn < {npre * stride}u; id_syn += blockDim.x * gridDim.x)"):
            cw.line(f"const unsigned int id_pre = id_syn / {stride}u;")
            cw.line(f"if (id_syn % {stride}u >= {rl}[id_pre]) continue;")
            cw.line(f"const unsigned int id_post = {ind}[id_syn];")
            cw.lines(code)
        return cw.result()

    # ------------------------------------------------------------------
    # initialisation and custom updates: a thread per element
    # ------------------------------------------------------------------
    @contextmanager
    def element_loops(self, w, index, n, batches):
        with w.block(f"for (unsigned int {index} = blockIdx.x * blockDim.x + threadIdx.x; "
                     f"{index} < {n}u; {index} += blockDim.x * gridDim.x)"):
            if batches is None:
                yield
            else:
                with w.block(f"for (unsigned int batch = 0; batch < {batches}u; batch++)"):
                    yield

    @contextmanager
    def serial_loop(self, w, index, n):
        # one thread, in order: what the C++ backend builds, identically
        with w.block("if (blockIdx.x == 0u && threadIdx.x == 0u)"):
            with w.block(f"for (unsigned int {index} = 0; {index} < {n}u; {index}++)"):
                yield

    def init_functions(self, sections):
        w = CodeWriter()
        w.line("// ==== initialisation: one kernel per section, in order ====")
        self._init_kernels = []
        for i, section in enumerate(sections):
            if section.title:
                w.line("// " + section.title)
            with w.block(f"void mg_init_{i}()"):
                w.lines(section.lines)
            self._init_kernels.append((f"mg_k_init_{i}", self._blocks(section.size), 1,
                                       "init", section.condition))
        w.line()
        return w.result()

    def custom_update_functions(self, group_name, updates):
        w = CodeWriter()
        w.comment(f"==== custom update group '{group_name}' ====")
        group = c_ident(group_name)
        for i, (cu, lines) in enumerate(updates):
            grid = self._custom_grid
            fn = f"mg_custom_update_{group}_{i}"
            with w.block(f"void {fn}(uint64_t timestep, uint64_t step)"):
                w.line(f"const timepoint t = (timepoint)((double)timestep * "
                       f"{float(self.model.dt)!r});")
                w.line("(void)t; (void)step;")
                w.lines(lines)
            w.line()
            self._custom_kernels.append((f"mg_k_{fn[3:]}", grid[cu.name][0], grid[cu.name][1],
                                         f"custom:{group_name}", None))
        return w.result()

    _custom_kernels = None

    def custom_connectivity_grid(self, name, n):
        self._custom_grid[name] = (self._blocks(n), 1)

    def _custom_update(self, cu):
        self._current_custom = cu.name
        return super()._custom_update(cu)

    def custom_update_loops(self, kind, n, batches, reductions, acc_init, body, acc_store):
        cw = CodeWriter()
        if kind == "batch_reduction":
            self._custom_grid[self._current_custom] = (self._blocks(n), 1)
            with cw.block(f"for (unsigned int id = blockIdx.x * blockDim.x + threadIdx.x; "
                          f"id < {n}u; id += blockDim.x * gridDim.x)"):
                cw.lines(acc_init)
                with cw.block(f"for (unsigned int batch = 0; batch < {batches}u; batch++)"):
                    cw.lines(body)
                cw.lines(acc_store)
        elif kind == "neuron_reduction":
            # one block per batch element: each thread reduces a strided
            # share, then the block combines the shares in a fixed order
            self._custom_grid[self._current_custom] = (1, batches)
            cw.line("const unsigned int batch = blockIdx.y;")
            cw.lines(acc_init)
            with cw.block(f"for (unsigned int id = threadIdx.x; id < {n}u; id += blockDim.x)"):
                cw.lines(body)
            for name, op, _, _ in reductions:
                cw.line(f"_acc_{name} = mg_block_reduce(_acc_{name}, "
                        f"{'true' if op == 'max' else 'false'});")
            with cw.block("if (threadIdx.x == 0u)"):
                cw.lines(acc_store)
        else:
            self._custom_grid[self._current_custom] = (self._blocks(n), batches)
            cw.line("const unsigned int batch = blockIdx.y;")
            with cw.block(f"for (unsigned int id = blockIdx.x * blockDim.x + threadIdx.x; "
                          f"id < {n}u; id += blockDim.x * gridDim.x)"):
                cw.lines(body)
        return cw.result()

    # ------------------------------------------------------------------
    # kernels: thin wrappers calling the struct's device functions
    # ------------------------------------------------------------------
    def _kernel_text(self):
        m = self.model
        w = CodeWriter()
        w.line()
        w.line("// ---- kernels (launched by the runtime in the order of backend.kernels) ----")
        step = ("const uint64_t timestep = m->mg_timestep, step = m->mg_step;",
                f"const timepoint t = (timepoint)((double)timestep * {float(m.dt)!r});")
        for name, _, _, phase, _ in self.kernels:
            fn = "mg_" + name[len("mg_k_"):]
            with w.block(f'extern "C" __global__ void {name}(mg_model* __restrict__ m)'):
                if name == "mg_k_advance":
                    w.line("m->mg_timestep++;")
                    w.line("m->mg_step++;")
                elif name.startswith("mg_k_neuron_update_"):
                    w.lines(step)
                    w.line("const unsigned int rec_slot = m->mg_num_rec ? "
                           "(unsigned int)(timestep % m->mg_num_rec) : 0u;")
                    w.line(f"m->{fn}(blockIdx.y, t, timestep, step, rec_slot);")
                elif name.startswith("mg_k_synapse_"):
                    w.lines(step)
                    w.line(f"m->{fn}(blockIdx.y, t, timestep, step);")
                elif name.startswith("mg_k_compact_"):
                    w.line(f"m->{fn}(blockIdx.y, m->mg_step);")
                elif name.startswith("mg_k_custom_update_"):
                    w.line(f"m->{fn}(m->mg_timestep, m->mg_step);")
                else:
                    w.line(f"m->{fn}();")
        with w.block('extern "C" __global__ void mg_k_set_array(mg_model* __restrict__ m, '
                     "unsigned int index, void* ptr, uint64_t size)"):
            with w.block("switch (index)"):
                for a in self.layout:
                    w.line(f"case {a.index}: m->{a.c_name} = ({a.ctype}*)ptr; break;")
            w.line(f"if (index < {len(self.layout)}u) {{ m->mg_size[index] = size; }}")
        with w.block('extern "C" __global__ void mg_k_set_state(mg_model* __restrict__ m, '
                     "uint64_t seed, uint64_t timestep, uint64_t step, uint32_t num_rec)"):
            w.line("m->mg_seed = seed; m->mg_timestep = timestep; m->mg_step = step; "
                   "m->mg_num_rec = num_rec;")
        w.line('extern "C" __global__ void mg_k_sizeof(uint64_t* out) '
               "{ out[0] = sizeof(mg_model); }")
        with w.block('extern "C" __global__ void mg_k_get_state(mg_model* __restrict__ m, '
                     "uint64_t* out)"):
            w.line("out[0] = m->mg_timestep; out[1] = m->mg_step;")
            w.line("out[2] = (uint64_t)(unsigned int)atomicExch(&m->mg_error, 0);")
        return w.result()

    # reset per generate() (the generators call the hooks above while rendering)
    def _declare_arrays(self):
        self._compaction_index = []
        self._custom_kernels = []
        self._custom_grid = {}
        self._init_kernels = []
        super()._declare_arrays()

