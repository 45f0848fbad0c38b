"""Relative mean squared error on first-spike times (EventProp TTFS)."""
from ..utils.snippet import ConstantValueDescriptor
from .loss import Loss, add_label_var, set_labels


class RelativeMeanSquareError(Loss):
    """Label storage like :class:`SparseCategoricalCrossentropy` (``YTrue``
    per batch element); the EventProp compiler builds the loss from the
    labels and ``delta`` (the target gap between the correct neuron's spike
    time and the others')."""

    delta = ConstantValueDescriptor()

    def __init__(self, delta: float):
        self.delta = delta
        if delta < 0:
            # the correct neuron would be trained to fire after the others
            raise ValueError(f"RelativeMeanSquareError: delta is how much earlier the "
                             f"correct neuron should spike than the others and must be >= "
                             f"0, got {delta!r}")

    def add_to_neuron(self, model, shape, batch_size: int, example_timesteps: int):
        add_label_var(model)

    def set_target(self, genn_pop, y_true, shape, batch_size: int, example_timesteps: int):
        set_labels("RelativeMeanSquareError", genn_pop, y_true, batch_size)
