"""The custom updates of EventProp training (batch resets, gradient steps,
softmax, spike-count and first-spike-time reductions, Deep-R), the
callbacks that schedule them, and the CompiledTrainingNetwork they make up."""
from copy import copy, deepcopy

from ...callbacks import (CustomUpdateOnBatchBegin, CustomUpdateOnBatchEnd,
                          CustomUpdateOnTimestepEnd)
from ...genn import CustomUpdateVarAccess, VarAccessMode, create_var_ref, create_wu_var_ref
from ...losses import RelativeMeanSquareError, SparseCategoricalCrossentropy
from ...neurons import LeakyIntegrate
from ...neurons.input import Input
from ...utils.model import CustomUpdateModel
from ..compiled_training_network import CompiledTrainingNetwork
from ..compiler import (add_custom_update, add_out_post_zero_custom_update,
                        add_softmax_custom_updates, create_reset_custom_update)
from ..deep_r import add_deep_r, deep_r_callbacks
from ..gradient_sync import AllReduceGradients
from ..gradient_updates import add_gradient_step, add_zero_gradient
from .callbacks import (CustomUpdateOnBatchEndNotFirst, CustomUpdateOnFirstBatchEnd,
                        UpdateTrial, _CheckRingOverflow)
from .neuron_models import _OFFSET

# Variables a population keeps from one trial to the next (the backward
# pass of the previous trial reads them); ring offsets are swapped instead
_KEPT = {"Softmax", "YTrueBack", "TFirstSpikeBack", "VMaxTimeBack", "TFirstSpikeSumBack",
         "TFirstSpikeTrueBack", "SpikeCountBackBatch", "RingWriteOffset", "RingReadOffset",
         "RingWriteStartOffset", "RingReadEndOffset", "RingDropped"}

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


class _TrainingCustomUpdates:
    """``create_compiled_network`` and its custom updates (mixin of
    ``EventPropCompiler``)."""

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
