"""Built-in variable-initialisation snippets."""
from ..snippets import InitVarSnippet

Constant = InitVarSnippet("Constant", params=["constant"], var_init_code="value = constant;")

Uniform = InitVarSnippet(
    "Uniform", params=["min", "max"],
    derived_params=[("scale", lambda p, dt: p["max"] - p["min"])],
    var_init_code="value = min + (gennrand_uniform() * scale);")

Normal = InitVarSnippet(
    "Normal", params=["mean", "sd"],
    var_init_code="value = mean + (gennrand_normal() * sd);")

NormalClipped = InitVarSnippet(
    "NormalClipped", params=["mean", "sd", "min", "max"],
    var_init_code="""
        scalar normal;
        do {
            normal = mean + (gennrand_normal() * sd);
        } while (normal > max || normal < min);
        value = normal;
        """)

Exponential = InitVarSnippet(
    "Exponential", params=["lambda"],
    var_init_code="value = lambda * gennrand_exponential();")

Kernel = InitVarSnippet(
    "Kernel", extra_global_params=[("kernel", "scalar*")],
    var_init_code="value = kernel[id_kernel];")

var_init_snippets = {s.class_name: s for s in (Constant, Uniform, Normal, NormalClipped,
                                               Exponential, Kernel)}
