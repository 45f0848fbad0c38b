"""EPropCompiler: online training with e-prop (Bellec et al. 2020).

Every trained connection carries an eligibility trace that each time step
is multiplied by a learning signal, the error of the output neurons sent
back through the (transposed) output weights (or, with
``feedback="random"``, through fixed random feedback weights), and
accumulated into a gradient ``DeltaG``. At the end of every batch the gradients are (summed
over the batch and the ranks, then) applied by an optimiser.
"""
from copy import copy, deepcopy
from numbers import Number
from typing import Optional
from warnings import warn

import numpy as np

from ..callbacks import (CustomUpdateOnBatchBegin, CustomUpdateOnBatchEnd,
                         CustomUpdateOnTimestepEnd)
from ..genn import (SynapseMatrixConnectivity, SynapseMatrixType, VarAccess, create_var_ref,
                    create_wu_var_ref)
from ..initializers import Initializer, Normal, Uniform
from ..losses import Loss, MeanSquareError, SparseCategoricalCrossentropy, default_losses
from ..neurons import (AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire,
                       LeakyIntegrateFireInput)
from ..neurons.input import Input
from ..neurons.nengo_neuron import is_graded
from ..synapses import Delta
from ..utils.checks import check_positive_finite, check_positive_int
from ..utils.model import WeightUpdateModel
from ..utils.module import get_object_mapping
from ..utils.value import check_value, is_value_array, is_value_constant
from .compiled_training_network import CompiledTrainingNetwork
from .compiler import (Compiler, add_neuron_reset, add_softmax_custom_updates,
                       check_losses, check_optimiser, connection_dict, connection_list,
                       population_dict)
from .deep_r import add_deep_r, check_deep_r_connection, deep_r_callbacks
from .gradient_sync import AllReduceGradients
from .gradient_updates import add_gradient_step, add_zero_gradient

#: Network default parameters the e-prop rule assumes (pass to ``Network``)
default_params = {
    AdaptiveLeakyIntegrateFire: {"relative_reset": True, "integrate_during_refrac": True},
    LeakyIntegrate: {"scale_i": False},
    LeakyIntegrateFire: {"relative_reset": True, "integrate_during_refrac": True,
                         "scale_i": False},
    LeakyIntegrateFireInput: {"relative_reset": True, "integrate_during_refrac": True,
                              "scale_i": False}}

# -- weight update models ---------------------------------------------------
# Order inside one step (see spec 11.5): the synapse code runs first and sees
# the pre/post/neuron state left by the previous step's neuron update; then
# each neuron updates, its weight updates' pre/post dynamics code runs (after
# the sim code, before the reset) and, on a spike, their pre/post spike code.


def _psi_code(adaptive: bool, refractory: bool) -> str:
    """Post dynamics: the rate average ``FAvg`` decays, and the
    pseudo-derivative ``Psi`` (Bellec's ``0.3 / Vth * max(0, 1 - |V - th| /
    Vth)``, ``th`` the threshold, adaptive for ALIF) is 0 while refractory."""
    thresh = "(Vthresh_post + (Beta_post * A_post))" if adaptive else "Vthresh_post"
    psi = (f"Psi = (0.3 / Vthresh_post) * fmax(0.0, 1.0 - fabs((V_post - {thresh}) "
           "/ Vthresh_post));")
    if refractory:
        psi = f"if (RefracTime_post > 0.0) {{\n    Psi = 0.0;\n}}\nelse {{\n    {psi}\n}}"
    return "FAvg *= AlphaFAv;\n" + psi


#: Target LIF: eligibility trace ``e = ZFilter * Psi``, low-pass filtered into
#: ``eFiltered``; firing-rate regularisation pulls ``FAvg`` to ``FTarget``
eprop_lif_model = {
    "params": [("CReg", "scalar"), ("Alpha", "scalar"), ("FTarget", "scalar"),
               ("AlphaFAv", "scalar")],
    "vars": [("g", "scalar", VarAccess.READ_ONLY), ("eFiltered", "scalar"),
             ("DeltaG", "scalar")],
    "pre_vars": [("ZFilter", "scalar")],
    "post_vars": [("Psi", "scalar"), ("FAvg", "scalar")],
    "post_neuron_var_refs": [("V_post", "scalar"), ("E_post", "scalar")],
    "pre_spike_syn_code": "addToPost(g);",
    "pre_spike_code": "ZFilter += 1.0;",
    "pre_dynamics_code": "ZFilter *= Alpha;",
    "post_spike_code": "FAvg += (1.0 - AlphaFAv);",
    "post_dynamics_code": _psi_code(False, True),
    "synapse_dynamics_code": """
    const scalar e = ZFilter * Psi;
    eFiltered = (eFiltered * Alpha) + e;
    DeltaG += (eFiltered * E_post) + ((FAvg - FTarget) * CReg * e);
    """}

#: Target ALIF: the eligibility trace also follows the threshold adaptation
#: (``epsilonA``)
eprop_alif_model = {
    "params": [("CReg", "scalar"), ("Alpha", "scalar"), ("Rho", "scalar"),
               ("FTarget", "scalar"), ("AlphaFAv", "scalar")],
    "vars": [("g", "scalar", VarAccess.READ_ONLY), ("eFiltered", "scalar"),
             ("epsilonA", "scalar"), ("DeltaG", "scalar")],
    "pre_vars": [("ZFilter", "scalar")],
    "post_vars": [("Psi", "scalar"), ("FAvg", "scalar")],
    "post_neuron_var_refs": [("V_post", "scalar"), ("A_post", "scalar"),
                             ("E_post", "scalar")],
    "pre_spike_syn_code": "addToPost(g);",
    "pre_spike_code": "ZFilter += 1.0;",
    "pre_dynamics_code": "ZFilter *= Alpha;",
    "post_spike_code": "FAvg += (1.0 - AlphaFAv);",
    "post_dynamics_code": _psi_code(True, True),
    "synapse_dynamics_code": """
    const scalar e = (ZFilter * Psi) - (Psi * Beta_post * epsilonA);
    epsilonA = (Psi * ZFilter) + ((Rho * epsilonA) - (Psi * Beta_post * epsilonA));
    eFiltered = (eFiltered * Alpha) + e;
    DeltaG += (eFiltered * E_post) + ((FAvg - FTarget) * CReg * e);
    """}

#: Target is an output: gradient ``ZFilter * E``; the error goes back to a
#: hidden source (``addToPre``, into its ``ISynFeedback``) through ``g``
output_learning_model = {
    "params": [("Alpha", "scalar")],
    "vars": [("g", "scalar", VarAccess.READ_ONLY), ("DeltaG", "scalar")],
    "pre_vars": [("ZFilter", "scalar")],
    "post_neuron_var_refs": [("E_post", "scalar")],
    "pre_spike_syn_code": "addToPost(g);",
    "pre_spike_code": "ZFilter += 1.0;",
    "pre_dynamics_code": "ZFilter *= Alpha;",
    "synapse_dynamics_code": """
    addToPre(g * E_post);
    DeltaG += ZFilter * E_post;
    """}

#: Feedback-free variant, for outputs fed directly by an input population
#: (which has no ``ISynFeedback`` to receive the error)
_OUTPUT_NO_FEEDBACK_SYNAPSE_CODE = "DeltaG += ZFilter * E_post;"

#: Random feedback (``feedback="random"``): the error goes back through the
#: fixed per-synapse ``gFeedback`` instead of ``g``
_OUTPUT_RANDOM_FEEDBACK_SYNAPSE_CODE = """
    addToPre(gFeedback * E_post);
    DeltaG += ZFilter * E_post;
    """

# -- custom update models ---------------------------------------------------
class _GradientLearn(CustomUpdateOnBatchEnd):
    """``GradientLearn`` after every training batch and, at the start of
    every training epoch, ``ZeroGradient``: the learning rule keeps running
    during validation (without targets), and what it accumulates there must
    not reach the next training batch's update (upstream lets it)."""

    def __init__(self):
        super().__init__("GradientLearn")

    def on_epoch_begin(self, epoch: int):
        self._compiled_network.genn_model.custom_update("ZeroGradient")


def _param_or_ref(wum, name, neuron_model, neuron_param):
    """Give the weight update the target neuron's parameter ``neuron_param``
    as ``<name>``: a parameter when it is one number, else a reference to the
    (per-neuron, read-only) variable the neuron keeps it in."""
    value = neuron_model.param_vals[neuron_param]
    if is_value_constant(value):
        wum.add_param(name, "scalar", value)
    else:
        wum.add_post_neuron_var_ref(name, "scalar", neuron_param)


class _CompileState:
    def __init__(self, outputs, hidden, losses, tau_mem, tau_adapt):
        self.outputs = outputs          # output populations, in network order
        self.hidden = hidden            # hidden populations, in network order
        self.losses = losses            # {output population: Loss}
        self.tau_mem = tau_mem          # shared by the hidden LIF/ALIF (or None)
        self.tau_adapt = tau_adapt      # shared by the hidden ALIF (or None)
        self.readout_reset_vars = {}    # {output population: reset vars}
        self.neuron_models = {}         # {population: NeuronModel given to the engine}
        self.feedback_conns = []        # hidden -> output connections (addToPre)
        self.new_feedback_code = {}     # {Deep-R feedback conn: new gFeedback (C expr)}
        self.trained_bias = []          # outputs whose Bias is trained


class EPropCompiler(Compiler):
    """Compile a network for training with e-prop.

    Hidden neurons must be :class:`LeakyIntegrateFire` or
    :class:`AdaptiveLeakyIntegrateFire` sharing one ``tau_mem`` (and
    ``tau_adapt``), each population with a direct connection to an output;
    outputs are the populations with a readout (typically
    :class:`LeakyIntegrate`). Only ``Delta`` synapses and constant delays.
    Between batches only the readout variables are reset: neuron state and
    eligibility traces carry over from one example to the next.

    The presynaptic traces of connections into outputs decay with the hidden
    neurons' ``tau_mem``, as in mlGeNN (with the output's own ``tau_mem``
    the gradient would be exact; the two agree when the time constants do).

    Differences from mlGeNN (corrections of its bugs): a hidden LIF/ALIF
    without ``tau_refrac`` works (its pseudo-derivative is never zeroed);
    a network without a hidden layer works (its output traces use the
    output's ``tau_mem``); unsupported targets, losses and delays give clear
    errors at compile time (upstream's delay error text says the opposite
    of what it checks).

    Args:
        example_timesteps: time steps each example is presented for
        losses: loss (name or object) of every output, or a dict keyed by the
            output populations: ``"sparse_categorical_crossentropy"`` (the
            output is softmaxed every step) or ``"mean_square_error"``
        optimiser: optimiser (name or object) of weights and output biases
        tau_reg: time constant (ms) of the firing-rate average of the
            regularisation
        c_reg: strength of the firing-rate regularisation
        f_target: target firing rate (Hz) of the regularisation
        train_output_bias: also learn the outputs' ``Bias``
        dt: time step (ms)
        batch_size: examples simulated in parallel (over all ranks)
        rng_seed: seed of the engine's random numbers (0: random)
        kernel_profiling: record the time spent in each kernel
        reset_time_between_batches: start each batch at time step 0
        communicator: ``Communicator`` for data-parallel training
        deep_r_conns: connections (or layers) rewired by Deep-R; each must
            use sparse connectivity (e.g. ``FixedProbability``)
        deep_r_l1_strength: L1 strength of Deep-R's weight decay (0: none)
        deep_r_record_rewirings: ``{connection or layer: callback data key}``
            of the Deep-R connections whose rewirings are recorded
        feedback: how the output error reaches the hidden neurons (upstream
            mlGeNN has only the first): ``"symmetric"`` (default) through
            the transposed forward weights of every hidden -> output
            connection, as they are trained; ``"random"`` through fixed
            random feedback weights ``B`` ("random e-prop" in Bellec et al.
            2020): one per synapse of every hidden -> output connection,
            the variable ``gFeedback``, drawn once when the model is
            initialised and never trained. It is checkpointed (as
            ``<connection>-gFeedback``) but ``Network.load`` does not
            restore it: to resume, pass the saved array (or the same
            initializer and ``rng_seed``) as ``feedback_weight_init``.
            A sparse output connection feeds back along its own synapses
            only; under Deep-R a synapse keeps its ``gFeedback`` while it
            lives, and one Deep-R creates draws a new one from
            ``feedback_weight_init`` (which must then be a number,
            ``Normal`` or ``Uniform``). "Adaptive e-prop" is not
            implemented.
        feedback_weight_init: the random feedback weights (only with
            ``feedback="random"``): an initializer (e.g. ``Normal``), a
            number, an array shaped like the connection's weights, or a
            dict ``{connection or layer: one of those}`` for some of the
            hidden -> output connections. Default (also for connections a
            dict leaves out): ``Normal(mean=0, sd=1 / sqrt(number of
            target neurons))``; draws follow ``rng_seed`` (a given seed
            gives the same weights)
        genn_kwargs: forwarded to the engine's ``GeNNModel``
    """

    def __init__(self, example_timesteps: int, losses, optimiser="adam",
                 tau_reg: float = 500.0, c_reg: float = 0.001, f_target: float = 10.0,
                 train_output_bias: bool = True, dt: float = 1.0, batch_size: int = 1,
                 rng_seed: int = 0, kernel_profiling: bool = False,
                 reset_time_between_batches: bool = True, communicator=None,
                 deep_r_conns: list = [], deep_r_l1_strength: float = 0.01,
                 deep_r_record_rewirings: dict = {}, feedback: str = "symmetric",
                 feedback_weight_init=None, **genn_kwargs):
        owner = type(self).__name__
        example_timesteps = check_positive_int(
            owner, "example_timesteps", example_timesteps,
            " (the number of time steps each example is presented for)")
        super().__init__([SynapseMatrixType.SPARSE, SynapseMatrixType.DENSE], dt,
                         batch_size, rng_seed, kernel_profiling, communicator,
                         **genn_kwargs)
        self.example_timesteps = example_timesteps
        self.losses = check_losses(owner, losses)
        self.optimiser = check_optimiser(owner, optimiser)
        self.tau_reg = check_positive_finite(owner, "tau_reg", tau_reg)
        self.c_reg = _check_non_negative(owner, "c_reg", c_reg)
        self.f_target = _check_non_negative(owner, "f_target", f_target)
        self.train_output_bias = bool(train_output_bias)
        self.reset_time_between_batches = bool(reset_time_between_batches)
        self.deep_r_conns = connection_list(owner, "deep_r_conns", deep_r_conns)
        self.deep_r_l1_strength = _check_non_negative(owner, "deep_r_l1_strength",
                                                      deep_r_l1_strength)
        self.deep_r_record_rewirings = connection_dict(owner, "deep_r_record_rewirings",
                                                       deep_r_record_rewirings)
        not_deep_r = [c.name for c in self.deep_r_record_rewirings
                      if c not in self.deep_r_conns]
        if not_deep_r:
            raise RuntimeError(f"{owner}: deep_r_record_rewirings names connection(s) "
                               f"{', '.join(repr(n) for n in not_deep_r)} that are not in "
                               "deep_r_conns; rewirings are only recorded for Deep-R "
                               "connections")
        self.feedback, self.feedback_weight_init = _check_feedback(
            owner, feedback, feedback_weight_init)

    # -- compile hooks ----------------------------------------------------
    def pre_compile(self, network, genn_model, **kwargs):
        genn_model.fuse_postsynaptic_models = True
        genn_model.fuse_pre_post_weight_update_models = True
        outputs = [p for p in network.populations if p.neuron.readout is not None]
        if not outputs:
            raise RuntimeError("EPropCompiler: the network has no output population (a "
                               "population whose neuron has a readout, e.g. "
                               "LeakyIntegrate(readout='sum_var'))")
        hidden = [p for p in network.populations
                  if p.neuron.readout is None and not isinstance(p.neuron, Input)]
        for conn in network.connections:
            self._check_connection(conn, outputs, hidden)
        missing = [c.name for c in self.deep_r_conns if c not in network.connections]
        if missing:
            raise RuntimeError(f"EPropCompiler: deep_r_conns names connection(s) "
                               f"{', '.join(repr(n) for n in missing)} that are not part "
                               "of the network being compiled")
        if isinstance(self.feedback_weight_init, dict):
            not_feedback = [c.name for c in self.feedback_weight_init
                            if c not in network.connections or c.source() not in hidden
                            or c.target() not in outputs]
            if not_feedback:
                raise RuntimeError(
                    f"EPropCompiler: feedback_weight_init names connection(s) "
                    f"{', '.join(repr(n) for n in not_feedback)} that are not hidden -> "
                    "output connections of the network being compiled (only those feed "
                    "the error back)")
        tau_mem, tau_adapt = None, None
        for pop in hidden:
            neuron = pop.neuron
            if not isinstance(neuron, (LeakyIntegrateFire, AdaptiveLeakyIntegrateFire)):
                raise NotImplementedError(
                    f"EPropCompiler: hidden population '{pop.name}' has "
                    f"{type(neuron).__name__} neurons; e-prop supports LeakyIntegrateFire "
                    "and AdaptiveLeakyIntegrateFire hidden neurons (give an output "
                    "population a readout)")
            if not any(c().target() in outputs for c in pop.outgoing_connections):
                raise RuntimeError(
                    f"EPropCompiler: hidden population '{pop.name}' has no direct "
                    "connection to an output population; e-prop's learning signal "
                    "reaches hidden neurons only through such connections")
            tau_mem = _shared(pop, "tau_mem", neuron.tau_mem, tau_mem)
            if isinstance(neuron, AdaptiveLeakyIntegrateFire):
                tau_adapt = _shared(pop, "tau_adapt", neuron.tau_adapt, tau_adapt)
            if not neuron.integrate_during_refrac:
                warn(f"EPropCompiler: hidden population '{pop.name}' does not integrate "
                     "during its refractory period; e-prop assumes it does "
                     "(integrate_during_refrac=True, see eprop_compiler.default_params)")
            if not neuron.relative_reset:
                warn(f"EPropCompiler: hidden population '{pop.name}' uses an absolute "
                     "reset; e-prop assumes a relative one (relative_reset=True, see "
                     "eprop_compiler.default_params)")
        losses = self.losses
        if isinstance(losses, dict):
            losses = population_dict("EPropCompiler", "losses", losses)
        losses = get_object_mapping(losses, outputs, Loss, "Loss", default_losses)
        for pop, loss in losses.items():
            if not isinstance(loss, (SparseCategoricalCrossentropy, MeanSquareError)):
                raise NotImplementedError(
                    f"EPropCompiler: output population '{pop.name}' has loss "
                    f"{type(loss).__name__}; e-prop supports SparseCategoricalCrossentropy "
                    "and MeanSquareError")
        return _CompileState(outputs, hidden, losses, tau_mem, tau_adapt)

    def _check_connection(self, conn, outputs, hidden):
        trg = conn.target()
        if not isinstance(conn.synapse, Delta):
            raise NotImplementedError(
                f"EPropCompiler: connection '{conn.name}' has a "
                f"{type(conn.synapse).__name__} synapse; e-prop only supports Delta "
                "synapses")
        if not is_value_constant(conn.connectivity.delay):
            raise NotImplementedError(
                f"EPropCompiler: connection '{conn.name}' has heterogeneous delays; "
                "e-prop only supports one constant delay per connection")
        if is_graded(conn.source().neuron):
            raise NotImplementedError(
                f"EPropCompiler: connection '{conn.name}' comes from population "
                f"'{conn.source().name}' with a graded output "
                f"({type(conn.source().neuron).__name__}); e-prop needs spiking sources")
        if trg not in outputs and trg not in hidden:
            raise NotImplementedError(
                f"EPropCompiler: connection '{conn.name}' targets input population "
                f"'{trg.name}' ({type(trg.neuron).__name__}); e-prop trains connections "
                "into hidden and output populations only")

    def build_neuron_model(self, pop, model, compile_state):
        model = super().build_neuron_model(pop, model, compile_state)
        state = compile_state
        if pop in state.outputs:
            model = self._build_output_model(pop, model, state)
        elif pop in state.hidden:
            model.add_additional_input_var("ISynFeedback", "scalar", 0.0)
            model.add_var("E", "scalar", 0.0)
            model.append_sim_code("E = ISynFeedback;")
        state.neuron_models[pop] = model
        return model

    def _build_output_model(self, pop, model, state):
        loss = state.losses[pop]
        if isinstance(loss, SparseCategoricalCrossentropy):
            name, vtype = model.output_var[:2]
            model.add_var(f"{name}Softmax", vtype, 0.0)
            model.output_var_name = f"{name}Softmax"
        model = pop.neuron.readout.add_readout_logic(
            model, example_timesteps=self.example_timesteps, dt=self.dt)
        state.readout_reset_vars[pop] = list(pop.neuron.readout.reset_vars)
        model.add_var("E", "scalar", 0.0)
        loss.add_to_neuron(model, pop.shape, self.batch_size, self.example_timesteps)
        model.append_sim_code(f"E = {model.output_var_name} - yTrue;")
        if self.train_output_bias:
            if not model.has_param("Bias"):
                raise RuntimeError(
                    f"EPropCompiler: output population '{pop.name}' "
                    f"({type(pop.neuron).__name__}) has no Bias parameter to train; use "
                    "LeakyIntegrate outputs or EPropCompiler(train_output_bias=False)")
            model.make_param_var("Bias", VarAccess.READ_ONLY)
            model.add_var("DeltaBias", "scalar", 0.0)
            model.append_sim_code("DeltaBias += E;")
            state.trained_bias.append(pop)
        return model

    def build_weight_update_model(self, conn, connect_snippet, compile_state):
        state = compile_state
        src, trg = conn.source(), conn.target()
        src_model = self._source_models.get(src)
        if src_model is not None and src_model.model.get("negative_threshold_condition_code"):
            raise NotImplementedError(
                f"EPropCompiler: connection '{conn.name}' comes from population "
                f"'{src.name}' which emits signed spikes; e-prop needs plain spikes")
        if not connect_snippet.trainable:
            raise NotImplementedError(
                f"EPropCompiler: connection '{conn.name}' uses "
                f"{type(conn.connectivity).__name__} connectivity, which has no trainable "
                "weights; e-prop trains every connection")
        if conn in self.deep_r_conns:
            check_deep_r_connection(conn, connect_snippet.matrix_type)
        trg_model = state.neuron_models[trg]
        if trg in state.outputs:
            alpha_tau = _output_trace_tau(conn, src, trg, state)
            model = deepcopy(output_learning_model)
            var_vals = {"g": connect_snippet.weight, "DeltaG": 0.0}
            if src not in state.hidden:
                model["synapse_dynamics_code"] = _OUTPUT_NO_FEEDBACK_SYNAPSE_CODE
            else:
                state.feedback_conns.append(conn)
                if self.feedback == "random":
                    init = _feedback_weight_init(self, conn, src, trg,
                                                 connect_snippet.matrix_type)
                    if conn in self.deep_r_conns:
                        state.new_feedback_code[conn] = _new_synapse_feedback_code(conn, init)
                    model["vars"].append(("gFeedback", "scalar", VarAccess.READ_ONLY))
                    model["synapse_dynamics_code"] = _OUTPUT_RANDOM_FEEDBACK_SYNAPSE_CODE
                    var_vals["gFeedback"] = init
            wum = WeightUpdateModel(model, {"Alpha": np.exp(-self.dt / alpha_tau)},
                                    var_vals, {"ZFilter": 0.0},
                                    post_neuron_var_refs={"E_post": "E"})
        else:
            adaptive = isinstance(trg.neuron, AdaptiveLeakyIntegrateFire)
            model = deepcopy(eprop_alif_model if adaptive else eprop_lif_model)
            params = {"CReg": self.c_reg, "Alpha": np.exp(-self.dt / state.tau_mem),
                      "FTarget": (self.f_target * self.dt) / 1000.0,
                      "AlphaFAv": np.exp(-self.dt / self.tau_reg)}
            var_vals = {"g": connect_snippet.weight, "eFiltered": 0.0, "DeltaG": 0.0}
            if adaptive:
                params["Rho"] = np.exp(-self.dt / state.tau_adapt)
                var_vals["epsilonA"] = 0.0
            refs = {"V_post": "V", "E_post": "E"}
            if adaptive:
                refs["A_post"] = "A"
            wum = WeightUpdateModel(model, params, var_vals, {"ZFilter": 0.0},
                                    {"Psi": 0.0, "FAvg": 0.0}, post_neuron_var_refs=refs)
            _param_or_ref(wum, "Vthresh_post", trg_model, "Vthresh")
            if adaptive:
                _param_or_ref(wum, "Beta_post", trg_model, "Beta")
            if trg_model.has_var("RefracTime"):
                wum.add_post_neuron_var_ref("RefracTime_post", "scalar", "RefracTime")
            else:
                # no refractory period: nothing zeroes the pseudo-derivative
                wum.model["post_dynamics_code"] = _psi_code(adaptive, False)
        return wum

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        state = compile_state
        names = self._genn_names
        for conn in state.feedback_conns:
            connection_populations[conn].pre_target_var = "ISynFeedback"

        # gradients: (name, engine group, gradient var, trained var, var ref maker)
        trained = [(f"Weight{i}", genn_syn, "DeltaG", "g", create_wu_var_ref)
                   for i, genn_syn in enumerate(connection_populations.values())]
        trained += [(f"Bias{i}", neuron_populations[pop], "DeltaBias", "Bias",
                     create_var_ref) for i, pop in enumerate(state.trained_bias)]
        reduce = self.full_batch_size > 1 or self.communicator is not None
        reduced = []
        optimiser_cus = []
        # each compiled network owns its optimiser: a schedule changing one
        # network's learning rate must not change another's
        optimiser = copy(self.optimiser)
        for name, group, gradient, var, make_ref in trained:
            learn_cu, reduce_cu = add_gradient_step(
                genn_model, optimiser, make_ref(group, gradient), make_ref(group, var),
                self.batch_size, reduce, names, name)
            optimiser_cus.append(learn_cu)
            if reduce_cu is not None:
                reduced.append((reduce_cu, "ReducedGradient"))
            add_zero_gradient(genn_model, make_ref(group, gradient),
                              names.get("cu_ZeroGradient", name))

        for pop, reset_vars in state.readout_reset_vars.items():
            if reset_vars:
                add_neuron_reset(genn_model, neuron_populations[pop], reset_vars, "Reset",
                                 names.get("cu_Reset", pop.name))
        softmax = [pop for pop in state.outputs
                   if isinstance(state.losses[pop], SparseCategoricalCrossentropy)]
        for pop in softmax:
            name = state.neuron_models[pop].output_var_name
            add_softmax_custom_updates(genn_model, neuron_populations[pop],
                                       name[:-len("Softmax")], name)

        deep_r_before, deep_r_after = self._add_deep_r(genn_model, connection_populations,
                                                       state)

        train_callbacks = list(deep_r_before)
        if reduce:
            train_callbacks.append(CustomUpdateOnBatchEnd("GradientBatchReduce"))
        if self.communicator is not None and self.communicator.num_ranks > 1:
            train_callbacks.append(AllReduceGradients(reduced, self.communicator))
        train_callbacks.append(_GradientLearn())
        validate_callbacks = []
        if any(state.readout_reset_vars.values()):
            train_callbacks.append(CustomUpdateOnBatchBegin("Reset"))
            validate_callbacks.append(CustomUpdateOnBatchBegin("Reset"))
        train_callbacks += deep_r_after
        if softmax:
            for i in (1, 2, 3):
                train_callbacks.append(CustomUpdateOnTimestepEnd(f"Softmax{i}"))
                validate_callbacks.append(CustomUpdateOnTimestepEnd(f"Softmax{i}"))

        checkpoint_conn_vars = [(conn, "g") for conn in connection_populations]
        if self.feedback == "random":
            # fixed, but part of the state training resumes from
            checkpoint_conn_vars += [(conn, "gFeedback") for conn in state.feedback_conns]
        checkpoint_pop_vars = [(pop, "Bias") for pop in state.trained_bias]
        return CompiledTrainingNetwork(
            genn_model, neuron_populations, connection_populations, self.communicator,
            state.losses, self.example_timesteps, train_callbacks, validate_callbacks,
            [(optimiser, optimiser_cus)], checkpoint_conn_vars, checkpoint_pop_vars,
            self.reset_time_between_batches)

    def _add_deep_r(self, genn_model, connection_populations, state):
        """Deep-R on ``deep_r_conns``: ``(callbacks before the batch reduction,
        callbacks after the optimiser)``. A synapse it creates in a connection
        with random feedback draws a new ``gFeedback``."""
        if not self.deep_r_conns:
            return [], []
        deep_rs = []
        for conn in self.deep_r_conns:
            genn_syn = connection_populations[conn]
            new_values = None
            if conn in state.new_feedback_code:
                new_values = {"gFeedback": (create_wu_var_ref(genn_syn, "gFeedback"),
                                            state.new_feedback_code[conn])}
            deep_rs.append((conn, add_deep_r(genn_syn, genn_model, self,
                                             self.deep_r_l1_strength,
                                             create_wu_var_ref(genn_syn, "DeltaG"),
                                             create_wu_var_ref(genn_syn, "g"),
                                             new_synapse_values=new_values)))
        return deep_r_callbacks(deep_rs, self.deep_r_record_rewirings)


def _check_non_negative(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, (Number, np.number)) or \
            not np.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


_FEEDBACK_MODES = ("symmetric", "random")


def _check_feedback(owner, feedback, weight_init):
    """``(feedback, feedback_weight_init)`` checked: the mode is one of
    ``_FEEDBACK_MODES``; the weights (only with random feedback) are None,
    or a value (or a dict of values keyed by connections, which become the
    underlying Connections)."""
    if feedback == "adaptive":
        raise NotImplementedError(
            f"{owner}: feedback='adaptive' (adaptive e-prop, feedback weights trained "
            "alongside the output weights) is not implemented; use "
            f"{' or '.join(repr(m) for m in _FEEDBACK_MODES)}")
    if not isinstance(feedback, str) or feedback not in _FEEDBACK_MODES:
        raise ValueError(f"{owner}: feedback must be one of "
                         f"{', '.join(repr(m) for m in _FEEDBACK_MODES)}, got {feedback!r}")
    if weight_init is None:
        return feedback, None
    if feedback != "random":
        raise ValueError(f"{owner}: feedback_weight_init is only used with "
                         f"feedback='random' (feedback={feedback!r} sends the error back "
                         "through the forward weights)")
    if isinstance(weight_init, dict):
        return feedback, {conn: _check_feedback_value(
                              owner, f"feedback_weight_init[{conn.name!r}]", value)
                          for conn, value in connection_dict(owner, "feedback_weight_init",
                                                             weight_init).items()}
    return feedback, _check_feedback_value(owner, "feedback_weight_init", weight_init)


def _check_feedback_value(owner, name, value):
    if isinstance(value, Initializer):
        return value
    if isinstance(value, (bool, np.bool_, str, bytes)) or not (
            is_value_constant(value) or is_value_array(value)):
        raise TypeError(f"{owner}: {name} must be an initializer (e.g. Normal), a number "
                        f"or an array, got {value!r}")
    check_value(owner, name, value)
    if is_value_array(value):
        value = np.asarray(value, dtype=np.float64)
        if value.size == 0:
            raise ValueError(f"{owner}: {name} is an empty array")
        return value
    return float(value)


def _feedback_weight_init(compiler, conn, src, trg, matrix_type):
    """The initial ``gFeedback`` of hidden -> output connection ``conn``."""
    init = compiler.feedback_weight_init
    if isinstance(init, dict):
        init = init.get(conn)
    num_pre, num_post = int(np.prod(src.shape)), int(np.prod(trg.shape))
    if init is None:
        return Normal(mean=0.0, sd=1.0 / np.sqrt(num_post))
    # (a sparse connection's number of synapses is known after initialisation,
    # where the engine checks it)
    if is_value_array(init) and init.shape not in ((num_pre, num_post),
                                                   (num_pre * num_post,)) and \
            not int(matrix_type) & int(SynapseMatrixConnectivity.SPARSE):
        raise ValueError(
            f"EPropCompiler: feedback_weight_init for connection '{conn.name}' has "
            f"shape {init.shape} but the connection's weights have shape (source "
            f"neurons, target neurons) = {(num_pre, num_post)} (or give them flat)")
    return init


def _new_synapse_feedback_code(conn, init):
    """C expression drawing the ``gFeedback`` of a synapse Deep-R creates."""
    if is_value_constant(init):
        return f"({float(init)!r})"
    if isinstance(init, Normal) and is_value_constant(init.mean) and \
            is_value_constant(init.sd):
        return f"({float(init.mean)!r} + ({float(init.sd)!r} * gennrand_normal()))"
    if isinstance(init, Uniform) and is_value_constant(init.min) and \
            is_value_constant(init.max):
        lo, hi = float(init.min), float(init.max)
        return f"({lo!r} + ({hi - lo!r} * gennrand_uniform()))"
    raise NotImplementedError(
        f"EPropCompiler: connection '{conn.name}' is rewired by Deep-R and feeds random "
        "feedback back; each synapse Deep-R creates draws its feedback weight from "
        "feedback_weight_init, which must therefore be a number, Normal or Uniform, "
        f"not {init!r}")


def _shared(pop, name, value, shared: Optional[float]):
    """The hidden neurons' common ``name`` (one number), checking ``pop``'s."""
    if not is_value_constant(value):
        raise NotImplementedError(f"EPropCompiler: hidden population '{pop.name}' has a "
                                  f"per-neuron {name}; e-prop needs one {name} shared by "
                                  "every hidden neuron")
    value = float(value)
    if shared is not None and value != shared:
        raise NotImplementedError(f"EPropCompiler: hidden population '{pop.name}' has "
                                  f"{name}={value:g} but other hidden neurons have "
                                  f"{shared:g}; e-prop needs one {name} shared by every "
                                  "hidden neuron")
    return value


def _output_trace_tau(conn, src, trg, state):
    """Time constant of the presynaptic trace of a connection into an output:
    the hidden neurons' ``tau_mem`` (mlGeNN's choice), or without a hidden
    layer the output's own."""
    if state.tau_mem is not None:
        return state.tau_mem
    tau = getattr(trg.neuron, "tau_mem", None)
    if tau is None or not is_value_constant(tau):
        raise NotImplementedError(
            f"EPropCompiler: connection '{conn.name}' from '{src.name}' feeds output "
            f"'{trg.name}' directly and there is no hidden layer whose tau_mem would "
            "filter its spikes; give the output neuron one constant tau_mem "
            "(e.g. LeakyIntegrate) or add a hidden layer")
    return float(tau)
