"""Readout of the running maximum of the output variable."""
from copy import deepcopy

from .readout import Readout
from .var import get_output_var, read_var


class MaxVar(Readout):
    """Running maximum ``OMax`` of the output variable (starting at 0, not
    -inf, as upstream); with ``max_time_required=True`` (passed by a
    compiler) also the time ``OMaxTime`` at which it was reached."""

    def add_readout_logic(self, model, **kwargs):
        name, vtype = get_output_var(model, "MaxVar")[:2]
        self.max_time_required = bool(kwargs.get("max_time_required", False))
        self.output_max_var_name = f"{name}Max"
        self.output_max_time_var_name = f"{name}MaxTime"
        self._type = vtype
        model = deepcopy(model)
        model.add_var(self.output_max_var_name, vtype, 0.0)
        update = f"{self.output_max_var_name} = {name};"
        if self.max_time_required:
            model.add_var(self.output_max_time_var_name, "scalar", 0.0)
            update += f"\n    {self.output_max_time_var_name} = t;"
        model.append_sim_code(f"if ({name} > {self.output_max_var_name}) {{\n"
                              f"    {update}\n}}")
        return model

    def get_readout(self, genn_pop, batch_size, shape):
        return read_var(genn_pop, self.output_max_var_name, batch_size, shape)

    @property
    def reset_vars(self):
        reset = [(self.output_max_var_name, self._type, 0.0)]
        if self.max_time_required:
            reset.append((self.output_max_time_var_name, "scalar", 0.0))
        return reset
