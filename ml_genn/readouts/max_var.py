"""Readout of the running maximum of the output variable."""
from .readout import StateReadout
from .var import get_output_var


class MaxVar(StateReadout):
    """Running maximum ``OMax`` of the output variable (starting at 0, not
    -inf, as upstream); with ``max_time_required=True`` (passed by a
    compiler) also the time ``OMaxTime`` at which it was reached."""

    def add_readout_logic(self, model, **kwargs):
        name, vtype = get_output_var(model, "MaxVar")[:2]
        self.max_time_required = bool(kwargs.get("max_time_required", False))
        self.output_max_var_name = f"{name}Max"
        self.output_max_time_var_name = f"{name}MaxTime"
        readout_vars = [(self.output_max_var_name, vtype, 0.0)]
        update = f"{self.output_max_var_name} = {name};"
        if self.max_time_required:
            readout_vars.append((self.output_max_time_var_name, "scalar", 0.0))
            update += f"\n    {self.output_max_time_var_name} = t;"
        return self._add_readout_vars(
            model, readout_vars,
            f"if ({name} > {self.output_max_var_name}) {{\n    {update}\n}}")
