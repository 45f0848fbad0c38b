"""InferenceCompiler: evaluate a network on batches of data."""
from collections.abc import Mapping

import numpy as np

from ..callbacks import BatchProgressBar, Callback, CustomUpdateOnBatchBegin
from ..genn import SynapseMatrixType
from ..metrics import Metric, SparseCategoricalAccuracy, default_metrics
from ..synapses import Delta
from ..utils.callback_list import CallbackList
from ..utils.checks import check_positive_int
from ..utils.data import batch_dataset, get_dataset_size
from ..utils.network import get_underlying_pop
from ..utils.module import get_object_mapping
from .compiled_network import CompiledNetwork, batch_dicts, check_labels, dataset_size
from .compiler import Compiler, add_neuron_reset, add_out_post_zero_custom_update


def _matrix_priority(prefer_in_memory_connect):
    if prefer_in_memory_connect:
        return [SynapseMatrixType.SPARSE, SynapseMatrixType.DENSE, SynapseMatrixType.TOEPLITZ,
                SynapseMatrixType.PROCEDURAL_KERNELG, SynapseMatrixType.PROCEDURAL]
    return [SynapseMatrixType.TOEPLITZ, SynapseMatrixType.PROCEDURAL_KERNELG,
            SynapseMatrixType.PROCEDURAL, SynapseMatrixType.SPARSE, SynapseMatrixType.DENSE]


def _default_callbacks(callbacks):
    """A fresh progress bar per call (upstream shares one default object)."""
    return [BatchProgressBar()] if callbacks is None else callbacks


class _NoResetNeeded(Callback):
    """Placeholder taking the reset callback's slot when nothing is reset."""


class CompiledInferenceNetwork(CompiledNetwork):
    def __init__(self, genn_model, neuron_populations, connection_populations,
                 communicator, evaluate_timesteps: int, base_callbacks: list,
                 reset_time_between_batches: bool = True,
                 reset_spikes_between_batches: bool = True):
        super().__init__(genn_model, neuron_populations, connection_populations,
                         communicator, evaluate_timesteps)
        self.evaluate_timesteps = evaluate_timesteps
        self.base_callbacks = base_callbacks
        self.reset_time_between_batches = reset_time_between_batches
        self.reset_spikes_between_batches = reset_spikes_between_batches

    def evaluate(self, x: dict, y: dict, metrics="sparse_categorical_accuracy",
                 callbacks=None):
        """Evaluate on data: returns ``(metrics, callback_data)``."""
        self._check_loaded("evaluate()")
        x_batches, y_batches, x_size = self._batch_xy(x, y)
        return self.evaluate_batch_iter(list(x.keys()), list(y.keys()),
                                        zip(x_batches, y_batches), len(x_batches),
                                        metrics, callbacks, _dicts=True,
                                        _num_examples=x_size, _all_labels=y)

    def evaluate_batch_iter(self, inputs, outputs, data, num_batches=None,
                            metrics="sparse_categorical_accuracy", callbacks=None,
                            _dicts=False, _num_examples=None, _all_labels=None):
        """Evaluate on an iterator of ``(batch_x, batch_y)``."""
        self._check_loaded("evaluate_batch_iter()")
        _, out_list, pairs = batch_dicts(inputs, outputs, data)
        if not _dicts:
            data = pairs
        self._check_outputs(out_list, "outputs")
        metrics = get_object_mapping(metrics, out_list, Metric, "Metric", default_metrics)
        extra = {} if _num_examples is None else {"num_examples": _num_examples}
        callback_list = CallbackList(self.base_callbacks + _default_callbacks(callbacks),
                                     compiled_network=self, num_batches=num_batches, **extra)
        # class labels are checked before anything is simulated: all at once
        # when evaluate() was given the whole dataset, else batch by batch
        label_outputs = [o for o in out_list if isinstance(metrics[o], SparseCategoricalAccuracy)]
        if _all_labels is not None:
            for o in label_outputs:
                check_labels(get_underlying_pop(o), _all_labels[o])
            label_outputs = []
        callback_list.on_test_begin()
        for batch_i, (batch_x, batch_y) in enumerate(data):
            for o in label_outputs:                 # before simulating the batch
                check_labels(get_underlying_pop(o), batch_y[o])
            self._run_batch(batch_i, batch_x, callback_list)
            for o, y_true in batch_y.items():
                y_true = np.asarray(y_true)
                y_pred = self.get_readout(o)
                metrics[o].update(y_true, y_pred[:len(y_true)], self.communicator)
            callback_list.on_batch_end(batch_i, metrics)
        callback_list.on_test_end(metrics)
        return metrics, callback_list.get_data()

    def evaluate_batch(self, x: dict, y: dict, metrics="sparse_categorical_accuracy",
                       callbacks=None):
        self._check_inputs(x, "x")
        if not isinstance(y, Mapping):
            raise TypeError(f"y must be a dict {{output population: labels}}, not "
                            f"{type(y).__name__}")
        return self.evaluate_batch_iter(list(x.keys()), list(y.keys()), [(x, y)], 1,
                                        metrics, [] if callbacks is None else callbacks,
                                        _dicts=True)

    def predict(self, x: dict, outputs, callbacks=None):
        """Readouts of ``outputs`` for every example: ``(dict, callback_data)``."""
        self._check_loaded("predict()")
        self._check_inputs(x, "x")
        size = dataset_size(x, "x")
        single = not isinstance(outputs, (list, tuple))
        out_list = [outputs] if single else list(outputs)
        self._check_outputs(out_list, "outputs")
        batches = batch_dataset(x, self.genn_model.batch_size, size)
        callback_list = CallbackList(self.base_callbacks + _default_callbacks(callbacks),
                                     compiled_network=self, num_batches=len(batches),
                                     num_examples=size)
        callback_list.on_test_begin()
        results = {o: [] for o in out_list}
        for batch_i, batch_x in enumerate(batches):
            self._run_batch(batch_i, batch_x, callback_list)
            n = get_dataset_size(batch_x)
            for o in out_list:
                results[o].append(self.get_readout(o)[:n])
            callback_list.on_batch_end(batch_i, {})
        callback_list.on_test_end({})
        out = {o: np.concatenate(r)[:size] for o, r in results.items()}
        return out, callback_list.get_data()

    def _run_batch(self, batch_i, batch_x, callback_list):
        callback_list.on_batch_begin(batch_i)      # includes the Reset custom update
        if self.reset_spikes_between_batches:
            # Spikes of the previous example's last step would otherwise reach
            # this example's first step (upstream mlGeNN lets them through).
            self.genn_model.reset_spike_queues()
        if self.reset_time_between_batches:
            self.reset_time()
        self.set_input(batch_x)
        self.run_steps(self.evaluate_timesteps, callback_list)


class InferenceCompiler(Compiler):
    """Compile a network for evaluation with ``evaluate_timesteps`` steps per batch."""

    def __init__(self, evaluate_timesteps: int, dt: float = 1.0, batch_size: int = 1,
                 rng_seed: int = 0, kernel_profiling: bool = False,
                 prefer_in_memory_connect: bool = True,
                 reset_time_between_batches: bool = True,
                 reset_vars_between_batches: bool = True,
                 reset_in_syn_between_batches: bool = False, communicator=None,
                 **genn_kwargs):
        evaluate_timesteps = check_positive_int(
            type(self).__name__, "evaluate_timesteps", evaluate_timesteps,
            " (the number of time steps each example is presented for)")
        super().__init__(_matrix_priority(prefer_in_memory_connect), dt, batch_size,
                         rng_seed, kernel_profiling, communicator, **genn_kwargs)
        self.evaluate_timesteps = evaluate_timesteps
        self.reset_time_between_batches = reset_time_between_batches
        self.reset_vars_between_batches = reset_vars_between_batches
        self.reset_in_syn_between_batches = reset_in_syn_between_batches

    def pre_compile(self, network, genn_model, **kwargs):
        return {"reset_vars": {}}

    def build_neuron_model(self, pop, model, compile_state):
        model = super().build_neuron_model(pop, model, compile_state)
        readout = pop.neuron.readout
        if readout is not None:
            model = readout.add_readout_logic(model,
                                              example_timesteps=self.evaluate_timesteps,
                                              dt=self.dt)
        if self.reset_vars_between_batches:
            reset = model.reset_vars
        else:
            reset = list(readout.reset_vars) if readout is not None else []
        if reset:
            compile_state["reset_vars"][pop] = reset
        return model

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        names = self._genn_names
        for pop, reset_vars in compile_state["reset_vars"].items():
            add_neuron_reset(genn_model, neuron_populations[pop], reset_vars, "Reset",
                             names.get("cu_Reset", pop.name))
        if self.reset_in_syn_between_batches:
            for conn, genn_syn in connection_populations.items():
                if not isinstance(conn.synapse, Delta):
                    add_out_post_zero_custom_update(genn_model, genn_syn, "Reset",
                                                    names.get("cu_ZeroOutPost", conn.name))
        # The reset callback always takes its slot (first in the list), as in
        # mlGeNN, so a keyless recorder gets the same integer key there and here.
        has_reset = any(cu.group_name == "Reset"
                        for cu in genn_model.custom_updates.values())
        base_callbacks = [CustomUpdateOnBatchBegin("Reset") if has_reset
                          else _NoResetNeeded()]
        return CompiledInferenceNetwork(genn_model, neuron_populations,
                                        connection_populations, self.communicator,
                                        self.evaluate_timesteps, base_callbacks,
                                        self.reset_time_between_batches,
                                        self.reset_vars_between_batches)
