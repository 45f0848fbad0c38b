"""Compiler base: turns a Network into an engine model (ml_genn.genn)."""
import inspect
import os
import re
from copy import deepcopy
from typing import List

import numpy as np

from ..genn import (CustomUpdateVarAccess, GeNNModel, SynapseMatrixType, VarAccessMode,
                    create_custom_update_model, create_neuron_model,
                    create_postsynaptic_model, create_var_ref, create_weight_update_model,
                    init_postsynaptic, init_weight_update)
from ..genn.code.tokenizer import tokenize
from ..utils.model import CustomUpdateModel, WeightUpdateModel
from ..utils.value import is_value_array, is_value_constant
from .compiled_network import CompiledNetwork
from .weight_update_models import (get_signed_static_pulse_delay_model,
                                   get_static_pulse_delay_model, signed_static_pulse_model,
                                   static_pulse_model)


class SupportedMatrixType:
    """Matrix types a compiler can use, in order of preference."""

    def __init__(self, supported: List[int]):
        self._supported = list(supported)

    def get_best(self, available):
        for t in self._supported:
            if t in available:
                return t
        return None

    def __repr__(self):
        return "SupportedMatrixType(" + ", ".join(SynapseMatrixType(t).name
                                                  for t in self._supported) + ")"


def get_delay_type(max_delay):
    if max_delay < 256:
        return "uint8_t"
    if max_delay < 65536:
        return "uint16_t"
    raise NotImplementedError(f"delays of {max_delay} steps are not supported "
                              "(at most 65535)")


def get_conn_max_delay(conn, delay):
    """Length of the dendritic delay buffer of a connection."""
    if conn.max_delay_steps is not None:
        return 1 + conn.max_delay_steps
    if is_value_constant(delay):
        return 1 + int(round(delay))
    if is_value_array(delay):
        return 1 + int(np.round(np.max(delay)))
    raise RuntimeError(f"connection '{conn.name}': delays given by an initializer need "
                       "max_delay_steps on the Connection")


def create_reset_custom_update(reset_vars, var_ref_creator):
    """A custom update setting each variable back to its initial value.

    Numbers become parameters; arrays and initializers become variables
    shared across the batch (sampled once at load time); a string names
    another variable to copy from."""
    model = CustomUpdateModel({"params": [], "vars": [], "var_refs": [], "update_code": ""})
    for name, vtype, value in reset_vars:
        model.add_var_ref(name, vtype, var_ref_creator(name))
        if isinstance(value, str):
            model.append_update_code(f"{name} = {value};")
        elif is_value_constant(value):
            model.add_param(f"{name}Reset", vtype, value)
            model.append_update_code(f"{name} = {name}Reset;")
        else:
            model.add_var(f"{name}Reset", vtype, value, CustomUpdateVarAccess.READ_ONLY_SHARED)
            model.append_update_code(f"{name} = {name}Reset;")
    return model


def _model_name(name, compiler):
    if name is None:
        frame = inspect.stack()[2]
        name = os.path.splitext(os.path.basename(frame.filename))[0]
    name = re.sub(r"[^A-Za-z0-9_]", "", name).lstrip("0123456789") or "model"
    return f"{name}_{type(compiler).__name__}"


class Compiler:
    def __init__(self, supported_matrix_type: List[int], dt: float = 1.0,
                 batch_size: int = 1, rng_seed: int = 0, kernel_profiling: bool = False,
                 communicator=None, **genn_kwargs):
        if communicator is not None and batch_size % communicator.num_ranks != 0:
            raise RuntimeError(f"batch size {batch_size} is not divisible by the number of "
                               f"ranks {communicator.num_ranks}")
        self.dt = dt
        self.full_batch_size = batch_size
        self.batch_size = (batch_size // communicator.num_ranks if communicator is not None
                           else batch_size)
        self.rng_seed = rng_seed
        self.kernel_profiling = kernel_profiling
        self.supported_matrix_type = SupportedMatrixType(supported_matrix_type)
        self.communicator = communicator
        self.genn_kwargs = genn_kwargs
        self._source_models = {}

    # -- hooks ------------------------------------------------------------
    def pre_compile(self, network, genn_model, **kwargs):
        return None

    def build_neuron_model(self, pop, model, compile_state):
        model = deepcopy(model)
        model.model.pop("negative_threshold_condition_code", None)
        return model

    def build_synapse_model(self, conn, model, compile_state):
        return model

    def build_weight_update_model(self, conn, connect_snippet, compile_state):
        delay = connect_snippet.delay
        src_model = self._source_models.get(conn.source())
        negative = (src_model.model.get("negative_threshold_condition_code")
                    if src_model is not None else None)
        if is_value_constant(delay):
            model = deepcopy(signed_static_pulse_model if negative else static_pulse_model)
            param_vals = {"g": connect_snippet.weight}
        else:
            delay_type = get_delay_type(get_conn_max_delay(conn, conn.connectivity.delay))
            model = (get_signed_static_pulse_delay_model(delay_type) if negative
                     else get_static_pulse_delay_model(delay_type))
            d = np.round(delay) if is_value_array(delay) else delay
            param_vals = {"g": connect_snippet.weight, "d": d}
        wum = WeightUpdateModel(model, param_vals)
        if negative:
            _add_event_condition(wum, negative, src_model)
        return wum

    def apply_delay(self, genn_pop, conn, delay, compile_state):
        if is_value_constant(delay):
            genn_pop.axonal_delay_steps = int(round(delay))
        else:
            genn_pop.max_dendritic_delay_timesteps = get_conn_max_delay(
                conn, conn.connectivity.delay)

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        return CompiledNetwork(genn_model, neuron_populations, connection_populations,
                               self.communicator)

    # -- the compile pipeline ----------------------------------------------
    def compile(self, network, name=None, **kwargs):
        genn_model = GeNNModel("float", _model_name(name, self), **self.genn_kwargs)
        genn_model.dt = self.dt
        genn_model.batch_size = self.batch_size
        genn_model.seed = self.rng_seed
        genn_model.timing_enabled = self.kernel_profiling
        compile_state = self.pre_compile(network, genn_model, **kwargs)
        source_models = {}
        neuron_populations = {}
        for pop in network.populations:
            if pop.shape is None:
                raise RuntimeError(f"population '{pop.name}' has no shape; give shape= or "
                                   "connect it with a connectivity that infers one")
            neuron_model = pop.neuron.get_model(pop, self.dt, self.batch_size)
            source_models[pop] = neuron_model
            model = self.build_neuron_model(pop, neuron_model, compile_state)
            (model_dict, params, dynamic, var_vals, egp_vals,
             var_egp_vals) = model.process()
            genn_pop = genn_model.add_neuron_population(
                pop.name, int(np.prod(pop.shape)),
                create_neuron_model("NeuronModel", **model_dict), params, var_vals)
            genn_pop.spike_recording_enabled = pop.record_spikes
            genn_pop.spike_event_recording_enabled = pop.record_spike_events
            _set_dynamic_and_egps(genn_pop, dynamic, egp_vals, var_egp_vals)
            neuron_populations[pop] = genn_pop
        # build_weight_update_model looks at source models (negative spikes)
        self._source_models = source_models
        connection_populations = {}
        try:
            for conn in network.connections:
                src, trg = conn.source(), conn.target()
                syn_model = self.build_synapse_model(
                    conn, conn.synapse.get_model(conn, self.dt, self.batch_size),
                    compile_state)
                (ps_dict, ps_params, ps_dynamic, ps_vars, ps_egps, ps_var_egps,
                 ps_refs) = syn_model.process()
                psm = create_postsynaptic_model("PostsynapticModel", **ps_dict)
                snippet = conn.connectivity.get_snippet(conn, self.supported_matrix_type)
                wum = self.build_weight_update_model(conn, snippet, compile_state)
                (wu_dict, wu_params, wu_dynamic, wu_vars, wu_egps, wu_var_egps, pre_vars,
                 post_vars, pre_refs, post_refs) = wum.process()
                genn_syn = genn_model.add_synapse_population(
                    conn.name, snippet.matrix_type, neuron_populations[src],
                    neuron_populations[trg],
                    init_weight_update(create_weight_update_model("WeightUpdateModel",
                                                                  **wu_dict),
                                       wu_params, wu_vars, pre_vars, post_vars, pre_refs,
                                       post_refs),
                    init_postsynaptic(psm, ps_params, ps_vars, ps_refs),
                    snippet.snippet)
                self.apply_delay(genn_syn, conn, snippet.delay, compile_state)
                if snippet.pre_ind is not None:
                    genn_syn.set_sparse_connections(snippet.pre_ind, snippet.post_ind)
                _set_dynamic_and_egps(genn_syn, wu_dynamic, wu_egps, wu_var_egps)
                for p in ps_dynamic:
                    genn_syn.set_ps_param_dynamic(p)
                connection_populations[conn] = genn_syn
        finally:
            self._source_models = {}
        return self.create_compiled_network(genn_model, neuron_populations,
                                            connection_populations, compile_state)


def _add_event_condition(wum, condition, src_model):
    """Make a neuron's negative-spike condition the synapse's event condition:
    neuron variables become presynaptic var references, parameters copies."""
    names = {t.text for t in tokenize(condition) if t.kind == "ident"}
    var_names = {v[0]: v[1] for v in src_model.model.get("vars", [])}
    param_names = {p[0]: p[1] for p in src_model.model.get("params", [])}
    for name in sorted(names):
        if name in var_names:
            wum.add_pre_neuron_var_ref(name, var_names[name], name)
        elif name in param_names:
            value = src_model.param_vals[name]
            if is_value_constant(value):
                wum.add_param(name, param_names[name], value)
            else:
                wum.add_pre_neuron_var_ref(name, param_names[name], name)
    wum.model["pre_event_threshold_condition_code"] = condition


def _set_dynamic_and_egps(genn_group, dynamic, egp_vals, var_egp_vals):
    for p in dynamic:
        genn_group.set_param_dynamic(p)
    for name, value in egp_vals.items():
        genn_group.extra_global_params[name].set_init_values(value)
    for var, egps in var_egp_vals.items():
        for name, value in egps.items():
            genn_group.vars[var].extra_global_params[name].set_init_values(value)


def add_custom_update(genn_model, model, group, name):
    """Add a utils.model.CustomUpdateModel to the engine model."""
    (cu_dict, params, dynamic, var_vals, egp_vals, var_egp_vals, var_refs,
     egp_refs) = model.process()
    cu = genn_model.add_custom_update(name, group,
                                      create_custom_update_model("CustomUpdate", **cu_dict),
                                      params, var_vals, var_refs, egp_refs)
    _set_dynamic_and_egps(cu, dynamic, egp_vals, var_egp_vals)
    return cu


def add_out_post_zero_custom_update(genn_model, genn_syn, group, name):
    """Zero a connection's input accumulator (inSyn) between examples."""
    from ..genn import create_out_post_var_ref
    model = CustomUpdateModel({"var_refs": [("OutPost", "scalar")],
                               "update_code": "OutPost = 0.0;"},
                              var_refs={"OutPost": create_out_post_var_ref(genn_syn)})
    return add_custom_update(genn_model, model, group, name)


def add_neuron_reset(genn_model, genn_pop, reset_vars, group, name):
    model = create_reset_custom_update(reset_vars,
                                       lambda v: create_var_ref(genn_pop, v))
    return add_custom_update(genn_model, model, group, name)


__all__ = ["Compiler", "SupportedMatrixType", "create_reset_custom_update",
           "get_delay_type", "get_conn_max_delay", "add_custom_update",
           "add_out_post_zero_custom_update", "VarAccessMode"]
