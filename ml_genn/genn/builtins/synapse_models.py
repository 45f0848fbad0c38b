"""Built-in postsynaptic and weight update models (GeNN 5.4)."""
from math import exp

from ..snippets import PostsynapticModel, WeightUpdateModel
from ..types import VarAccess, VarAccessMode
from .registry import registry

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

# Exponentially decaying conductance: injects g * (E - V), V being a read-only
# reference to the postsynaptic neuron's membrane voltage (pygenn:
# init_postsynaptic("ExpCond", {...}, var_refs={"V": create_var_ref(pop, "V")})).
# Unlike ExpCurr there is no normalising factor: inSyn is the conductance.
ExpCond = PostsynapticModel(
    "ExpCond",
    params=["tau", "E"],
    neuron_var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
    derived_params=[("expDecay", lambda p, dt: exp(-dt / p["tau"]))],
    sim_code="""
        injectCurrent(inSyn * (E - V));
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

# Graded synapse: while the presynaptic voltage V (a reference to the source
# neuron's variable) is above Epre, every step delivers
# max(0, g * tanh((V - Epre) / Vslope) * dt) through a spike-like event.
# GeNN 5.4's own built-in names the reference "V" but its code reads "V_pre"
# and so fails to build; here the code reads the declared name.
StaticGraded = WeightUpdateModel(
    "StaticGraded",
    params=["Epre", "Vslope"],
    vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
    pre_event_threshold_condition_code="V > Epre",
    pre_event_syn_code="addToPost(fmax(0.0, g * tanh((V - Epre) / Vslope) * dt));")

# Additive, nearest-spike STDP (GeNN's "STDP").  With Delta = t_post - t_pre
# (times of the spikes themselves):
#   on a presynaptic spike, the last postsynaptic spike gives Delta < 0 and
#     g -= Aminus * exp(Delta / tauMinus)   (only if Delta < 0)
#   on a postsynaptic spike, the last presynaptic spike gives Delta > 0 and
#     g += Aplus * exp(-Delta / tauPlus)    (only if Delta > 0)
# each change followed by clipping g to [Wmin, Wmax]; pre and post spikes in
# the same step change nothing.  The presynaptic spike is also delivered
# (addToPost(g), with g before the change).
#
# Synaptic code sees spike times shifted to their arrival, as in GeNN 5:
# st_pre = spike time + (axonal delay + 1) * dt (likewise st_post with the
# back-propagation delay), so "t - st_post" is the spikes' time difference.
STDP = WeightUpdateModel(
    "STDP",
    params=["tauPlus", "tauMinus", "Aplus", "Aminus", "Wmin", "Wmax"],
    vars=[("g", "scalar")],
    pre_spike_syn_code="""
        addToPost(g);
        const scalar tdiff = t - st_post;
        if (tdiff > 0.0) {
            const scalar timing = exp(-tdiff / tauMinus);
            const scalar newWeight = g - (Aminus * timing);
            g = fmax(Wmin, fmin(Wmax, newWeight));
        }
        """,
    post_spike_syn_code="""
        const scalar tdiff = t - st_pre;
        if (tdiff > 0.0) {
            const scalar timing = exp(-tdiff / tauPlus);
            const scalar newWeight = g + (Aplus * timing);
            g = fmax(Wmin, fmin(Wmax, newWeight));
        }
        """)

postsynaptic_models = registry("postsynaptic model", DeltaCurr, ExpCurr, ExpCond)
weight_update_models = registry("weight update model", StaticPulse,
                                StaticPulseConstantWeight, StaticPulseDendriticDelay,
                                StaticGraded, STDP)
