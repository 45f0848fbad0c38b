"""Base class of losses (used by the training compilers)."""
from abc import ABC, abstractmethod


class Loss(ABC):
    """A loss adds the storage for its target to an output neuron model and
    fills it before each batch.

    ``add_to_neuron(model, shape, batch_size, example_timesteps)`` edits a
    ``utils.model.NeuronModel``; ``set_target(genn_pop, y_true, shape,
    batch_size, example_timesteps)`` writes a batch's targets into the
    compiled neuron group.
    """

    @abstractmethod
    def add_to_neuron(self, model, shape, batch_size: int, example_timesteps: int):
        ...

    @abstractmethod
    def set_target(self, genn_pop, y_true, shape, batch_size: int, example_timesteps: int):
        ...


def add_label_var(model):
    """``YTrue``: one uint8 label per batch element, shared by the neurons."""
    from ..genn import VarAccess
    model.add_var("YTrue", "uint8_t", 0, VarAccess.READ_ONLY_SHARED_NEURON)


def set_labels(name, genn_pop, y_true, batch_size):
    import numpy as np
    y_true = np.asarray(y_true)
    if y_true.ndim != 1 or len(y_true) > batch_size:
        raise RuntimeError(f"{name}: targets must be a 1-D array of at most {batch_size} "
                           f"integer labels; got shape {y_true.shape}")
    if y_true.size and not (np.issubdtype(y_true.dtype, np.integer)
                            or y_true.dtype == np.bool_
                            or (np.issubdtype(y_true.dtype, np.floating)
                                and np.all(np.isfinite(y_true))
                                and np.all(y_true == np.round(y_true)))):
        # a float label would be truncated (0.7 -> class 0) on the way to uint8
        raise ValueError(f"{name}: targets must be integer class labels, got "
                         f"{y_true.dtype} values such as {y_true.reshape(-1)[0]!r}")
    if y_true.size and (y_true.min() < 0 or y_true.max() > 255):
        raise RuntimeError(f"{name}: labels must lie in 0..255 (they are stored as 8-bit "
                           f"integers), got {y_true.min()}..{y_true.max()}")
    var = genn_pop.vars["YTrue"]
    var.view.reshape(-1)[:len(y_true)] = y_true
    var.push_to_device()
