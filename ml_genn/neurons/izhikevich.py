"""Nengo's Izhikevich neuron."""
from typing import Dict

import numpy as np

from ..utils.decorators import network_default_params
from ..utils.value import ValueDescriptor
from .nengo_neuron import NengoNeuron

#: Nengo's parameter sets (Izhikevich 2003): regular spiking (the defaults),
#: intrinsically bursting, chattering, fast spiking, low-threshold spiking
#: and resonator
PRESETS: Dict[str, Dict[str, float]] = {
    "RS": {},
    "IB": {"reset_voltage": -55.0, "reset_recovery": 4.0},
    "CH": {"reset_voltage": -50.0, "reset_recovery": 2.0},
    "FS": {"tau_recovery": 0.1},
    "LTS": {"coupling": 0.25},
    "RZ": {"tau_recovery": 0.1, "coupling": 0.26},
}


class Izhikevich(NengoNeuron):
    """Nengo's ``Izhikevich`` neuron, step for step (dt in seconds; the
    model's own time unit is the millisecond, hence Nengo's factors 1000):

    * ``J = max(-30, J)``;
    * ``V += (0.04 V^2 + 5 V + 140 - U + J) * 1000 * dt``;
    * a spike when ``V >= 30``: ``Out = 1 / dt`` and ``V = reset_voltage``
      (Nengo resets before updating ``U``, unlike Izhikevich's paper);
    * ``U += tau_recovery * (coupling * V - U) * 1000 * dt``, plus
      ``reset_recovery`` after a spike.

    Use :meth:`preset` for the standard parameter sets (``"RS"``, ``"IB"``,
    ``"CH"``, ``"FS"``, ``"LTS"``, ``"RZ"``).

    Args:
        tau_recovery:   Izhikevich's ``a`` (per ms).
        coupling:       Izhikevich's ``b``.
        reset_voltage:  Izhikevich's ``c`` (mV).
        reset_recovery: Izhikevich's ``d``.
        v:              initial voltage (Nengo draws it from U(0, 1)).
        u:              initial recovery.
        gain:           Nengo's gain (number or one per neuron).
        bias:           Nengo's bias current (number or one per neuron).
        readout:        readout of the population, when it is an output.

    GeNN names: params ``TauRecovery``, ``Coupling``, ``ResetVoltage``,
    ``ResetRecovery``, ``Gain``, ``Bias``, ``DtS``; vars ``Out``, ``V``, ``U``.
    """
    tau_recovery = ValueDescriptor("TauRecovery", constraint="positive")
    coupling = ValueDescriptor("Coupling", constraint="non_negative")
    reset_voltage = ValueDescriptor("ResetVoltage")
    reset_recovery = ValueDescriptor("ResetRecovery")
    v = ValueDescriptor("V")
    u = ValueDescriptor("U")
    spiking = True
    model_params = [("TauRecovery", "scalar"), ("Coupling", "scalar"),
                    ("ResetVoltage", "scalar"), ("ResetRecovery", "scalar")]
    state_vars = [("V", "scalar"), ("U", "scalar")]

    @network_default_params
    def __init__(self, tau_recovery: float = 0.02, coupling: float = 0.2,
                 reset_voltage: float = -65.0, reset_recovery: float = 8.0, v=0.0, u=0.0,
                 gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(gain=gain, bias=bias, readout=readout, **kwargs)
        self.tau_recovery = tau_recovery
        self.coupling = coupling
        self.reset_voltage = reset_voltage
        self.reset_recovery = reset_recovery
        self.v = v
        self.u = u

    @classmethod
    def preset(cls, name: str, **kwargs) -> "Izhikevich":
        """An Izhikevich neuron with one of Nengo's parameter sets.

        Args:
            name:   ``"RS"`` (regular spiking), ``"IB"`` (intrinsically
                    bursting), ``"CH"`` (chattering), ``"FS"`` (fast
                    spiking), ``"LTS"`` (low-threshold spiking) or ``"RZ"``
                    (resonator).
            kwargs: other constructor arguments (they override the preset).
        """
        if name not in PRESETS:
            raise ValueError(f"Izhikevich.preset: unknown parameter set {name!r}; known: "
                             f"{', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **kwargs})

    def update_code(self, current, out):
        return (f"const scalar jIzh = fmax(-30.0, {current});\n"
                f"V += ((((((0.04 * (V * V)) + (5.0 * V)) + 140.0) - U) + jIzh) * 1000.0) "
                f"* DtS;\n"
                f"if (V >= 30.0) {{\n"
                f"    {out} = 1.0 / DtS;\n"
                f"    V = ResetVoltage;\n"
                f"}}\n"
                f"else {{\n"
                f"    {out} = 0.0;\n"
                f"}}\n"
                f"U += ((TauRecovery * ((Coupling * V) - U)) * 1000.0) * DtS;\n"
                f"if ({out} > 0.0) {{\n"
                f"    U += ResetRecovery;\n"
                f"}}\n")

    def rate_function(self, J, dt=0.001, settle_time=0.001, sim_time=1.0):
        """Nengo's estimate: the mean output over ``sim_time`` seconds after
        ``settle_time``, simulated in NumPy from ``V = U = 0``."""
        J = np.asarray(J, dtype=float)
        v, u = np.zeros_like(J), np.zeros_like(J)
        a, b = float(self.tau_recovery), float(self.coupling)
        c, d = float(self.reset_voltage), float(self.reset_recovery)
        total = np.zeros_like(J)
        Jc = np.maximum(-30.0, J)
        n_settle = int(round(settle_time / dt))
        n_sim = int(round(sim_time / dt))
        for step in range(n_settle + n_sim):
            v += (0.04 * v ** 2 + 5 * v + 140 - u + Jc) * 1000 * dt
            spiked = v >= 30
            v[spiked] = c
            u += (a * (b * v - u)) * 1000 * dt
            u[spiked] += d
            if step >= n_settle:
                total += spiked / dt
        return total / n_sim
