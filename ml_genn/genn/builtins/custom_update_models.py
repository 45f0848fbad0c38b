"""Built-in custom update models (GeNN 5.4)."""
from ..snippets import CustomUpdateModel
from ..types import VarAccessMode
from .registry import registry

# Writes a synapse variable's values into the transposed synapses of another
# synapse population: give it create_wu_var_ref(sg, var, transpose_sg,
# transpose_var) and run its group; the variable itself is left as it is.
Transpose = CustomUpdateModel(
    "Transpose", var_refs=[("variable", "scalar", VarAccessMode.READ_WRITE)],
    update_code="")

custom_update_models = registry("custom update model", Transpose)
