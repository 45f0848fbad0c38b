"""Leaky integrate-and-fire neuron."""
import numpy as np

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import ValueDescriptor
from .neuron import CurrentNeuron


def refractory_sim_code(update, integrate_during_refrac):
    """Sim code wrapping ``update`` (the V update) with a refractory timer."""
    if integrate_during_refrac:
        return f"{update}\nif (RefracTime > 0.0) {{\n    RefracTime -= dt;\n}}\n"
    return (f"if (RefracTime > 0.0) {{\n    RefracTime -= dt;\n}}\n"
            f"else {{\n    {update}\n}}\n")


class LeakyIntegrateFire(CurrentNeuron):
    """Leaky integrate-and-fire neuron.

    ``V <- Alpha*V + J`` with ``Alpha = exp(-dt/tau_mem)`` and ``J = Isyn``
    (or ``(1 - Alpha)*Isyn`` when ``scale_i``). Spike when ``V >= Vthresh``
    (and, with a refractory period, ``RefracTime <= 0`` after this step's
    decrement). Reset: ``V -= Vthresh - Vreset`` (``relative_reset``) or
    ``V = Vreset``; with a refractory period also ``RefracTime = TauRefrac``.
    While refractory ``RefracTime`` decreases by ``dt`` each step and, unless
    ``integrate_during_refrac``, V is not updated.

    GeNN names: vars ``V`` (+ ``RefracTime``); params ``Vthresh``,
    ``Vreset``, ``Alpha`` (+ ``TauRefrac``). Output var ``V``.
    """
    v_thresh = ValueDescriptor("Vthresh")
    v_reset = ValueDescriptor("Vreset")
    v = ValueDescriptor("V")
    tau_mem = ValueDescriptor(("Alpha", lambda val, dt: np.exp(-dt / val)),
                              constraint="positive")
    tau_refrac = ValueDescriptor("TauRefrac", constraint="non_negative")

    @network_default_params
    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, tau_mem=20.0,
                 tau_refrac=None, relative_reset: bool = True,
                 integrate_during_refrac: bool = True, scale_i: bool = False,
                 readout=None, **kwargs):
        super().__init__(readout, **kwargs)
        self.v_thresh = v_thresh
        self.v_reset = v_reset
        self.v = v
        self.tau_mem = tau_mem
        self.tau_refrac = tau_refrac
        self.relative_reset = relative_reset
        self.integrate_during_refrac = integrate_during_refrac
        self.scale_i = scale_i

    def get_model(self, population, dt, batch_size):
        genn_model = {
            "params": [("Vthresh", "scalar"), ("Vreset", "scalar"), ("Alpha", "scalar")],
            "vars": [("V", "scalar")],
            "threshold_condition_code": "V >= Vthresh",
            "reset_code": ("V -= (Vthresh - Vreset);" if self.relative_reset
                           else "V = Vreset;")}
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
        update = (f"V = (Alpha * V) + ((1.0 - Alpha) * {input_current});" if self.scale_i
                  else f"V = (Alpha * V) + {input_current};")
        if self.tau_refrac is None:
            return update
        return refractory_sim_code(update, self.integrate_during_refrac)
