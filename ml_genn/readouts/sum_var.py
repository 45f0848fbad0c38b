"""Readout of the sum over time of the output variable."""
from copy import deepcopy

from .readout import Readout
from .var import get_output_var, read_var


class SumVar(Readout):
    """Each step (after the update) ``OSum += O``."""

    def add_readout_logic(self, model, **kwargs):
        name, vtype = get_output_var(model, "SumVar")[:2]
        self.output_sum_var_name = f"{name}Sum"
        self._type = vtype
        model = deepcopy(model)
        model.add_var(self.output_sum_var_name, vtype, 0.0)
        model.append_sim_code(f"{self.output_sum_var_name} += {name};")
        return model

    def get_readout(self, genn_pop, batch_size, shape):
        return read_var(genn_pop, self.output_sum_var_name, batch_size, shape)

    @property
    def reset_vars(self):
        return [(self.output_sum_var_name, self._type, 0.0)]
