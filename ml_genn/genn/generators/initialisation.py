"""Shared generator of initialisation: variables initialised by snippets
and sparse connectivity built by row-building code.

Initialisation is a list of :class:`InitSection` run in order (connectivity
before the synapse variables that read it); the backend supplies the
element loops or thread mapping (``element_loops``) and turns the sections
into functions (``init_functions``).
"""
from typing import NamedTuple, Optional

from ..errors import ModelError
from ..groups import is_constant
from ..names import comment
from ..snippets import VarInit
from ..types import SynapseMatrixConnectivity as Conn, SynapseMatrixWeight as Weight
from ..backends.writer import CodeWriter
from ..backends.base import ERROR_ROW, ERROR_SYNAPSE_INDEX, expand_multiline


class InitSection(NamedTuple):
    """Code initialising one array (or building one connectivity): a loop
    over ``size`` elements; ``condition``: index into the build-connectivity
    flags that must be set for it to run (None: always)."""
    lines: list
    size: int
    condition: Optional[int] = None
    title: str = ""


class Initialisation:
    """Mixed into a backend (see :class:`~..backends.base.Backend` for the hooks)."""

    def _init_var_loop(self, group, var, spec, count, kind="neuron"):
        batched = spec.size > count
        n = count
        stream = self.stream("init", group.name, spec.key[1])
        element = f"{'batch * ' + str(n) + 'u + ' if batched else ''}id"
        w = CodeWriter()
        w.comment(f"initialise '{group.name}.{var.name}' ({var.init.snippet.class_name})")
        with self.element_loops(w, "id", n, spec.size // n if batched else None):
            w.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {stream}u, {element}, 0);")
            w.line(f"{spec.ctype} _value;")
            w.lines(self._var_init_code(group, var, "_value", "neuron"))
            w.line(f"{spec.c_name}[{element}] = _value;")
        return InitSection(w.result(), n)

    def _init(self):
        m = self.model
        sources = []
        for ng in m.neuron_populations.values():
            sources += [(ng, v, ng.name, v.name, ng.num_neurons) for v in ng.vars.values()]
        for cs in m.current_sources.values():
            sources += [(cs, v, cs.name, v.name, cs.target.num_neurons) for v in cs.vars.values()]
        for cu in m.custom_updates.values():
            sources += [(cu, v, cu.name, v.name, self._custom_update_size(cu))
                        for v in cu.vars.values()]
        for ccu in m.custom_connectivity_updates.values():
            sources += [(ccu, v, ccu.name, "pre_" + v.name, ccu.synapse_group.src.num_neurons)
                        for v in ccu.pre_vars.values()]
            sources += [(ccu, v, ccu.name, "post_" + v.name, ccu.synapse_group.trg.num_neurons)
                        for v in ccu.post_vars.values()]
        for sg in m.synapse_populations.values():
            sources += [(sg, v, sg.name, "psm_" + v.name, sg.trg.num_neurons)
                        for v in sg.psm_vars.values()]
            sources += [(sg, v, sg.name, "pre_" + v.name, sg.src.num_neurons)
                        for v in sg.pre_vars.values()]
            sources += [(sg, v, sg.name, "post_" + v.name, sg.trg.num_neurons)
                        for v in sg.post_vars.values()]
        sections = []
        for group, v, gname, field, count in sources:
            if isinstance(v.init, VarInit) and not is_constant(v.init):
                spec = self._spec(gname, field)
                count = spec.size if spec.size < count else count
                sections.append(self._init_var_loop(group, v, spec, count))
        for i, sg in enumerate(m.synapse_populations.values()):
            sections += self._init_synapses(sg, i)
        for ccu in m.custom_connectivity_updates.values():
            sections += self._init_ccu_vars(ccu)
        return self.init_functions(sections)

    def _init_synapses(self, sg, index):
        conn, weight = sg.matrix_type.connectivity, sg.matrix_type.weight
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        sections = []
        snippet_vars = [v for v in sg.vars.values()
                        if isinstance(v.init, VarInit) and not is_constant(v.init)]
        if weight == Weight.PROCEDURAL:
            return sections
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
                lines = self._row_build(sg, add_synapse, ["unsigned int _rowLength = 0;"],
                                        [f"{rl}[id_pre] = _rowLength;"])
                sections.append(InitSection(
                    lines, npre, index,
                    comment(f"build connectivity of '{sg.name}' ({ci.snippet.class_name})")))
            elif ci is not None and ci.snippet.col_build_code.strip() and not kernel_vars:
                sections.append(self._column_build(sg, index, stride, rl, ind))
            elif kernel_vars:
                raise ModelError(f"synapse population '{sg.name}': variables initialised "
                                 "with id_kernel need connectivity built by a snippet")
        elif conn == Conn.BITMASK:
            sections += self._init_bitmask(sg, index)
        elif kernel_vars and weight != Weight.KERNEL:
            raise ModelError(f"synapse population '{sg.name}': id_kernel is only available "
                             "with SPARSE connectivity snippets or KERNEL weights")
        for v in snippet_vars:
            if conn == Conn.BITMASK:
                break       # no per-synapse state (rejected when the group was added)
            if conn == Conn.SPARSE and v in kernel_vars:
                continue
            spec = self._spec(sg.name, v.name)
            stream = self.stream("init", sg.name, v.name)
            if weight == Weight.KERNEL:
                k = 1
                for d in sg.kernel_size:
                    k *= d
                head = ("id_kernel", ["const unsigned int id_syn = id_kernel;"])
                extra = {"id_kernel"}
                count = k
            elif conn == Conn.DENSE:
                head = ("id_syn",
                        [f"const unsigned int id_pre = id_syn / {npost}u, "
                         f"id_post = id_syn % {npost}u;"])
                extra = {"id_pre", "id_post"}
                count = npre * npost
            else:
                head, extra, count = self._sparse_synapse_head(sg)
            sections.append(self._synapse_var_section(sg, sg, v, spec, stream, head, extra,
                                                      count))
        return sections

    def _sparse_synapse_head(self, sg):
        """Loop head over the padded rows of a SPARSE group: ``(index name
        and the lines deriving id_pre/id_post, extra names, count)``."""
        stride = self.model._sizes[(sg.name, "stride")]
        rl, ind = self._array_name(sg.name, "rowLength"), self._array_name(sg.name, "ind")
        head = ("id_syn",
                [f"const unsigned int id_pre = id_syn / {stride}u;",
                 f"if (id_syn % {stride}u >= {rl}[id_pre]) continue;",
                 f"const unsigned int id_post = {ind}[id_syn];"])
        return head, {"id_pre", "id_post"}, sg.src.num_neurons * stride

    def _synapse_var_section(self, sg, owner, v, spec, stream, head, extra, count):
        """Initialise per-synapse variable ``v`` of ``owner`` (the synapse
        group ``sg`` or a connectivity update on it) from its snippet."""
        nb = spec.size // count
        cw = CodeWriter()
        cw.comment(f"initialise '{owner.name}.{v.name}' ({v.init.snippet.class_name})")
        index_name, indices = head
        with self.element_loops(cw, index_name, count, nb):
            cw.lines(indices)
            cw.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, {stream}u, "
                    f"batch * {count}u + id_syn, 0);")
            cw.line(f"{spec.ctype} _value;")
            cw.lines(self._var_init_code(owner, v, "_value", "synapse", extra_names=extra,
                                         synapse_group=sg))
            cw.line(f"{spec.c_name}[batch * {count}u + id_syn] = _value;")
        return InitSection(cw.result(), count)

    def _init_ccu_vars(self, ccu):
        """Per-synapse variables of a connectivity update initialised by
        snippets, once the rows of its (SPARSE) synapse group exist."""
        sg = ccu.synapse_group
        sections = []
        for v in ccu.vars.values():
            if isinstance(v.init, VarInit) and not is_constant(v.init):
                head, extra, count = self._sparse_synapse_head(sg)
                sections.append(self._synapse_var_section(
                    sg, ccu, v, self._spec(ccu.name, v.name),
                    self.stream("init", ccu.name, v.name), head, extra, count))
        return sections

    def _init_bitmask(self, sg, index):
        """BITMASK connectivity from row_build_code: addSynapse sets the bit
        of (id_pre, id_post); rows share words, so the bit is set atomically."""
        ci = sg.connectivity_initialiser
        if ci is None or not ci.snippet.row_build_code.strip():
            return []
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        gp = self._array_name(sg.name, "gp")

        def add_synapse(args):
            aw = CodeWriter()
            with aw.block():
                aw.line(f"const unsigned int _idPost = {args[0]};")
                aw.line(f"if (_idPost >= {npost}u) {{ mg_fail({ERROR_SYNAPSE_INDEX}); }}")
                with aw.block("else"):
                    aw.line(f"const uint64_t _bit = (uint64_t)id_pre * {npost}u + _idPost;")
                    aw.line(self.atomic_or(f"{gp}[_bit >> 5]", "1u << (_bit & 31u)") + ";")
            return "\n".join(aw.result())
        return [InitSection(self._row_build(sg, add_synapse), npre, index,
                            comment(f"build BITMASK connectivity of '{sg.name}' "
                                    f"({ci.snippet.class_name})"))]

    def _row_build(self, sg, add_synapse, before=(), after=()):
        """The connectivity snippet's row_build_code for every presynaptic
        neuron, with the row's random stream; ``before``/``after``: lines
        around each row."""
        ci = sg.connectivity_initialiser
        env = self._conn_env(sg, add_synapse, "row")
        rows = self.renderer().statements(
            ci.snippet.row_build_code, env, indent=0,
            context=(ci.snippet.class_name, "row_build_code", f"synapse population '{sg.name}'"))
        cw = CodeWriter()
        with self.element_loops(cw, "id_pre", sg.src.num_neurons, None):
            cw.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                    f"{self.stream('conn', sg.name)}u, id_pre, 0);")
            cw.lines(before)
            cw.lines(expand_multiline(rows))
            cw.lines(after)
        return cw.result()

    def _column_build(self, sg, index, stride, rl, ind):
        """col_build_code: one pass per postsynaptic neuron, appending to the
        rows of the presynaptic neurons it draws.  Columns run one after the
        other (in order: rows come out sorted by postsynaptic index, and the
        result is the same on every target)."""
        ci = sg.connectivity_initialiser
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons

        def add_synapse(args):
            aw = CodeWriter()
            with aw.block():
                aw.line(f"const unsigned int _idPre = {args[0]};")
                aw.line(f"if (_idPre >= {npre}u) {{ mg_fail({ERROR_SYNAPSE_INDEX}); }}")
                with aw.block(f"else if ({rl}[_idPre] < {stride}u)"):
                    aw.line(f"{ind}[_idPre * {stride}u + {rl}[_idPre]] = id_post;")
                    aw.line(f"{rl}[_idPre]++;")
                with aw.block("else"):
                    aw.line(f"mg_fail({ERROR_ROW});  // row longer than its padded stride")
            return "\n".join(aw.result())
        env = self._conn_env(sg, add_synapse, "col")
        cols = self.renderer().statements(
            ci.snippet.col_build_code, env, indent=0,
            context=(ci.snippet.class_name, "col_build_code", f"synapse population '{sg.name}'"))
        cw = CodeWriter()
        with self.serial_loop(cw, "id_post", npost):
            cw.line(f"mg_rng _rng; mg_rng_init(&_rng, mg_seed, "
                    f"{self.stream('conn', sg.name)}u, id_post, 0);")
            cw.lines(expand_multiline(cols))
        return InitSection(cw.result(), 1, index,
                           comment(f"build connectivity of '{sg.name}' by columns "
                                   f"({ci.snippet.class_name})"))
