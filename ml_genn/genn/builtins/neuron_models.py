"""Built-in neuron models (GeNN 5.4 names, parameters, variables, equations).

GeNN's built-in neuron models use its auto-refractory logic unless they say
otherwise: a spike is emitted only when the threshold condition becomes true
(it was false before ``sim_code`` ran).  LIF, Poisson, SpikeSource and
SpikeSourceArray switch it off; Izhikevich, IzhikevichVariable, RulkovMap and TraubMiles keep it.
"""
from math import exp

from ..snippets import NeuronModel
from ..types import VarAccess
from .registry import registry

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

# Izhikevich (2003): V integrated in two half steps; V is clipped to 30 mV
# after the update (GeNN does so "to not confuse users with unrealistic
# voltage values") and reset at the start of the step after a spike.
_IZHIKEVICH_SIM = """
    if (V >= 30.0) {
        V = c;
        U += d;
    }
    V += 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + Isyn) * dt;
    V += 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + Isyn) * dt;
    U += a * (b * V - U) * dt;
    if (V > 30.0) {
        V = 30.0;
    }
    """

Izhikevich = NeuronModel(
    "Izhikevich",
    params=["a", "b", "c", "d"],
    vars=[("V", "scalar"), ("U", "scalar")],
    sim_code=_IZHIKEVICH_SIM,
    threshold_condition_code="V >= 29.99",
    auto_refractory_required=True)

# The same with a, b, c, d per neuron (read-only variables).
IzhikevichVariable = NeuronModel(
    "IzhikevichVariable",
    vars=[("V", "scalar"), ("U", "scalar"),
          ("a", "scalar", VarAccess.READ_ONLY), ("b", "scalar", VarAccess.READ_ONLY),
          ("c", "scalar", VarAccess.READ_ONLY), ("d", "scalar", VarAccess.READ_ONLY)],
    sim_code=_IZHIKEVICH_SIM,
    threshold_condition_code="V >= 29.99",
    auto_refractory_required=True)

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

# no state and never spikes by itself: a placeholder source (GeNN's SpikeSource)
SpikeSource = NeuronModel("SpikeSource", threshold_condition_code="false")

SpikeSourceArray = NeuronModel(
    "SpikeSourceArray",
    vars=[("startSpike", "unsigned int"), ("endSpike", "unsigned int",
                                           VarAccess.READ_ONLY_DUPLICATE)],
    extra_global_params=[("spikeTimes", "scalar*")],
    threshold_condition_code="startSpike != endSpike && t >= spikeTimes[startSpike]",
    reset_code="startSpike++;")

# Rulkov map (Rulkov 2002) in the one-dimensional form of Nowotny et al. (2005):
#   V <= 0:                          V' = Vspike * (alpha * Vspike / (Vspike - V - beta * Isyn) + y)
#   0 < V < Vspike*(alpha+y), preV <= 0:  V' = Vspike * (alpha + y)   (the spike)
#   otherwise:                       V' = -Vspike
# preV holds V of the previous step.  One map iteration per time step.
RulkovMap = NeuronModel(
    "RulkovMap",
    params=["Vspike", "alpha", "y", "beta"],
    derived_params=[("ip0", lambda p, dt: p["Vspike"] * p["Vspike"] * p["alpha"]),
                    ("ip1", lambda p, dt: p["Vspike"] * p["y"]),
                    ("ip2", lambda p, dt: (p["Vspike"] * p["y"]) + (p["Vspike"] * p["alpha"]))],
    vars=[("V", "scalar"), ("preV", "scalar")],
    sim_code="""
        if (V <= 0.0) {
            preV = V;
            V = ip0 / ((Vspike - V) - (beta * Isyn)) + ip1;
        }
        else {
            if (V < ip2 && preV <= 0.0) {
                preV = V;
                V = ip2;
            }
            else {
                preV = V;
                V = -Vspike;
            }
        }
        """,
    threshold_condition_code="V >= ip2",
    auto_refractory_required=True)

# Hodgkin-Huxley neuron with the Traub & Miles (1991) channel kinetics:
# 25 forward-Euler substeps of dt/25 per time step (mV, ms, muS, nF, nA).
# Where a rate's formula is 0/0 its limit is used.
TraubMiles = NeuronModel(
    "TraubMiles",
    params=["gNa", "ENa", "gK", "EK", "gl", "El", "C"],
    vars=[("V", "scalar"), ("m", "scalar"), ("h", "scalar"), ("n", "scalar")],
    sim_code="""
        const scalar mdt = dt / 25.0;
        for (int mt = 0; mt < 25; mt++) {
            const scalar Imem = -(m * m * m * h * gNa * (V - ENa)
                                  + n * n * n * n * gK * (V - EK)
                                  + gl * (V - El)
                                  - Isyn);
            scalar alphaRate;
            scalar betaRate;
            if (V == -52.0) {
                alphaRate = 1.28;
            }
            else {
                alphaRate = 0.32 * (-52.0 - V) / (exp((-52.0 - V) / 4.0) - 1.0);
            }
            if (V == -25.0) {
                betaRate = 1.4;
            }
            else {
                betaRate = 0.28 * (V + 25.0) / (exp((V + 25.0) / 5.0) - 1.0);
            }
            m += (alphaRate * (1.0 - m) - betaRate * m) * mdt;
            alphaRate = 0.128 * exp((-48.0 - V) / 18.0);
            betaRate = 4.0 / (exp((-25.0 - V) / 5.0) + 1.0);
            h += (alphaRate * (1.0 - h) - betaRate * h) * mdt;
            if (V == -50.0) {
                alphaRate = 0.16;
            }
            else {
                alphaRate = 0.032 * (-50.0 - V) / (exp((-50.0 - V) / 5.0) - 1.0);
            }
            betaRate = 0.5 * exp((-55.0 - V) / 40.0);
            n += (alphaRate * (1.0 - n) - betaRate * n) * mdt;
            V += Imem / C * mdt;
        }
        """,
    threshold_condition_code="V >= 0.0",
    auto_refractory_required=True)

neuron_models = registry("neuron model", LIF, Izhikevich, IzhikevichVariable, Poisson,
                         SpikeSource, SpikeSourceArray, RulkovMap, TraubMiles)
