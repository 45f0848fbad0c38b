"""Base class of optimisers."""
from abc import ABC, abstractmethod


class Optimiser(ABC):
    """Updates a variable from its gradient with a GeNN custom update.

    ``get_model(gradient_ref, var_ref, zero_gradient, clamp_var=None)``
    returns a ``utils.model.CustomUpdateModel``; ``set_step(genn_cu, step)``
    prepares the compiled custom update for optimisation step ``step``.
    """

    @abstractmethod
    def set_step(self, genn_cu, step: int):
        ...

    @abstractmethod
    def get_model(self, gradient_ref, var_ref, zero_gradient: bool, clamp_var=None):
        ...
