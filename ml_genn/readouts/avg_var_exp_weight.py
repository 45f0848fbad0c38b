"""Readout of an exponentially weighted time average of the output variable."""
from .readout import StateReadout
from .var import get_output_var


class AvgVarExpWeight(StateReadout):
    """Exponentially weighted average (Nowotny et al.): each step
    ``OAvg += exp(-t / (dt * T)) * O / T`` with ``T = example_timesteps``."""

    def add_readout_logic(self, model, **kwargs):
        name, vtype = get_output_var(model, "AvgVarExpWeight")[:2]
        timesteps = kwargs["example_timesteps"]
        dt = kwargs["dt"]
        self.output_avg_var_name = f"{name}Avg"
        return self._add_readout_vars(
            model, [(self.output_avg_var_name, vtype, 0.0)],
            f"{self.output_avg_var_name} += exp(-t / {float(dt * timesteps)!r}) * {name} / "
            f"{float(timesteps)!r};")
