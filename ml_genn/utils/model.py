"""The model description layer: GeNN-style model dicts plus their values.

Neuron, synapse and readout classes build these objects; compilers edit
them (append code, add variables, turn parameters into variables) and
``process()`` hands plain data to the engine (a ``Processed*`` dataclass).
"""
from copy import deepcopy
from dataclasses import dataclass, fields
from textwrap import dedent
from typing import Any, Dict, Set

import numpy as np

from ..genn import VarAccess, init_var
from ..genn.types import VarAccessModeAttribute
from .value import get_values, is_value_array, is_value_constant, is_value_initializer


def _access_is_read_write(access):
    return access is None or bool(int(access) & int(VarAccessModeAttribute.READ_WRITE))


# -- what process() returns ---------------------------------------------
@dataclass(frozen=True)
class ProcessedModel:
    """What :meth:`Model.process` (and :meth:`NeuronModel.process`) returns:
    plain data ready for the engine.

    Read the fields by name. Iterating (and indexing, ``len``, ``+`` with a
    tuple) yields the fields in the order of the positional tuple that
    ``process()`` returned before; that exists only so that code written
    for upstream mlGeNN, ``(model, params, ...) = m.process()``, keeps
    working.
    """
    #: deep copy of the model dict, with non-constant parameters moved
    #: into ``vars`` as read-only variables
    model: Dict[str, Any]
    #: name -> value of every parameter whose value is a single number
    constant_param_vals: Dict[str, Any]
    #: names of the parameters that may change after the model is built
    dynamic_param_names: Set[str]
    #: name -> engine value (number, flat array or ``init_var`` object) of
    #: every variable, including those made from non-constant parameters
    var_vals: Dict[str, Any]
    #: name -> value of every extra global parameter
    egp_vals: Dict[str, Any]
    #: variable name -> {EGP name: value} for initializer variables
    var_egp_vals: Dict[str, Dict[str, Any]]

    # -- compatibility with the old positional tuple only ----------------
    def _as_tuple(self):
        return tuple(getattr(self, f.name) for f in fields(self))

    def __iter__(self):
        """The fields in the old tuple order (compatibility only)."""
        return iter(self._as_tuple())

    def __len__(self):
        return len(fields(self))

    def __getitem__(self, index):
        """``processed[3]`` as on the old tuple (compatibility only)."""
        return self._as_tuple()[index]

    def __add__(self, other):
        """``super().process() + (extra,)`` in user subclasses written for
        upstream mlGeNN: gives the old plain tuple (compatibility only)."""
        if isinstance(other, tuple):
            return self._as_tuple() + other
        return NotImplemented

    def _base_fields(self):
        return {f.name: getattr(self, f.name) for f in fields(ProcessedModel)}

    @classmethod
    def coerce(cls, processed):
        """``processed`` as a ``cls``: returned as it is when it already is
        one; built from the old positional tuple otherwise, as returned by a
        user subclass whose ``process()`` was written for upstream mlGeNN
        (compatibility only)."""
        if isinstance(processed, cls):
            return processed
        return cls(*processed)


@dataclass(frozen=True)
class ProcessedSynapseModel(ProcessedModel):
    """What :meth:`SynapseModel.process` returns (postsynaptic model)."""
    #: reference name -> postsynaptic neuron variable name
    neuron_var_refs: Dict[str, Any]


@dataclass(frozen=True)
class ProcessedWeightUpdateModel(ProcessedModel):
    """What :meth:`WeightUpdateModel.process` returns."""
    #: name -> engine value of every presynaptic variable
    pre_var_vals: Dict[str, Any]
    #: name -> engine value of every postsynaptic variable
    post_var_vals: Dict[str, Any]
    #: reference name -> presynaptic neuron variable name
    pre_neuron_var_refs: Dict[str, Any]
    #: reference name -> postsynaptic neuron variable name
    post_neuron_var_refs: Dict[str, Any]


@dataclass(frozen=True)
class ProcessedCustomUpdateModel(ProcessedModel):
    """What :meth:`CustomUpdateModel.process` returns."""
    #: reference name -> variable reference
    var_refs: Dict[str, Any]
    #: reference name -> extra global parameter reference
    egp_refs: Dict[str, Any]


@dataclass(frozen=True)
class ProcessedCustomConnectivityUpdateModel(ProcessedModel):
    """What :meth:`CustomConnectivityUpdateModel.process` returns."""
    #: name -> value of every presynaptic variable
    pre_var_vals: Dict[str, Any]
    #: name -> value of every postsynaptic variable
    post_var_vals: Dict[str, Any]
    #: reference name -> synapse variable reference
    var_refs: Dict[str, Any]
    #: reference name -> presynaptic variable reference
    pre_var_refs: Dict[str, Any]
    #: reference name -> postsynaptic variable reference
    post_var_refs: Dict[str, Any]
    #: reference name -> extra global parameter reference
    egp_refs: Dict[str, Any]


class Model:
    """A model dict (``params``, ``vars``, code strings...) and values."""

    def __init__(self, model, param_vals=None, var_vals=None, egp_vals=None):
        self.model = model
        # fresh dicts: the upstream shared-mutable-default quirk is not mirrored
        self.param_vals = {} if param_vals is None else param_vals
        self.var_vals = {} if var_vals is None else var_vals
        self.egp_vals = {} if egp_vals is None else egp_vals
        self.dynamic_param_names = set()

    # -- queries / additions --------------------------------------------
    def _names(self, key):
        return [v[0] for v in self.model.get(key, [])]

    def has_param(self, name):
        return name in self._names("params")

    def has_var(self, name):
        return name in self._names("vars")

    def has_egp(self, name):
        return name in self._names("extra_global_params")

    def add_param(self, name, ptype, value):
        assert not self.has_param(name), f"parameter '{name}' already exists"
        self.model.setdefault("params", []).append((name, ptype))
        self.param_vals[name] = value

    def add_var(self, name, vtype, value, access_mode=VarAccess.READ_WRITE):
        assert not self.has_var(name), f"variable '{name}' already exists"
        self.model.setdefault("vars", []).append((name, vtype, access_mode))
        self.var_vals[name] = value

    def add_egp(self, name, etype, value):
        assert not self.has_egp(name), f"extra global parameter '{name}' already exists"
        self.model.setdefault("extra_global_params", []).append((name, etype))
        self.egp_vals[name] = value

    def set_param_dynamic(self, name, dynamic=True):
        assert self.has_param(name), f"no parameter '{name}'"
        if dynamic:
            self.dynamic_param_names.add(name)
        else:
            self.dynamic_param_names.discard(name)

    def set_var_access_mode(self, name, access_mode):
        vars_ = self.model["vars"]
        idx = self._names("vars").index(name)
        vars_[idx] = (vars_[idx][0], vars_[idx][1], access_mode)

    def make_param_var(self, param_name, access_mode=VarAccess.READ_ONLY):
        """Turn a parameter into a (per-element) variable with the same value."""
        params = self.model["params"]
        idx = self._names("params").index(param_name)
        name, ptype = params.pop(idx)[:2]
        self.model.setdefault("vars", []).append((name, ptype, access_mode))
        self.var_vals[name] = self.param_vals.pop(param_name)

    # -- code helpers ---------------------------------------------------
    def _append_code(self, key, code):
        code = dedent(code)
        self.model[key] = (dedent(self.model[key]) + "\n" + code) if self.model.get(key) \
            else code

    def _prepend_code(self, key, code):
        code = dedent(code)
        self.model[key] = (code + "\n" + dedent(self.model[key])) if self.model.get(key) \
            else code

    def _replace_code(self, key, source, target):
        if key in self.model:
            self.model[key] = self.model[key].replace(source, target)

    # -- processing -----------------------------------------------------
    @property
    def reset_vars(self):
        """``(name, type, initial value)`` of every read-write variable."""
        return [(v[0], v[1], self.var_vals[v[0]]) for v in self.model.get("vars", [])
                if _access_is_read_write(v[2] if len(v) > 2 else None)]

    def process(self):
        """-> :class:`ProcessedModel`: the model dict and values ready for
        the engine."""
        model = deepcopy(self.model)
        constant_params = {}
        var_vals = {}
        var_egp_vals = {}
        params = []
        for p in model.get("params", []):
            name = p[0]
            value = self.param_vals[name]
            if is_value_constant(value):
                params.append(p)
                constant_params[name] = value
            else:
                assert name not in self.dynamic_param_names, \
                    f"parameter '{name}' cannot be dynamic and per-element"
                model.setdefault("vars", []).append((name, p[1], VarAccess.READ_ONLY))
                var_vals[name] = value
        model["params"] = params
        for v in model.get("vars", []):
            if v[0] not in var_vals:
                var_vals[v[0]] = self.var_vals[v[0]]
        for name, value in list(var_vals.items()):
            var_vals[name], egps = _to_engine_value(value)
            if egps:
                var_egp_vals[name] = egps
        return ProcessedModel(model=model, constant_param_vals=constant_params,
                              dynamic_param_names=set(self.dynamic_param_names),
                              var_vals=var_vals, egp_vals=dict(self.egp_vals),
                              var_egp_vals=var_egp_vals)


def _to_engine_value(value):
    """Number -> number, array -> flat array, Initializer -> init_var()."""
    if is_value_initializer(value):
        snippet = value.get_snippet()
        return init_var(snippet.snippet, dict(snippet.param_vals)), dict(snippet.egp_vals)
    if is_value_array(value):
        return np.asarray(value).flatten(), {}
    return value, {}


class NeuronModel(Model):
    def __init__(self, model, output_var_name, param_vals=None, var_vals=None,
                 egp_vals=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.output_var_name = output_var_name

    def add_additional_input_var(self, name, vtype, init_val):
        self.model.setdefault("additional_input_vars", []).append((name, vtype, init_val))

    def append_sim_code(self, code):
        self._append_code("sim_code", code)

    def prepend_sim_code(self, code):
        self._prepend_code("sim_code", code)

    def append_reset_code(self, code):
        self._append_code("reset_code", code)

    def prepend_reset_code(self, code):
        self._prepend_code("reset_code", code)

    def replace_sim_code(self, source, target):
        self._replace_code("sim_code", source, target)

    def replace_threshold_condition_code(self, source, target):
        self._replace_code("threshold_condition_code", source, target)

    def replace_reset_code(self, source, target):
        self._replace_code("reset_code", source, target)

    @staticmethod
    def from_val_descriptors(model, output_var_name, inst, dt, param_vals=None,
                             var_vals=None, egp_vals=None):
        return NeuronModel(
            model, output_var_name,
            get_values(inst, model.get("params", []), dt, param_vals),
            get_values(inst, model.get("vars", []), dt, var_vals), egp_vals)

    @property
    def output_var(self):
        if "vars" not in self.model or not self.model["vars"]:
            raise RuntimeError("neuron model has no state variables")
        if self.output_var_name is None:
            raise RuntimeError("neuron model has no output variable")
        for v in self.model["vars"]:
            if v[0] == self.output_var_name:
                return v
        raise RuntimeError(f"output variable '{self.output_var_name}' not found")


class SynapseModel(Model):
    def __init__(self, model, param_vals=None, var_vals=None, egp_vals=None,
                 neuron_var_refs=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.neuron_var_refs = {} if neuron_var_refs is None else neuron_var_refs

    def process(self):
        """-> :class:`ProcessedSynapseModel`."""
        return ProcessedSynapseModel(**super().process()._base_fields(),
                                     neuron_var_refs=self.neuron_var_refs)

    @staticmethod
    def from_val_descriptors(model, inst, dt, param_vals=None, var_vals=None,
                             egp_vals=None):
        return SynapseModel(model, get_values(inst, model.get("params", []), dt, param_vals),
                            get_values(inst, model.get("vars", []), dt, var_vals), egp_vals)


class WeightUpdateModel(Model):
    def __init__(self, model, param_vals=None, var_vals=None, pre_var_vals=None,
                 post_var_vals=None, egp_vals=None, pre_neuron_var_refs=None,
                 post_neuron_var_refs=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.pre_var_vals = {} if pre_var_vals is None else pre_var_vals
        self.post_var_vals = {} if post_var_vals is None else post_var_vals
        self.pre_neuron_var_refs = {} if pre_neuron_var_refs is None else pre_neuron_var_refs
        self.post_neuron_var_refs = {} if post_neuron_var_refs is None \
            else post_neuron_var_refs

    def add_pre_neuron_var_ref(self, name, vtype, target):
        self.model.setdefault("pre_neuron_var_refs", []).append((name, vtype))
        self.pre_neuron_var_refs[name] = target

    def add_post_neuron_var_ref(self, name, vtype, target):
        self.model.setdefault("post_neuron_var_refs", []).append((name, vtype))
        self.post_neuron_var_refs[name] = target

    def append_synapse_dynamics(self, code):
        self._append_code("synapse_dynamics_code", code)

    def append_pre_spike_syn_code(self, code):
        self._append_code("pre_spike_syn_code", code)

    def append_pre_event_syn_code(self, code):
        self._append_code("pre_event_syn_code", code)

    def process(self):
        """-> :class:`ProcessedWeightUpdateModel`."""
        pre = {k: _to_engine_value(v)[0] for k, v in self.pre_var_vals.items()}
        post = {k: _to_engine_value(v)[0] for k, v in self.post_var_vals.items()}
        return ProcessedWeightUpdateModel(**super().process()._base_fields(),
                                          pre_var_vals=pre, post_var_vals=post,
                                          pre_neuron_var_refs=self.pre_neuron_var_refs,
                                          post_neuron_var_refs=self.post_neuron_var_refs)

    @property
    def reset_pre_vars(self):
        return [(v[0], v[1], self.pre_var_vals[v[0]]) for v in self.model.get("pre_vars", [])
                if _access_is_read_write(v[2] if len(v) > 2 else None)]

    @property
    def reset_post_vars(self):
        return [(v[0], v[1], self.post_var_vals[v[0]])
                for v in self.model.get("post_vars", [])
                if _access_is_read_write(v[2] if len(v) > 2 else None)]


class CustomUpdateModel(Model):
    def __init__(self, model, param_vals=None, var_vals=None, var_refs=None, egp_vals=None,
                 egp_refs=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.var_refs = {} if var_refs is None else var_refs
        self.egp_refs = {} if egp_refs is None else egp_refs

    def add_var_ref(self, name, vtype, value):
        self.model.setdefault("var_refs", []).append((name, vtype))
        self.var_refs[name] = value

    def set_var_ref_access_mode(self, name, access_mode):
        refs = self.model["var_refs"]
        idx = [r[0] for r in refs].index(name)
        refs[idx] = (refs[idx][0], refs[idx][1], access_mode)

    def add_egp_ref(self, name, etype, value):
        self.model.setdefault("extra_global_param_refs", []).append((name, etype))
        self.egp_refs[name] = value

    def append_update_code(self, code):
        self._append_code("update_code", code)

    def process(self):
        """-> :class:`ProcessedCustomUpdateModel`."""
        return ProcessedCustomUpdateModel(**super().process()._base_fields(),
                                          var_refs=self.var_refs, egp_refs=self.egp_refs)


class CustomConnectivityUpdateModel(Model):
    def __init__(self, model, param_vals=None, var_vals=None, pre_var_vals=None,
                 post_var_vals=None, var_refs=None, pre_var_refs=None, post_var_refs=None,
                 egp_vals=None, egp_refs=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.pre_var_vals = pre_var_vals or {}
        self.post_var_vals = post_var_vals or {}
        self.var_refs = var_refs or {}
        self.pre_var_refs = pre_var_refs or {}
        self.post_var_refs = post_var_refs or {}
        self.egp_refs = egp_refs or {}

    def process(self):
        """-> :class:`ProcessedCustomConnectivityUpdateModel`."""
        return ProcessedCustomConnectivityUpdateModel(
            **super().process()._base_fields(), pre_var_vals=self.pre_var_vals,
            post_var_vals=self.post_var_vals, var_refs=self.var_refs,
            pre_var_refs=self.pre_var_refs, post_var_refs=self.post_var_refs,
            egp_refs=self.egp_refs)
