"""Built-in postsynaptic and weight update models."""
from math import exp

from ..snippets import PostsynapticModel, WeightUpdateModel
from ..types import VarAccess

DeltaCurr = PostsynapticModel(
    "DeltaCurr",
    sim_code="""
        injectCurrent(inSyn);
        inSyn = 0;
        """)

ExpCurr = PostsynapticModel(
    "ExpCurr",
    params=["tau"],
    derived_params=[("expDecay", lambda p, dt: exp(-dt / p["tau"])),
                    ("init", lambda p, dt: (p["tau"] * (1.0 - exp(-dt / p["tau"]))) / dt)],
    sim_code="""
        injectCurrent(init * inSyn);
        inSyn *= expDecay;
        """)

StaticPulse = WeightUpdateModel(
    "StaticPulse",
    vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_spike_syn_code="addToPost(g);")

StaticPulseConstantWeight = WeightUpdateModel(
    "StaticPulseConstantWeight",
    params=["g"],
    pre_spike_syn_code="addToPost(g);")

StaticPulseDendriticDelay = WeightUpdateModel(
    "StaticPulseDendriticDelay",
    vars=[("g", "scalar", VarAccess.READ_ONLY), ("d", "uint8_t", VarAccess.READ_ONLY)],
    pre_spike_syn_code="addToPostDelay(g, d);")

postsynaptic_models = {m.class_name: m for m in (DeltaCurr, ExpCurr)}
weight_update_models = {m.class_name: m for m in (StaticPulse, StaticPulseConstantWeight,
                                                  StaticPulseDendriticDelay)}
