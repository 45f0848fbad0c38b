"""``pre_compile`` of EventPropCompiler: refuse what the EventProp
equations do not cover (neurons, readouts, losses, synapses, connectivity)
and work out the compile state the model builders read (``_State``)."""
from numbers import Number

import numpy as np

from ...connectivity import AvgPoolConv2D
from ...losses import (Loss, MeanSquareError, RelativeMeanSquareError,
                       SparseCategoricalCrossentropy, default_losses)
from ...neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire
from ...neurons.input import Input
from ...readouts import AvgVar, AvgVarExpWeight, FirstSpikeTime, MaxVar, SumVar, Var
from ...synapses import Delta, Exponential
from ...utils.module import get_object_mapping
from ...utils.value import is_value_constant
from ..compiler import population_dict

_SCE_PER_TRIAL_READOUTS = (AvgVar, AvgVarExpWeight, SumVar, MaxVar)
_SCE_PER_TIMESTEP_READOUTS = (AvgVar, SumVar)


def _constant(owner, name, value):
    if not is_value_constant(value):
        raise NotImplementedError(f"EventPropCompiler: {owner} has a per-neuron {name}; "
                                  f"EventProp needs one number per population")
    return float(value)


def _check_lambda(owner, value):
    if isinstance(value, bool) or not isinstance(value, (Number, np.number)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"EventPropCompiler: {owner} must be a finite number >= 0, "
                         f"got {value!r}")
    return float(value)


class _State:
    """What pre_compile works out, used while building and at the end."""

    def __init__(self):
        self.losses = {}            # output Population -> Loss
        self.tau_syn = {}           # non-input Population -> tau of its synapses
        self.reg = {}               # hidden Population -> (lambda_upper, lambda_lower)
        self.models = {}            # Population -> final NeuronModel
        self.ring_pops = []         # populations with spike ring buffers
        self.delay_learn = set()    # Connections whose delays are learned
        self.deep_r = []            # Connections rewired by Deep-R
        self.trainable = []         # Connections with a Gradient


class _NetworkChecks:
    """Checks of the network and the compile state (mixin of
    ``EventPropCompiler``)."""

    def pre_compile(self, network, genn_model, **kwargs):
        state = _State()
        outputs = [p for p in network.populations if p.neuron.readout is not None]
        if not outputs:
            raise RuntimeError("EventPropCompiler: the network has no output population "
                               "(give an output neuron a readout=...)")
        losses = (population_dict("EventPropCompiler", "losses", self.losses)
                  if isinstance(self.losses, dict) else self.losses)
        state.losses = get_object_mapping(losses, outputs, Loss, "Loss", default_losses)
        hidden = [p for p in network.populations
                  if p.neuron.readout is None and not isinstance(p.neuron, Input)]
        for pop in outputs:
            self._check_output(pop, state.losses[pop])
        for pop in hidden:
            if type(pop.neuron) not in (LeakyIntegrateFire, AdaptiveLeakyIntegrateFire):
                raise NotImplementedError(
                    f"EventPropCompiler: hidden population '{pop.name}' has "
                    f"{type(pop.neuron).__name__} neurons; EventProp supports "
                    "LeakyIntegrateFire and AdaptiveLeakyIntegrateFire hidden neurons only")
            self._check_lif(pop)
        for pop in network.populations:
            if isinstance(pop.neuron, Input):
                model = pop.neuron.get_model(pop, self.dt, self.batch_size)
                if model.model.get("negative_threshold_condition_code"):
                    raise NotImplementedError(
                        f"EventPropCompiler: input population '{pop.name}' emits negative "
                        "spikes (signed_spikes=True); EventProp supports unsigned inputs")
            elif not pop.incoming_connections:
                raise RuntimeError(f"EventPropCompiler: population '{pop.name}' has no "
                                   "incoming connection; nothing can train it")
        for conn in network.connections:
            self._check_connection(conn, outputs)
        for pop in network.populations:
            synapses = [c().synapse for c in pop.incoming_connections]
            if any(isinstance(s, Delta) for s in synapses):
                if not all(isinstance(s, Delta) for s in synapses):
                    raise NotImplementedError(
                        f"EventPropCompiler: the connections into population '{pop.name}' "
                        "mix Delta and Exponential synapses; EventProp needs one synapse "
                        "kind (and one tau) per target population")
                state.tau_syn[pop] = None       # None: Delta synapses
                continue
            taus = {float(s.tau) for s in synapses}
            if len(taus) > 1:
                raise NotImplementedError(
                    f"EventPropCompiler: the connections into population '{pop.name}' have "
                    f"synapse time constants {sorted(taus)}; EventProp needs one tau per "
                    "target population")
            if taus:
                state.tau_syn[pop] = taus.pop()
        state.reg = self._regularisation(hidden)
        conns = set(network.connections)
        for what, chosen in (("delay_learn_conns", self.delay_learn_conns),
                             ("deep_r_conns", self.deep_r_conns),
                             ("deep_r_record_rewirings", self.deep_r_record_rewirings)):
            for conn in chosen:
                if conn not in conns:
                    raise ValueError(f"EventPropCompiler: {what} names connection "
                                     f"'{conn.name}', which is not in the network")
        for conn in self.delay_learn_conns:
            if conn.max_delay_steps is None:
                raise RuntimeError(f"EventPropCompiler: connection '{conn.name}' learns its "
                                   "delays (delay_learn_conns) and needs max_delay_steps on "
                                   "the Connection/Layer")
        state.delay_learn = set(self.delay_learn_conns)
        state.deep_r = list(self.deep_r_conns)
        return state

    def _check_lif(self, pop):
        neuron = pop.neuron
        if neuron.tau_refrac is not None:
            raise NotImplementedError(f"EventPropCompiler: population '{pop.name}' has a "
                                      "refractory period (tau_refrac); EventProp's adjoint "
                                      "assumes none: use tau_refrac=None")
        _constant(f"population '{pop.name}'", "tau_mem", neuron.tau_mem)
        if isinstance(neuron, AdaptiveLeakyIntegrateFire):
            _constant(f"population '{pop.name}'", "beta", neuron.beta)
            _constant(f"population '{pop.name}'", "tau_adapt", neuron.tau_adapt)
            if not neuron.relative_reset:
                raise NotImplementedError(
                    f"EventPropCompiler: population '{pop.name}' "
                    "(AdaptiveLeakyIntegrateFire) uses relative_reset=False; EventProp's "
                    "adaptive-threshold adjoint is derived for the relative reset "
                    "(V -= Vthresh - Vreset): use relative_reset=True")

    def _check_output(self, pop, loss):
        neuron, readout = pop.neuron, pop.neuron.readout
        where = f"output population '{pop.name}'"
        if type(neuron) is LeakyIntegrate:
            _constant(where, "tau_mem", neuron.tau_mem)
            if isinstance(loss, SparseCategoricalCrossentropy):
                allowed = (_SCE_PER_TIMESTEP_READOUTS if self.per_timestep_loss
                           else _SCE_PER_TRIAL_READOUTS)
                if not isinstance(readout, allowed):
                    mode = "per-timestep" if self.per_timestep_loss else "per-trial"
                    raise NotImplementedError(
                        f"EventPropCompiler: {where} (LeakyIntegrate) has a "
                        f"{type(readout).__name__} readout; {mode} cross-entropy supports "
                        f"{', '.join(r.__name__ for r in allowed)}")
                return
            if isinstance(loss, MeanSquareError):
                if not isinstance(readout, Var):
                    raise NotImplementedError(
                        f"EventPropCompiler: {where} (LeakyIntegrate) uses MeanSquareError, "
                        f"which needs the Var readout, not {type(readout).__name__}")
                return
        elif type(neuron) is LeakyIntegrateFire:
            self._check_lif(pop)
            if not isinstance(readout, FirstSpikeTime):
                raise NotImplementedError(
                    f"EventPropCompiler: {where} (LeakyIntegrateFire) has a "
                    f"{type(readout).__name__} readout; LIF outputs need FirstSpikeTime")
            if isinstance(loss, (SparseCategoricalCrossentropy, RelativeMeanSquareError)):
                return
        else:
            raise NotImplementedError(
                f"EventPropCompiler: {where} has {type(neuron).__name__} neurons; EventProp "
                "outputs are LeakyIntegrate or LeakyIntegrateFire")
        raise NotImplementedError(
            f"EventPropCompiler: {where} ({type(neuron).__name__}) with "
            f"{type(loss).__name__} is not supported; LeakyIntegrate outputs take "
            "SparseCategoricalCrossentropy or MeanSquareError, LeakyIntegrateFire outputs "
            "(FirstSpikeTime) SparseCategoricalCrossentropy or RelativeMeanSquareError")

    def _check_connection(self, conn, outputs):
        src = conn.source()
        if isinstance(conn.synapse, Delta):
            self._check_delta_connection(conn, src, conn.target(), outputs)
        elif not isinstance(conn.synapse, Exponential):
            raise NotImplementedError(f"EventPropCompiler: connection '{conn.name}' has "
                                      f"{type(conn.synapse).__name__} synapses; EventProp "
                                      "supports Exponential and Delta synapses only")
        elif not is_value_constant(conn.synapse.tau):
            raise NotImplementedError(f"EventPropCompiler: connection '{conn.name}': the "
                                      "synapse tau must be one number")
        if src in outputs:
            raise NotImplementedError(f"EventPropCompiler: connection '{conn.name}' starts "
                                      f"at output population '{src.name}'; outputs cannot "
                                      "drive other populations")
        if isinstance(conn.connectivity, AvgPoolConv2D):
            raise NotImplementedError(
                f"EventPropCompiler: connection '{conn.name}' is AvgPoolConv2D, whose "
                "trained kernel would be the pooled one (weight / pool area), which a "
                "checkpoint saves and Network.load would divide again: use AvgPool2D "
                "followed by a Conv2D layer")

    def _check_delta_connection(self, conn, src, trg, outputs):
        """Delta synapses: into LeakyIntegrate outputs from any source, into
        LeakyIntegrateFire hidden neurons from inputs (see the package
        docstring: a spike caused by a Delta jump happens at the arrival
        time, so carrying its timing back needs the presynaptic spike)."""
        where = f"EventPropCompiler: connection '{conn.name}' (Delta synapses)"
        if trg in outputs:
            if type(trg.neuron) is not LeakyIntegrate:
                raise NotImplementedError(
                    f"{where} targets output population '{trg.name}' "
                    f"({type(trg.neuron).__name__}): a spike caused by a Delta jump happens at "
                    "the input's arrival time, so first-spike times do not depend on the "
                    "weights; Delta synapses can drive LeakyIntegrate outputs and "
                    "LeakyIntegrateFire hidden neurons")
        elif type(trg.neuron) is not LeakyIntegrateFire:
            raise NotImplementedError(
                f"{where} targets hidden population '{trg.name}' "
                f"({type(trg.neuron).__name__}); Delta synapses can drive "
                "LeakyIntegrate outputs and LeakyIntegrateFire hidden neurons")
        elif not isinstance(src.neuron, Input):
            raise NotImplementedError(
                f"{where} connects hidden population '{src.name}' to hidden population "
                f"'{trg.name}': the target's spikes would be locked to the source's, which "
                "EventProp does not carry back; Delta synapses into a hidden population "
                "must come from input populations (use Exponential synapses)")
        elif conn in self.delay_learn_conns:
            raise NotImplementedError(
                f"{where} learns its delays into hidden population '{trg.name}', whose "
                "spikes are locked to the arrivals: moving one moves a spike, which "
                "EventProp does not carry back; learn delays of Delta synapses into "
                "LeakyIntegrate outputs only")

    def _regularisation(self, hidden):
        def resolve(value, name):
            if isinstance(value, dict):
                out = {}
                for pop, v in population_dict("EventPropCompiler", name, value).items():
                    if pop not in hidden:
                        raise ValueError(f"EventPropCompiler: {name} is given for "
                                         f"population '{pop.name}', which is not a hidden "
                                         "(LIF) population")
                    out[pop] = _check_lambda(f"{name}['{pop.name}']", v)
                return out
            v = _check_lambda(name, value)
            return {pop: v for pop in hidden}

        upper = resolve(self.reg_lambda_upper, "reg_lambda_upper")
        lower = resolve(self.reg_lambda_lower, "reg_lambda_lower")
        return {p: (upper.get(p, 0.0), lower.get(p, 0.0)) for p in hidden
                if upper.get(p, 0.0) != 0.0 or lower.get(p, 0.0) != 0.0}
