"""Readout of the time average of the output variable."""
from .readout import StateReadout
from .var import get_output_var


class AvgVar(StateReadout):
    """Average of the output variable ``O`` over the ``example_timesteps``
    steps of an example: each step (after the update) ``OAvg += O / T``."""

    def add_readout_logic(self, model, **kwargs):
        name, vtype = get_output_var(model, "AvgVar")[:2]
        timesteps = kwargs["example_timesteps"]
        self.output_avg_var_name = f"{name}Avg"
        return self._add_readout_vars(
            model, [(self.output_avg_var_name, vtype, 0.0)],
            f"{self.output_avg_var_name} += {name} / {float(timesteps)!r};")
