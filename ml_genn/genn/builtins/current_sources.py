"""Built-in current source models (GeNN 5.4)."""
from math import exp

from ..snippets import CurrentSourceModel
from .registry import registry

DC = CurrentSourceModel("DC", params=["amp"], injection_code="injectCurrent(amp);")

GaussianNoise = CurrentSourceModel(
    "GaussianNoise", params=["mean", "sd"],
    injection_code="injectCurrent(mean + (gennrand_normal() * sd));")

# Poisson input (rate in Hz) through an exponentially decaying current
# (tauSyn in ms): each step draws k ~ Poisson(rate * dt / 1000) input spikes
# (Knuth's product-of-uniforms method), adds k * Init to the current,
# injects it, then decays it by exp(-dt / tauSyn).  Init is scaled so that
# one input spike injects `weight * tauSyn` in total over time, as ExpCurr.
PoissonExp = CurrentSourceModel(
    "PoissonExp",
    params=["weight", "tauSyn", "rate"],
    vars=[("current", "scalar")],
    derived_params=[
        ("ExpDecay", lambda p, dt: exp(-dt / p["tauSyn"])),
        ("Init", lambda p, dt: p["weight"] * (1.0 - exp(-dt / p["tauSyn"]))
         * (p["tauSyn"] / dt)),
        ("ExpMinusLambda", lambda p, dt: exp(-(p["rate"] / 1000.0) * dt))],
    injection_code="""
        scalar p = 1.0;
        unsigned int numSpikes = 0;
        do {
            numSpikes++;
            p *= gennrand_uniform();
        } while (p > ExpMinusLambda);
        current += Init * (scalar)(numSpikes - 1);
        injectCurrent(current);
        current *= ExpDecay;
        """)

current_source_models = registry("current source model", DC, GaussianNoise, PoissonExp)
