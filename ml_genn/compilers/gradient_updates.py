"""Custom updates the training compilers attach to every learned variable:
the batch reduction of its gradient and the zeroing of the gradient."""
from copy import deepcopy

from ..genn import CustomUpdateVarAccess, create_var_ref
from ..utils.model import CustomUpdateModel
from .compiler import add_custom_update

#: Sum the per-batch-element gradient over the batch and zero it
_BATCH_REDUCE_MODEL = {
    "vars": [("ReducedGradient", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM)],
    "var_refs": [("Gradient", "scalar")],
    "update_code": "ReducedGradient = Gradient;\nGradient = 0.0;"}

#: The same with one batch element (per rank): a copy, since a batch
#: reduction needs a batch; kept so that the ranks can sum ``ReducedGradient``
_COPY_GRADIENT_MODEL = {
    "vars": [("ReducedGradient", "scalar")],
    "var_refs": [("Gradient", "scalar")],
    "update_code": "ReducedGradient = Gradient;\nGradient = 0.0;"}

_ZERO_GRADIENT_MODEL = {
    "var_refs": [("Gradient", "scalar")],
    "update_code": "Gradient = 0.0;"}


def add_gradient_reduce(genn_model, gradient_ref, batch_size: int, name: str):
    """Custom update of group ``GradientBatchReduce`` summing the gradient
    over the batch into ``ReducedGradient`` (and zeroing it); returns the
    custom update and a reference to ``ReducedGradient`` for the optimiser.

    Args:
        genn_model: the engine model
        gradient_ref: reference to the per-batch-element gradient
        batch_size: batch size of this process (1: a copy)
        name: engine name of the custom update
    """
    model = deepcopy(_BATCH_REDUCE_MODEL if batch_size > 1 else _COPY_GRADIENT_MODEL)
    cu = add_custom_update(genn_model,
                           CustomUpdateModel(model, {}, {"ReducedGradient": 0.0},
                                             {"Gradient": gradient_ref}),
                           "GradientBatchReduce", name)
    return cu, create_var_ref(cu, "ReducedGradient")


def add_zero_gradient(genn_model, gradient_ref, name: str):
    """Custom update of group ``ZeroGradient`` setting the gradient to 0."""
    return add_custom_update(genn_model,
                             CustomUpdateModel(deepcopy(_ZERO_GRADIENT_MODEL),
                                               var_refs={"Gradient": gradient_ref}),
                             "ZeroGradient", name)
