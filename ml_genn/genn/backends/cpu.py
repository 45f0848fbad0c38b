"""C++ backend: plain loops (OpenMP over batch elements), g++, ctypes.

The whole run loop lives in native code.  Batch elements are independent
within a step, so each OpenMP thread simulates whole batch elements for all
requested steps; no barrier per step, and results cannot depend on the
number of threads.
"""
import os

from ..code import Function, Value
from ..code.environment import Local
from ..errors import ModelError
from ..groups import constant_value, is_constant
from ..snippets import VarInit, derived_values
from ..types import (SynapseMatrixConnectivity as Conn, SynapseMatrixWeight as Weight,
                     VarAccessDim, VarAccessModeAttribute as Attr, access_mode,
                     custom_update_var_dims, var_dims)
from .base import Backend, c_ident, c_literal

_HERE = os.path.dirname(__file__)
INDENT = "    "


def _indent(lines, n):
    pad = INDENT * n
    return [pad + l if l else l for l in lines]


def _writable(access):
    return bool(int(access_mode(access)) & (Attr.READ_WRITE | Attr.REDUCE | Attr.BROADCAST))


class CPUBackend(Backend):
    name = "cpu"

    def maths_function(self, name):
        return "std::" + name

    # ------------------------------------------------------------------
    def generate(self):
        m = self.model
        self.B = m.batch_size
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
        for cu in m.custom_updates.values():
            for v in cu.vars.values():
                dims = custom_update_var_dims(v.access, self._cu_dims(cu))
                size = (cu.size if dims & VarAccessDim.ELEMENT else 1) * \
                    (self.B if dims & VarAccessDim.BATCH else 1)
                self.add_array(cu.name, v.name, v.type, size)

        for sg in m.synapse_populations.values():
            body += self._synapse_update(sg)
        for ng in m.neuron_populations.values():
            body += self._neuron_update(ng)
        body += self._step_and_run()
        body += self._init()
        for group_name in sorted({cu.group_name for cu in m.custom_updates.values()}):
            body += self._custom_update_group(group_name)

        head = self._prelude() + self._array_table()
        return "\n".join(head + body) + "\n"

    # ------------------------------------------------------------------
    # arrays
    # ------------------------------------------------------------------
    def _var_size(self, var, count):
        dims = var_dims(var.access)
        size = count if dims & VarAccessDim.ELEMENT else 1
        if dims & VarAccessDim.BATCH:
            size *= self.B
        return size

    def _var_array(self, group, var, count, prefix=""):
        return self.add_array(group.name, prefix + var.name, var.type,
                              self._var_size(var, count))

    def _neuron_arrays(self, ng):
        n = ng.num_neurons
        for v in ng.vars.values():
            self._var_array(ng, v, n)
        slots = ng.num_delay_slots
        self.add_array(ng.name, "spkCnt", "uint32_t", self.B * slots)
        self.add_array(ng.name, "spk", "uint32_t", self.B * slots * n)
        if ng.dynamic_params:
            self.add_array(ng.name, "dyn", "scalar", len(ng.dynamic_params))
        if ng.spike_recording_enabled:
            self.add_array(ng.name, "recSpk", "uint32_t", 0)   # sized at load
        if getattr(ng, "spike_event_recording_enabled", False):
            self.add_array(ng.name, "recSpkEvnt", "uint32_t", 0)
        if ("st" in self._names_in(ng.snippet)
                or any("st_pre" in self._names_in(sg.snippet) for sg in ng.out_syn)
                or any("st_post" in self._names_in(sg.snippet) for sg in ng.in_syn)):
            self.add_array(ng.name, "st", "timepoint", self.B * n, fill="-max")

    def _synapse_arrays(self, sg):
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        self.add_array(sg.name, "inSyn", "scalar", self.B * npost)
        if sg.snippet.pre_event_threshold_condition_code.strip():
            slots = sg.src.num_delay_slots
            self.add_array(sg.name, "evntCnt", "uint32_t", self.B * slots)
            self.add_array(sg.name, "evnt", "uint32_t", self.B * slots * npre)
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
        if sg.dynamic_params:
            self.add_array(sg.name, "dyn", "scalar", len(sg.dynamic_params))
        if sg.psm_dynamic_params:
            self.add_array(sg.name, "psm_dyn", "scalar", len(sg.psm_dynamic_params))
        if conn == Conn.SPARSE:
            stride = self.model._sizes[(sg.name, "stride")]
            self.add_array(sg.name, "rowLength", "uint32_t", npre)
            self.add_array(sg.name, "ind", "uint32_t", npre * stride)
            count = npre * stride
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

    # ------------------------------------------------------------------
    def _prelude(self):
        scalar = "float" if self.precision == "float" else "double"
        tp = "float" if self.model.time_precision == "float" else "double"
        with open(os.path.join(_HERE, "philox.h")) as f:
            philox = f.read()
        return [
            f'// Generated by ml_genn.genn for model "{self.model.model_name}"',
            f"// backend: C++ ({'OpenMP over batch elements' if self.B > 1 else 'single thread'}), "
            f"precision: {self.precision}, batch size: {self.B}, dt: {self.model.dt}",
            "#include <cstdint>", "#include <cstring>", "#include <cmath>", "#include <cfloat>",
            "#include <cstdio>", "#include <cassert>", "#include <algorithm>",
            f"typedef {scalar} scalar;",
            f"typedef {tp} timepoint;",
            "#define MG_HD",
            philox,
            "template<typename A, typename B> static inline auto mg_min(A a, B b) -> decltype(a + b) { return (a < b) ? a : b; }",
            "template<typename A, typename B> static inline auto mg_max(A a, B b) -> decltype(a + b) { return (a > b) ? a : b; }",
            "template<typename A> static inline A mg_abs(A a) { return (a < 0) ? -a : a; }",
            "",
            "static uint64_t mg_seed = 0;",
            "static int mg_error = 0;",
            'extern "C" void mg_set_seed(uint64_t seed) { mg_seed = seed; }',
            'extern "C" int mg_get_error() { const int e = mg_error; mg_error = 0; return e; }',
            "",
        ]

    def _array_table(self):
        lines = ["// ---- arrays owned by Python (NumPy), bound by index ----"]
        for a in self.arrays:
            lines.append(f"static {a.ctype}* {a.c_name} = nullptr;  // {a.key[0]}.{a.key[1]}")
        lines.append('extern "C" void mg_set_array(unsigned int index, void* ptr) {')
        lines.append("    switch (index) {")
        for a in self.arrays:
            lines.append(f"    case {a.index}: {a.c_name} = ({a.ctype}*)ptr; break;")
        lines += ["    }", "}", ""]
        return lines

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
        const = "" if _writable(var.access) else "const "
        return f"{const}{spec.ctype}* __restrict const _p_{spec.c_name} = {spec.c_name}{off};"

    @staticmethod
    def _elem(var, idx):
        return idx if var_dims(var.access) & VarAccessDim.ELEMENT else "0"

    def _neuron_update(self, ng):
        n, m = ng.num_neurons, self.model
        snippet = ng.snippet
        slots = ng.num_delay_slots
        env = self.base_env().child()
        env.define("id", Value("id", description="neuron index"))
        env.define("t", Value("t", description="time"))
        env.define("batch", Value("batch", description="batch index"))
        env.define("num_neurons", Value(f"({n}u)", description="population size"))
        self.add_params(env, ng, snippet, ng.params, ng.dynamic_params,
                        self._dyn(ng.name, "dyn"))
        self.add_egps(env, ng, snippet.extra_global_params)
        for v in ng.vars.values():
            env.define(v.name, Value(v.name, writable=_writable(v.access),
                                     description=f"{'read-write' if _writable(v.access) else 'read-only'} variable"))
        env.define("Isyn", Value("Isyn", description="synaptic input",
                                 read_only_hint="Inputs are added by postsynaptic models "
                                                "with injectCurrent()."))
        for a in snippet.additional_input_vars:
            env.define(a.name, Value(a.name, description="additional input variable"))
        st_spec = self._array_index.get((ng.name, "st"))
        if st_spec is not None:
            env.define("st", Value(f"_p_{st_spec.c_name}[id]", description="last spike time"))

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

        out = [f"// ==== Neuron population '{ng.name}' (model '{snippet.class_name}'), "
               f"{n} neurons ====",
               f"static void mg_neuron_update_{c_ident(ng.name)}(unsigned int batch, "
               f"timepoint t, uint64_t timestep, uint64_t rng_step, unsigned int rec_slot) {{"]
        pre = []
        for v in ng.vars.values():
            if v.name in used:
                spec = self._spec(ng.name, v.name)
                pre.append(self._var_pointer(spec, v, n))
        for sg in ng.in_syn:
            pre.append(f"scalar* __restrict const _p_{self._array_name(sg.name, 'inSyn')} = "
                       f"{self._array_name(sg.name, 'inSyn')} + batch * {n}u;")
        slot_expr = f"(unsigned int)(timestep % {slots}u)" if slots > 1 else "0u"
        pre.append(f"const unsigned int _slot = {slot_expr};")
        spk = self._array_name(ng.name, "spk")
        pre.append(f"uint32_t* __restrict const _spk = {spk} + (batch * {slots}u + _slot) * {n}u;")
        pre.append("uint32_t _spkCnt = 0;")
        words = (n + 31) // 32
        if ng.spike_recording_enabled:
            rec = self._array_name(ng.name, "recSpk")
            pre.append(f"uint32_t* __restrict const _rec = {rec} + "
                       f"((size_t)rec_slot * {self.B}u + batch) * {words}u;")
            pre.append(f"std::memset(_rec, 0, {words} * sizeof(uint32_t));")
        if st_spec is not None:
            pre.append(f"timepoint* __restrict const _p_{st_spec.c_name} = {st_spec.c_name} + batch * {n}u;")
        pre += wu["setup"]
        out += _indent(pre, 1)

        loop = [f"for (unsigned int id = 0; id < {n}u; id++) {{"]
        inner = []
        if rng:
            inner.append(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                         f"{self.stream('neuron', ng.name)}u, batch * {n}u + id, rng_step);")
        for v in ng.vars.values():
            if v.name in used:
                spec = self._spec(ng.name, v.name)
                inner.append(f"{'' if _writable(v.access) else 'const '}{spec.ctype} {v.name} = "
                             f"_p_{spec.c_name}[{self._elem(v, 'id')}];")
        inner.append("scalar Isyn = 0;")
        for a in snippet.additional_input_vars:
            inner.append(f"{a.type} {a.name} = {c_literal(a.init, a.type, self.precision)};")
        inner += input_blocks
        if snippet.auto_refractory_required and thresh:
            inner.append(f"const bool _oldSpike = ({thresh});")
        if sim:
            inner.append("// sim_code")
            inner += sim
        inner += wu["dynamics"]
        inner += wu["events"]
        if thresh:
            cond = f"({thresh})" + (" && !_oldSpike" if snippet.auto_refractory_required else "")
            inner.append("// threshold_condition_code")
            inner.append(f"if ({cond}) {{")
            spike = ["_spk[_spkCnt++] = id;"]
            if ng.spike_recording_enabled:
                spike.append("_rec[id / 32u] |= 1u << (id % 32u);")
            if st_spec is not None:
                spike.append(f"_p_{st_spec.c_name}[id] = t;")
            spike += wu["spike"]
            if reset:
                spike.append("// reset_code")
                spike += reset
            inner += _indent(spike, 1)
            inner.append("}")
        for v in ng.vars.values():
            if v.name in written:
                spec = self._spec(ng.name, v.name)
                inner.append(f"_p_{spec.c_name}[{self._elem(v, 'id')}] = {v.name};")
        loop += _indent(inner, 1) + ["}"]
        out += _indent(loop, 1)
        out.append(f"    {self._array_name(ng.name, 'spkCnt')}[batch * {slots}u + _slot] = _spkCnt;")
        out += _indent(wu["finish"], 1)
        out += ["}", ""]
        return out

    def _wu_neuron_env(self, sg, role):
        """Names of weight-update code run per pre (or post) neuron."""
        ng = sg.src if role == "pre" else sg.trg
        n = ng.num_neurons
        env = self.base_env().child()
        env.define("id", Value("id", description="neuron index"))
        env.define(f"id_{role}", Value("id", description=f"{role}synaptic index"))
        env.define("t", Value("t", description="time"))
        env.define("batch", Value("batch", description="batch index"))
        env.define("num_pre", Value(f"({sg.src.num_neurons}u)", description="size"))
        env.define("num_post", Value(f"({sg.trg.num_neurons}u)", description="size"))
        self.add_params(env, sg, sg.snippet, sg.params, sg.dynamic_params,
                        self._dyn(sg.name, "dyn"))
        self.add_egps(env, sg, sg.snippet.extra_global_params)
        own = sg.pre_vars if role == "pre" else sg.post_vars
        for v in own.values():
            spec = self._spec(sg.name, f"{role}_{v.name}")
            env.define(v.name, Value(f"{spec.c_name}[{self._batched_index(v, n, 'id')}]",
                                     writable=_writable(v.access),
                                     description=f"{role}synaptic variable"))
        ref_names = {}
        decls = (sg.snippet.pre_neuron_var_refs if role == "pre"
                 else sg.snippet.post_neuron_var_refs)
        values = (sg.wu_initialiser.pre_var_refs if role == "pre"
                  else sg.wu_initialiser.post_var_refs)
        for r in decls:
            target = self._neuron_ref_target(sg, ng, r.name, values[r.name])
            ref_names[r.name] = target
            env.define(r.name, Value(target, writable=_writable(r.access),
                                     description=f"{role}synaptic neuron variable reference"))
        if st := self._array_index.get((ng.name, "st")):
            env.define(f"st_{role}", Value(f"_p_{st.c_name}[id]",
                                           description=f"{role}synaptic spike time"))
        return env, ref_names

    def _neuron_ref_target(self, sg, ng, name, value):
        tname = value if isinstance(value, str) else getattr(value, "var_name", None)
        if tname not in ng.vars:
            raise ModelError(f"synapse population '{sg.name}': neuron var ref '{name}' "
                             f"names {tname!r}, which '{ng.name}' does not have "
                             f"(variables: {', '.join(ng.vars)})")
        return tname

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
                    if role == "pre" and (sg.name, "outPre") in self._array_index:
                        parts["input"] += self._out_pre_block(sg, targets)
                    continue
                env, refs = self._wu_neuron_env(sg, role)
                ctx = lambda f: (wu.class_name, f, f"synapse population '{sg.name}'")
                head = f"// {role}synaptic code of synapse population '{sg.name}' ({wu.class_name})"
                for key in ("dynamics", "spike"):
                    code = fields[key]
                    if code.strip():
                        lines = rend.statements(code, env, indent=0, new_scope=True,
                                                context=ctx(f"{role}_{key}_code"))
                        parts[key] += [head, "{"] + _indent(lines, 1) + ["}"]
                if fields.get("events", "").strip():
                    any_event = True
                    cond = rend.expression(fields["events"], env,
                                           context=ctx("pre_event_threshold_condition_code"))
                    evnt = self._array_name(sg.name, "evnt")
                    parts["setup"] += [
                        f"uint32_t* __restrict const _evnt_{evnt} = {evnt} + "
                        f"(batch * {slots}u + _slot) * {ng.num_neurons}u;",
                        f"uint32_t _evntCnt_{evnt} = 0;"]
                    parts["events"] += [f"// spike-like event condition of '{sg.name}'",
                                        f"if ({cond}) {{",
                                        f"    _evnt_{evnt}[_evntCnt_{evnt}++] = id;",
                                        "    _anyEvent = true;", "}"]
                    parts["finish"].append(
                        f"{self._array_name(sg.name, 'evntCnt')}[batch * {slots}u + _slot] = "
                        f"_evntCnt_{evnt};")
                if role == "pre" and (sg.name, "outPre") in self._array_index:
                    parts["input"] += self._out_pre_block(sg, targets)
                used |= {refs[k] for k in env.root.used if k in refs}
                written |= {refs[k] for k in env.root.written if k in refs}
                rng |= self.uses_rng(env)
        if any_event:
            parts["events"].insert(0, "bool _anyEvent = false;")
            if (ng.name, "recSpkEvnt") in self._array_index:
                words = (ng.num_neurons + 31) // 32
                rec = self._array_name(ng.name, "recSpkEvnt")
                parts["setup"] += [
                    f"uint32_t* __restrict const _recEvnt = {rec} + "
                    f"((size_t)rec_slot * {self.B}u + batch) * {words}u;",
                    f"std::memset(_recEvnt, 0, {words} * sizeof(uint32_t));"]
                parts["events"].append("if (_anyEvent) _recEvnt[id / 32u] |= 1u << (id % 32u);")
            else:
                parts["events"].append("(void)_anyEvent;")
        elif (ng.name, "recSpkEvnt") in self._array_index:
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
        return [f"// reverse input (addToPre) of synapse population '{sg.name}'",
                f"{sg.pre_target_var} += {out_pre}[batch * {n}u + id];",
                f"{out_pre}[batch * {n}u + id] = 0;"]

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
        spec = self._array_index.get((group, field))
        return spec.c_name if spec else ""

    def _array_name(self, group, field):
        return self._spec(group, field).c_name

    def _spec(self, group, field):
        return self._array_index[(group, field)]

    def _psm_block(self, sg, targets):
        """Postsynaptic model of ``sg``, inside the target's neuron loop."""
        ps = sg.ps_initialiser.snippet
        n = sg.trg.num_neurons
        if sg.post_target_var not in targets:
            raise ModelError(f"synapse population '{sg.name}': post_target_var "
                             f"'{sg.post_target_var}' is not 'Isyn' or an additional input "
                             f"variable of '{sg.trg.name}' ({', '.join(sorted(targets))})")
        env = self.base_env().child()
        env.define("id", Value("id", description="neuron index"))
        env.define("t", Value("t", description="time"))
        env.define("batch", Value("batch", description="batch index"))
        env.define("num_neurons", Value(f"({n}u)", description="population size"))
        env.define("inSyn", Value("inSyn", writable=True, description="input accumulator"))
        env.define("injectCurrent", Function(
            lambda a, tv=sg.post_target_var: f"{tv} += ({a[0]})", 1, 1, "function"))
        self.add_params(env, sg, ps, sg.ps_params, sg.psm_dynamic_params,
                        self._dyn(sg.name, "psm_dyn"))
        self.add_egps(env, sg, ps.extra_global_params, "psm_")
        local_names = {}
        for v in sg.psm_vars.values():
            local = v.name if v.name not in sg.trg.vars else f"{v.name}_psm"
            local_names[v.name] = local
            env.define(v.name, Value(local, writable=_writable(v.access),
                                     description="postsynaptic variable"))
        refs = sg.ps_initialiser.var_refs
        for r in ps.neuron_var_refs:
            target = refs[r.name]
            tname = target if isinstance(target, str) else target.var_name
            if tname not in sg.trg.vars:
                raise ModelError(f"synapse population '{sg.name}': neuron var ref '{r.name}' "
                                 f"names '{tname}', which '{sg.trg.name}' does not have")
            env.define(r.name, Value(tname, writable=_writable(r.access),
                                     description="neuron variable reference"))
        rend = self.renderer()
        code = rend.statements(ps.sim_code, env, indent=0,
                               context=(ps.class_name, "sim_code", f"synapse population '{sg.name}'"))
        used, written = env.root.used, env.root.written
        lines = [f"// postsynaptic model '{ps.class_name}' of synapse population '{sg.name}'", "{"]
        body = [f"scalar inSyn = _p_{self._array_name(sg.name, 'inSyn')}[id];"]
        if sg.max_dendritic_delay_timesteps > 1:
            den = self._array_name(sg.name, "denDelay")
            ds = sg.max_dendritic_delay_timesteps
            body.append(f"scalar* __restrict const _den = {den} + (batch * {ds}u + "
                        f"(unsigned int)(timestep % {ds}u)) * {n}u;")
            body.append("inSyn += _den[id];")
            body.append("_den[id] = 0;")
        for v in sg.psm_vars.values():
            if v.name in used:
                spec = self._spec(sg.name, "psm_" + v.name)
                idx = self._batched_index(v, n, "id")
                body.append(f"{spec.ctype} {local_names[v.name]} = {spec.c_name}[{idx}];")
        body += code
        for v in sg.psm_vars.values():
            if v.name in written:
                spec = self._spec(sg.name, "psm_" + v.name)
                body.append(f"{spec.c_name}[{self._batched_index(v, n, 'id')}] = "
                            f"{local_names[v.name]};")
        body.append(f"_p_{self._array_name(sg.name, 'inSyn')}[id] = inSyn;")
        lines += _indent(body, 1) + ["}"]
        ref_names = {r.name: (refs[r.name] if isinstance(refs[r.name], str)
                              else refs[r.name].var_name) for r in ps.neuron_var_refs}
        return (lines, {ref_names[k] for k in used if k in ref_names},
                {ref_names[k] for k in written if k in ref_names}, self.uses_rng(env))

    def _batched_index(self, var, count, idx, batch="batch"):
        dims = var_dims(var.access)
        parts = []
        if dims & VarAccessDim.BATCH and self.B > 1:
            parts.append(f"{batch} * {count if dims & VarAccessDim.ELEMENT else 1}u")
        if dims & VarAccessDim.ELEMENT:
            parts.append(idx)
        return " + ".join(parts) or "0"

    def _cs_block(self, cs, targets):
        snippet = cs.snippet
        n = cs.target.num_neurons
        if cs.target_var not in targets:
            raise ModelError(f"current source '{cs.name}': target_var '{cs.target_var}' is "
                             f"not one of {sorted(targets)}")
        env = self.base_env().child()
        env.define("id", Value("id", description="neuron index"))
        env.define("t", Value("t", description="time"))
        env.define("batch", Value("batch", description="batch index"))
        env.define("num_neurons", Value(f"({n}u)", description="population size"))
        env.define("injectCurrent", Function(
            lambda a, tv=cs.target_var: f"{tv} += ({a[0]})", 1, 1, "function"))
        self.add_params(env, cs, snippet, cs.params, cs.dynamic_params,
                        self._dyn(cs.name, "dyn"))
        self.add_egps(env, cs, snippet.extra_global_params)
        for v in cs.vars.values():
            spec = self._spec(cs.name, v.name)
            env.define(v.name, Value(f"{spec.c_name}[{self._batched_index(v, n, 'id')}]",
                                     writable=_writable(v.access),
                                     description="current source variable"))
        ref_names = {}
        for r in snippet.neuron_var_refs:
            target = cs.var_refs[r.name]
            tname = target if isinstance(target, str) else target.var_name
            ref_names[r.name] = tname
            env.define(r.name, Value(tname, writable=_writable(r.access),
                                     description="neuron variable reference"))
        rend = self.renderer()
        code = rend.statements(snippet.injection_code, env, indent=0,
                               context=(snippet.class_name, "injection_code", f"current source '{cs.name}'"))
        lines = [f"// current source '{cs.name}' (model '{snippet.class_name}')", "{"]
        lines += _indent(code, 1) + ["}"]
        used, written = env.root.used, env.root.written
        return (lines, {ref_names[k] for k in used if k in ref_names},
                {ref_names[k] for k in written if k in ref_names}, self.uses_rng(env))

    # ------------------------------------------------------------------
    # synapse update
    # ------------------------------------------------------------------
    def _wu_env(self, sg, conn, weight, procedural_inits):
        wu = sg.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        env = self.base_env().child()
        for name, desc in (("id_pre", "presynaptic index"), ("id_post", "postsynaptic index"),
                           ("t", "time"), ("batch", "batch index")):
            env.define(name, Value(name, description=desc))
        if conn in (Conn.DENSE, Conn.SPARSE):
            env.define("id_syn", Value("id_syn", description="synapse index"))
        if weight == Weight.KERNEL:
            env.define("id_kernel", Value("id_kernel", description="kernel index"))
        env.define("num_pre", Value(f"({npre}u)", description="presynaptic population size"))
        env.define("num_post", Value(f"({npost}u)", description="postsynaptic population size"))
        self.add_params(env, sg, wu, sg.params, sg.dynamic_params,
                        self._dyn(sg.name, "dyn"))
        self.add_egps(env, sg, wu.extra_global_params)
        for v in sg.vars.values():
            if weight == Weight.PROCEDURAL:
                if is_constant(v.init):
                    env.define(v.name, Value(c_literal(constant_value(v.init), v.type,
                                                       self.precision),
                                             description="constant synapse variable"))
                elif isinstance(v.init, VarInit):
                    if _writable(v.access):
                        raise ModelError(f"synapse population '{sg.name}': variable '{v.name}' "
                                         "is read-write, so it needs storage; PROCEDURAL "
                                         "weights must be READ_ONLY")
                    procedural_inits.append(v)
                    env.define(v.name, Value(f"_w_{v.name}", description="procedural weight"))
                else:
                    raise ModelError(f"synapse population '{sg.name}' is PROCEDURAL, so "
                                     f"variable '{v.name}' must be a constant or init_var(); "
                                     "per-synapse arrays need SPARSE or DENSE")
                continue
            spec = self._spec(sg.name, v.name)
            idx = "id_kernel" if weight == Weight.KERNEL else "id_syn"
            count = spec.size // (self.B if var_dims(v.access) & VarAccessDim.BATCH else 1)
            env.define(v.name, Value(f"{spec.c_name}[{self._batched_index(v, count, idx)}]",
                                     writable=_writable(v.access),
                                     description="synapse variable"))
        for role, ng, own, decls, values in (
                ("pre", sg.src, sg.pre_vars, wu.pre_neuron_var_refs, sg.wu_initialiser.pre_var_refs),
                ("post", sg.trg, sg.post_vars, wu.post_neuron_var_refs,
                 sg.wu_initialiser.post_var_refs)):
            idx = f"id_{role}"
            for v in own.values():
                spec = self._spec(sg.name, f"{role}_{v.name}")
                env.define(v.name, Value(
                    f"{spec.c_name}[{self._batched_index(v, ng.num_neurons, idx)}]",
                    writable=_writable(v.access), description=f"{role}synaptic variable"))
            for r in decls:
                target = self._neuron_ref_target(sg, ng, r.name, values[r.name])
                v = ng.vars[target]
                spec = self._spec(ng.name, target)
                env.define(r.name, Value(
                    f"{spec.c_name}[{self._batched_index(v, ng.num_neurons, idx)}]",
                    writable=_writable(r.access),
                    description=f"{role}synaptic neuron variable reference"))
            st = self._array_index.get((ng.name, "st"))
            if st is not None:
                env.define(f"st_{role}", Value(f"{st.c_name}[batch * {ng.num_neurons}u + {idx}]",
                                               description=f"{role}synaptic spike time"))
        env.define("addToPost", Function(lambda a: f"_out[id_post] += ({a[0]})", 1, 1, "function"))
        if (sg.name, "outPre") in self._array_index:
            env.define("addToPre", Function(lambda a: f"_outPre[id_pre] += ({a[0]})", 1, 1,
                                            "function"))
        ds = sg.max_dendritic_delay_timesteps
        if ds > 1:
            env.define("addToPostDelay", Function(
                lambda a: f"_den[((_denPtr + ({a[1]})) % {ds}u) * {npost}u + id_post] += ({a[0]})",
                2, 2, "function"))
        else:
            env.define("addToPostDelay", Function(
                lambda a: (_ for _ in ()).throw(ModelError(
                    f"synapse population '{sg.name}' uses addToPostDelay: set "
                    "max_dendritic_delay_timesteps (> the largest delay) before build()")),
                2, 2, "function"))
        return env

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
        src = c_ident(sg.src.name)
        out = [f"// ==== Synapse population '{sg.name}' ('{sg.src.name}' -> '{sg.trg.name}', "
               f"{sg.matrix_type.name}, weight update '{wu.class_name}', postsynaptic "
               f"'{sg.ps_initialiser.snippet.class_name}') ====",
               f"static void mg_synapse_update_{c_ident(sg.name)}(unsigned int batch, "
               f"timepoint t, uint64_t timestep, uint64_t rng_step) {{"]
        pre = [f"scalar* __restrict const _out = {self._array_name(sg.name, 'inSyn')} + "
               f"batch * {npost}u;"]
        if (sg.name, "outPre") in self._array_index:
            pre.append(f"scalar* __restrict const _outPre = "
                       f"{self._array_name(sg.name, 'outPre')} + batch * {npre}u;")
        if sg.max_dendritic_delay_timesteps > 1:
            ds = sg.max_dendritic_delay_timesteps
            pre.append(f"scalar* __restrict const _den = {self._array_name(sg.name, 'denDelay')}"
                       f" + batch * {ds * npost}u;")
            pre.append(f"const unsigned int _denPtr = (unsigned int)(timestep % {ds}u);")
        # spikes emitted d+1 steps ago
        slot = f"(unsigned int)((timestep + {slots - 1 - d}u) % {slots}u)" if slots > 1 else "0u"
        pre.append(f"const unsigned int _readSlot = {slot};")
        pre.append(f"const uint32_t _numSpikes = {src}_spkCnt[batch * {slots}u + _readSlot];")
        pre.append(f"const uint32_t* __restrict const _spikes = {src}_spk + "
                   f"(batch * {slots}u + _readSlot) * {npre}u;")
        body = []
        if wu.pre_spike_syn_code.strip():
            body += self._spike_propagation(sg, conn, weight, ctx, wu.pre_spike_syn_code)
        if wu.pre_event_syn_code.strip():
            evnt = self._array_name(sg.name, "evnt")
            body += [f"const uint32_t _numEvents = "
                     f"{self._array_name(sg.name, 'evntCnt')}[batch * {slots}u + _readSlot];",
                     f"const uint32_t* __restrict const _events = {evnt} + "
                     f"(batch * {slots}u + _readSlot) * {npre}u;"]
            body += self._spike_propagation(
                sg, conn, weight, (wu.class_name, "pre_event_syn_code", ctx[2]),
                wu.pre_event_syn_code, "_numEvents", "_events", "spike-like events")
        if wu.post_spike_syn_code.strip():
            body += self._post_learning(sg, conn, weight)
        if wu.synapse_dynamics_code.strip():
            body += self._synapse_dynamics(sg, conn, weight)
        out += _indent(pre + body, 1) + ["}", ""]
        return out

    def _render_wu(self, sg, conn, weight, code, ctx, extra=None):
        proc_inits = []
        env = self._wu_env(sg, conn, weight, proc_inits)
        for k, v in (extra or {}).items():
            env.define(k, v)
        lines = self.renderer().statements(code, env, indent=0, context=ctx)
        return lines, proc_inits, env

    def _spike_propagation(self, sg, conn, weight, ctx, code_text, count="_numSpikes",
                           spikes="_spikes", what="presynaptic spikes"):
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        code, proc_inits, wenv = self._render_wu(sg, conn, weight, code_text, ctx)
        if self.uses_rng(wenv) and conn != Conn.PROCEDURAL:
            raise ModelError(f"synapse population '{sg.name}': random numbers in "
                             "pre_spike_syn_code are not supported")
        lines = [f"// propagate {what}"]
        if conn == Conn.TOEPLITZ:
            return lines + self._toeplitz(sg, code, count, spikes)
        loop = [f"for (uint32_t _i = 0; _i < {count}; _i++) {{",
                f"    const unsigned int id_pre = {spikes}[_i];"]
        if conn == Conn.DENSE:
            loop.append(f"    for (unsigned int id_post = 0; id_post < {npost}u; id_post++) {{")
            loop.append(f"        const unsigned int id_syn = id_pre * {npost}u + id_post;")
            loop += _indent(code, 2)
            loop.append("    }")
        elif conn == Conn.SPARSE:
            stride = self.model._sizes[(sg.name, "stride")]
            rl, ind = self._array_name(sg.name, "rowLength"), self._array_name(sg.name, "ind")
            loop.append(f"    const unsigned int _rowStart = id_pre * {stride}u;")
            loop.append(f"    const unsigned int _rowEnd = _rowStart + {rl}[id_pre];")
            loop.append("    for (unsigned int id_syn = _rowStart; id_syn < _rowEnd; id_syn++) {")
            loop.append(f"        const unsigned int id_post = {ind}[id_syn];")
            loop += _indent(code, 2)
            loop.append("    }")
        elif conn == Conn.PROCEDURAL:
            loop += _indent(self._procedural_row(sg, weight, code, proc_inits), 1)
        else:
            raise ModelError(f"synapse population '{sg.name}': matrix type "
                             f"{sg.matrix_type.name} is not supported")
        loop.append("}")
        return lines + loop

    def _conn_env(self, sg, add_synapse, kind):
        """Environment of row/diagonal building code."""
        ci = sg.connectivity_initialiser
        snippet = ci.snippet
        env = self.base_env().child()
        env.define("id_pre", Value("id_pre", description="presynaptic index"))
        env.define("num_pre", Value(f"({sg.src.num_neurons}u)", description="size"))
        env.define("num_post", Value(f"({sg.trg.num_neurons}u)", description="size"))
        env.define("id_post_begin", Value("0u", description="first postsynaptic index"))
        env.define("id_thread", Value("0u", description="thread index"))
        env.define("num_threads", Value("1u", description="thread count"))
        self.add_params(env, sg, snippet, ci.params, [], "")
        self.add_egps(env, sg, snippet.extra_global_params, "conn_")
        nk = len(sg.kernel_size) if sg.kernel_size else 0
        env.define("addSynapse", Function(add_synapse, 1, 1 + nk, "function", statement=True))
        return env

    def _kernel_index(self, sg, args):
        ks = sg.kernel_size or []
        if len(args) != len(ks):
            raise ModelError(f"synapse population '{sg.name}': addSynapse needs "
                             f"{len(ks)} kernel indices")
        expr = f"(unsigned int)({args[0]})"
        for k, a in zip(ks[1:], args[1:]):
            expr = f"({expr} * {k}u + (unsigned int)({a}))"
        return expr

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
            parts = ["{", f"    const unsigned int id_post = {args[0]};"]
            if len(args) > 1 and weight == Weight.KERNEL:
                parts.append(f"    const unsigned int id_kernel = {self._kernel_index(sg, args[1:])};")
            parts += ["    " + l for l in init_lines + code]
            parts.append("}")
            return "\n".join(parts)
        env = self._conn_env(sg, add_synapse, "row")
        rows = self.renderer().statements(
            ci.snippet.row_build_code, env, indent=0,
            context=(ci.snippet.class_name, "row_build_code", f"synapse population '{sg.name}'"))
        rows = _expand_multiline(rows)
        return ([f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {self.stream('conn', sg.name)}u, "
                 "id_pre, 0);"] + rows)

    def _toeplitz(self, sg, code, count="_numSpikes", spikes="_spikes"):
        ci = sg.connectivity_initialiser
        if ci is None:
            raise ModelError(f"synapse population '{sg.name}' is TOEPLITZ: it needs "
                             "init_toeplitz_connectivity(...)")
        snippet = ci.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        num_diag = snippet.calc_max_row_len_func(
            npre, npost, derived_values(snippet, ci.params, self.model.dt))

        def add_synapse(args):
            parts = ["{", f"    const unsigned int id_post = {args[0]};",
                     f"    const unsigned int id_kernel = {self._kernel_index(sg, args[1:])};"]
            parts += ["    " + l for l in code]
            parts.append("}")
            return "\n".join(parts)

        def for_each_synapse(rend, body, env, indent):
            pad = INDENT * indent
            inner = env.child({"id_pre": Value("id_pre", description="presynaptic index")})
            lines = [pad + f"for (uint32_t _i = 0; _i < {count}; _i++) {{",
                     pad + INDENT + f"const unsigned int id_pre = {spikes}[_i];"]
            for s in body.children:
                lines += rend.stmt(s, inner, indent + 1)
            lines.append(pad + "}")
            return lines

        env = self.base_env().child()
        env.define("id_diag", Value("id_diag", description="diagonal index"))
        env.define("num_pre", Value(f"({npre}u)", description="size"))
        env.define("num_post", Value(f"({npost}u)", description="size"))
        self.add_params(env, sg, snippet, ci.params, [], "")
        env.define("addSynapse", Function(add_synapse, 1 + len(sg.kernel_size),
                                          1 + len(sg.kernel_size), "function", statement=True))
        rend = self.renderer(hooks={"for_each_synapse": for_each_synapse})
        diag = rend.statements(snippet.diagonal_build_code, env, indent=0,
                               context=(snippet.class_name, "diagonal_build_code", f"synapse population '{sg.name}'"))
        return ([f"for (unsigned int id_diag = 0; id_diag < {int(num_diag)}u; id_diag++) {{"]
                + _indent(_expand_multiline(diag), 1) + ["}"])

    def _post_learning(self, sg, conn, weight):
        """post_spike_syn_code: every synapse onto each neuron that spiked last step."""
        wu = sg.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        if conn != Conn.DENSE:
            raise ModelError(f"synapse population '{sg.name}': post_spike_syn_code is only "
                             "supported with DENSE connectivity so far")
        ctx = (wu.class_name, "post_spike_syn_code", f"synapse population '{sg.name}'")
        code, _, env = self._render_wu(sg, conn, weight, wu.post_spike_syn_code, ctx)
        trg = c_ident(sg.trg.name)
        slots = sg.trg.num_delay_slots
        slot = f"(unsigned int)((timestep + {slots - 1}u) % {slots}u)" if slots > 1 else "0u"
        lines = ["// postsynaptic learning: synapses onto neurons that spiked last step",
                 f"const unsigned int _postSlot = {slot};",
                 f"const uint32_t _numPostSpikes = {trg}_spkCnt[batch * {slots}u + _postSlot];",
                 f"for (uint32_t _j = 0; _j < _numPostSpikes; _j++) {{",
                 f"    const unsigned int id_post = {trg}_spk[(batch * {slots}u + _postSlot) * "
                 f"{npost}u + _j];",
                 f"    for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++) {{",
                 f"        const unsigned int id_syn = id_pre * {npost}u + id_post;"]
        return lines + _indent(code, 2) + ["    }", "}"]

    def _synapse_dynamics(self, sg, conn, weight):
        wu = sg.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        ctx = (wu.class_name, "synapse_dynamics_code", f"synapse population '{sg.name}'")
        code, _, env = self._render_wu(sg, conn, weight, wu.synapse_dynamics_code, ctx)
        lines = ["// synapse dynamics"]
        if self.uses_rng(env):
            raise ModelError(f"synapse population '{sg.name}': random numbers in "
                             "synapse_dynamics_code are not supported yet")
        if conn == Conn.DENSE:
            lines.append(f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++) {{")
            lines.append(f"    for (unsigned int id_post = 0; id_post < {npost}u; id_post++) {{")
            lines.append(f"        const unsigned int id_syn = id_pre * {npost}u + id_post;")
        else:
            stride = self.model._sizes[(sg.name, "stride")]
            rl, ind = self._array_name(sg.name, "rowLength"), self._array_name(sg.name, "ind")
            lines.append(f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++) {{")
            lines.append(f"    for (unsigned int id_syn = id_pre * {stride}u; id_syn < id_pre * "
                         f"{stride}u + {rl}[id_pre]; id_syn++) {{")
            lines.append(f"        const unsigned int id_post = {ind}[id_syn];")
        lines += _indent(code, 2) + ["    }", "}"]
        return lines

    # ------------------------------------------------------------------
    # step, run
    # ------------------------------------------------------------------
    def _step_and_run(self):
        m = self.model
        lines = ["// ==== one time step of one batch element ====",
                 "static void mg_step(unsigned int batch, uint64_t timestep, uint64_t rng_step, "
                 "unsigned int rec_slot) {",
                 f"    const timepoint t = (timepoint)((double)timestep * {m.dt!r});"]
        for sg in m.synapse_populations.values():
            lines.append(f"    mg_synapse_update_{c_ident(sg.name)}(batch, t, timestep, rng_step);")
        for ng in m.neuron_populations.values():
            lines.append(f"    mg_neuron_update_{c_ident(ng.name)}(batch, t, timestep, rng_step, "
                         "rec_slot);")
        lines += ["}", "",
                  "// Run n_steps steps; recording slot = timestep % num_rec.",
                  'extern "C" void mg_run(uint64_t timestep, uint64_t rng_step, uint32_t n_steps, '
                  "uint32_t num_rec, int num_threads) {"]
        if self.B > 1:
            lines.append("    #pragma omp parallel for schedule(static) num_threads(num_threads)")
        else:
            lines.append("    (void)num_threads;")
        lines += [f"    for (int batch = 0; batch < {self.B}; batch++) {{",
                  "        for (uint32_t s = 0; s < n_steps; s++) {",
                  "            const uint64_t ts = timestep + s;",
                  "            mg_step((unsigned int)batch, ts, rng_step + s, "
                  "num_rec ? (unsigned int)(ts % num_rec) : 0u);",
                  "        }", "    }", "}", ""]
        return lines

    # ------------------------------------------------------------------
    # initialisation
    # ------------------------------------------------------------------
    def _var_init_code(self, group, var, target, kind, extra_names=()):
        """Lines computing ``target`` from a variable's init snippet."""
        init = var.init
        snippet = init.snippet
        env = self.base_env().child()
        env.define("value", Local(target, description="value to initialise"))
        for name in extra_names:
            env.define(name, Value(name, description="index"))
        if kind == "neuron":
            env.define("id", Value("id", description="element index"))
        env.define("num_neurons", Value(f"({var.count}u)" if var.count else "0u",
                                        description="size"))
        if kind == "synapse":
            env.define("num_pre", Value(f"({group.src.num_neurons}u)", description="size"))
            env.define("num_post", Value(f"({group.trg.num_neurons}u)", description="size"))
            if group.kernel_size or "id_kernel" in extra_names:
                env.define("id_kernel", Value("id_kernel", description="kernel index"))
        self.add_params(env, group, snippet, init.params, [], "")
        for egp in snippet.extra_global_params:
            spec = self.add_array(group.name, f"{var.name}.{egp.name}",
                                  egp.type.rstrip("*").strip(), 0)
            env.define(egp.name, Value(spec.c_name, pointer=True,
                                       description="extra global parameter"))
        lines = self.renderer().statements(
            snippet.var_init_code, env, indent=0, new_scope=True,
            context=(snippet.class_name, "var_init_code",
                     f"initialisation of '{group.name}.{var.name}'"))
        return ["{"] + _indent(lines, 1) + ["}"]

    def _init_var_loop(self, group, var, spec, count, kind="neuron"):
        dims = var_dims(var.access) if kind != "custom" else None
        batched = spec.size > count
        n = count
        stream = self.stream("init", group.name, spec.key[1])
        lines = [f"// initialise '{group.name}.{var.name}' ({var.init.snippet.class_name})"]
        body = [f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {stream}u, "
                f"{'batch * ' + str(n) + 'u + ' if batched else ''}id, 0);",
                f"{spec.ctype} _value;"]
        body += self._var_init_code(group, var, "_value", "neuron")
        body.append(f"{spec.c_name}[{'batch * ' + str(n) + 'u + ' if batched else ''}id] = _value;")
        loop = [f"for (unsigned int id = 0; id < {n}u; id++) {{"] + _indent(body, 1) + ["}"]
        if batched:
            loop = [f"for (unsigned int batch = 0; batch < {spec.size // n}u; batch++) {{"] + \
                _indent(loop, 1) + ["}"]
        return lines + loop

    def _init(self):
        m = self.model
        lines = ["// ==== initialisation of variables and connectivity from snippets ====",
                 'extern "C" void mg_init(int init_connectivity_mask) {']
        body = []
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
        for group, v, gname, field, count in sources:
            if isinstance(v.init, VarInit) and not is_constant(v.init):
                spec = self._spec(gname, field)
                count = spec.size if spec.size < count else count
                body += self._init_var_loop(group, v, spec, count)
        for i, sg in enumerate(m.synapse_populations.values()):
            body += self._init_synapses(sg, i)
        lines += _indent(body, 1) + ["}", ""]
        return lines

    def _init_synapses(self, sg, index):
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        lines = []
        snippet_vars = [v for v in sg.vars.values()
                        if isinstance(v.init, VarInit) and not is_constant(v.init)]
        if weight == Weight.PROCEDURAL:
            return lines
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
                    parts = ["{", f"    if (_rowLength < {stride}u) {{",
                             f"        const unsigned int id_post = {args[0]};",
                             f"        {ind}[id_pre * {stride}u + _rowLength] = id_post;"]
                    if len(args) > 1:
                        parts.append(f"        const unsigned int id_kernel = "
                                     f"{self._kernel_index(sg, args[1:])};")
                        parts.append("        (void)id_kernel;")
                    parts += ["        " + l for l in inline]
                    parts += ["        _rowLength++;", "    }", "    else {",
                              "        mg_error = 1;  // row longer than its padded stride",
                              "    }", "}"]
                    return "\n".join(parts)
                env = self._conn_env(sg, add_synapse, "row")
                rows = self.renderer().statements(
                    ci.snippet.row_build_code, env, indent=0,
                    context=(ci.snippet.class_name, "row_build_code", f"synapse population '{sg.name}'"))
                lines.append(f"// build connectivity of '{sg.name}' "
                             f"({ci.snippet.class_name})")
                lines.append(f"if (init_connectivity_mask & {1 << (index % 30)}) {{")
                loop = [f"for (unsigned int id_pre = 0; id_pre < {npre}u; id_pre++) {{",
                        f"    mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                        f"{self.stream('conn', sg.name)}u, id_pre, 0);",
                        "    unsigned int _rowLength = 0;"]
                loop += _indent(_expand_multiline(rows), 1)
                loop += [f"    {rl}[id_pre] = _rowLength;", "}"]
                lines += _indent(loop, 1) + ["}"]
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
                head = [f"for (unsigned int id_kernel = 0; id_kernel < {k}u; id_kernel++) {{",
                        f"    const unsigned int id_syn = id_kernel;"]
                extra = {"id_kernel"}
                count = k
            elif conn == Conn.DENSE:
                head = [f"for (unsigned int id_syn = 0; id_syn < {npre * npost}u; id_syn++) {{",
                        f"    const unsigned int id_pre = id_syn / {npost}u, "
                        f"id_post = id_syn % {npost}u;"]
                extra = {"id_pre", "id_post"}
                count = npre * npost
            else:
                stride = self.model._sizes[(sg.name, "stride")]
                rl, ind = self._array_name(sg.name, "rowLength"), self._array_name(sg.name, "ind")
                head = [f"for (unsigned int id_syn = 0; id_syn < {npre * stride}u; id_syn++) {{",
                        f"    const unsigned int id_pre = id_syn / {stride}u;",
                        f"    if (id_syn % {stride}u >= {rl}[id_pre]) continue;",
                        f"    const unsigned int id_post = {ind}[id_syn];"]
                extra = {"id_pre", "id_post"}
                count = npre * stride
            nb = spec.size // count
            body = [f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {stream}u, "
                    f"batch * {count}u + id_syn, 0);", f"{spec.ctype} _value;"]
            body += self._var_init_code(sg, v, "_value", "synapse", extra_names=extra)
            body.append(f"{spec.c_name}[batch * {count}u + id_syn] = _value;")
            lines.append(f"// initialise '{sg.name}.{v.name}' ({v.init.snippet.class_name})")
            lines.append(f"for (unsigned int batch = 0; batch < {nb}u; batch++) {{")
            lines += _indent(head + _indent(body, 1) + ["}"], 1) + ["}"]
        return lines

    # ------------------------------------------------------------------
    # custom updates
    # ------------------------------------------------------------------
    def _ref_info(self, ref):
        """(array spec, variable access, element count) of a reference."""
        g = ref.group
        if ref.kind == "neuron":
            v = g.vars[ref.var_name]
            return self._spec(g.name, ref.var_name), v.access, g.num_neurons
        if ref.kind == "custom":
            v = g.vars[ref.var_name]
            dims = custom_update_var_dims(v.access, self._cu_dims(g))
            return self._spec(g.name, ref.var_name), int(dims) | int(access_mode(v.access)), g.size
        if ref.kind == "psm":
            v = g.psm_vars[ref.var_name]
            return self._spec(g.name, "psm_" + ref.var_name), v.access, g.trg.num_neurons
        if ref.kind == "out_post":
            from ..types import VarAccess
            return self._spec(g.name, "inSyn"), VarAccess.READ_WRITE, g.trg.num_neurons
        if ref.kind == "wu":
            v = g.vars[ref.var_name]
            spec = self._spec(g.name, ref.var_name)
            nb = self.B if (var_dims(v.access) & VarAccessDim.BATCH) and self.B > 1 else 1
            return spec, v.access, spec.size // nb
        raise ModelError(f"unsupported reference kind '{ref.kind}'")

    def _cu_dims(self, cu):
        dims = VarAccessDim.ELEMENT
        for ref in cu.var_refs.values():
            _, access, _ = self._ref_info(ref) if ref.kind != "custom" else \
                (None, custom_update_var_dims(ref.group.vars[ref.var_name].access,
                                              self._cu_dims(ref.group)), None)
            if var_dims(access) & VarAccessDim.BATCH and self.B > 1:
                dims |= VarAccessDim.BATCH
        return dims

    def _custom_update_group(self, group_name):
        m = self.model
        lines = [f"// ==== custom update group '{group_name}' ====",
                 f'extern "C" void mg_custom_update_{c_ident(group_name)}(uint64_t timestep) {{',
                 f"    const timepoint t = (timepoint)((double)timestep * {m.dt!r});",
                 "    (void)t;"]
        for cu in m.custom_updates.values():
            if cu.group_name == group_name:
                lines += _indent(self._custom_update(cu), 1)
        lines += ["}", ""]
        return lines

    def _synapse_update_indices(self, cu, env):
        """Custom updates on synapse variables see id_syn/id_pre/id_post.

        Returns lines that skip the padding slots of SPARSE rows."""
        wu_refs = [r for r in cu.var_refs.values() if r.kind == "wu"]
        if not wu_refs:
            return []
        sg = wu_refs[0].group
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        env.define("num_pre", Value(f"({npre}u)", description="size"))
        env.define("num_post", Value(f"({npost}u)", description="size"))
        if weight == Weight.KERNEL:
            env.define("id_kernel", Value("id", description="kernel index"))
            return []
        env.define("id_syn", Value("id", description="synapse index"))
        if conn == Conn.DENSE:
            env.define("id_pre", Value(f"(id / {npost}u)", description="presynaptic index"))
            env.define("id_post", Value(f"(id % {npost}u)", description="postsynaptic index"))
            return []
        stride = self.model._sizes[(sg.name, "stride")]
        env.define("id_pre", Value(f"(id / {stride}u)", description="presynaptic index"))
        env.define("id_post", Value(f"{self._array_name(sg.name, 'ind')}[id]",
                                    description="postsynaptic index"))
        return [f"if (id % {stride}u >= {self._array_name(sg.name, 'rowLength')}"
                f"[id / {stride}u]) continue;  // padding of a SPARSE row"]

    def _custom_update(self, cu):
        snippet = cu.snippet
        dims = self._cu_dims(cu)
        batched = bool(dims & VarAccessDim.BATCH)
        B = self.B if batched else 1
        n = cu.size
        if not isinstance(n, int):
            n = next(self._ref_info(r)[2] for r in cu.var_refs.values())
        env = self.base_env(rng=False).child()
        env.define("id", Value("id", description="element index"))
        env.define("t", Value("t", description="time"))
        env.define("batch", Value("batch", description="batch index"))
        env.define("num_neurons", Value(f"({n}u)", description="size"))
        self.add_params(env, cu, snippet, cu.params, cu.dynamic_params,
                        self._dyn(cu.name, "dyn"))
        self.add_egps(env, cu, snippet.extra_global_params)
        for r in snippet.extra_global_param_refs:
            ref = cu.egp_refs[r.name]
            spec = self._spec(ref.group.name, ref.egp_name)
            env.define(r.name, Value(spec.c_name, pointer=True, description="EGP reference"))
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
                env.define(name, Local(local, description="reduction target"))
                continue
            writable = bool(int(mode) & (Attr.READ_WRITE | Attr.BROADCAST))
            env.define(name, Value(local, writable=writable,
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
        out = [f"// custom update '{cu.name}' (model '{snippet.class_name}')"]
        if batch_red:
            out += [f"for (unsigned int id = 0; id < {n}u; id++) {{"]
            out += _indent(acc_init + [f"for (unsigned int batch = 0; batch < {B}u; batch++) {{"]
                           + _indent(body, 1) + ["}"] + acc_store, 1)
            out.append("}")
        elif neuron_red:
            out += [f"for (unsigned int batch = 0; batch < {B}u; batch++) {{"]
            out += _indent(acc_init + [f"for (unsigned int id = 0; id < {n}u; id++) {{"]
                           + _indent(body, 1) + ["}"] + acc_store, 1)
            out.append("}")
        else:
            if B > 1:
                out.append("#pragma omp parallel for schedule(static)")
            out += [f"for (int batch = 0; batch < {B}; batch++) {{",
                    f"    for (unsigned int id = 0; id < {n}u; id++) {{"]
            out += _indent(body, 2) + ["    }", "}"]
        return ["{"] + _indent(out, 1) + ["}"]


def _expand_multiline(lines):
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
