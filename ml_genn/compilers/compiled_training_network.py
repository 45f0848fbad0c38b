"""CompiledTrainingNetwork: the training loop shared by the e-prop and
EventProp compilers."""
from collections.abc import Iterable, Mapping
from math import ceil, isfinite
from numbers import Real

import numpy as np

from ..callbacks import BatchProgressBar
from ..losses import MeanSquareError as MeanSquareErrorLoss
from ..losses import RelativeMeanSquareError, SparseCategoricalCrossentropy
from ..metrics import MeanSquareError as MeanSquareErrorMetric
from ..metrics import Metric, SparseCategoricalAccuracy, default_metrics
from ..serialisers import Serialiser, default_serialisers
from ..neurons import SpikeInput
from ..utils.callback_list import CallbackList
from ..utils.checks import check_finite, check_non_negative_int, checkpoint_keys
from ..utils.data import batch_dataset, permute_dataset, split_dataset
from ..utils.module import get_object, get_object_mapping
from ..utils.network import get_underlying_pop
from .compiled_network import CompiledNetwork, check_labels, dataset_size

#: Losses whose targets are class labels
_LABEL_LOSSES = (SparseCategoricalCrossentropy, RelativeMeanSquareError)


#: Largest label the losses' ``YTrue`` (uint8) can hold
_MAX_LABEL = 255


def _callbacks_or_default(callbacks, arg="callbacks"):
    """A fresh progress bar per call (upstream shares one default object)."""
    if callbacks is None:
        return [BatchProgressBar()]
    if isinstance(callbacks, (str, bytes, Mapping)) or not isinstance(callbacks, Iterable):
        raise TypeError(f"train(): {arg} must be a list of callbacks (objects or names such "
                        f"as 'batch_progress_bar'), not {type(callbacks).__name__} "
                        f"{callbacks!r}; wrap a single callback in a list: [callback]")
    return list(callbacks)


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
        num_epochs = check_non_negative_int("train()", "num_epochs", num_epochs)
        start_epoch = check_non_negative_int("train()", "start_epoch", start_epoch)
        if (isinstance(validation_split, (bool, np.bool_))
                or not isinstance(validation_split, Real)):
            raise TypeError(f"train(): validation_split must be a number in [0, 1), the "
                            f"fraction of x and y held out for validation, not "
                            f"{type(validation_split).__name__} {validation_split!r}")
        if not (isfinite(validation_split) and 0.0 <= validation_split < 1.0):
            raise ValueError(f"train(): validation_split must lie in [0, 1) (the fraction of "
                             f"x and y held out for validation; 1 would leave nothing to "
                             f"train on), got {validation_split!r}")
        if validation_split != 0.0 and (validation_x is not None or validation_y is not None):
            raise RuntimeError("train(): give either validation_split or validation_x and "
                               "validation_y, not both")
        if (validation_x is None) != (validation_y is None):
            raise RuntimeError("train(): validation_x and validation_y go together")
        for arg, value in (("y", y), ("validation_y", validation_y)):
            if value is not None and not isinstance(value, Mapping):
                raise TypeError(f"{arg} must be a dict {{output population: targets}}, not "
                                f"{type(value).__name__}")
        self._check_outputs(y, "y")
        outputs = list(y.keys())
        train_metrics = get_object_mapping(metrics, outputs, Metric, "Metric", default_metrics)
        callbacks = _callbacks_or_default(callbacks)
        if validation_callbacks is not None:
            _callbacks_or_default(validation_callbacks, "validation_callbacks")
        self._check_xy(x, y, "x", "y", train_metrics)
        if validation_split != 0.0:
            x, validation_x = split_dataset(x, validation_split)
            y, validation_y = split_dataset(y, validation_split)
        train_size = self._check_xy(x, y, "x", "y", train_metrics)
        if train_size == 0:
            raise ValueError("train(): x and y hold no training examples"
                             + (f" once validation_split={validation_split!r} has held out "
                                "the rest" if validation_split != 0.0 else "")
                             + "; give at least one example")
        self._check_spike_capacity(x, "x", shuffle)
        validate = validation_x is not None and dataset_size(validation_x, "validation_x") > 0
        if validate:
            validation_size = self._check_xy(validation_x, validation_y,
                                             "validation_x", "validation_y", train_metrics)
            self._check_spike_capacity(validation_x, "validation_x", False)
        batch_size = self.genn_model.batch_size
        num_batches = ceil(train_size / batch_size)
        train_list = CallbackList(self.base_train_callbacks + callbacks,
                                  compiled_network=self, num_batches=num_batches,
                                  num_epochs=num_epochs, num_examples=train_size)
        if validate:
            validate_metrics = get_object_mapping(metrics, outputs, Metric, "Metric",
                                                  default_metrics)
            validate_batches = batch_dataset(validation_x, batch_size, validation_size)
            validate_labels = batch_dataset(validation_y, batch_size, validation_size)
            validate_list = CallbackList(
                self.base_validate_callbacks
                + _callbacks_or_default(validation_callbacks, "validation_callbacks"),
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
        keys = checkpoint_keys(keys, "save()")
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
        keys = checkpoint_keys(keys, "save_connectivity()")
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
        for key, data in x.items():
            if isinstance(data, np.ndarray) and data.dtype.kind in "fc":
                check_finite(f"{x_arg} for input population '{get_underlying_pop(key).name}'",
                             data, "training")
        batch_size = self.genn_model.batch_size
        for key, targets in y.items():
            pop = get_underlying_pop(key)
            loss = self.losses[pop]
            if isinstance(loss, MeanSquareErrorLoss):
                self._check_mse_targets(pop, targets, y_arg, x_size, batch_size)
            if isinstance(loss, _LABEL_LOSSES):
                check_labels(pop, targets, y_arg, type(loss).__name__)
            elif isinstance(metrics[key], SparseCategoricalAccuracy):
                check_labels(pop, targets, y_arg)
            if (isinstance(loss, _LABEL_LOSSES) and isinstance(metrics[key],
                                                               MeanSquareErrorMetric)
                    and np.shape(targets)[1:] != tuple(pop.shape)):
                raise ValueError(f"{y_arg}: metrics='mean_square_error' compares targets of "
                                 f"the readout's shape {tuple(pop.shape)} per example with "
                                 f"the readout of output population '{pop.name}', but its "
                                 f"{type(loss).__name__} loss takes class labels; use "
                                 "metrics='sparse_categorical_accuracy'")
            if isinstance(loss, _LABEL_LOSSES) and len(targets):
                top = np.max(np.asarray(targets))
                if top > _MAX_LABEL:
                    raise ValueError(
                        f"{y_arg}: labels for output population '{pop.name}' go up to "
                        f"{top}, but {type(loss).__name__} stores labels as 8-bit integers "
                        f"(0..{_MAX_LABEL}); train at most {_MAX_LABEL + 1} classes per "
                        "output population")
        return x_size

    def _check_mse_targets(self, pop, targets, y_arg, num_examples, batch_size):
        """Per-timestep targets of a ``MeanSquareError`` output: numbers,
        finite, shaped ``(examples, example_timesteps) + pop.shape`` and
        filling whole batches (the loss takes exactly one full batch)."""
        arr = np.asarray(targets)
        where = f"{y_arg}: targets for output population '{pop.name}' (MeanSquareError)"
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                       or arr.dtype == np.bool_):
            raise TypeError(f"{where} must be numbers, got an array of {arr.dtype}")
        expected = (num_examples, self.example_timesteps) + tuple(pop.shape)
        if arr.shape != expected:
            raise ValueError(f"{where} must have shape (examples, example_timesteps) + "
                             f"population shape = {expected}, one target per output neuron "
                             f"and time step; got shape {arr.shape}")
        if num_examples % batch_size:
            raise ValueError(f"{where}: {num_examples} examples do not fill whole batches of "
                             f"{batch_size}, and MeanSquareError needs every batch full; use "
                             f"a multiple of the batch size (e.g. drop the last "
                             f"{num_examples % batch_size} examples)")
        check_finite(where, arr, "training")

    def _check_spike_capacity(self, x, x_arg, shuffle):
        """Spike data for ``SpikeInput`` populations must fit in the
        population's buffer in every batch ``train()`` can form: with
        ``shuffle`` any examples can share a batch, so the ``batch_size``
        largest must fit (else a later epoch would fail mid-training)."""
        batch_size = self.genn_model.batch_size
        for key, data in x.items():
            pop = get_underlying_pop(key)
            if not isinstance(pop.neuron, SpikeInput) or isinstance(data, np.ndarray):
                continue
            try:
                counts = np.array([len(s.spike_times) for s in data], dtype=np.int64)
            except (AttributeError, TypeError):
                continue        # set_input explains what spike data must be
            if counts.size == 0:
                continue
            if shuffle:
                worst = int(np.sum(np.sort(counts)[::-1][:batch_size]))
                how = (f"the {min(batch_size, counts.size)} largest examples (shuffling can "
                       "put them in one batch)")
            else:
                worst = int(np.add.reduceat(counts, np.arange(0, counts.size,
                                                              batch_size)).max())
                how = "the largest batch"
            max_spikes = pop.neuron.max_spikes
            if worst > max_spikes:
                raise ValueError(f"{x_arg}: {how} of input population '{pop.name}' hold "
                                 f"{worst} spikes but its SpikeInput buffer holds max_spikes="
                                 f"{max_spikes}; raise max_spikes (e.g. batch_size * "
                                 "calc_max_spikes(data))")
