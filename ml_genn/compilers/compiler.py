"""Compiler base: turns a Network into an engine model (ml_genn.genn)."""
import inspect
import os
from copy import deepcopy
from typing import List

import numpy as np

from ..genn import (CustomUpdateVarAccess, GeNNModel, SynapseMatrixType, VarAccessMode,
                    create_custom_update_model, create_neuron_model,
                    create_postsynaptic_model, create_var_ref, create_weight_update_model,
                    init_postsynaptic, init_weight_update)
from ..genn.code.tokenizer import tokenize
from ..genn.model import ACCEPTED_PREFERENCES
from ..neurons.nengo_neuron import is_graded
from ..utils.checks import (accepted_arguments, check_non_negative_int,
                            check_positive_finite, check_positive_int,
                            unknown_argument_error)
from ..utils.model import (CustomUpdateModel, ProcessedCustomUpdateModel, ProcessedModel,
                           ProcessedSynapseModel, ProcessedWeightUpdateModel,
                           WeightUpdateModel)
from ..utils.names import GeNNNames, add_note, is_plain_identifier, sanitise
from ..utils.value import is_value_array, is_value_constant
from .compiled_network import CompiledNetwork
from .weight_update_models import (get_graded_static_pulse_model,
                                   get_signed_static_pulse_delay_model,
                                   get_static_pulse_delay_model, signed_static_pulse_model,
                                   static_pulse_model)

#: Name of the presynaptic neuron variable reference through which a graded
#: connection reads its source's output variable
PRE_OUTPUT_REF = "OutPre"


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


def _is_zero_delay(delay):
    return is_value_constant(delay) and int(round(delay)) == 0


def _delay_param(conn, delay):
    """``(type, value)`` of the parameter ``d`` of a weight update that
    delays through the dendritic ring (whole steps)."""
    delay_type = get_delay_type(get_conn_max_delay(conn, conn.connectivity.delay))
    if is_value_constant(delay):
        return delay_type, int(round(delay))
    return delay_type, np.round(delay) if is_value_array(delay) else delay


def connection_list(owner: str, arg: str, value) -> list:
    """A list argument of Connections/Layers (e.g. ``deep_r_conns``) as
    Connections (each once, in order: a connection named twice, e.g. as its
    Layer and as itself, is meant once), with errors naming ``arg``."""
    from collections.abc import Iterable, Mapping
    from ..utils.network import get_underlying_conn
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{owner}: {arg} must be a list of Connections or Layers, not "
                        f"{type(value).__name__} {value!r}")
    out = []
    for item in value:
        try:
            out.append(get_underlying_conn(item))
        except RuntimeError as e:
            raise TypeError(f"{owner}: {arg} must hold Connections or Layers with an "
                            f"incoming connection; {e}") from None
    return list(dict.fromkeys(out))


def connection_dict(owner: str, arg: str, value) -> dict:
    """A dict argument keyed by Connections/Layers (e.g.
    ``deep_r_record_rewirings``), rekeyed by Connection."""
    from collections.abc import Mapping
    if not isinstance(value, Mapping):
        raise TypeError(f"{owner}: {arg} must be a dict keyed by Connections or Layers, not "
                        f"{type(value).__name__} {value!r}")
    return dict(zip(connection_list(owner, f"{arg} (its keys)", list(value.keys())),
                    value.values()))


def check_losses(owner: str, losses):
    """``losses`` of a training compiler: a Loss (object or name) or a dict
    of them keyed by output population; the names and objects are checked
    here, the keys when the network is compiled."""
    from collections.abc import Mapping
    from ..losses import Loss, default_losses
    from ..utils.module import get_object
    if losses is None:
        raise TypeError(f"{owner}: losses is required: a loss (e.g. "
                        "'sparse_categorical_crossentropy') or a dict {output population: "
                        "loss}")
    for loss in (losses.values() if isinstance(losses, Mapping) else [losses]):
        if loss is None:
            raise TypeError(f"{owner}: losses holds None; give every output population a "
                            f"loss, one of {sorted(default_losses)} or a Loss object")
        get_object(loss, Loss, "Loss", default_losses)
    return losses


def check_optimiser(owner: str, optimiser):
    """The Optimiser of a training compiler, from an object or a name."""
    from ..optimisers import Optimiser, default_optimisers
    from ..utils.module import get_object
    optimiser = get_object(optimiser, Optimiser, "Optimiser", default_optimisers)
    if optimiser is None:
        raise RuntimeError(f"{owner}: optimiser must be an Optimiser object or one of "
                           f"the strings {sorted(default_optimisers)}, not None")
    return optimiser


def population_dict(owner: str, arg: str, value: dict) -> dict:
    """A dict argument keyed by Populations/layers (e.g. ``losses``), rekeyed
    by Population, with errors naming ``arg``."""
    from ..utils.network import get_underlying_pop
    out = {}
    for key, v in value.items():
        try:
            out[get_underlying_pop(key)] = v
        except RuntimeError:
            raise TypeError(f"{owner}: {arg} must be keyed by Population or layer objects "
                            f"(e.g. the output population), not {type(key).__name__} "
                            f"{key!r}") from None
    return out


def create_reset_custom_update(reset_vars, var_ref_creator):
    """A custom update setting each variable back to its initial value.

    Numbers become parameters; arrays and initializers become variables
    shared across the batch (sampled once at load time); a string names
    another variable to copy from."""
    model = CustomUpdateModel({"params": [], "vars": [], "var_refs": [], "update_code": ""})
    for name, vtype, value in reset_vars:
        model.add_var_ref(name, vtype, var_ref_creator(name))
        if isinstance(value, str):
            if not is_plain_identifier(value):
                raise ValueError(f"reset value of variable '{name}' must name another "
                                 f"variable (a plain identifier), got {value!r}")
            model.append_update_code(f"{name} = {value};")
        elif is_value_constant(value):
            model.add_param(f"{name}Reset", vtype, value)
            model.append_update_code(f"{name} = {name}Reset;")
        else:
            model.add_var(f"{name}Reset", vtype, value, CustomUpdateVarAccess.READ_ONLY_SHARED)
            model.append_update_code(f"{name} = {name}Reset;")
    return model


def _model_name(name, compiler):
    """Engine model name: ``<name or calling module>_<compiler class>``, made
    a safe identifier (see ``utils.names``)."""
    if name is None:
        frame = inspect.stack()[2]
        name = os.path.splitext(os.path.basename(frame.filename))[0]
    stem = sanitise(name) or "model"
    if not stem[0].isalpha() or stem.startswith("mg_"):
        stem = f"model_{stem}"
    return f"{stem}_{sanitise(type(compiler).__name__) or 'Compiler'}"


# Keyword arguments users pass to a compiler that belong elsewhere
_MISPLACED_HINTS = {
    "metrics": "metrics are chosen per call: compiled_net.evaluate(x, y, metrics=...)",
    "callbacks": "callbacks are given per call: compiled_net.evaluate(..., callbacks=...)",
    "inputs": "inputs/outputs are given to compile(): compiler.compile(net, inputs=..., "
              "outputs=...)",
    "outputs": "inputs/outputs are given to compile(): compiler.compile(net, inputs=..., "
               "outputs=...)",
    "example_timesteps": "InferenceCompiler calls it evaluate_timesteps",
    "timesteps": "InferenceCompiler calls it evaluate_timesteps",
    "seed": "the compilers call it rng_seed",
}


def _check_genn_kwargs(compiler, genn_kwargs):
    """Reject keyword arguments that neither the compiler nor the engine know,
    naming them and the accepted ones (``TypeError``); values the engine
    refuses (e.g. ``num_threads=0``) are reported here too, not at compile."""
    owner = f"{type(compiler).__name__}()"
    accepted = []
    for cls in type(compiler).__mro__:
        if issubclass(cls, Compiler) and "__init__" in vars(cls):
            accepted += [a for a in accepted_arguments(cls.__init__)
                         if a not in accepted and a != "supported_matrix_type"]
    engine_named = accepted_arguments(GeNNModel.__init__,
                                      skip=("self", "precision", "model_name"))

    def error(keys, reason=""):
        hints = [f"{k}: {_MISPLACED_HINTS[k]}" for k in keys if k in _MISPLACED_HINTS]
        return unknown_argument_error(
            owner, keys, accepted,
            f" (other keyword arguments are forwarded to the engine, GeNNModel, which "
            f"accepts {', '.join(engine_named)} and the pygenn preferences "
            f"{', '.join(sorted(ACCEPTED_PREFERENCES))}){reason}"
            + ("; " + "; ".join(hints) if hints else ""))

    unknown = [k for k in genn_kwargs
               if k not in engine_named and k not in ACCEPTED_PREFERENCES]
    if unknown:
        raise error(unknown)
    if genn_kwargs:
        try:
            GeNNModel("float", "probe", **genn_kwargs)
        except TypeError as e:
            raise error(list(genn_kwargs), f"; the engine said: {e}") from None


class Compiler:
    def __init__(self, supported_matrix_type: List[int], dt: float = 1.0,
                 batch_size: int = 1, rng_seed: int = 0, kernel_profiling: bool = False,
                 communicator=None, **genn_kwargs):
        owner = type(self).__name__
        dt = check_positive_finite(owner, "dt", dt)
        batch_size = check_positive_int(owner, "batch_size", batch_size)
        rng_seed = check_non_negative_int(owner, "rng_seed", rng_seed)
        if rng_seed >= 2 ** 64:
            raise ValueError(f"{owner}: rng_seed must be below 2**64 (0 picks a random "
                             f"seed), got {rng_seed}")
        _check_genn_kwargs(self, genn_kwargs)
        if communicator is not None:
            num_ranks = getattr(communicator, "num_ranks", None)
            if (isinstance(num_ranks, bool) or not isinstance(num_ranks, (int, np.integer))
                    or num_ranks < 1 or not hasattr(communicator, "rank")):
                raise TypeError(f"{owner}: communicator must be a Communicator (e.g. "
                                "ml_genn.communicators.MPI()) with num_ranks >= 1, or None; "
                                f"got {type(communicator).__name__} {communicator!r}")
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
        self._genn_names = GeNNNames()

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
        """The static pulse: each spike of the source delivers the weight
        ``g``. From a population whose neuron has ``graded_output = True``
        (the Nengo family, ``RateInput``) it delivers ``g * Out`` instead
        (see :meth:`build_graded_weight_update_model`)."""
        src_model = self._source_models.get(conn.source())
        if is_graded(conn.source().neuron):
            return self.build_graded_weight_update_model(conn, connect_snippet, src_model)
        delay = connect_snippet.delay
        negative = (src_model.model.get("negative_threshold_condition_code")
                    if src_model is not None else None)
        if is_value_constant(delay):
            model = deepcopy(signed_static_pulse_model if negative else static_pulse_model)
            param_vals = {"g": connect_snippet.weight}
        else:
            delay_type, d = _delay_param(conn, delay)
            model = (get_signed_static_pulse_delay_model(delay_type) if negative
                     else get_static_pulse_delay_model(delay_type))
            param_vals = {"g": connect_snippet.weight, "d": d}
        wum = WeightUpdateModel(model, param_vals)
        if negative:
            _add_event_condition(wum, negative, src_model)
        return wum

    def build_graded_weight_update_model(self, conn, connect_snippet, src_model):
        """Graded transmission: the next layer reads the source's output
        variable (``Out``) as ``g * Out``, which is how Nengo connects its
        neurons (a rate in Hz, or ``amplitude / dt`` per spike).

        ``Out`` is read through a presynaptic neuron variable reference
        when the spike is delivered (the step after it was emitted, before
        the source updates again, so the value of the emitting step). A
        source with a threshold condition transmits on its spikes; one
        without (a rate neuron, ``RateInput``) on a spike-like event each
        step its output is not 0, so rate neurons never spike. A delay goes
        through the dendritic delay ring (:meth:`apply_delay`): an axonal
        delay would deliver a later step's ``Out``."""
        src = conn.source()
        owner = (f"connection '{conn.name}' from population '{src.name}' "
                 f"({type(src.neuron).__name__}, graded output)")
        if src_model is None:
            raise RuntimeError(f"{owner}: {type(self).__name__} built it outside compile() "
                               "(the source's neuron model is unknown)")
        if src_model.model.get("negative_threshold_condition_code"):
            raise NotImplementedError(
                f"{owner}: {type(self).__name__} cannot make a graded connection from a "
                "neuron that also emits negative spikes (negative_threshold_condition_code)")
        try:
            out_name, out_type = src_model.output_var[:2]
        except RuntimeError as e:
            raise RuntimeError(f"{owner}: a graded neuron needs an output variable for the "
                               f"next layer to read ({e})") from None
        on_event = not src_model.model.get("threshold_condition_code")
        param_vals = {"g": connect_snippet.weight}
        if _is_zero_delay(connect_snippet.delay):
            delay_type = None
        else:
            delay_type, param_vals["d"] = _delay_param(conn, connect_snippet.delay)
        model = get_graded_static_pulse_model(PRE_OUTPUT_REF, on_event, delay_type, out_type)
        return WeightUpdateModel(model, param_vals,
                                 pre_neuron_var_refs={PRE_OUTPUT_REF: out_name})

    def apply_delay(self, genn_pop, conn, delay, compile_state):
        """Constant delays are axonal, others dendritic; every delay of a
        connection from a graded population is dendritic (see
        :meth:`build_graded_weight_update_model`)."""
        if is_graded(conn.source().neuron):
            if not _is_zero_delay(delay):
                genn_pop.max_dendritic_delay_timesteps = get_conn_max_delay(
                    conn, conn.connectivity.delay)
        elif is_value_constant(delay):
            genn_pop.axonal_delay_steps = int(round(delay))
        else:
            genn_pop.max_dendritic_delay_timesteps = get_conn_max_delay(
                conn, conn.connectivity.delay)

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        return CompiledNetwork(genn_model, neuron_populations, connection_populations,
                               self.communicator)

    # -- the compile pipeline ----------------------------------------------
    def _check_compile_kwargs(self, kwargs):
        """``compile(network, name=None, **kwargs)``: every compiler accepts
        ``inputs``/``outputs``; other keywords must be named by ``compile`` or
        ``pre_compile`` (a ``TypeError`` naming them otherwise). A subclass
        whose own ``pre_compile`` takes ``**kwargs`` receives anything."""
        pre_compile = type(self).pre_compile
        params = inspect.signature(pre_compile).parameters.values()
        own = not pre_compile.__module__.startswith("ml_genn.compilers")
        if own and any(p.kind == p.VAR_KEYWORD for p in params):
            return
        accepted = {"inputs", "outputs"}
        accepted.update(accepted_arguments(pre_compile, skip=("self", "network",
                                                              "genn_model")))
        accepted.update(accepted_arguments(type(self).compile, skip=("self", "network")))
        unknown = [k for k in kwargs if k not in accepted]
        if unknown:
            raise unknown_argument_error(f"{type(self).__name__}.compile()", unknown,
                                         ["network", "name"] + sorted(accepted - {"name"}))

    def compile(self, network, name=None, **kwargs):
        from ..network import Network
        if not isinstance(network, Network):
            raise TypeError(f"{type(self).__name__}.compile: network must be a Network (or "
                            f"SequentialNetwork), not {type(network).__name__}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}.compile: name must be a string or None, "
                            f"not {type(name).__name__}")
        self._check_compile_kwargs(kwargs)
        _check_network_membership(network)
        genn_model = GeNNModel("float", _model_name(name, self), **self.genn_kwargs)
        genn_model.dt = self.dt
        genn_model.batch_size = self.batch_size
        genn_model.seed = self.rng_seed
        genn_model.timing_enabled = self.kernel_profiling
        # user-facing names stay on the objects; the engine gets identifiers
        genn_names = self._genn_names = GeNNNames()
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
            nm = ProcessedModel.coerce(model.process())
            genn_name = genn_names.get("pop", pop.name)
            try:
                genn_pop = genn_model.add_neuron_population(
                    genn_name, int(np.prod(pop.shape)),
                    create_neuron_model("NeuronModel", **nm.model), nm.constant_param_vals,
                    nm.var_vals)
            except Exception as e:
                add_note(e, f"(engine name {genn_name!r} is the ml_genn population named "
                            f"{pop.name!r})")
                raise
            genn_pop.spike_recording_enabled = pop.record_spikes
            genn_pop.spike_event_recording_enabled = pop.record_spike_events
            _set_dynamic_and_egps(genn_pop, nm.dynamic_param_names, nm.egp_vals,
                                  nm.var_egp_vals)
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
                ps = ProcessedSynapseModel.coerce(syn_model.process())
                psm = create_postsynaptic_model("PostsynapticModel", **ps.model)
                snippet = conn.connectivity.get_snippet(conn, self.supported_matrix_type)
                wum = self.build_weight_update_model(conn, snippet, compile_state)
                wu = ProcessedWeightUpdateModel.coerce(wum.process())
                if is_graded(src.neuron):
                    _check_graded_weight_update(self, conn, wu, source_models[src])
                genn_name = genn_names.get("conn", conn.name)
                try:
                    genn_syn = genn_model.add_synapse_population(
                        genn_name, snippet.matrix_type, neuron_populations[src],
                        neuron_populations[trg],
                        init_weight_update(create_weight_update_model("WeightUpdateModel",
                                                                      **wu.model),
                                           wu.constant_param_vals, wu.var_vals,
                                           wu.pre_var_vals, wu.post_var_vals,
                                           wu.pre_neuron_var_refs, wu.post_neuron_var_refs),
                        init_postsynaptic(psm, ps.constant_param_vals, ps.var_vals,
                                          ps.neuron_var_refs),
                        snippet.snippet)
                except Exception as e:
                    add_note(e, f"(engine name {genn_name!r} is the ml_genn connection "
                                f"named {conn.name!r})")
                    raise
                self.apply_delay(genn_syn, conn, snippet.delay, compile_state)
                if is_graded(src.neuron) and genn_syn.axonal_delay_steps:
                    raise NotImplementedError(
                        f"connection '{conn.name}': {type(self).__name__} gave it an axonal "
                        f"delay of {genn_syn.axonal_delay_steps} steps, but its source "
                        f"'{src.name}' ({type(src.neuron).__name__}) has a graded output, "
                        "which is read when a spike is delivered: the delayed spike would "
                        "carry a later step's value; delay graded connections with "
                        "dendritic delays (Compiler.apply_delay does)")
                if snippet.pre_ind is not None:
                    genn_syn.set_sparse_connections(snippet.pre_ind, snippet.post_ind)
                _set_dynamic_and_egps(genn_syn, wu.dynamic_param_names, wu.egp_vals,
                                      wu.var_egp_vals)
                for p in sorted(ps.dynamic_param_names):
                    genn_syn.set_ps_param_dynamic(p)
                connection_populations[conn] = genn_syn
        finally:
            self._source_models = {}
        return self.create_compiled_network(genn_model, neuron_populations,
                                            connection_populations, compile_state)


def _check_network_membership(network):
    """Every connection of ``network`` must join two of its populations."""
    members = {id(p) for p in network.populations}
    for conn in network.connections:
        for role in ("source", "target"):
            pop = getattr(conn, role)()
            if pop is None or id(pop) not in members:
                name = "a deleted population" if pop is None else f"'{pop.name}'"
                raise ValueError(f"connection '{conn.name}': its {role} {name} is not a "
                                 "population of the network being compiled; create it "
                                 "inside the same 'with network:' block (or add it to "
                                 "network.populations)")


def _check_graded_weight_update(compiler, conn, wu, src_model):
    """A connection from a graded population must read the source's output
    through a presynaptic neuron variable reference in the code it runs on
    the source's spikes or events; a weight-update model that does not (a
    compiler overriding ``build_weight_update_model`` without calling the
    base) would deliver a constant per spike: refuse it."""
    src = conn.source()
    out_name = src_model.output_var_name
    refs = {name for name, target in wu.pre_neuron_var_refs.items()
            if getattr(target, "var_name", target) == out_name}
    used = set()
    for field in ("pre_spike_syn_code", "pre_event_syn_code"):
        try:
            used |= {t.text for t in tokenize(wu.model.get(field) or "") if t.kind == "ident"}
        except Exception:
            return      # a bad code string: the engine reports it, with its position
    if not refs & used:
        raise NotImplementedError(
            f"connection '{conn.name}': its source '{src.name}' "
            f"({type(src.neuron).__name__}) has a graded output (the next layer reads "
            f"g * {out_name}), but the weight update model {type(compiler).__name__} built "
            f"for it does not read '{out_name}' through a presynaptic neuron variable "
            "reference when the source spikes; it would deliver a constant per spike. "
            "Build it with Compiler.build_weight_update_model (call super()) or read "
            f"the source's '{out_name}' in pre_spike_syn_code / pre_event_syn_code")


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
    # sorted: a set's order varies between processes, and the order of the
    # dynamic parameters is part of the generated code (and its cache key)
    for p in sorted(dynamic):
        genn_group.set_param_dynamic(p)
    for name, value in egp_vals.items():
        genn_group.extra_global_params[name].set_init_values(value)
    for var, egps in var_egp_vals.items():
        for name, value in egps.items():
            genn_group.vars[var].extra_global_params[name].set_init_values(value)


def add_custom_update(genn_model, model, group, name):
    """Add a utils.model.CustomUpdateModel to the engine model.

    ``name`` is used as given when it is a plain identifier; anything else
    is replaced by a derived one (``cu_<ascii>``, see ``utils.names``)."""
    if not is_plain_identifier(name):
        name = GeNNNames().get("cu", name)
        base, n = name, 2
        while name in genn_model.custom_updates:
            name = f"{base}_{n}"
            n += 1
    p = ProcessedCustomUpdateModel.coerce(model.process())
    cu = genn_model.add_custom_update(name, group,
                                      create_custom_update_model("CustomUpdate", **p.model),
                                      p.constant_param_vals, p.var_vals, p.var_refs,
                                      p.egp_refs)
    _set_dynamic_and_egps(cu, p.dynamic_param_names, p.egp_vals, p.var_egp_vals)
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


_SOFTMAX_MAX_MODEL = {
    "vars": [("MaxVal", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_MAX)],
    "var_refs": [("Val", "scalar", VarAccessMode.READ_ONLY)],
    "update_code": "MaxVal = Val;"}

_SOFTMAX_SUM_MODEL = {
    "params": [("Temp", "scalar")],
    "vars": [("SumExpVal", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
    "var_refs": [("Val", "scalar", VarAccessMode.READ_ONLY),
                 ("MaxVal", "scalar", VarAccessMode.READ_ONLY)],
    "update_code": "SumExpVal = exp((Val - MaxVal) / Temp);"}

_SOFTMAX_MODEL = {
    "params": [("Temp", "scalar")],
    "var_refs": [("Val", "scalar", VarAccessMode.READ_ONLY),
                 ("MaxVal", "scalar", VarAccessMode.READ_ONLY),
                 ("SumExpVal", "scalar", VarAccessMode.READ_ONLY),
                 ("SoftmaxVal", "scalar", VarAccessMode.READ_WRITE)],
    "update_code": "SoftmaxVal = exp((Val - MaxVal) / Temp) / SumExpVal;"}


def add_softmax_custom_updates(genn_model, genn_pop, input_var: str, output_var: str,
                               group_prefix: str = "", temperature: float = 1.0):
    """Three custom-update groups computing ``output_var = softmax(input_var
    / temperature)`` over the neurons of each batch element:
    ``<prefix>Softmax1`` (maximum), ``<prefix>Softmax2`` (sum of the shifted
    exponentials) and ``<prefix>Softmax3`` (the normalised output); run them
    in this order.

    Args:
        genn_model: the engine model
        genn_pop: the engine neuron group
        input_var: name of the variable to normalise
        output_var: name of the (read-write) variable receiving the result
        group_prefix: prefix of the three group names
        temperature: softmax temperature
    """
    name = genn_pop.name
    max_cu = add_custom_update(
        genn_model,
        CustomUpdateModel(deepcopy(_SOFTMAX_MAX_MODEL), {}, {"MaxVal": 0.0},
                          {"Val": create_var_ref(genn_pop, input_var)}),
        f"{group_prefix}Softmax1", f"{group_prefix}Softmax1{name}")
    sum_cu = add_custom_update(
        genn_model,
        CustomUpdateModel(deepcopy(_SOFTMAX_SUM_MODEL), {"Temp": temperature},
                          {"SumExpVal": 0.0},
                          {"Val": create_var_ref(genn_pop, input_var),
                           "MaxVal": create_var_ref(max_cu, "MaxVal")}),
        f"{group_prefix}Softmax2", f"{group_prefix}Softmax2{name}")
    add_custom_update(
        genn_model,
        CustomUpdateModel(deepcopy(_SOFTMAX_MODEL), {"Temp": temperature}, {},
                          {"Val": create_var_ref(genn_pop, input_var),
                           "MaxVal": create_var_ref(max_cu, "MaxVal"),
                           "SumExpVal": create_var_ref(sum_cu, "SumExpVal"),
                           "SoftmaxVal": create_var_ref(genn_pop, output_var)}),
        f"{group_prefix}Softmax3", f"{group_prefix}Softmax3{name}")


__all__ = ["Compiler", "SupportedMatrixType", "PRE_OUTPUT_REF", "create_reset_custom_update",
           "get_delay_type", "get_conn_max_delay", "add_custom_update",
           "add_out_post_zero_custom_update", "add_softmax_custom_updates", "VarAccessMode"]
