"""Readout of the sum over time of the output variable."""
from .readout import StateReadout
from .var import get_output_var


class SumVar(StateReadout):
    """Each step (after the update) ``OSum += O``."""

    def add_readout_logic(self, model, **kwargs):
        name, vtype = get_output_var(model, "SumVar")[:2]
        self.output_sum_var_name = f"{name}Sum"
        return self._add_readout_vars(model, [(self.output_sum_var_name, vtype, 0.0)],
                                      f"{self.output_sum_var_name} += {name};")
