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


def add_gradient_step(genn_model, optimiser, gradient_ref, var_ref, batch_size: int,
                      reduce: bool, names, label: str, clamp_var=None):
    """The optimiser custom update (group ``GradientLearn``) of one learned
    variable, reading the gradient through a batch reduction when
    ``reduce`` (batch size above 1, or data-parallel ranks to sum over),
    else directly (the optimiser then zeroes it).

    Args:
        genn_model: the engine model
        optimiser: the ``Optimiser`` whose custom update is added
        gradient_ref: reference to the per-batch-element gradient
        var_ref: reference to the learned variable
        batch_size: batch size of this process
        reduce: add the ``GradientBatchReduce`` custom update
        names: the compiler's ``GeNNNames`` (engine names of the updates)
        label: what the engine names are derived from
        clamp_var: ``(lo, hi)`` the variable is clamped to, or ``None``

    Returns:
        ``(optimiser custom update, batch-reduce custom update or None)``
    """
    reduce_cu = None
    if reduce:
        reduce_cu, gradient_ref = add_gradient_reduce(genn_model, gradient_ref, batch_size,
                                                      names.get("cu_BatchReduce", label))
    learn_cu = add_custom_update(
        genn_model, optimiser.get_model(gradient_ref, var_ref, not reduce, clamp_var),
        "GradientLearn", names.get("cu_GradientLearn", label))
    return learn_cu, reduce_cu
