"""Readout of the output variable's current value."""
from .readout import Readout, read_var


def get_output_var(model, readout_name):
    """The model's output var tuple, with readout-specific errors."""
    if not model.model.get("vars"):
        raise RuntimeError(f"{readout_name} readout can only be used with models that "
                           "have state variables")
    if model.output_var_name is None:
        raise RuntimeError(f"{readout_name} readout requires a model with an output "
                           "variable")
    for v in model.model["vars"]:
        if v[0] == model.output_var_name:
            return v
    raise RuntimeError(f"{readout_name} readout: output variable "
                       f"'{model.output_var_name}' not found in the model")


def check_spiking(model, readout_name):
    if not model.model.get("threshold_condition_code"):
        raise RuntimeError(f"{readout_name} readout can only be used with spiking models "
                           "(models with a threshold condition)")


class Var(Readout):
    """The output variable (``V`` or ``Fx``) after the last step."""

    def add_readout_logic(self, model, **kwargs):
        self.output_var_name = get_output_var(model, "Var")[0]
        return model

    def get_readout(self, genn_pop, batch_size, shape):
        return read_var(genn_pop, self.output_var_name, batch_size, shape)
