"""Readout of the time average of the output variable."""
from copy import deepcopy

from .readout import Readout
from .var import get_output_var, read_var


class AvgVar(Readout):
    """Average of the output variable ``O`` over the ``example_timesteps``
    steps of an example: each step (after the update) ``OAvg += O / T``."""

    def add_readout_logic(self, model, **kwargs):
        name, vtype = get_output_var(model, "AvgVar")[:2]
        timesteps = kwargs["example_timesteps"]
        self.output_avg_var_name = f"{name}Avg"
        self._type = vtype
        model = deepcopy(model)
        model.add_var(self.output_avg_var_name, vtype, 0.0)
        model.append_sim_code(f"{self.output_avg_var_name} += {name} / "
                              f"{float(timesteps)!r};")
        return model

    def get_readout(self, genn_pop, batch_size, shape):
        return read_var(genn_pop, self.output_avg_var_name, batch_size, shape)

    @property
    def reset_vars(self):
        return [(self.output_avg_var_name, self._type, 0.0)]
