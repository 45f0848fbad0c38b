"""Cross-entropy against integer class labels."""
from .loss import Loss, add_label_var, set_labels


class SparseCategoricalCrossentropy(Loss):
    """Adds variable ``YTrue`` (uint8 label per batch element, shared by the
    neurons) and defines ``yTrue`` (1.0 for the neuron whose index is the
    label, else 0.0) at the top of the sim code.

    ``set_target`` needs 1-D labels, at most ``batch_size`` of them
    (``RuntimeError``); rows of a short batch keep their old labels.
    """

    def add_to_neuron(self, model, shape, batch_size: int, example_timesteps: int):
        add_label_var(model)
        model.prepend_sim_code("const scalar yTrue = (id == YTrue) ? 1.0 : 0.0;")

    def set_target(self, genn_pop, y_true, shape, batch_size: int, example_timesteps: int):
        set_labels("SparseCategoricalCrossentropy", genn_pop, y_true, batch_size)
