"""CompiledTrainingNetwork: the training loop shared by the e-prop and
EventProp compilers."""
from math import ceil

import numpy as np

from ..callbacks import BatchProgressBar
from ..losses import MeanSquareError as MeanSquareErrorLoss
from ..losses import RelativeMeanSquareError, SparseCategoricalCrossentropy
from ..metrics import MeanSquareError as MeanSquareErrorMetric
from ..metrics import Metric, SparseCategoricalAccuracy, default_metrics
from ..serialisers import Serialiser, default_serialisers
from ..utils.callback_list import CallbackList
from ..utils.data import batch_dataset, permute_dataset, split_dataset
from ..utils.module import get_object, get_object_mapping
from ..utils.network import get_underlying_pop
from .compiled_network import CompiledNetwork, check_labels, dataset_size

#: Losses whose targets are class labels
_LABEL_LOSSES = (SparseCategoricalCrossentropy, RelativeMeanSquareError)


def _callbacks_or_default(callbacks):
    """A fresh progress bar per call (upstream shares one default object)."""
    return [BatchProgressBar()] if callbacks is None else list(callbacks)


class CompiledTrainingNetwork(CompiledNetwork):
    """A network compiled for training: ``train()`` runs epochs of batches,
    each followed by the compiler's gradient and optimiser custom updates
    (triggered by its base callbacks); ``save()`` writes the learned
    variables.

    Args:
        genn_model: the engine model
        neuron_populations: ``{Population: engine neuron group}``
        connection_populations: ``{Connection: engine synapse group}``
        communicator: ``None`` or a ``Communicator`` (data-parallel training)
        losses: ``{output Population: Loss}``
        example_timesteps: time steps each example is presented for
        base_train_callbacks: the compiler's callbacks run before the user's
            during training (gradient reductions, optimisers, resets)
        base_validate_callbacks: likewise during validation
        optimisers: ``[(Optimiser, [engine custom updates])]``; before the
            callbacks of the end of a batch, ``set_step`` prepares each
            custom update for the global optimisation step
        checkpoint_connection_vars: ``[(Connection, variable name)]`` saved
            by :meth:`save`
        checkpoint_population_vars: ``[(Population, variable name)]`` saved
            by :meth:`save`
        reset_time_between_batches: start every batch at time step 0
        reset_spikes_between_batches: drop spikes still on their way when
            a batch starts (as inference does). Off by default, as in
            mlGeNN: EventProp's backward pass runs one batch behind the
            forward pass and its events must cross the batch boundary.
    """

    def __init__(self, genn_model, neuron_populations, connection_populations,
                 communicator, losses: dict, example_timesteps: int,
                 base_train_callbacks: list, base_validate_callbacks: list,
                 optimisers: list, checkpoint_connection_vars: list,
                 checkpoint_population_vars: list, reset_time_between_batches: bool = True,
                 reset_spikes_between_batches: bool = False):
        super().__init__(genn_model, neuron_populations, connection_populations,
                         communicator, example_timesteps)
        self.losses = losses
        self.example_timesteps = example_timesteps
        self.base_train_callbacks = base_train_callbacks
        self.base_validate_callbacks = base_validate_callbacks
        self.optimisers = optimisers
        self.checkpoint_connection_vars = checkpoint_connection_vars
        self.checkpoint_population_vars = checkpoint_population_vars
        self.reset_time_between_batches = reset_time_between_batches
        self.reset_spikes_between_batches = reset_spikes_between_batches

    def train(self, x: dict, y: dict, num_epochs: int, start_epoch: int = 0,
              shuffle: bool = True, metrics="sparse_categorical_accuracy",
              callbacks=None, validation_callbacks=None, validation_split: float = 0.0,
              validation_x: dict = None, validation_y: dict = None):
        """Train for ``num_epochs`` epochs.

        Args:
            x: ``{input population: data}`` (one entry per example)
            y: ``{output population: targets}`` (labels, or per-timestep
                targets for ``MeanSquareError``)
            num_epochs: number of epochs to run
            start_epoch: index of the first epoch (callbacks and the Adam
                step count continue from it)
            shuffle: permute the training data every epoch with NumPy's
                global random generator (seed it for repeatable runs)
            metrics: metric name/object, or a dict keyed like ``y``
            callbacks: training callbacks (default: a progress bar)
            validation_callbacks: callbacks of the validation passes
            validation_split: fraction of ``x``/``y`` (the last examples,
                taken before any shuffling) held out for validation
            validation_x: explicit validation inputs (not with a split)
            validation_y: explicit validation targets

        Returns:
            ``(train_metrics, train_callback_data)``, or with validation data
            ``(train_metrics, validation_metrics, train_callback_data,
            validation_callback_data)``; metrics are those of the last epoch.
        """
        self._check_loaded("train()")
        num_epochs = int(num_epochs)
        start_epoch = int(start_epoch)
        if num_epochs < 0 or start_epoch < 0:
            raise ValueError(f"train(): num_epochs and start_epoch must not be negative, got "
                             f"{num_epochs} and {start_epoch}")
        if validation_split != 0.0 and (validation_x is not None or validation_y is not None):
            raise RuntimeError("train(): give either validation_split or validation_x and "
                               "validation_y, not both")
        if (validation_x is None) != (validation_y is None):
            raise RuntimeError("train(): validation_x and validation_y go together")
        self._check_outputs(y, "y")
        outputs = list(y.keys())
        train_metrics = get_object_mapping(metrics, outputs, Metric, "Metric", default_metrics)
        self._check_xy(x, y, "x", "y", train_metrics)
        if validation_split != 0.0:
            x, validation_x = split_dataset(x, validation_split)
            y, validation_y = split_dataset(y, validation_split)
        train_size = self._check_xy(x, y, "x", "y", train_metrics)
        validate = validation_x is not None and dataset_size(validation_x, "validation_x") > 0
        if validate:
            validation_size = self._check_xy(validation_x, validation_y,
                                             "validation_x", "validation_y", train_metrics)
        batch_size = self.genn_model.batch_size
        num_batches = ceil(train_size / batch_size)
        train_list = CallbackList(self.base_train_callbacks
                                  + _callbacks_or_default(callbacks),
                                  compiled_network=self, num_batches=num_batches,
                                  num_epochs=num_epochs, num_examples=train_size)
        if validate:
            validate_metrics = get_object_mapping(metrics, outputs, Metric, "Metric",
                                                  default_metrics)
            validate_batches = batch_dataset(validation_x, batch_size, validation_size)
            validate_labels = batch_dataset(validation_y, batch_size, validation_size)
            validate_list = CallbackList(
                self.base_validate_callbacks + _callbacks_or_default(validation_callbacks),
                compiled_network=self, num_batches=len(validate_batches),
                num_epochs=num_epochs, num_examples=validation_size)

        train_list.on_train_begin()
        if validate:
            validate_list.on_test_begin()
        step = num_batches * start_epoch
        for epoch in range(start_epoch, start_epoch + num_epochs):
            if shuffle:
                order = np.random.permutation(train_size)
                epoch_x, epoch_y = permute_dataset(x, order), permute_dataset(y, order)
            else:
                epoch_x, epoch_y = x, y
            for m in train_metrics.values():
                m.reset()
            train_list.on_epoch_begin(epoch)
            for batch_i, (batch_x, batch_y) in enumerate(
                    zip(batch_dataset(epoch_x, batch_size, train_size),
                        batch_dataset(epoch_y, batch_size, train_size))):
                self._run_batch(batch_i, batch_x, batch_y, train_list)
                self._update_metrics(batch_y, train_metrics)
                for optimiser, custom_updates in self.optimisers:
                    for cu in custom_updates:
                        optimiser.set_step(cu, step)
                train_list.on_batch_end(batch_i, train_metrics)
                step += 1
            train_list.on_epoch_end(epoch, train_metrics)

            if validate:
                for m in validate_metrics.values():
                    m.reset()
                validate_list.on_epoch_begin(epoch)
                for batch_i, (batch_x, batch_y) in enumerate(zip(validate_batches,
                                                                 validate_labels)):
                    self._run_batch(batch_i, batch_x, batch_y, validate_list)
                    self._update_metrics(batch_y, validate_metrics)
                    validate_list.on_batch_end(batch_i, validate_metrics)
                validate_list.on_epoch_end(epoch, validate_metrics)
        train_list.on_train_end(train_metrics)
        if validate:
            validate_list.on_test_end(validate_metrics)
            return (train_metrics, validate_metrics, train_list.get_data(),
                    validate_list.get_data())
        return train_metrics, train_list.get_data()

    def save(self, keys=(), serialiser="numpy"):
        """Serialise every checkpointed variable under ``keys + (object, name)``.

        With a communicator only rank 0 writes (every rank holds the same
        learned values)."""
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys)
        writes = self.communicator is None or self.communicator.rank == 0
        for conn, var in self.checkpoint_connection_vars:
            genn_syn = self.connection_populations[conn]
            if genn_syn.is_sparse:
                genn_syn.pull_connectivity_from_device()
            genn_var = genn_syn.vars[var]
            genn_var.pull_from_device()
            if writes:
                serialiser.serialise(keys + (conn, var), genn_var.values)
        for pop, var in self.checkpoint_population_vars:
            genn_var = self.neuron_populations[pop].vars[var]
            genn_var.pull_from_device()
            if writes:
                serialiser.serialise(keys + (pop, var), genn_var.values)

    def save_connectivity(self, keys=(), serialiser="numpy"):
        """Serialise ``pre_ind`` and ``post_ind`` of every sparse connection
        (e.g. after Deep-R rewiring), in the order :meth:`save` uses."""
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys)
        writes = self.communicator is None or self.communicator.rank == 0
        for conn, genn_syn in self.connection_populations.items():
            if not genn_syn.is_sparse:
                continue
            genn_syn.pull_connectivity_from_device()
            if writes:
                serialiser.serialise(keys + (conn, "pre_ind"), genn_syn.get_sparse_pre_inds())
                serialiser.serialise(keys + (conn, "post_ind"),
                                     genn_syn.get_sparse_post_inds())

    # -- one batch --------------------------------------------------------
    def _run_batch(self, batch_i, batch_x, batch_y, callback_list):
        """One batch; targets are set in validation too (what the losses
        compute from them in the engine, such as the MSE of the output
        trace, is reported there; the compilers discard the gradients
        validation accumulates)."""
        callback_list.on_batch_begin(batch_i)
        if self.reset_spikes_between_batches:
            self.genn_model.reset_spike_queues()
        if self.reset_time_between_batches:
            self.reset_time()
        self.set_input(batch_x)
        batch_size = self.genn_model.batch_size
        for output, y_true in batch_y.items():
            pop = get_underlying_pop(output)
            try:
                self.losses[pop].set_target(self.neuron_populations[pop], y_true, pop.shape,
                                            batch_size, self.example_timesteps)
            except (RuntimeError, ValueError) as e:
                raise type(e)(f"targets for output population '{pop.name}': {e}") from None
        self.run_steps(self.example_timesteps, callback_list)

    def _update_metrics(self, batch_y, metrics):
        for output, y_true in batch_y.items():
            y_true = np.asarray(y_true)
            pop = get_underlying_pop(output)
            metric = metrics[output]
            if (isinstance(self.losses[pop], MeanSquareErrorLoss)
                    and isinstance(metric, MeanSquareErrorMetric)
                    and y_true.ndim == len(pop.shape) + 2):
                # per-timestep targets: the error of the whole output trace,
                # summed in the engine by the loss (the readout is one value)
                sums = MeanSquareErrorLoss.squared_error_sums(self.neuron_populations[pop],
                                                              len(y_true))
                metric.update_squared_error(sums.sum(), y_true.size, self.communicator)
            else:
                y_pred = self.get_readout(output)
                metric.update(y_true, y_pred[:len(y_true)], self.communicator)

    def _check_xy(self, x, y, x_arg, y_arg, metrics):
        """Check ``x`` and ``y`` (keys, sizes, and class labels where the loss
        or the metric takes them) before anything is simulated; returns the
        number of examples."""
        self._check_inputs(x, x_arg)
        self._check_outputs(y, y_arg)
        for key in y:
            pop = get_underlying_pop(key)
            if pop not in self.losses:
                trained = ", ".join(repr(p.name) for p in self.losses) or "none"
                raise ValueError(f"{y_arg} is keyed by population '{pop.name}', which has no "
                                 f"loss; the trained outputs are: {trained}")
        x_size, y_size = dataset_size(x, x_arg), dataset_size(y, y_arg)
        if x_size != y_size:
            raise RuntimeError(f"{x_arg} has {x_size} examples but {y_arg} has {y_size}: "
                               "give one target per input example")
        for key, labels in y.items():
            pop = get_underlying_pop(key)
            if (isinstance(self.losses[pop], _LABEL_LOSSES)
                    or isinstance(metrics[key], SparseCategoricalAccuracy)):
                check_labels(pop, labels, y_arg)
        return x_size
