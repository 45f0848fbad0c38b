"""Built-in variable-initialisation snippets (GeNN 5.4)."""
from ..snippets import InitVarSnippet
from .registry import registry

# Leaves the value to the user (set it through the variable's view after
# load() and push it).  GeNN leaves the memory as allocated; here it is 0.
Uninitialised = InitVarSnippet("Uninitialised", var_init_code="value = 0;")

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

# A delay in time steps: Normal(mean, sd) in ms, redrawn until within
# [min, max] ms, divided by dt and rounded to the nearest step.
NormalClippedDelay = InitVarSnippet(
    "NormalClippedDelay", params=["mean", "sd", "min", "max"],
    derived_params=[("meanTimestep", lambda p, dt: p["mean"] / dt),
                    ("sdTimestep", lambda p, dt: p["sd"] / dt),
                    ("minTimestep", lambda p, dt: p["min"] / dt),
                    ("maxTimestep", lambda p, dt: p["max"] / dt)],
    var_init_code="""
        scalar normal;
        do {
            normal = meanTimestep + (gennrand_normal() * sdTimestep);
        } while (normal > maxTimestep || normal < minTimestep);
        value = rint(normal);
        """)

Exponential = InitVarSnippet(
    "Exponential", params=["lambda"],
    var_init_code="value = lambda * gennrand_exponential();")

# Gamma distribution with shape a and scale b (mean a * b).
Gamma = InitVarSnippet(
    "Gamma", params=["a", "b"],
    var_init_code="value = b * gennrand_gamma(a);")

# Binomial distribution: the number of successes in n trials of probability p.
Binomial = InitVarSnippet(
    "Binomial", params=[("n", "unsigned int"), "p"],
    var_init_code="value = gennrand_binomial(n, p);")

Kernel = InitVarSnippet(
    "Kernel", extra_global_params=[("kernel", "scalar*")],
    var_init_code="value = kernel[id_kernel];")

var_init_snippets = registry("variable initialisation snippet", Uninitialised, Constant,
                             Uniform, Normal, NormalClipped, NormalClippedDelay,
                             Exponential, Gamma, Binomial, Kernel)
