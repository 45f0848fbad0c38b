"""Shared plumbing of the per-example recorders (not public)."""
from warnings import warn

import numpy as np

from ..genn import VarAccessDim, get_var_access_dim


def var_layout(genn_var, batch_size):
    """-> (batched, per_element) of an engine variable in a model of
    ``batch_size``."""
    access = getattr(genn_var, "access", None)
    if access is None:
        return batch_size > 1, True
    dims = get_var_access_dim(access)
    return (batch_size > 1 and bool(dims & VarAccessDim.BATCH),
            bool(dims & VarAccessDim.ELEMENT))


class PerExampleRecorder:
    """Keeps, per batch with selected examples, a list of per-step arrays
    of shape ``(n_selected_examples,) + item_shape`` and splits them into one
    ``(timesteps,) + item_shape`` array per example on ``get_data``."""

    def _reset_recording(self, batch_size, num_examples):
        self._batch_size = batch_size
        self._num_examples = num_examples
        self._batches = []
        # correct behaviour: recording works even if on_batch_begin is never
        # called (upstream needs on_batch_begin first); rows of batch 0 are used
        self._begin_batch(0)

    def _begin_batch(self, batch):
        self._batch_mask = self._example_filter.get_batch_mask(
            batch, self._batch_size, self._num_examples)
        self._batch_count = int(np.sum(self._batch_mask))
        self._new_batch = True

    def on_batch_begin(self, batch: int):
        self._begin_batch(batch)

    def _store(self, value):
        if self._new_batch:
            self._batches.append([])
            self._new_batch = False
        self._batches[-1].append(value)

    def _select_rows(self, rows, batched):
        """``rows`` has one row per batch element (batched) or a single row
        shared by the batch; -> ``(n_selected_examples, ...)`` copy."""
        if batched:
            return rows[self._batch_mask]
        return np.repeat(rows[:1], self._batch_count, axis=0)

    def get_data(self):
        data = []
        for steps in self._batches:
            stacked = np.stack(steps)          # (T, k, ...)
            data.extend(np.ascontiguousarray(stacked[:, i])
                        for i in range(stacked.shape[1]))
        return self.key, data


def get_group(groups, obj, what):
    """The engine group of ``obj`` in a compiled network's dict."""
    try:
        return groups[obj]
    except KeyError:
        raise RuntimeError(f"{what} '{obj.name}' is not part of this compiled "
                           f"network") from None


def warn_shared_neuron(what, neuron_filter_given):
    if neuron_filter_given:
        warn(f"{what} is shared by all neurons: the neuron filter is ignored",
             stacklevel=3)
