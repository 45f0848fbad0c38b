"""References from custom updates (and models) to other groups' variables."""
from dataclasses import dataclass
from typing import Optional

from .errors import ModelError


@dataclass
class VarRef:
    """Points at one variable of a group; ``key`` names its array."""
    group: object
    var_name: str
    # "neuron", "psm", "wu", "wu_pre", "wu_post", "ccu_pre", "ccu_post",
    # "out_post", "den_delay", "spike_count", "spike_time", "custom"
    kind: str
    transpose_group: Optional[object] = None
    transpose_var: Optional[str] = None

    @property
    def variable(self):
        g = self.group
        table = {"neuron": getattr(g, "vars", {}), "psm": getattr(g, "psm_vars", {}),
                 "wu": getattr(g, "vars", {}), "custom": getattr(g, "vars", {}),
                 "wu_pre": getattr(g, "pre_vars", {}), "wu_post": getattr(g, "post_vars", {}),
                 "ccu_pre": getattr(g, "pre_vars", {}), "ccu_post": getattr(g, "post_vars", {})}
        return table.get(self.kind, {}).get(self.var_name)

    def variable_dims(self):
        """Axes of the referenced variable (the input accumulator is batched)."""
        from .types import VarAccessDim
        if self.kind in ("out_post", "den_delay", "spike_count", "spike_time"):
            return VarAccessDim.ELEMENT | VarAccessDim.BATCH
        return self.variable.dims

    @property
    def size(self):
        g = self.group
        if self.kind in ("neuron",):
            return g.num_neurons
        if self.kind in ("psm", "out_post", "wu_post"):
            return g.trg.num_neurons
        if self.kind == "wu_pre":
            return g.src.num_neurons
        if self.kind in ("ccu_pre", "ccu_post"):
            sg = g.synapse_group
            return (sg.src if self.kind == "ccu_pre" else sg.trg).num_neurons
        if self.kind == "den_delay":
            return g.max_dendritic_delay_timesteps * g.trg.num_neurons
        if self.kind == "spike_count":
            return g.num_delay_slots
        if self.kind == "spike_time":
            return g.num_delay_slots * g.num_neurons
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
    """Reference a per-synapse variable of a synapse population.

    With ``transpose_sg``/``transpose_var_name`` a custom update also writes
    the variable's value after the update, transposed, into that variable
    of a second (DENSE) synapse population from the first one's target to
    its source (e.g. feedback weights kept equal to the forward ones)."""
    _check(sg, sg.vars, var_name, "synapse variable")
    from .types import SynapseMatrixWeight
    if sg.matrix_type.weight == SynapseMatrixWeight.PROCEDURAL:
        raise ModelError(f"create_wu_var_ref('{sg.name}', '{var_name}'): synapse population "
                         f"'{sg.name}' is {sg.matrix_type.name}, so its variables are computed "
                         "from their initialisers wherever they are used and have no storage "
                         "to reference; use DENSE or SPARSE to keep them")
    if transpose_sg is None and transpose_var_name is None:
        return VarRef(sg, var_name, "wu")
    if transpose_sg is None or transpose_var_name is None:
        raise ModelError(f"create_wu_var_ref('{sg.name}', '{var_name}'): a transpose needs "
                         "both transpose_sg and transpose_var_name")
    _check(transpose_sg, transpose_sg.vars, transpose_var_name, "synapse variable")
    from .types import SynapseMatrixType
    for g in (sg, transpose_sg):
        if g.matrix_type != SynapseMatrixType.DENSE:
            raise ModelError(f"transpose variable reference: synapse population '{g.name}' "
                             f"is {g.matrix_type.name}; transposes need DENSE connectivity")
    if (transpose_sg.src.num_neurons, transpose_sg.trg.num_neurons) != \
            (sg.trg.num_neurons, sg.src.num_neurons):
        raise ModelError(f"transpose variable reference: '{transpose_sg.name}' connects "
                         f"{transpose_sg.src.num_neurons} to {transpose_sg.trg.num_neurons} "
                         f"neurons, but the transpose of '{sg.name}' connects "
                         f"{sg.trg.num_neurons} to {sg.src.num_neurons}")
    a, b = sg.vars[var_name], transpose_sg.vars[transpose_var_name]
    if a.type != b.type or a.dims != b.dims:
        raise ModelError(f"transpose variable reference: '{sg.name}.{var_name}' "
                         f"({a.type}) and '{transpose_sg.name}.{transpose_var_name}' "
                         f"({b.type}) differ in type or batch dimension")
    return VarRef(sg, var_name, "wu", transpose_sg, transpose_var_name)


def create_wu_pre_var_ref(sg, var_name):
    """Reference a presynaptic variable of a weight update model."""
    _check(sg, sg.pre_vars, var_name, "presynaptic weight update variable")
    return VarRef(sg, var_name, "wu_pre")


def create_wu_post_var_ref(sg, var_name):
    """Reference a postsynaptic variable of a weight update model."""
    _check(sg, sg.post_vars, var_name, "postsynaptic weight update variable")
    return VarRef(sg, var_name, "wu_post")


def create_pre_var_ref(ccu, var_name):
    """Reference a presynaptic variable of a custom connectivity update."""
    _check(ccu, ccu.pre_vars, var_name, "presynaptic custom connectivity update variable")
    return VarRef(ccu, var_name, "ccu_pre")


def create_post_var_ref(ccu, var_name):
    """Reference a postsynaptic variable of a custom connectivity update."""
    _check(ccu, ccu.post_vars, var_name, "postsynaptic custom connectivity update variable")
    return VarRef(ccu, var_name, "ccu_post")


def create_den_delay_var_ref(sg):
    """Reference a synapse population's dendritic delay ring (every slot of
    every target neuron: ``max_dendritic_delay_timesteps * num_post``
    elements per batch element), e.g. to clear it."""
    if sg.max_dendritic_delay_timesteps <= 1:
        raise ModelError(f"create_den_delay_var_ref('{sg.name}'): it has no dendritic delay "
                         "ring (set max_dendritic_delay_timesteps > 1)")
    return VarRef(sg, "denDelay", "den_delay")


def create_spike_time_var_ref(ng):
    """Reference a neuron population's spike times (``st``; every delay slot:
    ``num_delay_slots * num_neurons`` elements per batch element), e.g. to
    reset them between examples."""
    return VarRef(ng, "st", "spike_time")


def create_prev_spike_time_var_ref(ng):
    """Reference a neuron population's previous spike times (``prev_st``),
    laid out as :func:`create_spike_time_var_ref`."""
    return VarRef(ng, "prevST", "spike_time")


def create_src_spike_count_var_ref(sg):
    """Reference the spike counts of a synapse population's source (one per
    delay slot and batch element), e.g. to clear them between examples."""
    return VarRef(sg.src, "spkCnt", "spike_count")


@dataclass
class EGPRef:
    group: object
    egp_name: str
    field: str = ""          # the EGP's array: egp_name, or psm_<name>

    def __post_init__(self):
        self.field = self.field or self.egp_name


def create_egp_ref(group, egp_name):
    """Reference an extra global parameter of a neuron population, current
    source or custom update (or of a synapse population's weight update)."""
    _check(group, group.extra_global_params, egp_name, "extra global parameter")
    return EGPRef(group, egp_name)


def create_wu_egp_ref(sg, egp_name):
    """Reference an extra global parameter of a weight update model."""
    _check(sg, sg.extra_global_params, egp_name, "weight update extra global parameter")
    return EGPRef(sg, egp_name)


def create_psm_egp_ref(sg, egp_name):
    """Reference an extra global parameter of a postsynaptic model."""
    _check(sg, sg.psm_extra_global_params, egp_name, "postsynaptic extra global parameter")
    return EGPRef(sg, egp_name, "psm_" + egp_name)
