"""Model and snippet descriptions, the ``create_*`` factories and ``init_*``.

A model is plain data: declared parameters, derived parameters, variables,
extra global parameters (EGPs), references and code strings.  Nothing here
generates code; the backends read these objects.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict

from .errors import ModelError
from .names import CODE_VALUE_NAMES, check_name
from .types import (CustomUpdateVarAccess, NUMERIC_TYPES, VarAccess, VarAccessMode)


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "scalar"


@dataclass(frozen=True)
class DerivedParam:
    name: str
    func: Callable
    type: str = "scalar"


@dataclass(frozen=True)
class Var:
    name: str
    type: str = "scalar"
    access: int = VarAccess.READ_WRITE


@dataclass(frozen=True)
class EGP:
    name: str
    type: str          # pointer type, e.g. "scalar*"


@dataclass(frozen=True)
class VarRefDecl:
    name: str
    type: str = "scalar"
    access: int = VarAccessMode.READ_WRITE


@dataclass(frozen=True)
class AdditionalInputVar:
    name: str
    type: str
    init: float


def _check_type(kind, name, type_, pointer_ok=False):
    if not isinstance(type_, str):
        raise ModelError(f"{kind} {name!r} has a type that is not a string: {type_!r}; "
                         "supported types: " + ", ".join(sorted(NUMERIC_TYPES)))
    t = type_.replace("const ", "").strip()
    base = t.rstrip("*").strip()
    if base not in NUMERIC_TYPES or (t.endswith("*") and not pointer_ok):
        raise ModelError(f"{kind} '{name}' has unsupported type '{type_}'; supported "
                         "types: " + ", ".join(sorted(NUMERIC_TYPES)))
    return t


def _params(items):
    out = []
    for p in items or []:
        if isinstance(p, str):
            out.append(Param(p))
        else:
            out.append(Param(p[0], _check_type("parameter", p[0], p[1])))
    return out


def _derived(items):
    out = []
    for d in items or []:
        if len(d) not in (2, 3) or not callable(d[1]):
            raise ModelError(f"derived parameter {d!r} must be (name, function(pars, dt)"
                             "[, type])")
        out.append(DerivedParam(d[0], d[1], d[2] if len(d) == 3 else "scalar"))
    return out


def _vars(items, default_access=VarAccess.READ_WRITE):
    out = []
    for v in items or []:
        if isinstance(v, str):
            out.append(Var(v, "scalar", default_access))
            continue
        if len(v) not in (2, 3):
            raise ModelError(f"variable {v!r} must be (name, type[, access])")
        access = v[2] if len(v) == 3 else default_access
        out.append(Var(v[0], _check_type("variable", v[0], v[1]), access))
    return out


def _egps(items):
    out = []
    for e in items or []:
        t = _check_type("extra global parameter", e[0], e[1], pointer_ok=True)
        if not t.endswith("*"):
            raise ModelError(f"extra global parameter '{e[0]}' must have a pointer type "
                             f"such as 'scalar*' (got '{e[1]}')")
        out.append(EGP(e[0], t))
    return out


def _egp_refs(items):
    return [EGP(e[0], _check_type("extra global parameter reference", e[0], e[1],
                                  pointer_ok=True)) for e in (items or [])]


def _refs(items, default=VarAccessMode.READ_WRITE):
    out = []
    for r in items or []:
        if len(r) not in (2, 3):
            raise ModelError(f"reference {r!r} must be (name, type[, access mode])")
        out.append(VarRefDecl(r[0], _check_type("reference", r[0], r[1]),
                              r[2] if len(r) == 3 else default))
    return out


_DECLARED_KINDS = {
    "params": "parameter", "derived_params": "derived parameter",
    "extra_global_params": "extra global parameter", "vars": "variable",
    "additional_input_vars": "additional input variable",
    "neuron_var_refs": "neuron variable reference", "pre_vars": "presynaptic variable",
    "post_vars": "postsynaptic variable",
    "pre_neuron_var_refs": "presynaptic neuron variable reference",
    "post_neuron_var_refs": "postsynaptic neuron variable reference",
    "psm_var_refs": "postsynaptic model variable reference",
    "var_refs": "variable reference",
    "pre_var_refs": "presynaptic variable reference",
    "post_var_refs": "postsynaptic variable reference",
    "extra_global_param_refs": "extra global parameter reference"}


class Snippet:
    """Common part of every model: params, derived params, EGPs, a name."""
    kind = "snippet"
    code_fields = ()
    # built-in value names of the code strings that declared names may not
    # shadow (by default all of them)
    code_value_names = CODE_VALUE_NAMES
    # declared kinds whose names never become C identifiers or array keys
    # (parameters become literals): the generated code's names are free for them
    c_free_kinds = ("params", "derived_params")

    def __init__(self, class_name, params=None, derived_params=None,
                 extra_global_params=None):
        check_name(class_name, "class", self.kind)
        self._class_name = class_name
        self.params = _params(params)
        self.derived_params = _derived(derived_params)
        self.extra_global_params = _egps(extra_global_params)

    @property
    def class_name(self):
        """The model's name, checked at creation (read-only: it is written into
        comments of generated code)."""
        return self._class_name

    # pygenn-style getters
    def get_params(self):
        return list(self.params)

    def get_derived_params(self):
        return list(self.derived_params)

    def get_extra_global_params(self):
        return list(self.extra_global_params)

    def _check_unique(self):
        """Every declared name is a valid, non-reserved identifier, declared once."""
        seen = {}
        owner = f"{self.kind} '{self.class_name}'"
        for group, items in self._declared().items():
            for item in items:
                check_name(item.name, _DECLARED_KINDS.get(group, group), owner,
                           declared=True,
                           allow_function_names=group in ("params", "derived_params"),
                           code_values=self.code_value_names,
                           c_free=group in self.c_free_kinds)
                if item.name in seen:
                    raise ModelError(f"{self.kind} '{self.class_name}': name '{item.name}' "
                                     f"is declared twice ({seen[item.name]} and {group})")
                seen[item.name] = group

    def _declared(self):
        return {"params": self.params, "derived_params": self.derived_params,
                "extra_global_params": self.extra_global_params}

    def __repr__(self):
        return f"<{type(self).__name__} '{self.class_name}'>"


class NeuronModel(Snippet):
    kind = "neuron model"
    code_fields = ("sim_code", "threshold_condition_code", "reset_code")

    def __init__(self, class_name, params=None, vars=None, derived_params=None,
                 sim_code=None, threshold_condition_code=None, reset_code=None,
                 extra_global_params=None, additional_input_vars=None,
                 auto_refractory_required=False):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.vars = _vars(vars)
        self.sim_code = sim_code or ""
        self.threshold_condition_code = threshold_condition_code or ""
        self.reset_code = reset_code or ""
        self.additional_input_vars = [
            AdditionalInputVar(a[0], _check_type("additional input variable", a[0], a[1]),
                               a[2])
            for a in (additional_input_vars or [])]
        self.auto_refractory_required = auto_refractory_required
        self._check_unique()

    def get_vars(self):
        return list(self.vars)

    def _declared(self):
        d = super()._declared()
        d["vars"] = self.vars
        d["additional_input_vars"] = self.additional_input_vars
        return d


class _NeuronAttachedModel(Snippet):
    """Models run inside a neuron's update (postsynaptic models, current
    sources): own variables, references to the neuron's variables, one
    code field."""

    def __init__(self, class_name, params, vars, neuron_var_refs, derived_params, code,
                 extra_global_params):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.vars = _vars(vars)
        self.neuron_var_refs = _refs(neuron_var_refs)
        setattr(self, self.code_fields[0], code or "")
        self._check_unique()

    def get_vars(self):
        return list(self.vars)

    def _declared(self):
        d = super()._declared()
        d["vars"] = self.vars
        d["neuron_var_refs"] = self.neuron_var_refs
        return d


class PostsynapticModel(_NeuronAttachedModel):
    kind = "postsynaptic model"
    code_fields = ("sim_code",)

    def __init__(self, class_name, params=None, vars=None, neuron_var_refs=None,
                 derived_params=None, sim_code=None, extra_global_params=None):
        super().__init__(class_name, params, vars, neuron_var_refs, derived_params, sim_code,
                         extra_global_params)


class _SynapseVariables:
    """pygenn's getters of per-synapse, presynaptic and postsynaptic variables."""

    def get_vars(self):
        return list(self.vars)

    def get_pre_vars(self):
        return list(self.pre_vars)

    def get_post_vars(self):
        return list(self.post_vars)


class WeightUpdateModel(_SynapseVariables, Snippet):
    kind = "weight update model"
    code_fields = ("pre_spike_syn_code", "pre_event_syn_code", "post_event_syn_code",
                   "post_spike_syn_code", "synapse_dynamics_code",
                   "pre_event_threshold_condition_code",
                   "post_event_threshold_condition_code", "pre_spike_code",
                   "post_spike_code", "pre_dynamics_code", "post_dynamics_code")

    def __init__(self, class_name, params=None, vars=None, pre_vars=None, post_vars=None,
                 pre_neuron_var_refs=None, post_neuron_var_refs=None, psm_var_refs=None,
                 derived_params=None, pre_spike_syn_code=None, pre_event_syn_code=None,
                 post_event_syn_code=None, post_spike_syn_code=None,
                 synapse_dynamics_code=None, pre_event_threshold_condition_code=None,
                 post_event_threshold_condition_code=None, pre_spike_code=None,
                 post_spike_code=None, pre_dynamics_code=None, post_dynamics_code=None,
                 extra_global_params=None):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.vars = _vars(vars)
        self.pre_vars = _vars(pre_vars)
        self.post_vars = _vars(post_vars)
        self.pre_neuron_var_refs = _refs(pre_neuron_var_refs)
        self.post_neuron_var_refs = _refs(post_neuron_var_refs)
        self.psm_var_refs = _refs(psm_var_refs)
        self.pre_spike_syn_code = pre_spike_syn_code or ""
        self.pre_event_syn_code = pre_event_syn_code or ""
        self.post_event_syn_code = post_event_syn_code or ""
        self.post_spike_syn_code = post_spike_syn_code or ""
        self.synapse_dynamics_code = synapse_dynamics_code or ""
        self.pre_event_threshold_condition_code = pre_event_threshold_condition_code or ""
        self.post_event_threshold_condition_code = post_event_threshold_condition_code or ""
        self.pre_spike_code = pre_spike_code or ""
        self.post_spike_code = post_spike_code or ""
        self.pre_dynamics_code = pre_dynamics_code or ""
        self.post_dynamics_code = post_dynamics_code or ""
        self._check_unique()

    def _declared(self):
        d = super()._declared()
        d.update(vars=self.vars, pre_vars=self.pre_vars, post_vars=self.post_vars,
                 pre_neuron_var_refs=self.pre_neuron_var_refs,
                 post_neuron_var_refs=self.post_neuron_var_refs,
                 psm_var_refs=self.psm_var_refs)
        return d


class CurrentSourceModel(_NeuronAttachedModel):
    kind = "current source model"
    code_fields = ("injection_code",)

    def __init__(self, class_name, params=None, vars=None, neuron_var_refs=None,
                 derived_params=None, injection_code=None, extra_global_params=None):
        super().__init__(class_name, params, vars, neuron_var_refs, derived_params,
                         injection_code, extra_global_params)


class CustomUpdateModel(Snippet):
    kind = "custom update model"
    code_fields = ("update_code",)
    # what update_code sees (its variables and references are prefixed C
    # locals, so e.g. a reference to spike times may be called 'st')
    code_value_names = frozenset("""t dt id id_pre id_post id_syn id_kernel batch num_batch
                                 num_neurons num_pre num_post""".split())
    c_free_kinds = ("params", "derived_params", "var_refs", "extra_global_param_refs")

    def __init__(self, class_name, params=None, vars=None, derived_params=None,
                 var_refs=None, update_code=None, extra_global_params=None,
                 extra_global_param_refs=None):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.vars = _vars(vars, CustomUpdateVarAccess.READ_WRITE)
        self.var_refs = _refs(var_refs)
        self.extra_global_param_refs = _egp_refs(extra_global_param_refs)
        self.update_code = update_code or ""
        self._check_unique()

    def get_vars(self):
        return list(self.vars)

    def get_var_refs(self):
        return list(self.var_refs)

    def _declared(self):
        d = super()._declared()
        d["vars"] = self.vars
        d["var_refs"] = self.var_refs
        d["extra_global_param_refs"] = self.extra_global_param_refs
        return d


class CustomConnectivityUpdateModel(_SynapseVariables, Snippet):
    """Changes SPARSE connectivity: ``row_update_code`` runs once per
    presynaptic neuron (``id_pre``) with ``for_each_synapse { ... }``,
    ``add_synapse(id_post, values...)`` and ``remove_synapse()``;
    ``host_update_code`` runs once before the rows (see
    :class:`~ml_genn.genn.groups.CustomConnectivityUpdate`)."""
    kind = "custom connectivity update model"
    code_fields = ("row_update_code", "host_update_code")

    def __init__(self, class_name, params=None, vars=None, pre_vars=None, post_vars=None,
                 derived_params=None, var_refs=None, pre_var_refs=None, post_var_refs=None,
                 row_update_code=None, host_update_code=None, extra_global_params=None,
                 extra_global_param_refs=None):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.vars = _vars(vars)
        self.pre_vars = _vars(pre_vars)
        self.post_vars = _vars(post_vars)
        self.var_refs = _refs(var_refs)
        self.pre_var_refs = _refs(pre_var_refs)
        self.post_var_refs = _refs(post_var_refs)
        self.extra_global_param_refs = _egp_refs(extra_global_param_refs)
        self.row_update_code = row_update_code or ""
        self.host_update_code = host_update_code or ""
        self._check_unique()

    def get_var_refs(self):
        return list(self.var_refs)

    def get_pre_var_refs(self):
        return list(self.pre_var_refs)

    def get_post_var_refs(self):
        return list(self.post_var_refs)

    def _declared(self):
        d = super()._declared()
        d.update(vars=self.vars, pre_vars=self.pre_vars, post_vars=self.post_vars,
                 var_refs=self.var_refs, pre_var_refs=self.pre_var_refs,
                 post_var_refs=self.post_var_refs,
                 extra_global_param_refs=self.extra_global_param_refs)
        return d


class InitVarSnippet(Snippet):
    kind = "variable initialisation snippet"
    code_fields = ("var_init_code",)

    def __init__(self, class_name, params=None, derived_params=None, var_init_code=None,
                 extra_global_params=None):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.var_init_code = var_init_code or ""
        self._check_unique()


class InitSparseConnectivitySnippet(Snippet):
    kind = "sparse connectivity snippet"
    code_fields = ("row_build_code", "col_build_code")

    def __init__(self, class_name, params=None, derived_params=None, row_build_code=None,
                 col_build_code=None, calc_max_row_len_func=None,
                 calc_max_col_len_func=None, calc_kernel_size_func=None,
                 extra_global_params=None):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.row_build_code = row_build_code or ""
        self.col_build_code = col_build_code or ""
        self.calc_max_row_len_func = calc_max_row_len_func
        self.calc_max_col_len_func = calc_max_col_len_func
        self.calc_kernel_size_func = calc_kernel_size_func
        self._check_unique()


class InitToeplitzConnectivitySnippet(Snippet):
    """``diagonal_build_code`` runs once per diagonal ``id_diag`` in
    ``range(calc_max_row_len_func(num_pre, num_post, params))`` and loops over
    the current spikes with ``for_each_synapse { ... addSynapse(id_post,
    kernel indices...); }``."""
    kind = "toeplitz connectivity snippet"
    code_fields = ("diagonal_build_code",)

    def __init__(self, class_name, params=None, derived_params=None,
                 diagonal_build_code=None, calc_max_row_len_func=None,
                 calc_kernel_size_func=None, extra_global_params=None):
        super().__init__(class_name, params, derived_params, extra_global_params)
        self.diagonal_build_code = diagonal_build_code or ""
        self.calc_max_row_len_func = calc_max_row_len_func
        self.calc_kernel_size_func = calc_kernel_size_func
        self._check_unique()


# ---------------------------------------------------------------------------
# Factories (pygenn 5 names and keyword arguments; GeNN-4 aliases accepted)
# ---------------------------------------------------------------------------
def _aliases(kwargs, mapping, what):
    for old, new in mapping.items():
        if old in kwargs:
            if kwargs.get(new) is not None:
                raise ModelError(f"{what}: both '{old}' (deprecated) and '{new}' given")
            kwargs[new] = kwargs.pop(old)
    return kwargs


_COMMON_ALIASES = {"param_names": "params", "var_name_types": "vars"}


def _create(cls, class_name, kwargs, extra_aliases=None):
    aliases = dict(_COMMON_ALIASES)
    aliases.update(extra_aliases or {})
    kwargs = _aliases(dict(kwargs), aliases, f"{cls.kind} '{class_name}'")
    try:
        return cls(class_name, **kwargs)
    except TypeError as exc:
        raise ModelError(f"{cls.kind} '{class_name}': {exc}") from None


def create_neuron_model(class_name, **kwargs):
    """Describe a neuron model (params, vars, sim/threshold/reset code)."""
    return _create(NeuronModel, class_name, kwargs,
                   {"additional_input_var_name_types": "additional_input_vars"})


def create_postsynaptic_model(class_name, **kwargs):
    """Describe a postsynaptic model; ``sim_code`` uses ``inSyn`` and ``injectCurrent``."""
    if "apply_input_code" in kwargs or "decay_code" in kwargs:
        raise ModelError(f"postsynaptic model '{class_name}': GeNN-4 'apply_input_code'/"
                         "'decay_code' are not supported; write one 'sim_code' calling "
                         "injectCurrent(x) and then decaying inSyn")
    return _create(PostsynapticModel, class_name, kwargs)


def create_weight_update_model(class_name, **kwargs):
    """Describe a weight update model (``pre_spike_syn_code`` etc.)."""
    return _create(WeightUpdateModel, class_name, kwargs,
                   {"sim_code": "pre_spike_syn_code", "event_code": "pre_event_syn_code",
                    "learn_post_code": "post_spike_syn_code",
                    "event_threshold_condition_code": "pre_event_threshold_condition_code",
                    "pre_var_name_types": "pre_vars", "post_var_name_types": "post_vars"})


def create_current_source_model(class_name, **kwargs):
    """Describe a current source; ``injection_code`` calls ``injectCurrent(x)``."""
    return _create(CurrentSourceModel, class_name, kwargs)


def create_custom_update_model(class_name, **kwargs):
    """Describe a custom update (element-wise, or a batch/neuron reduction)."""
    return _create(CustomUpdateModel, class_name, kwargs)


def create_custom_connectivity_update_model(class_name, **kwargs):
    """Describe a custom connectivity update (``row_update_code``,
    ``host_update_code``) for SPARSE synapse populations."""
    return _create(CustomConnectivityUpdateModel, class_name, kwargs,
                   {"pre_var_name_types": "pre_vars", "post_var_name_types": "post_vars"})


def create_var_init_snippet(class_name, **kwargs):
    """Describe variable initialisation code assigning ``value``."""
    return _create(InitVarSnippet, class_name, kwargs)


def create_sparse_connect_init_snippet(class_name, **kwargs):
    """Describe sparse connectivity built row by row with ``addSynapse(j)``."""
    return _create(InitSparseConnectivitySnippet, class_name, kwargs)


def create_toeplitz_connect_init_snippet(class_name, **kwargs):
    """Describe convolution-like connectivity built per diagonal."""
    return _create(InitToeplitzConnectivitySnippet, class_name, kwargs)


# ---------------------------------------------------------------------------
# Initialisers: snippet + values, resolved against the built-in registries
# ---------------------------------------------------------------------------
def _resolve(snippet, registry, cls, what):
    if isinstance(snippet, cls):
        return snippet
    if isinstance(snippet, str):
        from . import builtins
        table = getattr(builtins, registry)
        if snippet not in table:
            import difflib
            close = difflib.get_close_matches(snippet, list(table), n=3)
            raise ModelError(f"unknown {what} '{snippet}'"
                             + (f"; did you mean {', '.join(repr(c) for c in close)}?"
                                if close else "")
                             + f" Built-in {what}s: {', '.join(sorted(table))}")
        return table[snippet]
    raise ModelError(f"expected a {what} (name or object from create_*), got {snippet!r}")


def check_names(owner, declared, given, what, value_word="value"):
    """Raise a ModelError unless ``given`` names exactly the ``declared`` ones."""
    unknown = [k for k in given if k not in declared]
    missing = [k for k in declared if k not in given]
    if unknown:
        raise ModelError(f"{owner}: unknown {what}(s) {', '.join(map(repr, unknown))}; the "
                         f"model declares: {', '.join(declared) or 'none'}")
    if missing:
        raise ModelError(f"{owner}: missing {value_word} for {what}(s) "
                         f"{', '.join(map(repr, missing))}")


def _check_values(snippet, values, decls, what):
    values = dict(values or {})
    check_names(f"{snippet.kind} '{snippet.class_name}'", [d.name for d in decls], values, what)
    return values


@dataclass
class VarInit:
    """A variable initialised by a snippet (``init_var``)."""
    snippet: InitVarSnippet
    params: Dict[str, float] = field(default_factory=dict)
    extra_global_params: Dict[str, object] = field(default_factory=dict)


def init_var(snippet, params=None):
    """Initialise a variable with a snippet, e.g. ``init_var("Uniform", {"min": 0, "max": 1})``."""
    s = _resolve(snippet, "var_init_snippets", InitVarSnippet, "variable initialisation snippet")
    return VarInit(s, _check_values(s, params, s.params, "parameter"))


@dataclass
class PostsynapticInit:
    snippet: PostsynapticModel
    params: dict
    vars: dict
    var_refs: dict


def init_postsynaptic(snippet, params=None, vars=None, var_refs=None):
    s = _resolve(snippet, "postsynaptic_models", PostsynapticModel, "postsynaptic model")
    return PostsynapticInit(s, _check_values(s, params, s.params, "parameter"),
                            _check_values(s, vars, s.vars, "variable"),
                            _check_values(s, var_refs, s.neuron_var_refs, "neuron var ref"))


@dataclass
class WeightUpdateInit:
    snippet: WeightUpdateModel
    params: dict
    vars: dict
    pre_vars: dict
    post_vars: dict
    pre_var_refs: dict
    post_var_refs: dict
    psm_var_refs: dict


def init_weight_update(snippet, params=None, vars=None, pre_vars=None, post_vars=None,
                       pre_var_refs=None, post_var_refs=None, psm_var_refs=None):
    s = _resolve(snippet, "weight_update_models", WeightUpdateModel, "weight update model")
    return WeightUpdateInit(
        s, _check_values(s, params, s.params, "parameter"),
        _check_values(s, vars, s.vars, "variable"),
        _check_values(s, pre_vars, s.pre_vars, "presynaptic variable"),
        _check_values(s, post_vars, s.post_vars, "postsynaptic variable"),
        _check_values(s, pre_var_refs, s.pre_neuron_var_refs, "presynaptic neuron var ref"),
        _check_values(s, post_var_refs, s.post_neuron_var_refs, "postsynaptic neuron var ref"),
        _check_values(s, psm_var_refs, s.psm_var_refs, "postsynaptic model var ref"))


@dataclass
class SparseConnectivityInit:
    snippet: InitSparseConnectivitySnippet
    params: dict


def init_sparse_connectivity(snippet, params=None):
    s = _resolve(snippet, "sparse_connectivity_snippets", InitSparseConnectivitySnippet,
                 "sparse connectivity snippet")
    return SparseConnectivityInit(s, _check_values(s, params, s.params, "parameter"))


@dataclass
class ToeplitzConnectivityInit:
    snippet: InitToeplitzConnectivitySnippet
    params: dict


def init_toeplitz_connectivity(snippet, params=None):
    s = _resolve(snippet, "toeplitz_connectivity_snippets", InitToeplitzConnectivitySnippet,
                 "toeplitz connectivity snippet")
    return ToeplitzConnectivityInit(s, _check_values(s, params, s.params, "parameter"))


def user_count(value, what, minimum=0):
    """The integer a user callback (calc_max_row_len_func, calc_kernel_size_func,
    ...) returned, checked: a finite whole number >= ``minimum``."""
    import math
    import numbers
    import numpy as np
    ok = not isinstance(value, (bool, np.bool_)) and \
        isinstance(value, (numbers.Real, np.number)) and math.isfinite(value) and \
        value == math.floor(value) and value >= minimum
    if not ok:
        raise ModelError(f"{what} must return {'a positive' if minimum else 'a non-negative'} "
                         f"integer, got {value!r}")
    return int(value)


def dynamic_slots(snippet, params, dynamic, dt):
    """Names held in a group's dynamic-parameter array: the dynamic
    parameters, then every derived parameter computed from them (recomputed
    on the host whenever one of them is set, so they never go stale)."""
    slots = list(dynamic)
    derived = getattr(snippet, "derived_params", ())
    if not dynamic or not derived:
        return slots
    users = set()
    for name in dynamic:
        users.update(derived_users(snippet, params, name, dt))
    return slots + [d.name for d in derived if d.name in users]


class _Reads(dict):
    """Parameter values that remember which names were read (a look at all
    of them, through keys/items/values/iteration, reads every one)."""

    def __init__(self, values):
        super().__init__(values)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def _all(self):
        self.read.update(super().keys())

    def keys(self):
        self._all()
        return super().keys()

    def items(self):
        self._all()
        return super().items()

    def values(self):
        self._all()
        return super().values()

    def __iter__(self):
        self._all()
        return super().__iter__()


def derived_users(snippet, params, name, dt):
    """Derived parameters of ``snippet`` whose value is computed from ``name``
    (directly or through another derived parameter).  Found by evaluating
    them and watching what they read; one that fails counts as a user."""
    users = []
    values = _Reads(params)
    for d in getattr(snippet, "derived_params", ()):
        values.read = set()
        try:
            values[d.name] = d.func(values, dt)
        except Exception:
            values[d.name] = 0.0
            values.read.add(name)
        if name in values.read or any(u in values.read for u in users):
            users.append(d.name)
    return users


def derived_values(snippet, params, dt):
    """Parameters plus derived parameters, evaluated on the host (float64)."""
    values = dict(params)
    for d in snippet.derived_params:
        try:
            values[d.name] = d.func(values, dt)
        except Exception as exc:   # user function: say which one failed
            raise ModelError(f"{snippet.kind} '{snippet.class_name}': derived parameter "
                             f"'{d.name}' could not be computed: {exc!r}") from exc
    return values
