"""References from custom updates (and models) to other groups' variables."""
from dataclasses import dataclass
from typing import Optional

from .errors import ModelError


@dataclass
class VarRef:
    """Points at one variable of a group; ``key`` names its array."""
    group: object
    var_name: str
    kind: str                # "neuron", "psm", "wu", "out_post", "custom"
    transpose_group: Optional[object] = None
    transpose_var: Optional[str] = None

    @property
    def variable(self):
        g = self.group
        table = {"neuron": getattr(g, "vars", {}), "psm": getattr(g, "psm_vars", {}),
                 "wu": getattr(g, "vars", {}), "custom": getattr(g, "vars", {})}
        return table.get(self.kind, {}).get(self.var_name)

    def variable_dims(self):
        """Axes of the referenced variable (the input accumulator is batched)."""
        from .types import VarAccessDim
        if self.kind == "out_post":
            return VarAccessDim.ELEMENT | VarAccessDim.BATCH
        return self.variable.dims

    @property
    def size(self):
        g = self.group
        if self.kind in ("neuron",):
            return g.num_neurons
        if self.kind in ("psm", "out_post"):
            return g.trg.num_neurons
        if self.kind == "custom":
            return g.size
        if self.kind == "wu":
            return ("wu", g.name)
        raise ModelError(f"unknown reference kind {self.kind}")


def _check(group, table, name, what):
    if name not in table:
        raise ModelError(f"cannot reference {what} '{name}' of '{group.name}': it has "
                         f"{', '.join(table) or 'no such variables'}")


def create_var_ref(group, var_name):
    """Reference a neuron (or current source / custom update) variable."""
    _check(group, group.vars, var_name, "variable")
    from .groups import CustomUpdate
    return VarRef(group, var_name, "custom" if isinstance(group, CustomUpdate) else "neuron")


def create_psm_var_ref(sg, var_name):
    """Reference a postsynaptic-model variable of a synapse population."""
    _check(sg, sg.psm_vars, var_name, "postsynaptic variable")
    return VarRef(sg, var_name, "psm")


def create_out_post_var_ref(sg):
    """Reference the input accumulator (``inSyn``) of a synapse population."""
    return VarRef(sg, "inSyn", "out_post")


def create_wu_var_ref(sg, var_name, transpose_sg=None, transpose_var_name=None):
    """Reference a per-synapse variable of a synapse population."""
    _check(sg, sg.vars, var_name, "synapse variable")
    if transpose_sg is not None:
        raise ModelError("transpose variable references are not supported yet")
    return VarRef(sg, var_name, "wu")


@dataclass
class EGPRef:
    group: object
    egp_name: str


def create_egp_ref(group, egp_name):
    _check(group, group.extra_global_params, egp_name, "extra global parameter")
    return EGPRef(group, egp_name)
