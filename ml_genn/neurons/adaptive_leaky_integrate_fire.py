"""Adaptive leaky integrate-and-fire neuron (Bellec et al. 2018)."""
import numpy as np

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import ValueDescriptor
from .leaky_integrate_fire import refractory_sim_code
from .neuron import CurrentNeuron


class AdaptiveLeakyIntegrateFire(CurrentNeuron):
    """LIF neuron with an adaptive threshold ``Vthresh + Beta*A``.

    Each step ``V <- Alpha*V + Isyn`` (skipped while refractory when not
    ``integrate_during_refrac``) and ``A <- Rho*A`` (always), with
    ``Alpha = exp(-dt/tau_mem)``, ``Rho = exp(-dt/tau_adapt)``. Spike when
    ``V >= Vthresh + Beta*A`` (and ``RefracTime <= 0`` with a refractory
    period). Reset: ``V -= Vthresh - Vreset`` (``relative_reset``) or
    ``V = Vreset``; ``A += 1``; ``RefracTime = TauRefrac``.

    GeNN names: vars ``V``, ``A`` (+ ``RefracTime``); params ``Vthresh``,
    ``Vreset``, ``Alpha``, ``Beta``, ``Rho`` (+ ``TauRefrac``). Output var ``V``.
    """
    v_thresh = ValueDescriptor("Vthresh")
    v_reset = ValueDescriptor("Vreset")
    v = ValueDescriptor("V")
    a = ValueDescriptor("A")
    beta = ValueDescriptor("Beta")
    tau_mem = ValueDescriptor(("Alpha", lambda val, dt: np.exp(-dt / val)),
                              constraint="positive")
    tau_refrac = ValueDescriptor("TauRefrac", constraint="non_negative")
    tau_adapt = ValueDescriptor(("Rho", lambda val, dt: np.exp(-dt / val)),
                                constraint="positive")

    @network_default_params
    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, a=0.0, beta=0.0174,
                 tau_mem=20.0, tau_refrac=None, tau_adapt=2000.0,
                 relative_reset: bool = True, integrate_during_refrac: bool = True,
                 readout=None, **kwargs):
        super().__init__(readout, **kwargs)
        self.v_thresh = v_thresh
        self.v_reset = v_reset
        self.v = v
        self.a = a
        self.beta = beta
        self.tau_mem = tau_mem
        self.tau_refrac = tau_refrac
        self.tau_adapt = tau_adapt
        self.relative_reset = relative_reset
        self.integrate_during_refrac = integrate_during_refrac

    def get_model(self, population, dt, batch_size):
        genn_model = {
            "params": [("Vthresh", "scalar"), ("Vreset", "scalar"), ("Alpha", "scalar"),
                       ("Beta", "scalar"), ("Rho", "scalar")],
            "vars": [("V", "scalar"), ("A", "scalar")],
            "threshold_condition_code": "V >= (Vthresh + (Beta * A))",
            "reset_code": ("V -= (Vthresh - Vreset);" if self.relative_reset
                           else "V = Vreset;") + "\nA += 1.0;"}
        genn_model["sim_code"] = self.sim_code_for("Isyn")
        if self.tau_refrac is not None:
            genn_model["params"].append(("TauRefrac", "scalar"))
            genn_model["vars"].append(("RefracTime", "scalar"))
            genn_model["threshold_condition_code"] += " && RefracTime <= 0.0"
            genn_model["reset_code"] += "\nRefracTime = TauRefrac;"
        var_vals = {} if self.tau_refrac is None else {"RefracTime": 0.0}
        return NeuronModel.from_val_descriptors(genn_model, "V", self, dt,
                                                var_vals=var_vals)

    def sim_code_for(self, input_current):
        update = f"V = (Alpha * V) + {input_current};"
        if self.tau_refrac is None:
            return update + "\nA *= Rho;"
        return refractory_sim_code(update, self.integrate_during_refrac) + "A *= Rho;\n"
