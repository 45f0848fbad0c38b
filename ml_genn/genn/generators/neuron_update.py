"""Shared generator of neuron updates: one function per population that
updates every neuron of one batch element.

Owns the per-neuron body (loads, postsynaptic inputs, current sources,
weight-update pre/post code, sim/threshold/reset, stores); the backend
supplies the loop or thread index (``neuron_loop``) and how spikes and
spike-like events are queued and recorded (``queue_*``, ``recording_*``).
"""
from ..code import Function, Value
from ..errors import ModelError
from ..names import comment
from ..layout import c_ident
from ..types import VarAccessDim, var_dims
from ..backends.writer import CodeWriter
from ..backends.base import (SPIKE_TIME_WHAT, SPIKE_TIMES, SpikeQueue, SpikeRecording,
                             c_literal, writable)


class NeuronUpdate:
    """Mixed into a backend (see :class:`~..backends.base.Backend` for the hooks)."""

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
        # st, prev_st, set, prev_set: this step's slot (see _spike_times)
        times = [(code_name, self.layout.get(ng.name, field))
                 for code_name, field in SPIKE_TIMES if (ng.name, field) in self.layout]
        for code_name, spec in times:
            env.define(code_name, Value(f"_p_{spec.c_name}[id]", ctype="timepoint",
                                        description=SPIKE_TIME_WHAT[code_name]))

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
        blocks = ([self._psm_block(sg, targets) for sg in ng.in_syn]
                  + [self._cs_block(cs, targets) for cs in ng.current_sources])
        for lines, u, w, r in blocks:
            input_blocks += lines
            used |= u
            written |= w
            rng |= r
        wu = self._wu_neuron_parts(ng, targets)
        wu["times_setup"], wu["carry"] = self._spike_times(ng, times)
        # variables delayed synapses read: a copy per delay slot, written every step
        for name in self._delayed_neuron_vars(ng):
            used.add(name)
            queue = self._spec(ng.name, f"delayQueue.{name}")
            wu["store"].append(f"{queue.c_name}[(batch * {slots}u + _slot) * {n}u + id] = {name};")
        input_blocks += wu["input"]
        used |= wu["used"]
        written |= wu["written"]
        rng |= wu["rng"]

        spikes = SpikeQueue("_spk", "_spkCnt", self._array_name(ng.name, "spk"),
                            self._array_name(ng.name, "spkCnt"), n, slots)
        rec = (SpikeRecording("_rec", self._array_name(ng.name, "recSpk"), n)
               if ng.spike_recording_enabled else None)
        cw = CodeWriter()
        cw.comment(f"==== Neuron population '{ng.name}' (model '{snippet.class_name}'), "
                   f"{n} neurons ====")
        with cw.block(f"{self.function_qualifier}void mg_neuron_update_{c_ident(ng.name)}("
                      "unsigned int batch, timepoint t, uint64_t timestep, uint64_t step, "
                      f"unsigned int rec_slot{self.neuron_range_args})"):
            for v in ng.vars.values():
                if v.name in used:
                    cw.line(self._var_pointer(self._spec(ng.name, v.name), v, n))
            for sg in ng.in_syn:
                in_syn = self._array_name(sg.name, "inSyn")
                cw.line(f"scalar* __restrict const _p_{in_syn} = {in_syn} + batch * {n}u;")
            slot_expr = f"(unsigned int)(step % {slots}u)" if slots > 1 else "0u"
            cw.line(f"const unsigned int _slot = {slot_expr};")
            cw.lines(self.queue_setup(spikes))
            if rec:
                cw.lines(self.recording_setup(rec))
            cw.lines(wu["times_setup"])
            cw.lines(wu["setup"])
            with self.neuron_loop(cw, n):
                self._neuron_body(cw, ng, used, written, rng, input_blocks, sim, thresh,
                                  reset, wu, st_spec, spikes, rec)
            cw.lines(self.queue_finish(spikes))
            if rec:
                cw.lines(self.recording_finish(rec))
            cw.lines(wu["finish"])
        cw.line()
        return cw.result()

    def _neuron_body(self, cw, ng, used, written, rng, input_blocks, sim, thresh, reset, wu,
                     st_spec, spikes, rec):
        """One neuron of the update: load, inputs, sim, threshold, reset, store."""
        snippet = ng.snippet
        n = ng.num_neurons
        if rng:
            cw.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                    f"{self.stream('neuron', ng.name)}u, batch * {n}u + id, step);")
        cw.lines(wu["carry"])
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
                cw.lines(self.queue_push(spikes))
                if rec:
                    cw.lines(self.recording_set(rec))
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
        cw.lines(wu["store"])
        cw.lines(self._past_value_stores(ng))

    def _past_value_stores(self, ng):
        """Keep the values that incoming synapse groups read some steps back
        (postVar[d]): this step's value in slot step % max_dendritic_delay."""
        n = ng.num_neurons
        lines = []
        for sg in ng.in_syn:
            ds = sg.max_dendritic_delay_timesteps
            for name, (key, _) in self._past_values(sg).items():
                past = self._spec(sg.name, f"pastValues.{name}")
                src = self._spec(*key)
                at = f"batch * {n}u + id" if src.size > n else "id"
                lines.append(f"{past.c_name}[(batch * {ds}u + (unsigned int)(step % {ds}u)) * "
                             f"{n}u + id] = {src.c_name}[{at}];  // "
                             + comment(f"for {name}[d]"))
        return lines

    def _spike_times(self, ng, times):
        """Setup lines and per-neuron lines of the spike times.

        Each array has a slot per delay slot (layout [batch][slot][neuron]):
        a neuron first carries last step's values into this step's slot, and
        prev_st (prev_set) becomes st (set) if the neuron spiked (had a
        spike-like event) last step, as GeNN's update of the previous spike
        times at the start of the neuron update; st (set) is then written
        when the neuron spikes (has an event).  Older slots keep the values
        of their step, which delayed synapses read."""
        if not times:
            return [], []
        n, slots = ng.num_neurons, ng.num_delay_slots
        setup = [f"const unsigned int _prevSlot = (unsigned int)((step + {slots - 1}u) % "
                 f"{slots}u);" if slots > 1 else "const unsigned int _prevSlot = 0u;",
                 "// the time of last step, exactly as it was computed then",
                 f"const timepoint _tPrev = (timepoint)((double)(timestep - 1u) * "
                 f"{float(self.model.dt)!r});",
                 "(void)_tPrev; (void)_prevSlot;"]
        specs = dict(times)
        for _, spec in times:
            setup.append(f"timepoint* __restrict const _p_{spec.c_name} = {spec.c_name} + "
                         f"(batch * {slots}u + _slot) * {n}u;")
            if slots > 1:
                setup.append(f"const timepoint* const _r_{spec.c_name} = {spec.c_name} + "
                             f"(batch * {slots}u + _prevSlot) * {n}u;")
        carry = []
        for last, prev in (("st", "prev_st"), ("set", "prev_set")):
            if last not in specs:
                continue
            a = specs[last].c_name
            src = f"_r_{a}" if slots > 1 else f"_p_{a}"
            carry.append(f"const timepoint _last_{a} = {src}[id];")
            if slots > 1:
                carry.append(f"_p_{a}[id] = _last_{a};")
            if prev in specs:
                b = specs[prev].c_name
                old = f"_r_{b}[id]" if slots > 1 else f"_p_{b}[id]"
                carry.append(f"_p_{b}[id] = (_last_{a} == _tPrev) ? _last_{a} : {old};")
        return setup, carry

    def _wu_neuron_parts(self, ng, targets):
        """Weight-update code that runs in this population's neuron loop."""
        parts = {k: [] for k in ("setup", "input", "dynamics", "events", "spike", "finish",
                                 "store")}
        used, written, rng = set(), set(), False
        rend = self.renderer()
        slots = ng.num_delay_slots
        any_event = False
        for role, groups in (("pre", ng.out_syn), ("post", ng.in_syn)):
            for sg in groups:
                wu = sg.snippet
                own = sg.pre_vars if role == "pre" else sg.post_vars
                for v in own.values():
                    # pre (post) variables read by delayed synaptic code: a copy per slot
                    queue = self.layout.get(sg.name, f"delayQueue.{role}_{v.name}")
                    if queue is not None:
                        spec = self._spec(sg.name, f"{role}_{v.name}")
                        parts["store"].append(
                            f"{queue.c_name}[(batch * {slots}u + _slot) * {ng.num_neurons}u + "
                            f"id] = {spec.c_name}["
                            f"{self._batched_index(v, ng.num_neurons, 'id')}];")
                fields = {"dynamics": getattr(wu, f"{role}_dynamics_code"),
                          "spike": getattr(wu, f"{role}_spike_code")}
                fields["events"] = getattr(wu, f"{role}_event_threshold_condition_code")
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
                                           context=ctx(f"{role}_event_threshold_condition_code"))
                    # pre: evnt/evntCnt; post: postEvnt/postEvntCnt
                    field = "evnt" if role == "pre" else "postEvnt"
                    evnt = self._array_name(sg.name, field)
                    queue = SpikeQueue(f"_evnt_{evnt}", f"_evntCnt_{evnt}", evnt,
                                       self._array_name(sg.name, field + "Cnt"), ng.num_neurons,
                                       slots)
                    parts["setup"] += self.queue_setup(queue)
                    cw = CodeWriter().comment(f"spike-like event condition of '{sg.name}'")
                    with cw.block(f"if ({cond})"):
                        cw.lines(self.queue_push(queue))
                        cw.line("_anyEvent = true;")
                    parts["events"] += cw.result()
                    parts["finish"] += self.queue_finish(queue)
                if role == "pre" and (sg.name, "outPre") in self.layout:
                    parts["input"] += self._out_pre_block(sg, targets)
                used |= {refs[k] for k in env.root.used if k in refs}
                written |= {refs[k] for k in env.root.written if k in refs}
                rng |= self.uses_rng(env)
        if any_event:
            parts["events"].insert(0, "bool _anyEvent = false;")
            if (ng.name, "recSpkEvnt") in self.layout:
                rec = SpikeRecording("_recEvnt", self._array_name(ng.name, "recSpkEvnt"),
                                     ng.num_neurons)
                parts["setup"] += self.recording_setup(rec)
                parts["events"] += self.recording_set(rec, "_anyEvent")
                parts["finish"] += self.recording_finish(rec)
            else:
                parts["events"].append("(void)_anyEvent;")
            if (ng.name, "seT") in self.layout:
                parts["events"].append(f"if (_anyEvent) _p_{self._array_name(ng.name, 'seT')}"
                                       "[id] = t;")
        elif (ng.name, "recSpkEvnt") in self.layout:
            raise ModelError(f"neuron population '{ng.name}': spike_event_recording_enabled "
                             "but no outgoing synapse population has a "
                             "pre_event_threshold_condition_code (nor an incoming one a "
                             "post_event_threshold_condition_code)")
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
        ref_names = self._neuron_loop_refs(env, f"synapse population '{sg.name}'",
                                           ps.neuron_var_refs, sg.ps_initialiser.var_refs,
                                           sg.trg)
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
        ref_names = self._neuron_loop_refs(env, f"current source '{cs.name}'",
                                           snippet.neuron_var_refs, cs.var_refs, cs.target)
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

    @staticmethod
    def _neuron_loop_refs(env, owner, decls, values, ng):
        """Neuron variable references of code run in ``ng``'s neuron loop
        (postsynaptic models, current sources): the variable's local there.
        Returns {reference name: variable name}."""
        names = {}
        for r in decls:
            target = values[r.name]
            tname = target if isinstance(target, str) else target.var_name
            if tname not in ng.vars:
                raise ModelError(f"{owner}: neuron var ref '{r.name}' names '{tname}', which "
                                 f"'{ng.name}' does not have")
            names[r.name] = tname
            env.define(r.name, Value(tname, writable=writable(r.access),
                                     ctype=ng.vars[tname].type,
                                     description="neuron variable reference"))
        return names
