"""EventPropCompiler: exact gradients for spiking networks (EventProp,
Wunderlich & Pehle 2021; Nowotny et al. 2024).

The backward pass of trial (batch) ``k`` runs during the forward pass of
trial ``k + 1``, in reversed time: at forward time ``t`` the adjoint
variables are at ``backT = T - t - dt`` (``T = example_timesteps * dt``).
Every spiking population stores the times of its forward spikes (and, for
LIF neurons, ``I - V`` at each spike) in per-neuron ring buffers; a neuron
raises ``BackSpike`` one step before the backward pass reaches one of its
spikes, which (a) makes it handle the adjoint jump ("transition") in the
next step and (b) emits a spike-like event on its outgoing synapses, which
accumulate the weight gradient ``Gradient -= tau_syn * LambdaI_post`` and
send ``g * (LambdaV_post - LambdaI_post)`` back into the source's
``RevISyn``. Convolutions (``Conv2D``, ``Conv2DTranspose``) use kernel
connectivity (TOEPLITZ, else PROCEDURAL_KERNELG): one weight and one
``Gradient`` per kernel entry (per batch element), into which every synapse
sharing the entry adds with ``atomic_add_Gradient``. The gradient of
batch ``b`` is applied (Adam) at the end of batch ``b + 1``; the loss drive
of the outputs is off while the dynamic parameter ``Trial`` (the batch
index) is 0, so the first batch of an epoch runs no backward pass of the
previous epoch's last batch.

Scale of ``Gradient``: the output adjoints are driven as upstream mlGeNN
does, so ``Gradient`` is ``dL/dw / tau_mem`` (``tau_mem`` of the output
population) for cross-entropy on ``avg_var``/``avg_var_exp_weight``/
``max_var`` readouts and for per-timestep losses, ``dL/dw * dt / (tau_mem
* T)`` for ``sum_var``, and ``dL/dw`` for first-spike-time losses, where
``L`` is the loss averaged over the batch (summed for
``RelativeMeanSquareError``). Adam does not depend on the scale; keeping
upstream's keeps published regularisation strengths meaningful.

Delta synapses and adaptive LIF hidden neurons (beyond upstream). Notation:
``mu_X = dL/dX(t)``; the code's adjoints are ``LambdaV = -mu_V / (k tau_mem)``,
``LambdaI = -mu_I / (k tau_syn)``, ``LambdaA = -mu_A / (k tau_adapt)`` for
one constant ``k`` (the scale of ``Gradient`` above), so that ``Gradient``
is ``dL/dw / k`` and ``RevISyn`` collects ``(dL/dt_spike) / k`` from the
targets. At a spike at ``t_k`` where ``g(x) = 0`` (``g`` the threshold
function), with the jump ``x+ = h(x-)``, flow ``f`` and ``E = dL/dt_k`` of
the targets (and of the loss), the costate jumps (backwards) by
``mu- = h_x^T mu+ - g_x (mu+ . (h_x f- - f+) + E) / (g_x . f-)``.

* Delta synapse: a spike arriving at ``s`` jumps the target's ``V`` by
  ``J = c w`` (``c = 1 - Alpha`` with the target's ``scale_i``, else 1).
  ``dL/dw = c mu_V(s)``, so ``Gradient -= c tau_mem LambdaV_post``, read in
  the arrival step (``[d]`` steps back with a delay). Moving the arrival
  later by ``ds`` takes ``J`` off ``V`` over ``ds``: the state after it
  differs by ``+J ds / tau_mem`` and the loss integrand by ``-l_V J ds``, so
  ``dL/ds = -k J (LambdaV - D)`` with ``D = -l_V / k`` the loss drive of a
  LeakyIntegrate output (0 for a hidden target). The output keeps
  ``LambdaI = LambdaV - D`` for this (it has no synaptic current), a hidden
  source gets ``RevISyn += -c g LambdaI_post`` and a learned delay
  ``DelayGradient -= c g LambdaI_post``. A LIF neuron driven only by Delta
  synapses spikes only at a jump, in the arrival step: its spike times do
  not move with the weights (the gradient of the incoming weights is 0
  almost everywhere, and the engine's is exactly 0), and its transition is
  ``LambdaV <- 0`` for the absolute reset (``V`` after the spike does not
  depend on ``V`` before it) and nothing for the relative one. Carrying
  such a locked spike's timing back to the presynaptic spike is not
  implemented, so Delta synapses between hidden populations, learned
  delays of Delta synapses into hidden populations, and Delta synapses
  into ALIF neurons or LIF (first-spike-time) outputs are refused.
* Adaptive LIF (relative reset, no refractory period): ``tau_m dV/dt =
  -V + I``, ``tau_s dI/dt = -I``, ``tau_a dA/dt = -A``; threshold ``g = V -
  Vthresh - beta A``; at a spike ``V -= Vthresh - Vreset``, ``A += 1``
  (``h_x = 1``). Between spikes ``LambdaV *= Alpha``, ``LambdaI <-
  K LambdaV + exp(-dt/tau_s) LambdaI`` (as LIF), ``LambdaA *= Rho``. With
  ``D = tau_m g_x . f- = (I - V) + (tau_m / tau_a) beta A`` (before the
  reset, stored in ``RingIMinusV``) the jump is
  ``x = ((Vthresh - Vreset) LambdaV - LambdaA + RevISyn) / D``,
  ``LambdaV += x``, ``LambdaA -= beta (tau_m / tau_a) x`` (``beta = 0``
  gives the LIF transition). The ALIF's parameters ``A`` and ``Beta`` are
  its own, so its adjoint constants are ``LambdaIDecay``,
  ``LambdaICoupling`` and ``AdaptScale = beta tau_m / tau_a``; ALIF has no
  ``scale_i``, so ``IsynScale`` and the weights' current scale include
  ``1 / (1 - Alpha)``. The absolute reset (``h_x`` zero in ``V``) would need
  ``I - Vreset`` and ``A`` at the spike as well, and is refused.

Differences from upstream mlGeNN 2.4 (each the correct behaviour):

* Trials are independent: every connection's input accumulator and delay
  ring are cleared, and spikes still in flight dropped, when a batch starts
  (upstream zeroes the accumulators at the start of the last time step,
  which changes the forward pass it differentiates and lets the last
  step's spikes reach the next example; issue #190). No per-step callback
  is needed for it, so batches run in one native call.
* ``max_spikes`` is the capacity per neuron *per trial*: the ring keeps the
  trial being read backwards and the one being written (``2 * max_spikes``
  entries); a neuron's spikes beyond ``max_spikes`` in one trial are not
  stored (``strict_buffer_checking=True`` turns that into a RuntimeError
  after the batch instead of a silent loss of gradient).
* ``per_timestep_loss=True`` with cross-entropy works.
* The softmax of first-spike times uses ``softmax_temperature``, the
  temperature the cross-entropy gradient is computed with (upstream
  normalises with temperature 1).
* The adjoint jump at a spike uses ``(Vthresh - Vreset) * LambdaV`` (the
  voltage lost in the reset; upstream assumes ``Vreset = 0``), and the
  currents follow each population's ``scale_i`` settings (upstream assumes
  ``default_params``).
* Non-trainable connections (``AvgPool2D``) still carry the adjoint back to
  a hidden source; fixed and learned delays read the postsynaptic adjoint
  ``d`` steps back for the ``RevISyn`` term too.
* Contributions the forward pass could not have had (a delayed spike that
  would arrive after the end of the trial) are not counted.
* Unsupported losses raise ``NotImplementedError`` naming them (upstream
  raises a ``NameError`` while formatting its message).
"""
from copy import copy, deepcopy
from numbers import Number

import numpy as np

from ..callbacks import (Callback, CustomUpdateOnBatchBegin, CustomUpdateOnBatchEnd,
                         CustomUpdateOnTimestepBegin, CustomUpdateOnTimestepEnd)
from ..connectivity import AvgPoolConv2D
from ..genn import (CustomUpdateVarAccess, SynapseMatrixType, SynapseMatrixWeight, VarAccess,
                    VarAccessMode, create_var_ref, create_wu_var_ref)
from ..losses import (Loss, MeanSquareError, RelativeMeanSquareError,
                      SparseCategoricalCrossentropy, default_losses)
from ..neurons import (AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire,
                       LeakyIntegrateFireInput)
from ..neurons.input import Input
from ..optimisers import Optimiser, default_optimisers
from ..readouts import AvgVar, AvgVarExpWeight, FirstSpikeTime, MaxVar, SumVar, Var
from ..synapses import Delta, Exponential
from ..utils.checks import check_positive_finite, check_positive_int
from ..utils.model import CustomUpdateModel, WeightUpdateModel
from ..utils.module import get_object, get_object_mapping
from ..utils.value import is_value_array, is_value_constant
from .compiled_training_network import CompiledTrainingNetwork
from .compiler import (Compiler, add_custom_update, add_out_post_zero_custom_update,
                       add_softmax_custom_updates, create_reset_custom_update,
                       check_losses, connection_dict, connection_list, get_conn_max_delay,
                       get_delay_type, population_dict)
from .deep_r import add_deep_r, check_deep_r_connection, deep_r_callbacks
from .gradient_sync import AllReduceGradients
from .gradient_updates import add_gradient_step, add_zero_gradient

#: Network default parameters the EventProp equations assume (pass to ``Network``)
default_params = {
    LeakyIntegrate: {"scale_i": True},
    LeakyIntegrateFire: {"relative_reset": False, "integrate_during_refrac": False,
                         "scale_i": True},
    LeakyIntegrateFireInput: {"relative_reset": False, "integrate_during_refrac": False,
                              "scale_i": True},
    Exponential: {"scale_i": True}}

_SCE_PER_TRIAL_READOUTS = (AvgVar, AvgVarExpWeight, SumVar, MaxVar)
_SCE_PER_TIMESTEP_READOUTS = (AvgVar, SumVar)
# Variables a population keeps from one trial to the next (the backward
# pass of the previous trial reads them); ring offsets are swapped instead
_KEPT = {"Softmax", "YTrueBack", "TFirstSpikeBack", "VMaxTimeBack", "TFirstSpikeSumBack",
         "TFirstSpikeTrueBack", "SpikeCountBackBatch", "RingWriteOffset", "RingReadOffset",
         "RingWriteStartOffset", "RingReadEndOffset", "RingDropped"}
_OFFSET = "unsigned int"


# -- helper callbacks ---------------------------------------------------------
class UpdateTrial(Callback):
    """Set the dynamic parameter ``Trial`` of an output population to the
    batch index at the start of every batch (the loss drive of the backward
    pass is off while it is 0)."""

    def __init__(self, genn_pop):
        self.genn_pop = genn_pop

    def on_batch_begin(self, batch: int):
        self.genn_pop.set_dynamic_param_value("Trial", batch)


class CustomUpdateOnLastTimestep(CustomUpdateOnTimestepBegin):
    """Run a custom-update group at the start of the last time step of every
    example. Kept for code written against upstream; this compiler clears
    the synaptic state at the start of each batch instead (exact, and it
    lets a batch run in one native call)."""

    def __init__(self, name: str, example_timesteps: int):
        super().__init__(name, lambda timestep: timestep == example_timesteps - 1)


class CustomUpdateOnBatchEndNotFirst(CustomUpdateOnBatchEnd):
    """Run a custom-update group at the end of every batch but the first of
    an epoch (whose backward pass belonged to the previous epoch)."""

    def __init__(self, name: str):
        super().__init__(name, lambda batch: batch != 0)


class CustomUpdateOnFirstBatchEnd(CustomUpdateOnBatchEnd):
    """Run a custom-update group at the end of the first batch of an epoch."""

    def __init__(self, name: str):
        super().__init__(name, lambda batch: batch == 0)


class _CheckRingOverflow(Callback):
    """``strict_buffer_checking``: after each batch, fail if a neuron had more
    spikes in one trial than its ring buffer holds."""

    def __init__(self, pops, max_spikes):
        self.pops = pops        # [(Population, engine group)]
        self.max_spikes = max_spikes

    def on_batch_end(self, batch: int, metrics):
        for pop, genn_pop in self.pops:
            var = genn_pop.vars["RingDropped"]
            var.pull_from_device()
            dropped = int(np.sum(var.view))
            if dropped:
                raise RuntimeError(
                    f"EventPropCompiler: population '{pop.name}' had {dropped} spike(s) "
                    f"beyond max_spikes={self.max_spikes} per neuron in one trial; their "
                    "gradient would be lost: raise max_spikes (strict_buffer_checking=True "
                    "reports this)")


# -- custom update models --------------------------------------------------------
_SPIKE_COUNT_REDUCE_MODEL = {
    "var_refs": [("SpikeCount", "scalar", VarAccessMode.READ_ONLY),
                 ("SpikeCountBackBatch", "scalar", VarAccessMode.REDUCE_SUM)],
    "update_code": "SpikeCountBackBatch = SpikeCount;"}


def _ttfs_sum_model(example_time):
    """Per batch element: the sum of the (negated) first-spike times and that
    of the correct neuron, a silent neuron counted as spiking at ``T``."""
    return {
        "vars": [("SumT", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM),
                 ("TrueT", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
        "var_refs": [("TFirstSpike", "scalar", VarAccessMode.READ_ONLY),
                     ("YTrue", "uint8_t", VarAccessMode.READ_ONLY)],
        "update_code": f"""
        const scalar tHat = fmax(TFirstSpike, {-example_time!r});
        SumT = tHat;
        TrueT = (id == YTrue) ? tHat : 0.0;
        """}


_TTFS_COPY_MODEL = {
    "var_refs": [("SumT", "scalar", VarAccessMode.READ_ONLY),
                 ("TrueT", "scalar", VarAccessMode.READ_ONLY),
                 ("TFirstSpikeSumBack", "scalar", VarAccessMode.READ_WRITE),
                 ("TFirstSpikeTrueBack", "scalar", VarAccessMode.READ_WRITE)],
    "update_code": "TFirstSpikeSumBack = SumT;\nTFirstSpikeTrueBack = TrueT;"}


# -- small helpers ------------------------------------------------------------------
def _lit(value) -> str:
    """A float literal for code strings."""
    return repr(float(value))


def _adjoint_coupling(tau_mem, tau_syn, dt):
    """Coefficient ``K`` of ``LambdaV`` in ``LambdaI`` after one step of the
    adjoint ODEs ``dLambdaV/ds = -LambdaV/tau_mem``, ``dLambdaI/ds =
    (LambdaV - LambdaI)/tau_syn`` (backward time ``s``): ``LambdaI <- K *
    LambdaV + beta * LambdaI``."""
    alpha, beta = np.exp(-dt / tau_mem), np.exp(-dt / tau_syn)
    if np.isclose(tau_mem, tau_syn):
        return (dt / tau_syn) * alpha
    return tau_mem * (alpha - beta) / (tau_mem - tau_syn)


def _i_scale(tau_syn, dt):
    """Mean of ``exp(-s/tau_syn)`` over a step (Exponential's ``IScale``)."""
    return (tau_syn / dt) * (1.0 - np.exp(-dt / tau_syn))


def _is_zero(delay):
    """Whether a connection's delay is 0 everywhere (a number or an array)."""
    if is_value_constant(delay) or is_value_array(delay):
        return not np.any(np.round(delay))
    return False


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


class EventPropCompiler(Compiler):
    """Compile a network for training with EventProp.

    Args:
        example_timesteps: time steps each example is presented for
        losses: loss (name or object) for every output, or a dict keyed by
            output population/layer
        optimiser: weight optimiser (name or object; default Adam)
        reg_lambda_upper: spike-count regularisation strength above the
            target, a number for every hidden population or a dict keyed by
            population/layer (missing ones: 0)
        reg_lambda_lower: likewise below the target
        reg_nu_upper: target number of spikes per neuron per example
        max_spikes: spikes per neuron per trial the backward pass can hold
        strict_buffer_checking: raise RuntimeError after a batch in which a
            neuron had more spikes than ``max_spikes``
        per_timestep_loss: cross-entropy of the softmax of ``V`` at every
            step instead of one loss on the readout per trial
        dt: time step (ms)
        ttfs_alpha: weight of the early-spike term of first-spike-time
            cross-entropy (``ttfs_alpha / (1.01 T - t_correct)``)
        softmax_temperature: temperature of the softmax over negated
            first-spike times
        batch_size: examples simulated at once
        rng_seed: engine random seed (0: random)
        kernel_profiling: record engine timings
        communicator: data-parallel training over the ranks of a Communicator
        delay_optimiser: optimiser of learned delays (default: a copy of
            ``optimiser``'s kind)
        delay_learn_conns: connections/layers whose delays are learned (each
            needs ``max_delay_steps``)
        deep_r_conns: sparse connections rewired by Deep-R
        deep_r_l1_strength: Deep-R's L1 regularisation
        deep_r_record_rewirings: ``{connection/layer: callback-data key}``
        **genn_kwargs: forwarded to the engine (``GeNNModel``)
    """

    def __init__(self, example_timesteps: int, losses, optimiser="adam",
                 reg_lambda_upper={}, reg_lambda_lower={}, reg_nu_upper: float = 0.0,
                 max_spikes: int = 500, strict_buffer_checking: bool = False,
                 per_timestep_loss: bool = False, dt: float = 1.0, ttfs_alpha: float = 0.01,
                 softmax_temperature: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 kernel_profiling: bool = False, communicator=None, delay_optimiser=None,
                 delay_learn_conns: list = [], deep_r_conns: list = [],
                 deep_r_l1_strength: float = 0.01, deep_r_record_rewirings: dict = {},
                 **genn_kwargs):
        owner = type(self).__name__
        example_timesteps = check_positive_int(owner, "example_timesteps", example_timesteps)
        super().__init__([SynapseMatrixType.TOEPLITZ, SynapseMatrixType.PROCEDURAL_KERNELG,
                          SynapseMatrixType.DENSE, SynapseMatrixType.SPARSE], dt,
                         batch_size, rng_seed, kernel_profiling, communicator, **genn_kwargs)
        self.example_timesteps = example_timesteps
        self.losses = check_losses(owner, losses)
        self.optimiser = get_object(optimiser, Optimiser, "Optimiser", default_optimisers)
        if self.optimiser is None:
            raise RuntimeError(f"{owner}: optimiser must be an Optimiser object or one of "
                               f"the strings {sorted(default_optimisers)}, not None")
        self.delay_optimiser = get_object(optimiser if delay_optimiser is None
                                          else delay_optimiser, Optimiser, "Optimiser",
                                          default_optimisers)
        for name, value in (("reg_lambda_upper", reg_lambda_upper),
                            ("reg_lambda_lower", reg_lambda_lower)):
            # numbers now; the dicts' keys once the network is known
            for v in (value.values() if isinstance(value, dict) else [value]):
                _check_lambda(name, v)
        self.reg_lambda_upper = reg_lambda_upper
        self.reg_lambda_lower = reg_lambda_lower
        self.reg_nu_upper = _check_lambda("reg_nu_upper", reg_nu_upper)
        self.max_spikes = check_positive_int(owner, "max_spikes", max_spikes)
        self.strict_buffer_checking = bool(strict_buffer_checking)
        self.per_timestep_loss = bool(per_timestep_loss)
        self.ttfs_alpha = _check_lambda("ttfs_alpha", ttfs_alpha)
        self.softmax_temperature = check_positive_finite(owner, "softmax_temperature",
                                                         softmax_temperature)
        # the ring index (2 * max_spikes) is a 32-bit literal in the engine code
        if self.max_spikes >= 2 ** 31:
            raise ValueError(f"{owner}: max_spikes must be below 2**31 (spikes per neuron "
                             f"per trial), got {self.max_spikes}")
        self.delay_learn_conns = connection_list(owner, "delay_learn_conns", delay_learn_conns)
        self.deep_r_conns = connection_list(owner, "deep_r_conns", deep_r_conns)
        self.deep_r_l1_strength = _check_lambda("deep_r_l1_strength", deep_r_l1_strength)
        self.deep_r_record_rewirings = connection_dict(owner, "deep_r_record_rewirings",
                                                       deep_r_record_rewirings)

    @property
    def _example_time(self):
        return self.example_timesteps * self.dt

    # -- checks --------------------------------------------------------------
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
        LeakyIntegrateFire hidden neurons from inputs (see the module
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

    # -- neuron models ---------------------------------------------------------
    def build_neuron_model(self, pop, model, compile_state):
        state = compile_state
        model = super().build_neuron_model(pop, model, compile_state)
        if isinstance(pop.neuron, Input):
            self._add_ring(pop, model, state, lif=False, adjoint="", transition="")
        elif pop in state.losses:
            if isinstance(pop.neuron, LeakyIntegrate):
                model = self._build_li_output(pop, model, state)
            else:
                model = self._build_lif_output(pop, model, state)
        else:
            self._build_hidden(pop, model, state)
        state.models[pop] = model
        return model

    def _lif_adjoint_params(self, pop, model, state):
        """Parameters of the LIF adjoint dynamics and of ``I - V``."""
        tau_mem, tau_syn = float(pop.neuron.tau_mem), state.tau_syn[pop]
        model.add_param("Beta", "scalar", np.exp(-self.dt / tau_syn))
        model.add_param("A", "scalar", _adjoint_coupling(tau_mem, tau_syn, self.dt))
        model.add_param("IsynScale", "scalar", self._current_scale(pop, tau_syn))
        model.add_var("LambdaV", "scalar", 0.0)
        model.add_var("LambdaI", "scalar", 0.0)

    def _add_ring(self, pop, model, state, lif: bool, adjoint: str, transition: str,
                  ring_value: str = "(Isyn * IsynScale) - V"):
        """Spike ring buffers, backward spike detection and the adjoint code
        (prepended to the neuron's own sim code)."""
        m, ring = self.max_spikes, 2 * self.max_spikes
        size = self.batch_size * int(np.prod(pop.shape)) * ring
        if size >= 2 ** 32:
            # the engine code indexes the rings with 32-bit unsigned integers
            raise ValueError(
                f"EventPropCompiler: the spike ring buffers of population '{pop.name}' "
                f"would hold batch_size * neurons * 2 * max_spikes = {self.batch_size} * "
                f"{int(np.prod(pop.shape))} * {ring} = {size} entries, more than 32-bit "
                "indices reach (2**32 - 1); lower max_spikes or the batch size")
        for name in ("RingWriteOffset", "RingReadOffset", "RingWriteStartOffset",
                     "RingReadEndOffset"):
            model.add_var(name, _OFFSET, 0)
        model.add_var("BackSpike", "uint8_t", 0)
        model.add_egp("RingSpikeTime", "scalar*", np.zeros(size, dtype=np.float32))
        if lif:
            model.add_egp("RingIMinusV", "scalar*", np.zeros(size, dtype=np.float32))
        if self.strict_buffer_checking:
            model.add_var("RingDropped", _OFFSET, 0)
        model.prepend_sim_code(f"""
            const unsigned int ringOffset = ((batch * num_neurons) + id) * {ring}u;
            const scalar backT = {_lit(self._example_time)} - t - dt;
            {adjoint}
            if (BackSpike) {{
                {transition}
                BackSpike = 0;
            }}
            // a spike of the trial's last step reached nothing: skip it
            if (RingReadOffset != RingReadEndOffset
                && RingSpikeTime[ringOffset + ((RingReadOffset - 1u) % {ring}u)]
                   > (backT - (0.5 * dt))) {{
                RingReadOffset--;
            }}
            if (RingReadOffset != RingReadEndOffset) {{
                const scalar backSpikeT =
                    RingSpikeTime[ringOffset + ((RingReadOffset - 1u) % {ring}u)];
                if (fabs(backT - backSpikeT - dt) < (0.5 * dt)) {{
                    RingReadOffset--;
                    BackSpike = 1;
                }}
            }}
            """)
        i_minus_v = ("\n    RingIMinusV[ringOffset + (RingWriteOffset % "
                     f"{ring}u)] = {ring_value};") if lif else ""
        dropped = "\nelse {\n    RingDropped++;\n}" if self.strict_buffer_checking else ""
        model.prepend_reset_code(
            f"if ((RingWriteOffset - RingWriteStartOffset) < {m}u) {{\n"
            f"    RingSpikeTime[ringOffset + (RingWriteOffset % {ring}u)] = t;{i_minus_v}\n"
            f"    RingWriteOffset++;\n}}{dropped}")
        state.ring_pops.append(pop)

    def _build_hidden(self, pop, model, state):
        alif = isinstance(pop.neuron, AdaptiveLeakyIntegrateFire)
        delta = state.tau_syn[pop] is None
        if alif:
            # ALIF's own params are called A (its adaptation var) and Beta
            tau_mem, tau_syn = float(pop.neuron.tau_mem), state.tau_syn[pop]
            model.add_param("LambdaIDecay", "scalar", np.exp(-self.dt / tau_syn))
            model.add_param("LambdaICoupling", "scalar",
                            _adjoint_coupling(tau_mem, tau_syn, self.dt))
            model.add_param("IsynScale", "scalar", self._current_scale(pop, tau_syn))
            model.add_param("AdaptScale", "scalar", float(pop.neuron.beta) * tau_mem
                            / float(pop.neuron.tau_adapt))
            model.add_var("LambdaV", "scalar", 0.0)
            model.add_var("LambdaI", "scalar", 0.0)
            model.add_var("LambdaA", "scalar", 0.0)
        elif delta:
            model.add_var("LambdaV", "scalar", 0.0)
        else:
            self._lif_adjoint_params(pop, model, state)
        model.add_additional_input_var("RevISyn", "scalar", 0.0)
        reg = ""
        if pop in state.reg:
            upper, lower = state.reg[pop]
            b = self.full_batch_size
            model.add_var("SpikeCount", "scalar", 0.0)
            model.add_var("SpikeCountBackBatch", "scalar", 0.0, VarAccess.READ_ONLY)
            model.add_param("RegNuUpperBatch", "scalar", self.reg_nu_upper * b)
            model.add_param("RegLambdaUpper", "scalar", upper / (b * b))
            model.add_param("RegLambdaLower", "scalar", lower / (b * b))
            model.prepend_reset_code("SpikeCount += 1.0;")
            reg = """
            if (SpikeCountBackBatch > RegNuUpperBatch) {
                LambdaV -= RegLambdaUpper * (SpikeCountBackBatch - RegNuUpperBatch);
            }
            else {
                LambdaV -= RegLambdaLower * (SpikeCountBackBatch - RegNuUpperBatch);
            }"""
        ring = 2 * self.max_spikes
        if alif:
            # the ring keeps tau_mem * (d/dt)(V - Vthresh - Beta * A) before the spike
            self._add_ring(pop, model, state, lif=True, adjoint="""
            LambdaI = (LambdaICoupling * LambdaV) + (LambdaIDecay * LambdaI);
            LambdaV *= Alpha;
            LambdaA *= Rho;""", transition=f"""
            const scalar slope = RingIMinusV[ringOffset + (RingReadOffset % {ring}u)];
            const scalar jump = (((Vthresh - Vreset) * LambdaV) - LambdaA + RevISyn) / slope;
            LambdaV += jump;
            LambdaA -= AdaptScale * jump;{reg}""",
                           ring_value="(Isyn * IsynScale) - V + (AdaptScale * A)")
        elif delta:
            # every spike is caused by a Delta jump and happens at its arrival
            # time: it does not move with the weights, and the absolute reset
            # makes V after it independent of V before it
            self._add_ring(pop, model, state, lif=False, adjoint="""
            LambdaV *= Alpha;""", transition=("" if pop.neuron.relative_reset
                                               else "LambdaV = 0.0;") + reg)
        else:
            self._add_ring(pop, model, state, lif=True, adjoint="""
            LambdaI = (A * LambdaV) + (Beta * LambdaI);
            LambdaV *= Alpha;""", transition=f"""
            const scalar iMinusV = RingIMinusV[ringOffset + (RingReadOffset % {ring}u)];
            LambdaV += (((Vthresh - Vreset) * LambdaV) + RevISyn) / iMinusV;{reg}""")

    def _add_trial(self, model):
        model.add_param("Trial", "int", 0)
        model.set_param_dynamic("Trial")

    def _build_li_output(self, pop, model, state):
        loss = state.losses[pop]
        readout = pop.neuron.readout
        tau_mem, tau_syn = float(pop.neuron.tau_mem), state.tau_syn[pop]
        loss.add_to_neuron(model, pop.shape, self.batch_size, self.example_timesteps)
        max_time = isinstance(readout, MaxVar) and not self.per_timestep_loss
        model = readout.add_readout_logic(model, example_timesteps=self.example_timesteps,
                                          dt=self.dt, max_time_required=max_time)
        self._add_trial(model)
        # Delta synapses (tau_syn None): LambdaI is not read (it follows the drive)
        model.add_param("Beta", "scalar", 0.0 if tau_syn is None
                        else np.exp(-self.dt / tau_syn))
        model.add_param("A", "scalar", 0.0 if tau_syn is None
                        else _adjoint_coupling(tau_mem, tau_syn, self.dt))
        model.add_var("LambdaV", "scalar", 0.0)
        model.add_var("LambdaI", "scalar", 0.0)
        t_total = self._example_time
        b = self.full_batch_size
        per_timestep = self.per_timestep_loss or isinstance(loss, MeanSquareError)
        if per_timestep:
            steps = self.example_timesteps
            n = int(np.prod(pop.shape))
            model.add_egp("RingOutputLossTerm", "scalar*",
                          np.zeros(self.batch_size * n * 2 * steps, dtype=np.float32))
            model.add_param("DriveScale", "scalar", 1.0 / (tau_mem * b * t_total))
            # two halves per neuron: the trial written now and the one read back
            write = f"((((batch * num_neurons) + id) * 2u) + (((int)Trial) & 1)) * {steps}u"
            read = f"((((batch * num_neurons) + id) * 2u) + (1 - (((int)Trial) & 1))) * {steps}u"
            if isinstance(loss, SparseCategoricalCrossentropy):
                # the softmax of V after each step comes from custom updates:
                # its error is stored at the start of the next step (the last
                # step's at the start of the next trial, in the other half)
                model.add_var("Softmax", "scalar", 0.0)
                model.add_var("YTrueBack", "uint8_t", 0)
                store = f"""
                if (step > 0) {{
                    RingOutputLossTerm[{write} + step - 1] =
                        ((id == YTrue) ? 1.0 : 0.0) - Softmax;
                }}
                else {{
                    RingOutputLossTerm[{read} + {steps - 1}] =
                        ((id == YTrueBack) ? 1.0 : 0.0) - Softmax;
                }}"""
                after = ""
            else:
                store = ""
                after = f"RingOutputLossTerm[{write} + step] = yTrue - V;"
            drive = f"""
            const int step = (int)round(t / dt);{store}
            scalar drive = 0.0;
            if (Trial > 0) {{
                drive = RingOutputLossTerm[{read} + {steps - 1} - step] * DriveScale;
            }}"""
        else:
            model.add_var("Softmax", "scalar", 0.0)
            model.add_var("YTrueBack", "uint8_t", 0)
            err = "(((id == YTrueBack) ? 1.0 : 0.0) - Softmax)"
            after = ""
            if isinstance(readout, MaxVar):
                # the max is an impulse at its time: one step of drive D adds
                # (1 - Alpha) * D to LambdaV
                alpha = np.exp(-self.dt / tau_mem)
                model.add_param("DriveScale", "scalar",
                                1.0 / (tau_mem * tau_mem * b * (1.0 - alpha)))
                model.add_var("VMaxTimeBack", "scalar", 0.0)
                cond = "Trial > 0 && fabs(backT - VMaxTimeBack) < (0.5 * dt)"
                value = f"{err} * DriveScale"
            else:
                model.add_param("DriveScale", "scalar", 1.0 / (tau_mem * b * t_total))
                cond = "Trial > 0"
                value = f"{err} * DriveScale"
                if isinstance(readout, AvgVarExpWeight):
                    value += f" * exp(-backT / {_lit(t_total)})"
            drive = f"""
            scalar drive = 0.0;
            if ({cond}) {{
                drive = {value};
            }}"""
        if tau_syn is None:
            # Delta synapses: LambdaI is what moving a V jump in time sees,
            # LambdaV minus the loss drive (the drive of MaxVar is an impulse)
            lambda_i = ("LambdaI = LambdaV;" if isinstance(readout, MaxVar)
                        and not per_timestep else "LambdaI = LambdaV - drive;")
        else:
            lambda_i = "LambdaI = drive + ((LambdaI - drive) * Beta) + (A * (LambdaV - drive));"
        model.prepend_sim_code(f"""
            const scalar backT = {_lit(t_total)} - t - dt;{drive}
            {lambda_i}
            LambdaV = drive + ((LambdaV - drive) * Alpha);
            """)
        if after:
            model.append_sim_code(after)
        return model

    def _build_lif_output(self, pop, model, state):
        loss = state.losses[pop]
        loss.add_to_neuron(model, pop.shape, self.batch_size, self.example_timesteps)
        model = pop.neuron.readout.add_readout_logic(
            model, example_timesteps=self.example_timesteps, dt=self.dt)
        self._add_trial(model)
        self._lif_adjoint_params(pop, model, state)
        model.add_var("YTrueBack", "uint8_t", 0)
        model.add_var("TFirstSpikeBack", "scalar", float(-np.finfo(np.float32).max))
        t_total = self._example_time
        b = self.full_batch_size
        ring = 2 * self.max_spikes
        first = "Trial > 0 && fabs(backT + TFirstSpikeBack) < (0.5 * dt)"
        if isinstance(loss, SparseCategoricalCrossentropy):
            model.add_var("Softmax", "scalar", 0.0)
            model.add_param("TauSoftmax", "scalar", self.softmax_temperature)
            model.add_param("TTFSAlpha", "scalar", self.ttfs_alpha)
            model.add_param("NumBatch", "scalar", float(b))
            adjoint = f"""
            LambdaI = (A * LambdaV) + (Beta * LambdaI);
            LambdaV *= Alpha;
            if (Trial > 0 && t == 0.0 && id == YTrueBack && TFirstSpikeBack < {_lit(-t_total)}) {{
                LambdaV += TTFSAlpha / ({_lit(1e-4 * t_total * t_total)} * NumBatch);
            }}"""
            jump = f"""
            if ({first}) {{
                if (id == YTrueBack) {{
                    const scalar early = {_lit(1.01 * t_total)} + TFirstSpikeBack;
                    LambdaV += (((1.0 - Softmax) / TauSoftmax) + (TTFSAlpha / (early * early)))
                               / (NumBatch * iMinusV);
                }}
                else {{
                    LambdaV -= Softmax / (TauSoftmax * NumBatch * iMinusV);
                }}
            }}"""
        else:
            model.add_var("TFirstSpikeSumBack", "scalar", 0.0)
            model.add_var("TFirstSpikeTrueBack", "scalar", 0.0)
            model.add_param("Delta", "scalar", float(loss.delta))
            n = int(np.prod(pop.shape))
            adjoint = """
            LambdaI = (A * LambdaV) + (Beta * LambdaI);
            LambdaV *= Alpha;"""
            jump = f"""
            if ({first}) {{
                if (id == YTrueBack) {{
                    LambdaV += (TFirstSpikeSumBack - ({float(n)!r} * TFirstSpikeTrueBack)
                                + ({float(n - 1)!r} * Delta)) / iMinusV;
                }}
                else {{
                    LambdaV += (-TFirstSpikeBack + TFirstSpikeTrueBack - Delta) / iMinusV;
                }}
            }}"""
        self._add_ring(pop, model, state, lif=True, adjoint=adjoint, transition=f"""
            const scalar iMinusV = RingIMinusV[ringOffset + (RingReadOffset % {ring}u)];
            LambdaV += ((Vthresh - Vreset) * LambdaV) / iMinusV;{jump}""")
        return model

    # -- connections -------------------------------------------------------------
    def build_weight_update_model(self, conn, connect_snippet, compile_state):
        state = compile_state
        src, trg = conn.source(), conn.target()
        tau_syn = state.tau_syn[trg]
        trainable = connect_snippet.trainable
        hidden_source = not isinstance(src.neuron, Input)
        learn_delay = conn in state.delay_learn
        if conn in state.deep_r:
            check_deep_r_connection(conn, connect_snippet.matrix_type)
        if learn_delay and not trainable:
            raise NotImplementedError(f"EventPropCompiler: connection '{conn.name}' is not "
                                      "trainable, so its delays cannot be learned")
        delay = connect_snippet.delay
        kernel = connect_snippet.matrix_type.weight == SynapseMatrixWeight.KERNEL
        if kernel and (learn_delay or not _is_zero(delay)):
            raise NotImplementedError(
                f"EventPropCompiler: connection '{conn.name}' "
                f"({type(conn.connectivity).__name__}) shares kernel weights and has "
                f"{'learned ' if learn_delay else ''}delays; EventProp supports delays on "
                "Dense and sparse connectivity only: use delay=0")
        delta = tau_syn is None
        # Delta synapses jump the target's V: the gradient reads LambdaV, the
        # timing terms LambdaI (LambdaV minus the loss drive, module docstring)
        lambda_ref = "LambdaV_post" if delta else "LambdaI_post"
        model = {"params": [] if delta else [("TauSyn", "scalar")],
                 "vars": [("g", "scalar", VarAccess.READ_ONLY)],
                 "pre_neuron_var_refs": [("BackSpike_pre", "uint8_t")],
                 "post_neuron_var_refs": [(lambda_ref, "scalar")],
                 "pre_event_threshold_condition_code": "BackSpike_pre"}
        param_vals = {} if delta else {"TauSyn": tau_syn}
        var_vals = {"g": connect_snippet.weight}
        if learn_delay:
            model["params"].append(("MaxDelay", "scalar"))
            param_vals["MaxDelay"] = float(conn.max_delay_steps)
            model["vars"].append(("d", "scalar", VarAccess.READ_ONLY))
            var_vals["d"] = delay
            delay_decl = ("const unsigned int delay = (unsigned int)fmin(MaxDelay, "
                          "fmax(0.0, round(d)));\n")
            d = "delay"
        elif is_value_constant(delay) and int(round(delay)) == 0:
            delay_decl, d = "", None
        else:
            delay_type = get_delay_type(get_conn_max_delay(conn, conn.connectivity.delay))
            if is_value_constant(delay):
                model["params"].append(("d", delay_type))
                param_vals["d"] = int(round(delay))
            else:
                model["vars"].append(("d", delay_type, VarAccess.READ_ONLY))
                var_vals["d"] = np.round(delay) if is_value_array(delay) else delay
            delay_decl, d = "", "d"
        past = "" if d is None else f"[{d}]"
        forward = "addToPost(g);" if d is None else f"addToPostDelay(g, {d});"
        if delta:
            scale = self._delta_scale(trg)
            # dL/dw = -tau_mem * scale * LambdaV at the arrival (module docstring)
            grad_factor = f"{_lit(float(trg.neuron.tau_mem) * scale)}"
        else:
            scale = self._weight_scale(conn, trg, tau_syn)
            grad_factor = "TauSyn" if scale == 1.0 else f"TauSyn * {_lit(scale)}"
        scaled_g = "g" if scale == 1.0 else f"(g * {_lit(scale)})"
        backward = []
        if delta and trainable:
            model["vars"].append(("Gradient", "scalar"))
            var_vals["Gradient"] = 0.0
            if kernel:
                backward.append(f"atomic_add_Gradient(-LambdaV_post * {grad_factor});")
            else:
                backward.append(f"Gradient -= LambdaV_post{past} * {grad_factor};")
        elif trainable:
            model["vars"].append(("Gradient", "scalar"))
            var_vals["Gradient"] = 0.0
            grad_scale = "" if scale == 1.0 else f" * {_lit(scale)}"
            if kernel:
                # every synapse using a kernel entry adds to its one gradient
                backward.append(f"atomic_add_Gradient(-LambdaI_post * TauSyn{grad_scale});")
            else:
                backward.append(f"Gradient -= LambdaI_post{past} * TauSyn{grad_scale};")
        if hidden_source or learn_delay:
            model["post_neuron_var_refs"].append(
                ("LambdaI_post" if delta else "LambdaV_post", "scalar"))
        if delta and learn_delay:
            # delaying a jump J of V by ds takes J off V (and off the loss
            # integrand) over ds
            model["vars"].append(("DelayGradient", "scalar"))
            var_vals["DelayGradient"] = 0.0
            backward.append(f"DelayGradient -= {scaled_g} * LambdaI_post{past};")
        elif learn_delay:
            model["vars"].append(("DelayGradient", "scalar"))
            var_vals["DelayGradient"] = 0.0
            backward.append(f"DelayGradient -= {scaled_g} * (LambdaI_post{past} - "
                            f"LambdaV_post{past});")
        if delta and hidden_source:
            backward.append(f"addToPre(-{scaled_g} * LambdaI_post{past});")
        elif hidden_source:
            backward.append(f"addToPre({scaled_g} * (LambdaV_post{past} - "
                            f"LambdaI_post{past}));")
        if not backward:
            # nothing to do in the backward pass (a static input connection)
            del model["pre_event_threshold_condition_code"]
            del model["pre_neuron_var_refs"]
        body = "\n".join(backward)
        if d is not None and backward:
            # a delayed spike arriving after the end of the trial had no effect
            body = (f"if (((int)round(t / dt)) - 1 - (int){d} >= 0) {{\n{body}\n}}")
        model["pre_spike_syn_code"] = delay_decl + forward
        if backward:
            model["pre_event_syn_code"] = delay_decl + body
        wum = WeightUpdateModel(model, param_vals, var_vals,
                                pre_neuron_var_refs=({"BackSpike_pre": "BackSpike"}
                                                     if backward else {}),
                                post_neuron_var_refs={lambda_ref: lambda_ref[:-5]})
        if (hidden_source or learn_delay) and delta:
            wum.post_neuron_var_refs["LambdaI_post"] = "LambdaI"
        elif hidden_source or learn_delay:
            wum.post_neuron_var_refs["LambdaV_post"] = "LambdaV"
        if trainable:
            state.trainable.append(conn)
        return wum

    def _weight_scale(self, conn, trg, tau_syn):
        """Jump of the target's continuous current per unit weight: 1 with
        ``default_params`` (see :meth:`_current_scale`)."""
        if conn.synapse.scale_i and getattr(trg.neuron, "scale_i", False):
            return 1.0
        k_s = _i_scale(tau_syn, self.dt) if conn.synapse.scale_i else 1.0
        return k_s * self._current_scale(trg, tau_syn)

    def _delta_scale(self, trg):
        """Jump of the target's ``V`` per unit weight of a Delta synapse:
        ``1 - Alpha`` when the target scales its input (``scale_i``), else 1."""
        if getattr(trg.neuron, "scale_i", False):
            return 1.0 - np.exp(-self.dt / float(trg.neuron.tau_mem))
        return 1.0

    def _current_scale(self, pop, tau_syn):
        """``IsynScale``: the continuous current at the start of a step is
        ``Isyn * IsynScale`` (``V`` grows by ``(1 - Alpha) * I`` on average
        over the step, ``Isyn`` is ``inSyn`` times ``IScale`` or 1)."""
        neuron = pop.neuron
        alpha = np.exp(-self.dt / float(neuron.tau_mem))
        if getattr(neuron, "scale_i", False):     # AdaptiveLeakyIntegrateFire: never
            return 1.0 / _i_scale(tau_syn, self.dt)
        return 1.0 / ((1.0 - alpha) * _i_scale(tau_syn, self.dt))

    def apply_delay(self, genn_pop, conn, delay, compile_state):
        """Every connection delays through the dendritic ring (its length
        also bounds how far back the postsynaptic adjoint can be read)."""
        if conn in compile_state.delay_learn:
            genn_pop.max_dendritic_delay_timesteps = 1 + conn.max_delay_steps
        else:
            genn_pop.max_dendritic_delay_timesteps = get_conn_max_delay(conn, delay)

    # -- custom updates and the compiled network ------------------------------------
    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        state = compile_state
        names = self._genn_names
        for conn, genn_syn in connection_populations.items():
            if not isinstance(conn.source().neuron, Input):
                genn_syn.pre_target_var = "RevISyn"

        # resets at every batch start (train and validation)
        for pop, genn_pop in neuron_populations.items():
            self._add_reset(genn_model, pop, genn_pop, state, names)
        for conn, genn_syn in connection_populations.items():
            add_out_post_zero_custom_update(genn_model, genn_syn, "Reset",
                                            names.get("cu_ZeroOutPost", conn.name))

        multi_rank = self.communicator is not None and self.communicator.num_ranks > 1
        reduce = self.full_batch_size > 1 or self.communicator is not None
        weight_cus, delay_cus, reduced = [], [], []
        # each compiled network owns its optimisers: a schedule changing one
        # network's learning rate must not change another's
        weight_optimiser, delay_optimiser = copy(self.optimiser), copy(self.delay_optimiser)
        for i, conn in enumerate(state.trainable):
            genn_syn = connection_populations[conn]
            targets = [("Gradient", "g", weight_optimiser, weight_cus, None)]
            if conn in state.delay_learn:
                targets.append(("DelayGradient", "d", delay_optimiser, delay_cus,
                                (0.0, float(conn.max_delay_steps))))
            for gradient, var, optimiser, cus, clamp in targets:
                label = f"{var}{i}"
                add_zero_gradient(genn_model, create_wu_var_ref(genn_syn, gradient),
                                  names.get("cu_ZeroGradient", label))
                learn_cu, reduce_cu = add_gradient_step(
                    genn_model, optimiser, create_wu_var_ref(genn_syn, gradient),
                    create_wu_var_ref(genn_syn, var), self.batch_size, reduce, names, label,
                    clamp)
                cus.append(learn_cu)
                if reduce_cu is not None:
                    reduced.append((reduce_cu, "ReducedGradient"))

        train, validate = [], []
        deep_r_before, deep_r_after = self._add_deep_r(genn_model, connection_populations)
        train += deep_r_before
        if reduce:
            train.append(CustomUpdateOnBatchEndNotFirst("GradientBatchReduce"))
        if multi_rank:
            train.append(AllReduceGradients(reduced, self.communicator,
                                            lambda batch: batch != 0))
        train.append(CustomUpdateOnBatchEndNotFirst("GradientLearn"))
        train.append(CustomUpdateOnFirstBatchEnd("ZeroGradient"))
        outputs = list(state.losses)
        for pop in outputs:
            train.append(UpdateTrial(neuron_populations[pop]))

        # end of every training batch: what the next batch's backward pass reads
        batch_softmax = [p for p in outputs if state.models[p].has_var("Softmax")
                         and not (self.per_timestep_loss
                                  and isinstance(p.neuron, LeakyIntegrate))]
        for pop in batch_softmax:
            if isinstance(pop.neuron, LeakyIntegrate):
                # the variable the readout returns (VAvg, VSum or VMax)
                input_var, temperature = pop.neuron.readout.reset_vars[0][0], 1.0
            else:
                input_var, temperature = "TFirstSpike", self.softmax_temperature
            add_softmax_custom_updates(genn_model, neuron_populations[pop], input_var,
                                       "Softmax", "Batch", temperature)
        if batch_softmax:
            train += [CustomUpdateOnBatchEnd(f"BatchSoftmax{i}") for i in (1, 2, 3)]
        step_softmax = [p for p in outputs if self.per_timestep_loss
                        and isinstance(p.neuron, LeakyIntegrate)
                        and isinstance(state.losses[p], SparseCategoricalCrossentropy)]
        for pop in step_softmax:
            add_softmax_custom_updates(genn_model, neuron_populations[pop], "V", "Softmax")
        if step_softmax:
            train += [CustomUpdateOnTimestepEnd(f"Softmax{i}") for i in (1, 2, 3)]
        regularised = [p for p in state.reg]
        for pop in regularised:
            genn_pop = neuron_populations[pop]
            add_custom_update(genn_model, CustomUpdateModel(
                deepcopy(_SPIKE_COUNT_REDUCE_MODEL),
                var_refs={"SpikeCount": create_var_ref(genn_pop, "SpikeCount"),
                          "SpikeCountBackBatch": create_var_ref(genn_pop,
                                                                "SpikeCountBackBatch")}),
                "SpikeCountReduce", names.get("cu_SpikeCountReduce", pop.name))
        if regularised:
            train.append(CustomUpdateOnBatchEnd("SpikeCountReduce"))
            if multi_rank:
                train.append(AllReduceGradients(
                    [(neuron_populations[p], "SpikeCountBackBatch") for p in regularised],
                    self.communicator))
        ttfs_rmse = [p for p in outputs
                     if isinstance(state.losses[p], RelativeMeanSquareError)]
        for pop in ttfs_rmse:
            genn_pop = neuron_populations[pop]
            sum_cu = add_custom_update(genn_model, CustomUpdateModel(
                _ttfs_sum_model(self._example_time), {}, {"SumT": 0.0, "TrueT": 0.0},
                {"TFirstSpike": create_var_ref(genn_pop, "TFirstSpike"),
                 "YTrue": create_var_ref(genn_pop, "YTrue")}),
                "TTFSReduce", names.get("cu_TTFSReduce", pop.name))
            add_custom_update(genn_model, CustomUpdateModel(deepcopy(_TTFS_COPY_MODEL), var_refs={
                "SumT": create_var_ref(sum_cu, "SumT"),
                "TrueT": create_var_ref(sum_cu, "TrueT"),
                "TFirstSpikeSumBack": create_var_ref(genn_pop, "TFirstSpikeSumBack"),
                "TFirstSpikeTrueBack": create_var_ref(genn_pop, "TFirstSpikeTrueBack")}),
                "TTFSReduce2", names.get("cu_TTFSReduce2", pop.name))
        if ttfs_rmse:
            train += [CustomUpdateOnBatchEnd("TTFSReduce"), CustomUpdateOnBatchEnd("TTFSReduce2")]
        if self.strict_buffer_checking:
            check = _CheckRingOverflow([(p, neuron_populations[p]) for p in state.ring_pops],
                                       self.max_spikes)
            train.append(check)
            validate.append(check)
        train.append(CustomUpdateOnBatchBegin("Reset"))
        validate.append(CustomUpdateOnBatchBegin("Reset"))
        train += deep_r_after

        optimisers = [(weight_optimiser, weight_cus)]
        if delay_cus:
            optimisers.append((delay_optimiser, delay_cus))
        checkpoint = [(c, "g") for c in state.trainable]
        checkpoint += [(c, "d") for c in state.trainable if c in state.delay_learn]
        return CompiledTrainingNetwork(
            genn_model, neuron_populations, connection_populations, self.communicator,
            state.losses, self.example_timesteps, train, validate, optimisers, checkpoint,
            [], reset_time_between_batches=True, reset_spikes_between_batches=True)

    def _add_reset(self, genn_model, pop, genn_pop, state, names):
        """Group ``Reset``: copies of what the next backward pass reads, the
        ring windows swapped (the trial just run becomes the one read back),
        then every other read-write variable back to its initial value."""
        model = state.models[pop]
        entries = []
        if model.has_var("YTrueBack"):
            entries.append(("YTrueBack", "uint8_t", "YTrue"))
        if model.has_var("TFirstSpikeBack"):
            entries.append(("TFirstSpikeBack", "scalar", "TFirstSpike"))
        if model.has_var("VMaxTimeBack"):
            entries.append(("VMaxTimeBack", "scalar", "VMaxTime"))
        if model.has_var("RingWriteOffset"):
            entries += [("RingReadOffset", _OFFSET, "RingWriteOffset"),
                        ("RingReadEndOffset", _OFFSET, "RingWriteStartOffset"),
                        ("RingWriteStartOffset", _OFFSET, "RingWriteOffset")]
        entries += [v for v in model.reset_vars if v[0] not in _KEPT]
        if not entries:
            return
        reset = create_reset_custom_update(entries, lambda v: create_var_ref(genn_pop, v))
        declared = {r[0] for r in reset.model["var_refs"]}
        vtypes = {v[0]: v[1] for v in model.model["vars"]}
        for _, _, source in entries:
            if isinstance(source, str) and source not in declared:
                reset.add_var_ref(source, vtypes[source], create_var_ref(genn_pop, source))
                reset.set_var_ref_access_mode(source, VarAccessMode.READ_ONLY)
                declared.add(source)
        add_custom_update(genn_model, reset, "Reset", names.get("cu_Reset", pop.name))

    def _add_deep_r(self, genn_model, connection_populations):
        """Deep-R on ``deep_r_conns``: ``(callbacks before the batch reduction,
        callbacks after the optimiser)``."""
        if not self.deep_r_conns:
            return [], []
        deep_rs = []
        for conn in self.deep_r_conns:
            genn_syn = connection_populations[conn]
            deep_rs.append((conn, add_deep_r(genn_syn, genn_model, self,
                                             self.deep_r_l1_strength,
                                             create_wu_var_ref(genn_syn, "Gradient"),
                                             create_wu_var_ref(genn_syn, "g"))))
        return deep_r_callbacks(deep_rs, self.deep_r_record_rewirings,
                                lambda batch: batch != 0)


__all__ = ["EventPropCompiler", "default_params", "UpdateTrial",
           "CustomUpdateOnLastTimestep", "CustomUpdateOnBatchEndNotFirst",
           "CustomUpdateOnFirstBatchEnd"]
