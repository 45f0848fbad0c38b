"""C++ backend: plain loops (OpenMP over batch elements), g++, ctypes.

The whole run loop lives in native code.  Batch elements are independent
within a step, so each OpenMP thread simulates whole batch elements for all
requested steps; no barrier per step, and results cannot depend on the
number of threads.
"""
import os
from contextlib import ExitStack

from ..code import Function, Value
from ..code.environment import Local
from ..errors import ModelError
from ..groups import is_constant
from ..snippets import VarInit, derived_values
from ..types import (SynapseMatrixConnectivity as Conn, SynapseMatrixWeight as Weight,
                     VarAccessDim, VarAccessModeAttribute as Attr, access_mode,
                     custom_update_var_dims, var_dims)
from ..names import comment
from ..layout import c_ident, recording_words
from .writer import INDENT, CodeWriter
from .base import (ERROR_DIVISION, ERROR_EGP_INDEX, ERROR_INDEX_RANGE, ERROR_ROW,
                   ERROR_SYNAPSE_INDEX, IDX, Backend, c_literal, expand_multiline, writable)

_HERE = os.path.dirname(__file__)






class CPUBackend(Backend):
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
    # neuron update
    # ------------------------------------------------------------------
    def _var_pointer(self, spec, var, count, batch="batch"):
        """Declare a pointer to this batch element's slice of a variable."""
        dims = var_dims(var.access)
        if dims & VarAccessDim.BATCH and self.B > 1:
            off = f" + {batch} * {count if dims & VarAccessDim.ELEMENT else 1}u"
        else:
            off = ""
        const = "" if writable(var.access) else "const "
        return f"{const}{spec.ctype}* __restrict const _p_{spec.c_name} = {spec.c_name}{off};"

    def _neuron_update(self, ng):
        n = ng.num_neurons
        snippet = ng.snippet
        slots = ng.num_delay_slots
        env = self.element_env(ng, snippet, ng.params, n)
        for v in ng.vars.values():
            env.define(v.name, Value(v.name, writable=writable(v.access), ctype=v.type,
                                     description=f"{'read-write' if writable(v.access) else 'read-only'} variable"))
        env.define("Isyn", Value("Isyn", description="synaptic input", ctype="scalar",
                                 read_only_hint="Inputs are added by postsynaptic models "
                                                "with injectCurrent()."))
        for a in snippet.additional_input_vars:
            env.define(a.name, Value(a.name, description="additional input variable",
                                     ctype=a.type))
        st_spec = self.layout.get(ng.name, "st")
        if st_spec is not None:
            env.define("st", Value(f"_p_{st_spec.c_name}[id]", description="last spike time",
                                   ctype="timepoint"))

        rend = self.renderer()
        ctx = lambda field: (snippet.class_name, field, f"neuron population '{ng.name}'")
        sim = rend.statements(snippet.sim_code, env, indent=0, context=ctx("sim_code"))
        thresh = (rend.expression(snippet.threshold_condition_code, env,
                                  context=ctx("threshold_condition_code"))
                  if snippet.threshold_condition_code.strip() else None)
        reset = rend.statements(snippet.reset_code, env, indent=0, context=ctx("reset_code"),
                                new_scope=True)
        used, written = set(env.root.used), set(env.root.written)
        rng = self.uses_rng(env)

        # inputs: postsynaptic models of incoming groups, then current sources
        input_blocks = []
        targets = {"Isyn"} | {a.name for a in snippet.additional_input_vars}
        for sg in ng.in_syn:
            lines, u, w, r = self._psm_block(sg, targets)
            input_blocks += lines
            used |= u
            written |= w
            rng |= r
        for cs in ng.current_sources:
            lines, u, w, r = self._cs_block(cs, targets)
            input_blocks += lines
            used |= u
            written |= w
            rng |= r
        wu = self._wu_neuron_parts(ng, targets)
        input_blocks += wu["input"]
        used |= wu["used"]
        written |= wu["written"]
        rng |= wu["rng"]

        cw = CodeWriter()
        cw.comment(f"==== Neuron population '{ng.name}' (model '{snippet.class_name}'), "
                   f"{n} neurons ====")
        with cw.block(f"void mg_neuron_update_{c_ident(ng.name)}(unsigned int batch, "
                      "timepoint t, uint64_t timestep, uint64_t step, unsigned int rec_slot)"):
            for v in ng.vars.values():
                if v.name in used:
                    cw.line(self._var_pointer(self._spec(ng.name, v.name), v, n))
            for sg in ng.in_syn:
                in_syn = self._array_name(sg.name, "inSyn")
                cw.line(f"scalar* __restrict const _p_{in_syn} = {in_syn} + batch * {n}u;")
            slot_expr = f"(unsigned int)(step % {slots}u)" if slots > 1 else "0u"
            cw.line(f"const unsigned int _slot = {slot_expr};")
            spk = self._array_name(ng.name, "spk")
            cw.line(f"uint32_t* __restrict const _spk = {spk} + (batch * {slots}u + _slot) * "
                    f"{n}u;")
            cw.line("uint32_t _spkCnt = 0;")
            words = recording_words(n)
            if ng.spike_recording_enabled:
                rec = self._array_name(ng.name, "recSpk")
                cw.line(f"uint32_t* __restrict const _rec = {rec} + "
                        f"((size_t)rec_slot * {self.B}u + batch) * {words}u;")
                cw.line(f"std::memset(_rec, 0, {words} * sizeof(uint32_t));")
            if st_spec is not None:
                cw.line(f"timepoint* __restrict const _p_{st_spec.c_name} = {st_spec.c_name} + "
                        f"batch * {n}u;")
            cw.lines(wu["setup"])
            with cw.block(f"for (unsigned int id = 0; id < {n}u; id++)"):
                self._neuron_body(cw, ng, used, written, rng, input_blocks, sim, thresh,
                                  reset, wu, st_spec)
            cw.line(f"{self._array_name(ng.name, 'spkCnt')}[batch * {slots}u + _slot] = "
                    "_spkCnt;")
            cw.lines(wu["finish"])
        cw.line()
        return cw.result()

    def _neuron_body(self, cw, ng, used, written, rng, input_blocks, sim, thresh, reset, wu,
                     st_spec):
        """One neuron of the update: load, inputs, sim, threshold, reset, store."""
        snippet = ng.snippet
        n = ng.num_neurons
        if rng:
            cw.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                    f"{self.stream('neuron', ng.name)}u, batch * {n}u + id, step);")
        for v in ng.vars.values():
            if v.name in used:
                spec = self._spec(ng.name, v.name)
                cw.line(f"{'' if writable(v.access) else 'const '}{spec.ctype} {v.name} = "
                        f"_p_{spec.c_name}[{self._elem(v, 'id')}];")
        cw.line("scalar Isyn = 0;")
        for a in snippet.additional_input_vars:
            try:
                text = c_literal(a.init, a.type, self.precision)
            except ModelError as e:
                raise ModelError(f"neuron population '{ng.name}' (model "
                                 f"'{snippet.class_name}'): initial value of the additional "
                                 f"input variable '{a.name}': {e}") from None
            cw.line(f"{a.type} {a.name} = {text};")
        cw.lines(input_blocks)
        if snippet.auto_refractory_required and thresh:
            cw.line(f"const bool _oldSpike = ({thresh});")
        if sim:
            cw.line("// sim_code")
            cw.lines(sim)
        cw.lines(wu["dynamics"])
        cw.lines(wu["events"])
        if thresh:
            cond = f"({thresh})" + (" && !_oldSpike" if snippet.auto_refractory_required else "")
            cw.line("// threshold_condition_code")
            with cw.block(f"if ({cond})"):
                cw.line("_spk[_spkCnt++] = id;")
                if ng.spike_recording_enabled:
                    cw.line("_rec[id / 32u] |= 1u << (id % 32u);")
                if st_spec is not None:
                    cw.line(f"_p_{st_spec.c_name}[id] = t;")
                cw.lines(wu["spike"])
                if reset:
                    cw.line("// reset_code")
                    cw.lines(reset)
        for v in ng.vars.values():
            if v.name in written:
                spec = self._spec(ng.name, v.name)
                cw.line(f"_p_{spec.c_name}[{self._elem(v, 'id')}] = {v.name};")

    def _wu_neuron_parts(self, ng, targets):
        """Weight-update code that runs in this population's neuron loop."""
        parts = {k: [] for k in ("setup", "input", "dynamics", "events", "spike", "finish")}
        used, written, rng = set(), set(), False
        rend = self.renderer()
        slots = ng.num_delay_slots
        any_event = False
        for role, groups in (("pre", ng.out_syn), ("post", ng.in_syn)):
            for sg in groups:
                wu = sg.snippet
                fields = {"dynamics": getattr(wu, f"{role}_dynamics_code"),
                          "spike": getattr(wu, f"{role}_spike_code")}
                if role == "pre":
                    fields["events"] = wu.pre_event_threshold_condition_code
                if not any(c.strip() for c in fields.values()):
                    if role == "pre" and (sg.name, "outPre") in self.layout:
                        parts["input"] += self._out_pre_block(sg, targets)
                    continue
                env, refs = self._wu_neuron_env(sg, role)
                ctx = lambda f: (wu.class_name, f, f"synapse population '{sg.name}'")
                head = "// " + comment(f"{role}synaptic code of synapse population "
                                       f"'{sg.name}' ({wu.class_name})")
                for key in ("dynamics", "spike"):
                    code = fields[key]
                    if code.strip():
                        lines = rend.statements(code, env, indent=0, new_scope=True,
                                                context=ctx(f"{role}_{key}_code"))
                        cw = CodeWriter().line(head)
                        with cw.block():
                            cw.lines(lines)
                        parts[key] += cw.result()
                if fields.get("events", "").strip():
                    any_event = True
                    cond = rend.expression(fields["events"], env,
                                           context=ctx("pre_event_threshold_condition_code"))
                    evnt = self._array_name(sg.name, "evnt")
                    parts["setup"] += [
                        f"uint32_t* __restrict const _evnt_{evnt} = {evnt} + "
                        f"(batch * {slots}u + _slot) * {ng.num_neurons}u;",
                        f"uint32_t _evntCnt_{evnt} = 0;"]
                    cw = CodeWriter().comment(f"spike-like event condition of '{sg.name}'")
                    with cw.block(f"if ({cond})"):
                        cw.line(f"_evnt_{evnt}[_evntCnt_{evnt}++] = id;")
                        cw.line("_anyEvent = true;")
                    parts["events"] += cw.result()
                    parts["finish"].append(
                        f"{self._array_name(sg.name, 'evntCnt')}[batch * {slots}u + _slot] = "
                        f"_evntCnt_{evnt};")
                if role == "pre" and (sg.name, "outPre") in self.layout:
                    parts["input"] += self._out_pre_block(sg, targets)
                used |= {refs[k] for k in env.root.used if k in refs}
                written |= {refs[k] for k in env.root.written if k in refs}
                rng |= self.uses_rng(env)
        if any_event:
            parts["events"].insert(0, "bool _anyEvent = false;")
            if (ng.name, "recSpkEvnt") in self.layout:
                words = recording_words(ng.num_neurons)
                rec = self._array_name(ng.name, "recSpkEvnt")
                parts["setup"] += [
                    f"uint32_t* __restrict const _recEvnt = {rec} + "
                    f"((size_t)rec_slot * {self.B}u + batch) * {words}u;",
                    f"std::memset(_recEvnt, 0, {words} * sizeof(uint32_t));"]
                parts["events"].append("if (_anyEvent) _recEvnt[id / 32u] |= 1u << (id % 32u);")
            else:
                parts["events"].append("(void)_anyEvent;")
        elif (ng.name, "recSpkEvnt") in self.layout:
            raise ModelError(f"neuron population '{ng.name}': spike_event_recording_enabled "
                             "but no outgoing synapse population has a "
                             "pre_event_threshold_condition_code")
        parts["used"], parts["written"], parts["rng"] = used, written, rng
        return parts

    def _out_pre_block(self, sg, targets):
        if sg.pre_target_var not in targets:
            raise ModelError(f"synapse population '{sg.name}': pre_target_var "
                             f"'{sg.pre_target_var}' is not one of {sorted(targets)}")
        out_pre = self._array_name(sg.name, "outPre")
        n = sg.src.num_neurons
        return ["// " + comment(f"reverse input (addToPre) of synapse population '{sg.name}'"),
                f"{sg.pre_target_var} += {out_pre}[batch * {n}u + id];",
                f"{out_pre}[batch * {n}u + id] = 0;"]

    def _psm_block(self, sg, targets):
        """Postsynaptic model of ``sg``, inside the target's neuron loop."""
        ps = sg.ps_initialiser.snippet
        n = sg.trg.num_neurons
        if sg.post_target_var not in targets:
            raise ModelError(f"synapse population '{sg.name}': post_target_var "
                             f"'{sg.post_target_var}' is not 'Isyn' or an additional input "
                             f"variable of '{sg.trg.name}' ({', '.join(sorted(targets))})")
        env = self.element_env(sg, ps, sg.ps_params, n, "psm_dyn", "psm_")
        env.define("inSyn", Value("inSyn", writable=True, description="input accumulator",
                                  ctype="scalar"))
        env.define("injectCurrent", Function(
            lambda a, tv=sg.post_target_var: f"{tv} += ({a[0]})", 1, 1, "function",
            statement=True, returns="void"))
        local_names = {}
        for v in sg.psm_vars.values():
            # prefixed: never the name of a neuron variable, input or reference
            local = f"_psm_{v.name}"
            local_names[v.name] = local
            env.define(v.name, Value(local, writable=writable(v.access), ctype=v.type,
                                     description="postsynaptic variable"))
        refs = sg.ps_initialiser.var_refs
        for r in ps.neuron_var_refs:
            target = refs[r.name]
            tname = target if isinstance(target, str) else target.var_name
            if tname not in sg.trg.vars:
                raise ModelError(f"synapse population '{sg.name}': neuron var ref '{r.name}' "
                                 f"names '{tname}', which '{sg.trg.name}' does not have")
            env.define(r.name, Value(tname, writable=writable(r.access),
                                     ctype=sg.trg.vars[tname].type,
                                     description="neuron variable reference"))
        rend = self.renderer()
        code = rend.statements(ps.sim_code, env, indent=0,
                               context=(ps.class_name, "sim_code", f"synapse population '{sg.name}'"))
        used, written = env.root.used, env.root.written
        cw = CodeWriter()
        cw.comment(f"postsynaptic model '{ps.class_name}' of synapse population '{sg.name}'")
        with cw.block():
            cw.line(f"scalar inSyn = _p_{self._array_name(sg.name, 'inSyn')}[id];")
            if sg.max_dendritic_delay_timesteps > 1:
                den = self._array_name(sg.name, "denDelay")
                ds = sg.max_dendritic_delay_timesteps
                cw.line(f"scalar* __restrict const _den = {den} + (batch * {ds}u + "
                        f"(unsigned int)(step % {ds}u)) * {n}u;")
                cw.line("inSyn += _den[id];")
                cw.line("_den[id] = 0;")
            for v in sg.psm_vars.values():
                if v.name in used:
                    spec = self._spec(sg.name, "psm_" + v.name)
                    idx = self._batched_index(v, n, "id")
                    cw.line(f"{spec.ctype} {local_names[v.name]} = {spec.c_name}[{idx}];")
            cw.lines(code)
            for v in sg.psm_vars.values():
                if v.name in written:
                    spec = self._spec(sg.name, "psm_" + v.name)
                    cw.line(f"{spec.c_name}[{self._batched_index(v, n, 'id')}] = "
                            f"{local_names[v.name]};")
            cw.line(f"_p_{self._array_name(sg.name, 'inSyn')}[id] = inSyn;")
        lines = cw.result()
        ref_names = {r.name: (refs[r.name] if isinstance(refs[r.name], str)
                              else refs[r.name].var_name) for r in ps.neuron_var_refs}
        return (lines, {ref_names[k] for k in used if k in ref_names},
                {ref_names[k] for k in written if k in ref_names}, self.uses_rng(env))

    def _cs_block(self, cs, targets):
        snippet = cs.snippet
        n = cs.target.num_neurons
        if cs.target_var not in targets:
            raise ModelError(f"current source '{cs.name}': target_var '{cs.target_var}' is "
                             f"not one of {sorted(targets)}")
        env = self.element_env(cs, snippet, cs.params, n)
        env.define("injectCurrent", Function(
            lambda a, tv=cs.target_var: f"{tv} += ({a[0]})", 1, 1, "function",
            statement=True, returns="void"))
        for v in cs.vars.values():
            spec = self._spec(cs.name, v.name)
            env.define(v.name, Value(f"{spec.c_name}[{self._batched_index(v, n, 'id')}]",
                                     writable=writable(v.access), ctype=v.type,
                                     description="current source variable"))
        ref_names = {}
        for r in snippet.neuron_var_refs:
            target = cs.var_refs[r.name]
            tname = target if isinstance(target, str) else target.var_name
            ref_names[r.name] = tname
            if tname not in cs.target.vars:
                raise ModelError(f"current source '{cs.name}': neuron var ref '{r.name}' "
                                 f"names '{tname}', which '{cs.target.name}' does not have")
            env.define(r.name, Value(tname, writable=writable(r.access),
                                     ctype=cs.target.vars[tname].type,
                                     description="neuron variable reference"))
        rend = self.renderer()
        code = rend.statements(snippet.injection_code, env, indent=0,
                               context=(snippet.class_name, "injection_code", f"current source '{cs.name}'"))
        cw = CodeWriter().comment(f"current source '{cs.name}' (model '{snippet.class_name}')")
        with cw.block():
            cw.lines(code)
        lines = cw.result()
        used, written = env.root.used, env.root.written
        return (lines, {ref_names[k] for k in used if k in ref_names},
                {ref_names[k] for k in written if k in ref_names}, self.uses_rng(env))

    # ------------------------------------------------------------------
    # synapse update
    # ------------------------------------------------------------------

    def _synapse_update(self, sg):
        wu = sg.snippet
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        for f in ("post_event_syn_code", "post_event_threshold_condition_code"):
            if getattr(wu, f).strip():
                raise ModelError(f"weight update model '{wu.class_name}' of '{sg.name}': "
                                 f"'{f}' is not supported by this engine yet")
        if wu.synapse_dynamics_code.strip() and conn not in (Conn.DENSE, Conn.SPARSE):
            raise ModelError(f"synapse population '{sg.name}': synapse_dynamics_code needs "
                             "DENSE or SPARSE connectivity")
        ctx = (wu.class_name, "pre_spike_syn_code", f"synapse population '{sg.name}'")
        slots = sg.src.num_delay_slots
        d = sg.axonal_delay_steps
        cw = CodeWriter()
        cw.comment(f"==== Synapse population '{sg.name}' ('{sg.src.name}' -> '{sg.trg.name}', "
                   f"{sg.matrix_type.name}, weight update '{wu.class_name}', postsynaptic "
                   f"'{sg.ps_initialiser.snippet.class_name}') ====")
        with cw.block(f"void mg_synapse_update_{c_ident(sg.name)}(unsigned int batch, "
                      "timepoint t, uint64_t timestep, uint64_t step)"):
            cw.line(f"scalar* __restrict const _out = {self._array_name(sg.name, 'inSyn')} + "
                    f"batch * {npost}u;")
            if (sg.name, "outPre") in self.layout:
                cw.line(f"scalar* __restrict const _outPre = "
                        f"{self._array_name(sg.name, 'outPre')} + batch * {npre}u;")
            if sg.max_dendritic_delay_timesteps > 1:
                ds = sg.max_dendritic_delay_timesteps
                cw.line(f"scalar* __restrict const _den = "
                        f"{self._array_name(sg.name, 'denDelay')} + batch * {ds * npost}u;")
                cw.line(f"const unsigned int _denPtr = (unsigned int)(step % {ds}u);")
            # spikes emitted d+1 steps ago
            slot = f"(unsigned int)((step + {slots - 1 - d}u) % {slots}u)" if slots > 1 else "0u"
            cw.line(f"const unsigned int _readSlot = {slot};")
            cw.line(f"const uint32_t _numSpikes = "
                    f"{self._array_name(sg.src.name, 'spkCnt')}[batch * {slots}u + _readSlot];")
            cw.line(f"const uint32_t* __restrict const _spikes = "
                    f"{self._array_name(sg.src.name, 'spk')} + "
                    f"(batch * {slots}u + _readSlot) * {npre}u;")
            if wu.pre_spike_syn_code.strip():
                cw.lines(self._spike_propagation(sg, conn, weight, ctx, wu.pre_spike_syn_code))
            if wu.pre_event_syn_code.strip():
                evnt = self._array_name(sg.name, "evnt")
                cw.line(f"const uint32_t _numEvents = "
                        f"{self._array_name(sg.name, 'evntCnt')}[batch * {slots}u + _readSlot];")
                cw.line(f"const uint32_t* __restrict const _events = {evnt} + "
                        f"(batch * {slots}u + _readSlot) * {npre}u;")
                cw.lines(self._spike_propagation(
                    sg, conn, weight, (wu.class_name, "pre_event_syn_code", ctx[2]),
                    wu.pre_event_syn_code, "_numEvents", "_events", "spike-like events"))
            if wu.post_spike_syn_code.strip():
                cw.lines(self._post_learning(sg, conn, weight))
            if wu.synapse_dynamics_code.strip():
                cw.lines(self._synapse_dynamics(sg, conn, weight))
        cw.line()
        return cw.result()

    def _spike_propagation(self, sg, conn, weight, ctx, code_text, count="_numSpikes",
                           spikes="_spikes", what="presynaptic spikes"):
        npost = sg.trg.num_neurons
        code, proc_inits, wenv = self._render_wu(sg, conn, weight, code_text, ctx)
        if self.uses_rng(wenv) and conn != Conn.PROCEDURAL:
            raise ModelError(f"synapse population '{sg.name}': random numbers in "
                             "pre_spike_syn_code are not supported")
        cw = CodeWriter()
        cw.line(f"// propagate {what}")
        if conn == Conn.TOEPLITZ:
            return cw.lines(self._toeplitz(sg, code, count, spikes)).result()
        if conn not in (Conn.DENSE, Conn.SPARSE, Conn.PROCEDURAL):
            raise ModelError(f"synapse population '{sg.name}': matrix type "
                             f"{sg.matrix_type.name} is not supported")
        with cw.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
            cw.line(f"const unsigned int id_pre = {spikes}[_i];")
            if conn == Conn.DENSE:
                with cw.block(f"for (unsigned int id_post = 0; id_post < {npost}u; id_post++)"):
                    cw.line(f"const unsigned int id_syn = id_pre * {npost}u + id_post;")
                    cw.lines(code)
            elif conn == Conn.SPARSE:
                stride = self.model._sizes[(sg.name, "stride")]
                rl = self._array_name(sg.name, "rowLength")
                ind = self._array_name(sg.name, "ind")
                cw.line(f"const unsigned int _rowStart = id_pre * {stride}u;")
                cw.line(f"const unsigned int _rowEnd = _rowStart + {rl}[id_pre];")
                with cw.block("for (unsigned int id_syn = _rowStart; id_syn < _rowEnd; id_syn++)"):
                    cw.line(f"const unsigned int id_post = {ind}[id_syn];")
                    cw.lines(code)
            else:
                cw.lines(self._procedural_row(sg, weight, code, proc_inits))
        return cw.result()

    def _procedural_row(self, sg, weight, code, proc_inits):
        ci = sg.connectivity_initialiser
        if ci is None or not ci.snippet.row_build_code.strip():
            raise ModelError(f"synapse population '{sg.name}' is PROCEDURAL: it needs a "
                             "sparse connectivity initialiser with row_build_code")
        init_lines = []
        for v in proc_inits:
            init_lines.append(f"{v.type} _w_{v.name};")
            init_lines += self._var_init_code(sg, v, f"_w_{v.name}", "synapse",
                                              extra_names={"id_pre", "id_post"})

        def add_synapse(args):
            checks = [f"id_post < {sg.trg.num_neurons}u"]
            cw = CodeWriter()
            with cw.block():
                cw.line(f"const unsigned int id_post = {args[0]};")
                if len(args) > 1 and weight == Weight.KERNEL:
                    cw.line(f"const unsigned int id_kernel = {self._kernel_index(sg, args[1:])};")
                    checks.append(f"id_kernel < {self._kernel_elements(sg)}u")
                cw.line(f"if (!({' && '.join(checks)})) {{ mg_fail({ERROR_SYNAPSE_INDEX}); }}")
                with cw.block("else"):
                    cw.lines(init_lines + code)
            return "\n".join(cw.result())
        env = self._conn_env(sg, add_synapse, "row")
        rows = self.renderer().statements(
            ci.snippet.row_build_code, env, indent=0,
            context=(ci.snippet.class_name, "row_build_code", f"synapse population '{sg.name}'"))
        rows = expand_multiline(rows)
        return ([f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {self.stream('conn', sg.name)}u, "
                 "id_pre, 0);"] + rows)

    def _toeplitz(self, sg, code, count="_numSpikes", spikes="_spikes"):
        ci = sg.connectivity_initialiser
        if ci is None:
            raise ModelError(f"synapse population '{sg.name}' is TOEPLITZ: it needs "
                             "init_toeplitz_connectivity(...)")
        snippet = ci.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        from ..snippets import user_count
        num_diag = user_count(snippet.calc_max_row_len_func(
            npre, npost, derived_values(snippet, ci.params, self.model.dt)),
            f"synapse population '{sg.name}': calc_max_row_len_func of "
            f"'{snippet.class_name}'")

        # built-ins whose constraints keep every target in range skip the check
        # (it sits in the innermost loop of every convolution)
        checked = not getattr(snippet, "indices_in_range", False)

        def add_synapse(args):
            cw = CodeWriter()
            with cw.block():
                cw.line(f"const unsigned int id_post = {args[0]};")
                cw.line(f"const unsigned int id_kernel = {self._kernel_index(sg, args[1:])};")
                if checked:
                    cw.line(f"if (id_post >= {npost}u || id_kernel >= "
                            f"{self._kernel_elements(sg)}u) {{ mg_fail({ERROR_SYNAPSE_INDEX}); }}")
                    with cw.block("else"):
                        cw.lines(code)
                else:
                    cw.lines(code)
            return "\n".join(cw.result())

        def for_each_synapse(rend, body, env, indent):
            pad = INDENT * indent
            inner = env.child({"id_pre": Value("id_pre", description="presynaptic index",
                                               ctype=IDX)})
            lines = [pad + f"for (uint32_t _i = 0; _i < {count}; _i++) {{",
                     pad + INDENT + f"const unsigned int id_pre = {spikes}[_i];"]
            for s in body.children:
                lines += rend.stmt(s, inner, indent + 1)
            lines.append(pad + "}")
            return lines

        env = self.base_env().child()
        env.define("id_diag", Value("id_diag", description="diagonal index", ctype=IDX))
        env.define("num_pre", Value(f"({npre}u)", description="size", ctype=IDX))
        env.define("num_post", Value(f"({npost}u)", description="size", ctype=IDX))
        self.add_params(env, sg, snippet, ci.params, [], "")
        env.define("addSynapse", Function(add_synapse, 1 + len(sg.kernel_size),
                                          1 + len(sg.kernel_size), "function", statement=True,
                                          returns="void"))
        rend = self.renderer(hooks={"for_each_synapse": for_each_synapse})
        diag = rend.statements(snippet.diagonal_build_code, env, indent=0,
                               context=(snippet.class_name, "diagonal_build_code", f"synapse population '{sg.name}'"))
        cw = CodeWriter()
        with cw.block(f"for (unsigned int id_diag = 0; id_diag < {int(num_diag)}u; id_diag++)"):
            cw.lines(expand_multiline(diag))
        return cw.result()

    def _post_learning(self, sg, conn, weight):
        """post_spike_syn_code: every synapse onto each neuron that spiked last step."""
        wu = sg.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        if conn != Conn.DENSE:
            raise ModelError(f"synapse population '{sg.name}': post_spike_syn_code is only "
                             "supported with DENSE connectivity so far")
        ctx = (wu.class_name, "post_spike_syn_code", f"synapse population '{sg.name}'")
        code, _, env = self._render_wu(sg, conn, weight, wu.post_spike_syn_code, ctx)
        trg_cnt = self._array_name(sg.trg.name, "spkCnt")
        trg_spk = self._array_name(sg.trg.name, "spk")
        slots = sg.trg.num_delay_slots
        slot = f"(unsigned int)((step + {slots - 1}u) % {slots}u)" if slots > 1 else "0u"
        cw = CodeWriter()
        cw.line("// postsynaptic learning: synapses onto neurons that spiked last step")
        cw.line(f"const unsigned int _postSlot = {slot};")
        cw.line(f"const uint32_t _numPostSpikes = {trg_cnt}[batch * {slots}u + _postSlot];")
        with cw.block("for (uint32_t _j = 0; _j < _numPostSpikes; _j++)"):
            cw.line(f"const unsigned int id_post = {trg_spk}[(batch * {slots}u + _postSlot) * "
                    f"{npost}u + _j];")
            with cw.block(f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++)"):
                cw.line(f"const unsigned int id_syn = id_pre * {npost}u + id_post;")
                cw.lines(code)
        return cw.result()

    def _synapse_dynamics(self, sg, conn, weight):
        wu = sg.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        ctx = (wu.class_name, "synapse_dynamics_code", f"synapse population '{sg.name}'")
        code, _, env = self._render_wu(sg, conn, weight, wu.synapse_dynamics_code, ctx)
        if self.uses_rng(env):
            raise ModelError(f"synapse population '{sg.name}': random numbers in "
                             "synapse_dynamics_code are not supported yet")
        cw = CodeWriter()
        cw.line("// synapse dynamics")
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

    # ------------------------------------------------------------------
    # initialisation
    # ------------------------------------------------------------------

    def _init_var_loop(self, group, var, spec, count, kind="neuron"):
        batched = spec.size > count
        n = count
        stream = self.stream("init", group.name, spec.key[1])
        element = f"{'batch * ' + str(n) + 'u + ' if batched else ''}id"
        w = CodeWriter()
        w.comment(f"initialise '{group.name}.{var.name}' ({var.init.snippet.class_name})")
        with ExitStack() as scopes:
            if batched:
                scopes.enter_context(
                    w.block(f"for (unsigned int batch = 0; batch < {spec.size // n}u; batch++)"))
            scopes.enter_context(w.block(f"for (unsigned int id = 0; id < {n}u; id++)"))
            w.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {stream}u, {element}, 0);")
            w.line(f"{spec.ctype} _value;")
            w.lines(self._var_init_code(group, var, "_value", "neuron"))
            w.line(f"{spec.c_name}[{element}] = _value;")
        return w.result()

    def _init(self):
        m = self.model
        sources = []
        for ng in m.neuron_populations.values():
            sources += [(ng, v, ng.name, v.name, ng.num_neurons) for v in ng.vars.values()]
        for cs in m.current_sources.values():
            sources += [(cs, v, cs.name, v.name, cs.target.num_neurons) for v in cs.vars.values()]
        for cu in m.custom_updates.values():
            sources += [(cu, v, cu.name, v.name, cu.size if isinstance(cu.size, int) else 1)
                        for v in cu.vars.values()]
        for sg in m.synapse_populations.values():
            sources += [(sg, v, sg.name, "psm_" + v.name, sg.trg.num_neurons)
                        for v in sg.psm_vars.values()]
            sources += [(sg, v, sg.name, "pre_" + v.name, sg.src.num_neurons)
                        for v in sg.pre_vars.values()]
            sources += [(sg, v, sg.name, "post_" + v.name, sg.trg.num_neurons)
                        for v in sg.post_vars.values()]
        w = CodeWriter()
        w.lines(["// ==== initialisation of variables and connectivity from snippets ====",
                 "// build_connectivity[i]: build synapse population i's connectivity from its",
                 "// snippet (0 when it was given with set_sparse_connections)"])
        with w.block('void mg_init(const uint8_t* build_connectivity)'):
            for group, v, gname, field, count in sources:
                if isinstance(v.init, VarInit) and not is_constant(v.init):
                    spec = self._spec(gname, field)
                    count = spec.size if spec.size < count else count
                    w.lines(self._init_var_loop(group, v, spec, count))
            for i, sg in enumerate(m.synapse_populations.values()):
                w.lines(self._init_synapses(sg, i))
        w.line()
        return w.result()

    def _init_synapses(self, sg, index):
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        cw = CodeWriter()
        snippet_vars = [v for v in sg.vars.values()
                        if isinstance(v.init, VarInit) and not is_constant(v.init)]
        if weight == Weight.PROCEDURAL:
            return []
        kernel_vars = [v for v in snippet_vars
                       if "id_kernel" in self._names_in(v.init.snippet)]
        if conn == Conn.SPARSE:
            stride = self.model._sizes[(sg.name, "stride")]
            rl, ind = self._array_name(sg.name, "rowLength"), self._array_name(sg.name, "ind")
            ci = sg.connectivity_initialiser
            if ci is not None and ci.snippet.row_build_code.strip():
                inline = []
                for v in kernel_vars:
                    spec = self._spec(sg.name, v.name)
                    inline.append(f"{spec.ctype} _value_{v.name};")
                    inline += self._var_init_code(sg, v, f"_value_{v.name}", "synapse",
                                                  extra_names={"id_pre", "id_post", "id_kernel"})
                    inline.append(f"for (unsigned int batch = 0; batch < "
                                  f"{spec.size // (npre * stride)}u; batch++) "
                                  f"{spec.c_name}[batch * {npre * stride}u + id_pre * {stride}u "
                                  f"+ _rowLength] = _value_{v.name};")

                def add_synapse(args):
                    checks = [f"_idPost < {sg.trg.num_neurons}u"]
                    aw = CodeWriter()
                    with aw.block():
                        aw.line(f"const unsigned int _idPost = {args[0]};")
                        if len(args) > 1:
                            aw.line(f"const unsigned int _idKernel = "
                                    f"{self._kernel_index(sg, args[1:])};")
                            checks.append(f"_idKernel < {self._kernel_elements(sg)}u")
                        aw.line(f"if (!({' && '.join(checks)})) {{ "
                                f"mg_fail({ERROR_SYNAPSE_INDEX}); }}")
                        with aw.block(f"else if (_rowLength < {stride}u)"):
                            aw.line("const unsigned int id_post = _idPost;")
                            aw.line(f"{ind}[id_pre * {stride}u + _rowLength] = id_post;")
                            if len(args) > 1:
                                aw.line("const unsigned int id_kernel = _idKernel;")
                                aw.line("(void)id_kernel;")
                            aw.lines(inline)
                            aw.line("_rowLength++;")
                        with aw.block("else"):
                            aw.line(f"mg_fail({ERROR_ROW});  // row longer than its padded stride")
                    return "\n".join(aw.result())
                env = self._conn_env(sg, add_synapse, "row")
                rows = self.renderer().statements(
                    ci.snippet.row_build_code, env, indent=0,
                    context=(ci.snippet.class_name, "row_build_code", f"synapse population '{sg.name}'"))
                cw.comment(f"build connectivity of '{sg.name}' ({ci.snippet.class_name})")
                with cw.block(f"if (build_connectivity[{index}])"):
                    with cw.block(f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++)"):
                        cw.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                                f"{self.stream('conn', sg.name)}u, id_pre, 0);")
                        cw.line("unsigned int _rowLength = 0;")
                        cw.lines(expand_multiline(rows))
                        cw.line(f"{rl}[id_pre] = _rowLength;")
            elif kernel_vars:
                raise ModelError(f"synapse population '{sg.name}': variables initialised "
                                 "with id_kernel need connectivity built by a snippet")
        elif kernel_vars and weight != Weight.KERNEL:
            raise ModelError(f"synapse population '{sg.name}': id_kernel is only available "
                             "with SPARSE connectivity snippets or KERNEL weights")
        for v in snippet_vars:
            if conn == Conn.SPARSE and v in kernel_vars:
                continue
            spec = self._spec(sg.name, v.name)
            stream = self.stream("init", sg.name, v.name)
            if weight == Weight.KERNEL:
                k = 1
                for d in sg.kernel_size:
                    k *= d
                head = (f"for (unsigned int id_kernel = 0; id_kernel < {k}u; id_kernel++)",
                        ["const unsigned int id_syn = id_kernel;"])
                extra = {"id_kernel"}
                count = k
            elif conn == Conn.DENSE:
                head = (f"for (unsigned int id_syn = 0; id_syn < {npre * npost}u; id_syn++)",
                        [f"const unsigned int id_pre = id_syn / {npost}u, "
                         f"id_post = id_syn % {npost}u;"])
                extra = {"id_pre", "id_post"}
                count = npre * npost
            else:
                stride = self.model._sizes[(sg.name, "stride")]
                rl, ind = self._array_name(sg.name, "rowLength"), self._array_name(sg.name, "ind")
                head = (f"for (unsigned int id_syn = 0; id_syn < {npre * stride}u; id_syn++)",
                        [f"const unsigned int id_pre = id_syn / {stride}u;",
                         f"if (id_syn % {stride}u >= {rl}[id_pre]) continue;",
                         f"const unsigned int id_post = {ind}[id_syn];"])
                extra = {"id_pre", "id_post"}
                count = npre * stride
            nb = spec.size // count
            cw.comment(f"initialise '{sg.name}.{v.name}' ({v.init.snippet.class_name})")
            with cw.block(f"for (unsigned int batch = 0; batch < {nb}u; batch++)"):
                loop, indices = head
                with cw.block(loop):
                    cw.lines(indices)
                    cw.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {stream}u, "
                            f"batch * {count}u + id_syn, 0);")
                    cw.line(f"{spec.ctype} _value;")
                    cw.lines(self._var_init_code(sg, v, "_value", "synapse", extra_names=extra))
                    cw.line(f"{spec.c_name}[batch * {count}u + id_syn] = _value;")
        return cw.result()

    # ------------------------------------------------------------------
    # custom updates
    # ------------------------------------------------------------------

    def _custom_update_group(self, group_name):
        m = self.model
        w = CodeWriter()
        w.comment(f"==== custom update group '{group_name}' ====")
        with w.block(f'void mg_custom_update_{c_ident(group_name)}(uint64_t timestep)'):
            w.line(f"const timepoint t = (timepoint)((double)timestep * {float(m.dt)!r});")
            w.line("(void)t;")
            for cu in m.custom_updates.values():
                if cu.group_name == group_name:
                    w.lines(self._custom_update(cu))
        w.line()
        return w.result()

    def _custom_update(self, cu):
        snippet = cu.snippet
        dims = cu.update_dims()
        batched = bool(dims & VarAccessDim.BATCH)
        B = self.B if batched else 1
        n = cu.size
        if not isinstance(n, int):
            n = next(self._ref_info(r)[2] for r in cu.var_refs.values())
        env = self.element_env(cu, snippet, cu.params, n, rng=False,
                               id_description="element index")
        for r in snippet.extra_global_param_refs:
            ref = cu.egp_refs[r.name]
            spec = self._spec(ref.group.name, ref.egp_name)
            env.define(r.name, self.egp_value(spec, "EGP reference"))
        batch_red, neuron_red = [], []     # (name, op, store text)
        loads, stores = [], []
        skip_padding = self._synapse_update_indices(cu, env)

        def index(access, count, batch_var="batch"):
            d = var_dims(access)
            parts = []
            if d & VarAccessDim.BATCH and self.B > 1:
                parts.append(f"{batch_var} * {count if d & VarAccessDim.ELEMENT else 1}u")
            if d & VarAccessDim.ELEMENT:
                parts.append("id")
            return " + ".join(parts) or "0"

        items = []
        for v in snippet.vars:
            var = cu.vars[v.name]
            vd = custom_update_var_dims(v.access, dims)
            spec = self._spec(cu.name, v.name)
            mode = access_mode(v.access)
            items.append((v.name, spec, int(vd) | int(mode), n, mode, var))
        for r in snippet.var_refs:
            spec, access, count = self._ref_info(cu.var_refs[r.name])
            mode = access_mode(r.access)
            items.append((r.name, spec, int(var_dims(access)) | int(mode), count, mode, None))
        for name, spec, access, count, mode, var in items:
            local = f"_l_{name}"
            is_red = bool(int(mode) & Attr.REDUCE)
            d = var_dims(access)
            idx = index(access, count)
            if is_red:
                op = "max" if int(mode) & Attr.MAX else "sum"
                if (d & VarAccessDim.BATCH) == 0 and batched:
                    batch_red.append((name, op, f"{spec.c_name}[{index(access, count)}]", spec))
                elif (d & VarAccessDim.ELEMENT) == 0:
                    neuron_red.append((name, op, f"{spec.c_name}[{index(access, count)}]", spec))
                else:
                    raise ModelError(f"custom update '{cu.name}': reduction target '{name}' "
                                     "must drop the batch or the neuron dimension")
                env.define(name, Local(local, description="reduction target", ctype=spec.ctype))
                continue
            writable = bool(int(mode) & (Attr.READ_WRITE | Attr.BROADCAST))
            env.define(name, Value(local, writable=writable, ctype=spec.ctype,
                                   description=("read-write" if writable else "read-only")
                                   + " reference" if var is None else "variable"))
            loads.append((name, f"{spec.ctype} {local} = {spec.c_name}[{idx}];"))
            if writable:
                stores.append((name, f"{spec.c_name}[{idx}] = {local};"))
        if batch_red and neuron_red:
            raise ModelError(f"custom update '{cu.name}': batch and neuron reductions cannot "
                             "be combined in one update")
        code = self.renderer().statements(
            snippet.update_code, env, indent=0, new_scope=True,
            context=(snippet.class_name, "update_code", f"custom update '{cu.name}'"))
        used, written = env.root.used, env.root.written
        body = skip_padding + [l for nme, l in loads if nme in used]
        red = batch_red or neuron_red
        for name, op, _, spec in red:
            body.append(f"{spec.ctype} _l_{name};")
        body += code
        body += [l for nme, l in stores if nme in written]
        for name, op, _, spec in red:
            combine = (f"_acc_{name} = mg_max(_acc_{name}, _l_{name});" if op == "max"
                       else f"_acc_{name} += _l_{name};")
            body.append(combine)
        acc_init = [f"{spec.ctype} _acc_{name} = "
                    f"{'-' + ('FLT_MAX' if spec.ctype in ('float',) or (spec.ctype == 'scalar' and self.precision == 'float') else 'DBL_MAX') if op == 'max' else '0'};"
                    for name, op, _, spec in red]
        acc_store = [f"{target} = _acc_{name};" for name, op, target, spec in red]
        if batch_red:
            outer, inner = (f"for (unsigned int id = 0; id < {n}u; id++)",
                            f"for (unsigned int batch = 0; batch < {B}u; batch++)")
        elif neuron_red:
            outer, inner = (f"for (unsigned int batch = 0; batch < {B}u; batch++)",
                            f"for (unsigned int id = 0; id < {n}u; id++)")
        else:
            outer, inner = (f"for (int batch = 0; batch < {B}; batch++)",
                            f"for (unsigned int id = 0; id < {n}u; id++)")
        cw = CodeWriter()
        with cw.block():
            cw.comment(f"custom update '{cu.name}' (model '{snippet.class_name}')")
            with cw.block(outer):
                cw.lines(acc_init)
                with cw.block(inner):
                    cw.lines(body)
                cw.lines(acc_store)
        return cw.result()
