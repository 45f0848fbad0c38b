"""Shared generator of custom updates: per element loads, the update code,
stores, and batch or neuron reductions.

The backend supplies the loops or thread mapping for the three shapes of
update (``custom_update_loops``: plain, reduction over the batch, reduction
over elements) and turns each group into functions
(``custom_update_functions``).
"""
from ..code import Value
from ..code.environment import Local
from ..errors import ModelError
from ..types import (VarAccessDim, VarAccessModeAttribute as Attr, access_mode,
                     custom_update_var_dims, var_dims)
from ..backends.writer import CodeWriter


class CustomUpdate:
    """Mixed into a backend (see :class:`~..backends.base.Backend` for the hooks)."""

    def _custom_update_group(self, group_name):
        updates = [(cu, self._custom_update(cu)) for cu in self.model.custom_updates.values()
                   if cu.group_name == group_name]
        # custom connectivity updates: host code first, then (after the
        # custom updates) the rows
        host, rows = self._custom_connectivity_parts(group_name)
        return self.custom_update_functions(group_name, host + updates + rows)

    def _custom_update(self, cu):
        snippet = cu.snippet
        dims = cu.update_dims()
        batched = bool(dims & VarAccessDim.BATCH)
        B = self.B if batched else 1
        n = self._custom_update_size(cu)
        env = self.element_env(cu, snippet, cu.params, n, rng=False,
                               id_description="element index")
        for r in snippet.extra_global_param_refs:
            ref = cu.egp_refs[r.name]
            spec = self._spec(ref.group.name, ref.field)
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
                broadcast = bool(int(mode) & Attr.BROADCAST)
                stores += [(name, line) for line in
                           self._slot_copy_stores(spec, d, local, broadcast)]
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
        body += self._transposes(cu, env)
        for name, op, _, spec in red:
            combine = (f"_acc_{name} = mg_max(_acc_{name}, _l_{name});" if op == "max"
                       else f"_acc_{name} += _l_{name};")
            body.append(combine)
        acc_init = [f"{spec.ctype} _acc_{name} = "
                    f"{'-' + ('FLT_MAX' if spec.ctype in ('float',) or (spec.ctype == 'scalar' and self.precision == 'float') else 'DBL_MAX') if op == 'max' else '0'};"
                    for name, op, _, spec in red]
        acc_store = [f"{target} = _acc_{name};" for name, op, target, spec in red]
        kind = "batch_reduction" if batch_red else "neuron_reduction" if neuron_red else "plain"
        cw = CodeWriter()
        with cw.block():
            cw.comment(f"custom update '{cu.name}' (model '{snippet.class_name}')")
            cw.lines(self.custom_update_loops(kind, n, B, red, acc_init, body, acc_store))
        return cw.result()

    def _slot_copies(self, key):
        """(copy spec, slots, neurons) of every per-slot copy of the array
        ``key`` that delayed synapses read: ``delayQueue.*`` (axonal and
        back-propagation delays) and ``pastValues.*`` (``postVar[d]``)."""
        group, field = key
        m = self.model
        out = []
        queue = self.layout.get(group, "delayQueue." + field)
        if queue is not None:
            if group in m.neuron_populations:
                ng = m.neuron_populations[group]
            else:
                sg = m.synapse_populations[group]
                ng = sg.src if field.startswith("pre_") else sg.trg
            out.append((queue, ng.num_delay_slots, ng.num_neurons))
        for sg in m.synapse_populations.values():
            for name, (source, _) in self._past_values(sg).items():
                if source == key:
                    out.append((self._spec(sg.name, f"pastValues.{name}"),
                                sg.max_dendritic_delay_timesteps, sg.trg.num_neurons))
        return out

    def _slot_copy_stores(self, spec, dims, local, broadcast):
        """A custom update's write to a variable delayed synapses read also
        reaches its per-slot copies, as in GeNN: the slot of the last neuron
        update (``step`` counts it already), or every slot for BROADCAST."""
        lines = []
        batch = "batch" if dims & VarAccessDim.BATCH and self.B > 1 else "0u"
        for copy, slots, n in self._slot_copies(spec.key):
            if broadcast:
                lines.append(f"for (unsigned int _s = 0; _s < {slots}u; _s++) "
                             f"{copy.c_name}[({batch} * {slots}u + _s) * {n}u + id] = {local};")
            else:
                lines.append(f"{copy.c_name}[({batch} * {slots}u + (unsigned int)((step + "
                             f"{slots - 1}u) % {slots}u)) * {n}u + id] = {local};")
        return lines

    def _transposes(self, cu, env):
        """Stores of transpose references: the value after the update, at
        the transposed synapse of the second population."""
        lines = []
        for r in cu.snippet.var_refs:
            ref = cu.var_refs[r.name]
            if getattr(ref, "transpose_group", None) is None:
                continue
            npre, npost = ref.group.src.num_neurons, ref.group.trg.num_neurons
            spec = self._spec(ref.transpose_group.name, ref.transpose_var)
            batched = spec.size > npre * npost
            offset = f"batch * {npre * npost}u + " if batched else ""
            lines.append(f"{spec.c_name}[{offset}(id % {npost}u) * {npre}u + id / {npost}u] = "
                         f"_l_{r.name};")
            if r.name not in env.root.used:
                # the value is loaded only where the update code reads it
                spec_src, access, count = self._ref_info(ref)
                d = var_dims(access)
                src_off = f"batch * {count}u + " if (d & VarAccessDim.BATCH and self.B > 1) else ""
                lines.insert(len(lines) - 1, f"const {spec_src.ctype} _l_{r.name} = "
                             f"{spec_src.c_name}[{src_off}id];")
        return lines
