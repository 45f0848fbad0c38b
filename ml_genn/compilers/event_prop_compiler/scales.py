"""Constants of the adjoint equations, shared by the neuron and the
weight-update models: the one-step adjoint coupling, the current scales
(``IScale``, ``IsynScale``, a weight's jump of the target's current or
``V``) and how numbers are written into generated code."""
import numpy as np


def _lit(value) -> str:
    """A float literal for code strings."""
    return repr(float(value))


def _adjoint_coupling(tau_mem, tau_syn, dt):
    """Coefficient ``K`` of ``LambdaV`` in ``LambdaI`` after one step of the
    adjoint ODEs ``dLambdaV/ds = -LambdaV/tau_mem``, ``dLambdaI/ds =
    (LambdaV - LambdaI)/tau_syn`` (backward time ``s``): ``LambdaI <- K *
    LambdaV + beta * LambdaI``."""
    alpha, beta = np.exp(-dt / tau_mem), np.exp(-dt / tau_syn)
    if np.isclose(tau_mem, tau_syn):
        return (dt / tau_syn) * alpha
    return tau_mem * (alpha - beta) / (tau_mem - tau_syn)


def _i_scale(tau_syn, dt):
    """Mean of ``exp(-s/tau_syn)`` over a step (Exponential's ``IScale``)."""
    return (tau_syn / dt) * (1.0 - np.exp(-dt / tau_syn))


class _AdjointScales:
    """Scales that depend on the compiler's ``dt`` (mixin of
    ``EventPropCompiler``)."""

    def _weight_scale(self, conn, trg, tau_syn):
        """Jump of the target's continuous current per unit weight: 1 with
        ``default_params`` (see :meth:`_current_scale`)."""
        if conn.synapse.scale_i and getattr(trg.neuron, "scale_i", False):
            return 1.0
        k_s = _i_scale(tau_syn, self.dt) if conn.synapse.scale_i else 1.0
        return k_s * self._current_scale(trg, tau_syn)

    def _delta_scale(self, trg):
        """Jump of the target's ``V`` per unit weight of a Delta synapse:
        ``1 - Alpha`` when the target scales its input (``scale_i``), else 1."""
        if getattr(trg.neuron, "scale_i", False):
            return 1.0 - np.exp(-self.dt / float(trg.neuron.tau_mem))
        return 1.0

    def _current_scale(self, pop, tau_syn):
        """``IsynScale``: the continuous current at the start of a step is
        ``Isyn * IsynScale`` (``V`` grows by ``(1 - Alpha) * I`` on average
        over the step, ``Isyn`` is ``inSyn`` times ``IScale`` or 1)."""
        neuron = pop.neuron
        alpha = np.exp(-self.dt / float(neuron.tau_mem))
        if getattr(neuron, "scale_i", False):     # AdaptiveLeakyIntegrateFire: never
            return 1.0 / _i_scale(tau_syn, self.dt)
        return 1.0 / ((1.0 - alpha) * _i_scale(tau_syn, self.dt))
