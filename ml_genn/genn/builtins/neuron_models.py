"""Built-in neuron models (GeNN 5 equations)."""
from math import exp

from ..snippets import NeuronModel
from ..types import VarAccess

LIF = NeuronModel(
    "LIF",
    params=["C", "TauM", "Vrest", "Vreset", "Vthresh", "Ioffset", "TauRefrac"],
    derived_params=[("ExpTC", lambda p, dt: exp(-dt / p["TauM"])),
                    ("Rmembrane", lambda p, dt: p["TauM"] / p["C"])],
    vars=[("V", "scalar"), ("RefracTime", "scalar")],
    sim_code="""
        if (RefracTime <= 0.0) {
            scalar alpha = ((Isyn + Ioffset) * Rmembrane) + Vrest;
            V = alpha - (ExpTC * (alpha - V));
        }
        else {
            RefracTime -= dt;
        }
        """,
    threshold_condition_code="RefracTime <= 0.0 && V >= Vthresh",
    reset_code="""
        V = Vreset;
        RefracTime = TauRefrac;
        """)

Izhikevich = NeuronModel(
    "Izhikevich",
    params=["a", "b", "c", "d"],
    vars=[("V", "scalar"), ("U", "scalar")],
    sim_code="""
        if (V >= 30.0) {
            V = c;
            U += d;
        }
        V += 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + Isyn) * dt;
        V += 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + Isyn) * dt;
        U += a * (b * V - U) * dt;
        """,
    threshold_condition_code="V >= 29.99")

Poisson = NeuronModel(
    "Poisson",
    params=["rate"],
    derived_params=[("isi", lambda p, dt: 1000.0 / (p["rate"] * dt)
                     if p["rate"] > 0 else float("inf"))],
    vars=[("timeStepToSpike", "scalar")],
    sim_code="""
        if (timeStepToSpike <= 0.0) {
            timeStepToSpike += isi * gennrand_exponential();
        }
        timeStepToSpike -= 1.0;
        """,
    threshold_condition_code="timeStepToSpike <= 0.0")

SpikeSourceArray = NeuronModel(
    "SpikeSourceArray",
    vars=[("startSpike", "unsigned int"), ("endSpike", "unsigned int",
                                           VarAccess.READ_ONLY_DUPLICATE)],
    extra_global_params=[("spikeTimes", "scalar*")],
    threshold_condition_code="startSpike != endSpike && t >= spikeTimes[startSpike]",
    reset_code="startSpike++;")

neuron_models = {m.class_name: m for m in (LIF, Izhikevich, Poisson, SpikeSourceArray)}
