"""Shared generator of synapse updates: presynaptic propagation (spikes and
spike-like events, over DENSE, SPARSE, BITMASK, PROCEDURAL and TOEPLITZ
connectivity),
postsynaptic learning and synapse dynamics.

Owns rendering the weight-update code and the row/diagonal building code
with their index checks; the backend supplies the loops or thread mapping
of each part (``*_propagation``, ``post_learning_loops``,
``synapse_dynamics_loops``), how ``addToPost``/``addToPre`` accumulate
(``add_to_post``/``add_to_pre``) and how the parts become functions
(``synapse_functions``).
"""
from ..code import Function, Value
from ..errors import ModelError
from ..snippets import derived_values
from ..types import SynapseMatrixConnectivity as Conn, SynapseMatrixWeight as Weight
from ..backends.writer import INDENT, CodeWriter
from ..backends.base import ERROR_SYNAPSE_INDEX, IDX, RNG_FUNCTIONS, expand_multiline


class SynapseUpdate:
    """Mixed into a backend (see :class:`~..backends.base.Backend` for the hooks)."""

    def _synapse_update(self, sg):
        wu = sg.snippet
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        if bool(wu.post_event_syn_code.strip()) != bool(
                wu.post_event_threshold_condition_code.strip()):
            raise ModelError(f"weight update model '{wu.class_name}' of '{sg.name}': "
                             "post_event_syn_code and post_event_threshold_condition_code "
                             "go together (give both or neither)")
        if conn in (Conn.PROCEDURAL, Conn.TOEPLITZ) and (
                wu.post_spike_syn_code.strip() or wu.post_event_syn_code.strip()):
            raise ModelError(f"synapse population '{sg.name}': postsynaptic learning "
                             "(post_spike_syn_code, post_event_syn_code) needs DENSE, SPARSE "
                             f"or BITMASK connectivity, not {sg.matrix_type.name}")
        if wu.synapse_dynamics_code.strip() and conn not in (Conn.DENSE, Conn.SPARSE):
            raise ModelError(f"synapse population '{sg.name}': synapse_dynamics_code needs "
                             "DENSE or SPARSE connectivity")
        if weight == Weight.KERNEL:
            self._check_kernel_accumulation(sg)
        ctx = (wu.class_name, "pre_spike_syn_code", f"synapse population '{sg.name}'")
        slots = sg.src.num_delay_slots
        d = sg.axonal_delay_steps
        header = (f"==== Synapse population '{sg.name}' ('{sg.src.name}' -> '{sg.trg.name}', "
                  f"{sg.matrix_type.name}, weight update '{wu.class_name}', postsynaptic "
                  f"'{sg.ps_initialiser.snippet.class_name}') ====")
        cw = CodeWriter()      # the prologue every part starts with
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
        # postsynaptic spikes (and spike times, delayed variables) of
        # back_prop_delay_steps + 1 steps ago
        post_slots, bpd = sg.trg.num_delay_slots, sg.back_prop_delay_steps
        cw.line("const unsigned int _postReadSlot = " + (
            f"(unsigned int)((step + {post_slots - 1 - bpd}u) % {post_slots}u);"
            if post_slots > 1 else "0u;"))
        cw.line(f"const uint32_t _numSpikes = "
                f"{self._array_name(sg.src.name, 'spkCnt')}[batch * {slots}u + _readSlot];")
        cw.line(f"const uint32_t* __restrict const _spikes = "
                f"{self._array_name(sg.src.name, 'spk')} + "
                f"(batch * {slots}u + _readSlot) * {npre}u;")
        pre = CodeWriter()
        if wu.pre_spike_syn_code.strip():
            pre.lines(self._spike_propagation(sg, conn, weight, ctx, wu.pre_spike_syn_code))
        if wu.pre_event_syn_code.strip():
            evnt = self._array_name(sg.name, "evnt")
            pre.line(f"const uint32_t _numEvents = "
                     f"{self._array_name(sg.name, 'evntCnt')}[batch * {slots}u + _readSlot];")
            pre.line(f"const uint32_t* __restrict const _events = {evnt} + "
                     f"(batch * {slots}u + _readSlot) * {npre}u;")
            pre.lines(self._spike_propagation(
                sg, conn, weight, (wu.class_name, "pre_event_syn_code", ctx[2]),
                wu.pre_event_syn_code, "_numEvents", "_events", "spike-like events"))
        parts = []
        if pre.result():
            parts.append(("presynaptic", pre.result()))
        post = CodeWriter()
        if wu.post_spike_syn_code.strip():
            post.lines(self._post_learning(sg, conn, weight))
        if wu.post_event_syn_code.strip():
            post.lines(self._post_learning(sg, conn, weight, "post_event_syn_code"))
        if post.result():
            parts.append(("postsynaptic", post.result()))
        if wu.synapse_dynamics_code.strip():
            parts.append(("synapse_dynamics", self._synapse_dynamics(sg, conn, weight)))
        return self.synapse_functions(sg, header, cw.result(), parts)

    def _check_kernel_accumulation(self, sg):
        """A kernel variable accumulated with ``atomic_add_<var>`` may not
        also be read by the synapse code: other synapses (threads, on a GPU)
        add to the entry meanwhile, so the value read would depend on
        timing."""
        names = self._names_in(sg.snippet)
        for v in sg.vars:
            if f"atomic_add_{v}" in names and v in names:
                raise ModelError(f"synapse population '{sg.name}': weight update model "
                                 f"'{sg.snippet.class_name}' both reads kernel variable "
                                 f"'{v}' and accumulates into it with atomic_add_{v}; the "
                                 "value read would depend on the order the synapses run "
                                 "in: read it in a custom update instead")

    def _spike_propagation(self, sg, conn, weight, ctx, code_text, count="_numSpikes",
                           spikes="_spikes", what="presynaptic spikes"):
        code, proc_inits, wenv = self._render_wu(sg, conn, weight, code_text, ctx)
        if self.uses_rng(wenv) and conn != Conn.PROCEDURAL:
            raise ModelError(f"synapse population '{sg.name}': random numbers in "
                             "pre_spike_syn_code are not supported")
        cw = CodeWriter()
        cw.line(f"// propagate {what}")
        if conn == Conn.TOEPLITZ:
            return cw.lines(self._toeplitz(sg, code, count, spikes)).result()
        if conn not in (Conn.DENSE, Conn.SPARSE, Conn.PROCEDURAL, Conn.BITMASK):
            raise ModelError(f"synapse population '{sg.name}': matrix type "
                             f"{sg.matrix_type.name} is not supported")
        if conn == Conn.DENSE:
            cw.lines(self.dense_propagation(sg, count, spikes,
                                            self._regenerated_weights(sg, proc_inits) + code))
        elif conn == Conn.BITMASK:
            cw.lines(self.bitmask_propagation(sg, count, spikes, code))
        elif conn == Conn.SPARSE:
            cw.lines(self.sparse_propagation(sg, count, spikes, code))
        else:
            cw.lines(self.procedural_propagation(
                sg, count, spikes, self._procedural_row(sg, weight, code, proc_inits)))
        return cw.result()

    def _regenerated_weights(self, sg, proc_inits):
        """DENSE_PROCEDURALG: a synapse's procedural variables, computed again
        from their init snippets wherever the synapse is used, with random
        numbers from the synapse's own stream (keyed by ``id_syn``): every use,
        thread split and backend sees the same values."""
        if not proc_inits:
            return []
        lines = []
        if any(self._names_in(v.init.snippet) & set(RNG_FUNCTIONS) for v in proc_inits):
            lines.append(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                         f"{self.stream('dense_weights', sg.name)}u, id_syn, 0);")
        return lines + self._procedural_weights(sg, proc_inits)

    def _procedural_weights(self, sg, proc_inits):
        """Lines computing each procedural variable ``_w_<name>`` of a synapse
        from its init snippet (drawing from ``_rng`` where it is random)."""
        lines = []
        for v in proc_inits:
            lines.append(f"{v.type} _w_{v.name};")
            lines += self._var_init_code(sg, v, f"_w_{v.name}", "synapse",
                                         extra_names={"id_pre", "id_post"})
        return lines

    def _procedural_row(self, sg, weight, code, proc_inits):
        ci = sg.connectivity_initialiser
        if ci is None or not ci.snippet.row_build_code.strip():
            raise ModelError(f"synapse population '{sg.name}' is PROCEDURAL: it needs a "
                             "sparse connectivity initialiser with row_build_code")
        init_lines = self._procedural_weights(sg, proc_inits)

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
            inner = env.child({"id_pre": Value("id_pre", description="presynaptic index",
                                               ctype=IDX)})
            w = CodeWriter(indent)
            with w.block(f"for (uint32_t _i = 0; _i < {count}; _i++)"):
                w.line(f"const unsigned int id_pre = {spikes}[_i];")
                for s in body.children:
                    w.lines(line[len(INDENT) * (indent + 1):]
                            for line in rend.stmt(s, inner, indent + 1))
            return w.result()

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
        return self.toeplitz_propagation(sg, int(num_diag), expand_multiline(diag))

    def _bitmask_bit(self, sg, pre, post):
        """C condition: the BITMASK connectivity of ``sg`` has synapse (pre, post)."""
        gp = self._array_name(sg.name, "gp")
        bit = f"((uint64_t)({pre}) * {sg.trg.num_neurons}u + ({post}))"
        return f"(({gp}[{bit} >> 5] >> ({bit} & 31u)) & 1u)"

    def _post_learning(self, sg, conn, weight, field="post_spike_syn_code"):
        """post_spike_syn_code (post_event_syn_code): every synapse onto each
        neuron that spiked (had a spike-like event) last step; DENSE and
        BITMASK loop over the presynaptic neurons, SPARSE over the column
        view of the rows (``colStart``/``remap``, built by the runtime)."""
        wu = sg.snippet
        npost = sg.trg.num_neurons
        events = field == "post_event_syn_code"
        ctx = (wu.class_name, field, f"synapse population '{sg.name}'")
        code, proc_inits, env = self._render_wu(sg, conn, weight, getattr(wu, field), ctx)
        if self.uses_rng(env):
            raise ModelError(f"synapse population '{sg.name}': random numbers in "
                             f"{field} are not supported")
        code = self._regenerated_weights(sg, proc_inits) + code
        trg_cnt = self._array_name(sg.name, "postEvntCnt") if events else \
            self._array_name(sg.trg.name, "spkCnt")
        trg_spk = self._array_name(sg.name, "postEvnt") if events else \
            self._array_name(sg.trg.name, "spk")
        slots = sg.trg.num_delay_slots
        slot = "_postReadSlot"      # back_prop_delay_steps + 1 steps ago (prologue)
        what = "spike-like events of" if events else "spikes of"
        count = "_numPostEvents" if events else "_numPostSpikes"
        cw = CodeWriter()
        with cw.block():
            cw.line(f"// postsynaptic learning: synapses onto neurons with {what} last step")
            cw.line(f"const unsigned int _postSlot = {slot};")
            cw.line(f"const uint32_t {count} = {trg_cnt}[batch * {slots}u + _postSlot];")
            cw.lines(self.post_learning_loops(
                sg, count, f"{trg_spk}[(batch * {slots}u + _postSlot) * {npost}u + _j]",
                code))
        return cw.result()

    def _synapse_dynamics(self, sg, conn, weight):
        wu = sg.snippet
        ctx = (wu.class_name, "synapse_dynamics_code", f"synapse population '{sg.name}'")
        code, proc_inits, env = self._render_wu(sg, conn, weight, wu.synapse_dynamics_code, ctx)
        if self.uses_rng(env):
            raise ModelError(f"synapse population '{sg.name}': random numbers in "
                             "synapse_dynamics_code are not supported yet")
        code = self._regenerated_weights(sg, proc_inits) + code
        cw = CodeWriter()
        cw.line("// synapse dynamics")
        return cw.lines(self.synapse_dynamics_loops(sg, conn, code)).result()
