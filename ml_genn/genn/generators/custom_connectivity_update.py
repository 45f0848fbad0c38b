"""Shared generator of custom connectivity updates (SPARSE rows changed by
``row_update_code``, after ``host_update_code``).

Rows are independent: the backend runs one per loop iteration (CPU) or
per thread (GPU) through ``element_loops`` and sizes the launch with
``custom_connectivity_grid``.  ``for_each_synapse { ... }`` loops over the
current row; ``remove_synapse()`` moves the row's last synapse into the
removed one's slot (in every per-synapse array attached to the
connectivity, in every batch copy) and shortens the row;
``add_synapse(id_post, values...)`` appends a synapse (its referenced
variables get the values, every other per-synapse array 0) unless the row
is full (``ERROR_ADD_SYNAPSE``).

``host_update_code`` is *not* host C++ as in GeNN (arbitrary host code
cannot be checked): it is a code string checked like every other, run
once (one thread on a GPU, so it sees device memory and GeNN's
``push*ToDevice()``/``pull*FromDevice()`` calls, ``pushConnectivityToDevice()``
included, are accepted as no-ops).  It sees parameters,
``num_pre``/``num_post``, ``t``, the RNG, extra global parameters (and
references to them), and as arrays (``name[i]``, bounds-checked): the
update's pre/post variables and references, its per-synapse variables and
references (``name[id_pre * row_stride + j]``, batch copies one after
another) and the connectivity: ``row_length[id_pre]`` and
``ind[id_pre * row_stride + j]`` with ``row_stride``.  Writes to the
connectivity are range-checked (a row length at most ``row_stride``, an
index below ``num_post``; otherwise skipped and reported) and go to every
population sharing it; the runtime then works out row order and column
views again, as after row updates.
"""
from ..code import Function, Value
from ..errors import CodeError, ModelError
from ..types import SynapseMatrixWeight as Weight, VarAccessDim, var_dims
from ..backends.writer import INDENT, CodeWriter
from ..backends.base import (ERROR_ADD_SYNAPSE, ERROR_CONNECTIVITY_MISMATCH, ERROR_INDEX_WRITE,
                             ERROR_ROW_LENGTH_WRITE, ERROR_SYNAPSE_INDEX, IDX, expand_multiline,
                             writable)


class _Part:
    """A unit of a custom update group that is not a custom update itself
    (``name`` keys the backend's launch size)."""

    def __init__(self, name):
        self.name = name


class CustomConnectivityUpdate:
    """Mixed into a backend (see :class:`~..backends.base.Backend` for the hooks)."""

    # -- arrays -------------------------------------------------------------
    def _ccu_arrays(self, ccu):
        sg = ccu.synapse_group
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        stride = self.model._sizes[(sg.name, "stride")]
        for v in ccu.vars.values():
            self.add_array(ccu.name, v.name, v.type, npre * stride, origin=f"variable '{v.name}'")
        for prefix, table, n in (("pre_", ccu.pre_vars, npre), ("post_", ccu.post_vars, npost)):
            for v in table.values():
                self.add_array(ccu.name, prefix + v.name, v.type, n,
                               origin=f"{prefix[:-1]}synaptic variable '{v.name}'")
        if ccu.dynamic_params:
            self.add_array(ccu.name, "dyn", "scalar", len(ccu.dyn_slots()))
        names = self._names_in(ccu.snippet)
        if names & {"gennrand", "gennrand_uniform", "gennrand_normal", "gennrand_exponential",
                    "gennrand_log_normal", "gennrand_gamma", "gennrand_binomial"}:
            # calls so far: Python counts them, so every call draws new numbers
            self.add_array(ccu.name, "_calls", "uint64_t", 1)

    # -- the group ----------------------------------------------------------
    def _custom_connectivity_parts(self, group_name):
        """(host parts, row parts) of the connectivity updates of a group."""
        host, rows = [], []
        for ccu in self.model.custom_connectivity_updates.values():
            if ccu.group_name != group_name:
                continue
            if ccu.snippet.host_update_code.strip():
                part = _Part(f"{ccu.name}.host")
                host.append((part, self._ccu_host_update(ccu, part)))
            if ccu.snippet.row_update_code.strip():
                rows.append((ccu, self._ccu_row_update(ccu)))
        return host, rows

    # -- shared environment ---------------------------------------------------
    def _ccu_env(self, ccu):
        sg = ccu.synapse_group
        snippet = ccu.snippet
        env = self.base_env(rng=True).child()
        env.define("t", Value("t", description="time", ctype="timepoint"))
        env.define("num_pre", Value(f"({sg.src.num_neurons}u)", description="size", ctype=IDX))
        env.define("num_post", Value(f"({sg.trg.num_neurons}u)", description="size",
                                     ctype=IDX))
        self.add_params(env, ccu, snippet, ccu.params, ccu.dynamic_params,
                        self._dyn(ccu.name, "dyn"))
        self.add_egps(env, ccu, snippet.extra_global_params)
        for r in snippet.extra_global_param_refs:
            ref = ccu.egp_refs[r.name]
            field = getattr(ref, "field", "") or ref.egp_name
            spec = self.layout.get(ref.group.name, field)
            if spec is None:
                views = dict(ref.group.extra_global_params)
                views.update({"psm_" + k: v for k, v in
                              getattr(ref.group, "psm_extra_global_params", {}).items()})
                view = views[field]
                spec = self.add_array(ref.group.name, field, view.type.rstrip("*").strip(), 0,
                                      origin=f"extra global parameter '{field}'")
            env.define(r.name, self.egp_value(spec, "extra global parameter reference"))
        return env

    def _ccu_neuron_refs(self, ccu, role):
        """(name, array spec, writable, ctype) of the pre or post references."""
        decls = ccu.snippet.pre_var_refs if role == "pre" else ccu.snippet.post_var_refs
        refs = ccu.pre_var_refs if role == "pre" else ccu.post_var_refs
        out = []
        for r in decls:
            ref = refs[r.name]
            spec, access, _ = self._ref_info(ref)
            if var_dims(access) & VarAccessDim.BATCH and self.B > 1:
                raise ModelError(f"custom connectivity update '{ccu.name}': {role}synaptic "
                                 f"variable reference '{r.name}' points at a variable with a "
                                 f"copy per batch element (batch_size {self.B}); connectivity "
                                 "is shared by the batch, so references must be to variables "
                                 "shared by it too")
            out.append((r.name, spec, writable(r.access), spec.ctype))
        return out

    def _rng_lines(self, ccu, env, element, purpose="ccu"):
        """Random numbers of one row (``element``) or of the host update
        (``purpose="ccu_host"``: its own stream, so it never draws the
        numbers row 0 draws)."""
        if not self.uses_rng(env):
            return []
        calls = self._array_name(ccu.name, "_calls")
        return [f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {self.stream(purpose, ccu.name)}u, "
                f"{element}, {calls}[0]);"]

    # -- host_update_code -----------------------------------------------------
    def _ccu_host_update(self, ccu, part):
        snippet = ccu.snippet
        sg = ccu.synapse_group
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        stride = self.model._sizes[(sg.name, "stride")]
        env = self._ccu_env(ccu)
        # the connectivity ('ind' and 'row_length' cannot name variables)
        groups, deps = self._ccu_dependents(ccu)
        setup = []
        for name, field, limit, error, desc in (
                ("row_length", "rowLength", stride, ERROR_ROW_LENGTH_WRITE,
                 "row lengths (row_length[id_pre])"),
                ("ind", "ind", npost - 1, ERROR_INDEX_WRITE,
                 "postsynaptic indices (ind[id_pre * row_stride + j])")):
            copies = f"_conn_{field}"
            setup.append(f"{self._spec(sg.name, field).ctype}* const {copies}[] = {{"
                         + ", ".join(self._array_name(g.name, field) for g in groups) + "};")
            spec = self._spec(sg.name, field)
            value = self.egp_value(spec, desc)
            value.store = self._connectivity_store(copies, len(groups), spec, limit, error)
            env.define(name, value)
        env.define("row_stride", Value(f"({stride}u)", description="padded row length",
                                       ctype=IDX))
        arrays = []
        for prefix, table in (("pre_", ccu.pre_vars), ("post_", ccu.post_vars)):
            for v in table.values():
                spec = self._spec(ccu.name, prefix + v.name)
                arrays.append((v.name, spec, writable(v.access)))
        for role in ("pre", "post"):
            arrays += [(name, spec, w) for name, spec, w, _ in self._ccu_neuron_refs(ccu, role)]
        # per-synapse values (id_pre * row_stride + j; batch copies one after another)
        for v in snippet.vars:
            arrays.append((v.name, self._spec(ccu.name, v.name), writable(v.access)))
        for r in snippet.var_refs:
            spec = self._ref_info(ccu.var_refs[r.name])[0]
            if spec.key not in deps:
                raise ModelError(f"custom connectivity update '{ccu.name}': variable "
                                 f"reference '{r.name}' does not point at a per-synapse "
                                 "array of the updated connectivity")
            arrays.append((r.name, spec, writable(r.access)))
        for name, spec, w in arrays:
            value = self.egp_value(spec, "variable (an array in host_update_code)")
            value.writable = w
            env.define(name, value)
        # GeNN's host code copies arrays with push<Name>ToDevice() and
        # pull<Name>FromDevice(): here it runs where the state is, so they do nothing
        for name in ([e.name for e in snippet.extra_global_params]
                     + [e.name for e in snippet.extra_global_param_refs]
                     + [a[0] for a in arrays] + ["Connectivity"]):
            for fn in (f"push{name}ToDevice", f"pull{name}FromDevice"):
                env.define(fn, Function(lambda a: "(void)0", 0, 1, "function", statement=True,
                                        returns="void"))
        lines = self.renderer().statements(
            snippet.host_update_code, env, indent=0, new_scope=True,
            context=(snippet.class_name, "host_update_code",
                     f"custom connectivity update '{ccu.name}'"))
        self.custom_connectivity_grid(part.name, 1)
        cw = CodeWriter()
        with cw.block():
            cw.comment(f"host update of custom connectivity update '{ccu.name}' "
                       f"(model '{snippet.class_name}') on '{sg.name}' ({npre} rows)")
            with self.element_loops(cw, "_host", 1, None):
                cw.comment("the connectivity of every population sharing it, written together")
                cw.lines(setup)
                cw.line("(void)_conn_rowLength; (void)_conn_ind;")
                if len(groups) > 1:
                    cw.comment("populations updated together must hold the same rows")
                    cw.line("bool _same = true;")
                    with cw.block(f"for (unsigned int _i = 0; _same && _i < {npre}u; _i++)"):
                        for c in range(1, len(groups)):
                            cw.line(f"_same = _same && _conn_rowLength[{c}][_i] == "
                                    "_conn_rowLength[0][_i];")
                            cw.line(f"for (unsigned int _j = _i * {stride}u; _same && _j < "
                                    f"_i * {stride}u + _conn_rowLength[0][_i]; _j++) "
                                    f"_same = _conn_ind[{c}][_j] == _conn_ind[0][_j];")
                    cw.line(f"if (!_same) {{ mg_fail({ERROR_CONNECTIVITY_MISMATCH}); break; }}")
                cw.lines(self._rng_lines(ccu, env, "0u", "ccu_host"))
                cw.lines(expand_multiline(lines))
                for role in ("pre", "post"):
                    cw.lines(self._ccu_slot_copies(ccu, env, role, None))
        return cw.result()

    @staticmethod
    def _connectivity_store(copies, n_copies, spec, limit, error):
        """``store`` of a connectivity array in host code: ``mg_conn_store``."""
        def store(index, op, value, old):
            code = {"=": 0, "+=": 1, "-=": -1}[op]
            return (f"mg_conn_store({copies}, {n_copies}u, mg_size[{spec.index}], ({index}), "
                    f"{code}, ({value}), {limit}u, {error}, {'true' if old else 'false'})")
        return store

    # -- row_update_code ----------------------------------------------------------
    def _ccu_dependents(self, ccu):
        """Synapse populations sharing the connectivity (the updated one
        first) and every per-synapse array to move with its synapses:
        ``{spec.key: (spec, batch copies)}``."""
        sg = ccu.synapse_group
        m = self.model
        stride = m._sizes[(sg.name, "stride")]
        groups = [sg]
        for ref in ccu.var_refs.values():
            g = ccu._synapses_of(ref.group)
            if g not in groups:
                if m._sizes[(g.name, "stride")] != stride:
                    raise ModelError(
                        f"custom connectivity update '{ccu.name}': synapse population "
                        f"'{g.name}' (referenced) has rows padded to "
                        f"{m._sizes[(g.name, 'stride')]} synapses but '{sg.name}' to {stride}; "
                        "give both the same max_connections")
                groups.append(g)
        count = sg.src.num_neurons * stride
        deps = {}

        def add(spec):
            if spec is not None and spec.size >= count and spec.size % count == 0:
                deps[spec.key] = (spec, spec.size // count)
        names = {g.name for g in groups}
        for g in groups:
            if g.matrix_type.weight == Weight.INDIVIDUAL:
                for v in g.vars.values():
                    add(self.layout.get(g.name, v.name))
        for cu in m.custom_updates.values():
            if isinstance(cu.size, tuple) and cu.size[1] in names:
                for v in cu.vars.values():
                    add(self.layout.get(cu.name, v.name))
        for other in m.custom_connectivity_updates.values():
            if other.synapse_group.name in names:
                for v in other.vars.values():
                    add(self.layout.get(other.name, v.name))
        return groups, deps

    def _ccu_row_update(self, ccu):
        sg = ccu.synapse_group
        snippet = ccu.snippet
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        stride = self.model._sizes[(sg.name, "stride")]
        groups, deps = self._ccu_dependents(ccu)
        rls = [self._array_name(g.name, "rowLength") for g in groups]
        inds = [self._array_name(g.name, "ind") for g in groups]
        where = f"custom connectivity update '{ccu.name}'"

        env = self._ccu_env(ccu)
        env.define("id_pre", Value("id_pre", description="presynaptic index", ctype=IDX))
        env.define("row_stride", Value(f"({stride}u)", description="padded row length",
                                       ctype=IDX))
        env.define("row_length", Value("_rowLength", description="current row length",
                                       ctype=IDX))
        for v in ccu.pre_vars.values():
            spec = self._spec(ccu.name, "pre_" + v.name)
            env.define(v.name, Value(f"{spec.c_name}[id_pre]", writable=writable(v.access),
                                     ctype=v.type, description="presynaptic variable"))
        for name, spec, w, ctype in self._ccu_neuron_refs(ccu, "pre"):
            env.define(name, Value(f"{spec.c_name}[id_pre]", writable=w, ctype=ctype,
                                   description="presynaptic variable reference"))

        # per-synapse values: own variables, then references (add_synapse's order)
        syn_values = []       # (name, spec, writable, ctype)
        for v in snippet.vars:
            syn_values.append((v.name, self._spec(ccu.name, v.name), writable(v.access),
                               v.type))
        for r in snippet.var_refs:
            ref = ccu.var_refs[r.name]
            spec, access, _ = self._ref_info(ref)
            if var_dims(access) & VarAccessDim.BATCH and self.B > 1:
                raise ModelError(f"{where}: variable reference '{r.name}' points at "
                                 f"'{ref.group.name}.{ref.var_name}', which has a copy per "
                                 f"batch element (batch_size {self.B}); connectivity is "
                                 "shared by the batch, so row_update_code can only reference "
                                 "variables shared by it (they are still moved with their "
                                 "synapses)")
            if spec.key not in deps:
                raise ModelError(f"{where}: variable reference '{r.name}' does not point at "
                                 "a per-synapse array of the updated connectivity")
            syn_values.append((r.name, spec, writable(r.access), spec.ctype))
        post_values = []
        for v in ccu.post_vars.values():
            post_values.append((v.name, self._spec(ccu.name, "post_" + v.name), v.type,
                                "postsynaptic variable"))
        for name, spec, _, ctype in self._ccu_neuron_refs(ccu, "post"):
            post_values.append((name, spec, ctype, "postsynaptic variable reference"))

        def move(dst, src):
            lines = [f"{ind}[{dst}] = {ind}[{src}];" for ind in inds]
            for spec, nb in deps.values():
                c = npre * stride
                if nb == 1:
                    lines.append(f"{spec.c_name}[{dst}] = {spec.c_name}[{src}];")
                else:
                    lines.append(f"for (unsigned int _b = 0; _b < {nb}u; _b++) "
                                 f"{spec.c_name}[_b * {c}u + {dst}] = "
                                 f"{spec.c_name}[_b * {c}u + {src}];")
            return lines

        def remove_synapse(args):
            w = CodeWriter()
            with w.block():
                w.line("const unsigned int _last = _rowStart + _rowLength - 1u;")
                w.lines(move("id_syn", "_last"))
                w.line("_rowLength--;")
                w.line("_j--;  // the synapse moved here is visited next")
            return "\n".join(w.result())

        def add_synapse(args):
            w = CodeWriter()
            with w.block():
                w.line(f"const unsigned int _idPost = (unsigned int)({args[0]});")
                values = {}
                for i, (name, spec, _, ctype) in enumerate(syn_values):
                    w.line(f"const {ctype} _add{i} = ({ctype})({args[1 + i]});")
                    values[spec.key] = f"_add{i}"
                w.line(f"if (_idPost >= {npost}u) {{ mg_fail({ERROR_SYNAPSE_INDEX}); }}")
                w.line(f"else if (_rowLength >= {stride}u) {{ mg_fail({ERROR_ADD_SYNAPSE}); }}")
                with w.block("else"):
                    w.line("const unsigned int _s = _rowStart + _rowLength;")
                    w.lines(f"{ind}[_s] = _idPost;" for ind in inds)
                    c = npre * stride
                    for key, (spec, nb) in deps.items():
                        value = values.get(key, "0")
                        if nb == 1:
                            w.line(f"{spec.c_name}[_s] = {value};")
                        else:
                            w.line(f"for (unsigned int _b = 0; _b < {nb}u; _b++) "
                                   f"{spec.c_name}[_b * {c}u + _s] = {value};")
                    w.line("_rowLength++;")
            return "\n".join(w.result())

        def misplaced(message):
            def render(args):
                raise CodeError(message)
            return render

        n_add = 1 + len(syn_values)
        env.define("add_synapse", Function(add_synapse, n_add, n_add, "function",
                                           statement=True, returns="void", int_args=(0,)))
        env.define("remove_synapse", Function(
            misplaced("remove_synapse() can only be called inside for_each_synapse { ... }"),
            0, 0, "function", statement=True, returns="void"))
        depth = [0]

        def for_each_synapse(rend, body, outer, indent):
            if depth[0]:
                raise CodeError("for_each_synapse { ... } cannot be nested")
            inner = outer.child()
            inner.define("id_post", Value("id_post", description="postsynaptic index",
                                          ctype=IDX))
            inner.define("id_syn", Value("id_syn", description="synapse index", ctype=IDX))
            for name, spec, w, ctype in syn_values:
                inner.define(name, Value(f"{spec.c_name}[id_syn]", writable=w, ctype=ctype,
                                         description="synapse variable"))
            hint = ("rows are updated in parallel, so row_update_code may not write "
                    "postsynaptic variables")
            for name, spec, ctype, desc in post_values:
                inner.define(name, Value(f"{spec.c_name}[id_post]", ctype=ctype,
                                         description=desc, read_only_hint=hint))
            inner.define("remove_synapse", Function(remove_synapse, 0, 0, "function",
                                                    statement=True, returns="void"))
            inner.define("add_synapse", Function(
                misplaced("add_synapse(...) cannot be called inside for_each_synapse { ... } "
                          "(the row is being visited); call it after the loop"),
                n_add, n_add, "function", statement=True, returns="void"))
            w = CodeWriter(indent)
            depth[0] += 1
            saved, rend.loops = rend.loops, 1     # break/continue end or skip a synapse
            try:
                with w.block("for (unsigned int _j = 0; _j < _rowLength; _j++)"):
                    w.line("const unsigned int id_syn = _rowStart + _j;")
                    w.line(f"const unsigned int id_post = {inds[0]}[id_syn];")
                    w.line("(void)id_post;")
                    for s in body.children:
                        w.lines(line[len(INDENT) * (indent + 1):]
                                for line in rend.stmt(s, inner, indent + 1))
            finally:
                rend.loops = saved
                depth[0] -= 1
            return w.result()

        rend = self.renderer(hooks={"for_each_synapse": for_each_synapse})
        lines = rend.statements(snippet.row_update_code, env, indent=0, new_scope=True,
                                context=(snippet.class_name, "row_update_code", where))
        self.custom_connectivity_grid(ccu.name, npre)
        cw = CodeWriter()
        with cw.block():
            cw.comment(f"row update of custom connectivity update '{ccu.name}' "
                       f"(model '{snippet.class_name}') on '{sg.name}'")
            with self.element_loops(cw, "id_pre", npre, None):
                cw.line(f"const unsigned int _rowStart = id_pre * {stride}u;")
                cw.line(f"unsigned int _rowLength = {rls[0]}[id_pre];")
                for rl, ind in zip(rls[1:], inds[1:]):
                    cw.comment("a population sharing the connectivity must hold the same row")
                    cw.line(f"if ({rl}[id_pre] != _rowLength) {{ "
                            f"mg_fail({ERROR_CONNECTIVITY_MISMATCH}); continue; }}")
                    with cw.block():
                        cw.line("bool _same = true;")
                        cw.line(f"for (unsigned int _j = 0; _same && _j < _rowLength; _j++) "
                                f"_same = {ind}[_rowStart + _j] == {inds[0]}[_rowStart + _j];")
                        cw.line(f"if (!_same) {{ mg_fail({ERROR_CONNECTIVITY_MISMATCH}); "
                                "continue; }")
                cw.lines(self._rng_lines(ccu, env, "id_pre"))
                cw.lines(expand_multiline(lines))
                cw.lines(f"{rl}[id_pre] = _rowLength;" for rl in rls)
                cw.lines(self._ccu_slot_copies(ccu, env, "pre", "id_pre"))
        return cw.result()

    def _ccu_slot_copies(self, ccu, env, role, index):
        """Neuron variables written through pre (post) references reach the
        per-slot copies delayed synapses read (the last neuron update's slot,
        as a custom update's READ_WRITE reference does); ``index``: the
        neuron, or None for all (host code)."""
        lines = []
        for name, spec, w, _ in self._ccu_neuron_refs(ccu, role):
            if not w or name not in env.root.written:
                continue
            for copy, slots, n in self._slot_copies(spec.key):
                i = index or "_i"
                line = (f"{copy.c_name}[(unsigned int)((step + {slots - 1}u) % {slots}u) * {n}u"
                        f" + {i}] = {spec.c_name}[{i}];")
                lines.append(line if index else
                             f"for (unsigned int _i = 0; _i < {n}u; _i++) {line}")
        return lines
