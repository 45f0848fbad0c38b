"""LIF rate neuron smoothed around its threshold (Hunsberger & Eliasmith 2015)."""
import numpy as np

from ..utils.decorators import network_default_params
from ..utils.value import ValueDescriptor
from .nengo_neuron import LIFRateBase

#: Above this ``(J - 1) / sigma`` the softplus is ``J - 1`` (nengo_extras' cut)
SOFTPLUS_LINEAR = 34.0
#: Below this ``(J - 1) / sigma``, ``log1p(1 / j)`` is computed as
#: ``-log(sigma) - (J - 1) / sigma`` (``1 / j`` would overflow single precision)
SOFTPLUS_EXP = -20.0


def soft_lif_rate(J, sigma=1.0, tau_rc=0.02, tau_ref=0.002, amplitude=1.0):
    """NumPy reference of the smoothed rate (Hz, times in seconds): with
    ``j = sigma * log1p(exp((J - 1) / sigma))``, ``amplitude / (tau_ref +
    tau_rc * log1p(1 / j))``. Computed as the neuron's code computes it
    (the same branches), in float64."""
    J = np.asarray(J, dtype=float)
    y = (J - 1.0) / sigma
    with np.errstate(over="ignore", divide="ignore"):
        j = np.where(y > SOFTPLUS_LINEAR, J - 1.0, sigma * np.log1p(np.exp(np.minimum(y, 50))))
        r = np.where(y < SOFTPLUS_EXP, -np.log(sigma) - y, np.log1p(1.0 / np.maximum(j, 1e-300)))
    return amplitude / (tau_ref + tau_rc * r)


class SoftLIFRate(LIFRateBase):
    """LIF rate with a smooth threshold (nengo_extras' ``SoftLIFRate``,
    Hunsberger & Eliasmith 2015): ``j = sigma * log1p(exp((J - 1) / sigma))``
    (``J - 1`` when ``(J - 1) / sigma > 34``) and ``Out = amplitude /
    (tau_ref + tau_rc * log1p(1 / j))`` in Hz. Tends to :class:`LIFRate` as
    ``sigma -> 0``; its derivative is finite everywhere, so an ANN using it
    (``ml_genn_tf.layers.SoftLIF``) can be trained and then run with
    :class:`LIF` neurons.

    Far below threshold (``(J - 1) / sigma < -20``) ``log1p(1 / j)`` is
    computed as ``-log(sigma) - (J - 1) / sigma`` (relative error below
    1e-8), which single precision can represent where ``1 / j`` overflows.

    Args:
        sigma:     smoothing around the threshold (larger is smoother).
        tau_rc:    membrane time constant (ms).
        tau_ref:   refractory period (ms).
        amplitude: scale of the output.
        gain:      Nengo's gain (number or one per neuron).
        bias:      Nengo's bias current (number or one per neuron).
        readout:   readout of the population, when it is an output.

    ``gain_bias``/``max_rates_intercepts`` are LIFRate's closed forms, as
    in nengo_extras.

    GeNN names: those of :class:`LIFRate` and param ``Sigma``.
    """
    sigma = ValueDescriptor("Sigma", constraint="positive")
    model_params = LIFRateBase.model_params + [("Sigma", "scalar")]

    @network_default_params
    def __init__(self, sigma: float = 1.0, tau_rc: float = 20.0, tau_ref: float = 2.0,
                 amplitude: float = 1.0, gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(tau_rc=tau_rc, tau_ref=tau_ref, amplitude=amplitude, gain=gain,
                         bias=bias, readout=readout, **kwargs)
        self.sigma = sigma

    def update_code(self, current, out):
        return (f"const scalar ySoft = ({current} - 1.0) / Sigma;\n"
                f"scalar rSoft;\n"
                f"if (ySoft > {SOFTPLUS_LINEAR}) {{\n"
                f"    rSoft = log1p(1.0 / ({current} - 1.0));\n"
                f"}}\n"
                f"else if (ySoft < {SOFTPLUS_EXP}) {{\n"
                f"    rSoft = -log(Sigma) - ySoft;\n"
                f"}}\n"
                f"else {{\n"
                f"    rSoft = log1p(1.0 / (Sigma * log1p(exp(ySoft))));\n"
                f"}}\n"
                f"{out} = Amplitude / (TauRef + (TauRC * rSoft));\n")

    def rate_function(self, J):
        tau_rc, tau_ref = self._seconds()
        return soft_lif_rate(J, np.asarray(self.sigma, dtype=float), tau_rc, tau_ref,
                             np.asarray(self.amplitude, dtype=float))
