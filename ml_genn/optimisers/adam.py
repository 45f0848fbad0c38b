"""Adam optimiser (Kingma & Ba 2014)."""
import math
from copy import deepcopy
from numbers import Real

from ..genn import VarAccessMode
from ..utils.model import CustomUpdateModel
from ..utils.snippet import ConstantValueDescriptor
from .optimiser import Optimiser

_ADAM_MODEL = {
    "params": [("Beta1", "scalar"), ("Beta2", "scalar"), ("Epsilon", "scalar"),
               ("Alpha", "scalar"), ("MomentScale1", "scalar"),
               ("MomentScale2", "scalar")],
    "vars": [("M", "scalar"), ("V", "scalar")],
    "var_refs": [("Gradient", "scalar", VarAccessMode.READ_ONLY),
                 ("Variable", "scalar", VarAccessMode.READ_WRITE)],
    "update_code": """
    // biased first and second moment estimates
    M = (Beta1 * M) + ((1.0 - Beta1) * Gradient);
    V = (Beta2 * V) + ((1.0 - Beta2) * Gradient * Gradient);
    // bias-corrected step
    Variable -= (Alpha * M * MomentScale1) / (sqrt(V * MomentScale2) + Epsilon);
    """}


class _AdamParam(ConstantValueDescriptor):
    """A finite number in an allowed range: ``beta1``/``beta2`` in ``[0, 1)``
    (at 1 the bias correction divides by zero and the moments never move),
    ``epsilon > 0`` (it keeps ``M / sqrt(V)`` finite when ``V`` is 0),
    ``alpha >= 0`` (a negative rate ascends the loss). Checked on every
    assignment, so a schedule (``OptimiserParamSchedule``) cannot set a bad
    value either."""

    def __init__(self, low, high=None, low_inclusive=True, meaning=""):
        self.low, self.high, self.low_inclusive, self.meaning = (low, high, low_inclusive,
                                                                 meaning)

    def __set__(self, instance, value):
        if isinstance(value, bool):
            raise TypeError(f"{type(instance).__name__}: '{self.public}' must be a number, "
                            "not a bool")
        if isinstance(value, Real) and math.isfinite(value):
            # checked before storing: a refused value never replaces a good one
            too_low = value < self.low if self.low_inclusive else value <= self.low
            too_high = self.high is not None and value >= self.high
            if too_low or too_high:
                bracket = "[" if self.low_inclusive else "("
                upper = f"{self.high})" if self.high is not None else "inf)"
                raise ValueError(f"{type(instance).__name__}: '{self.public}' must lie in "
                                 f"{bracket}{self.low}, {upper} ({self.meaning}), got "
                                 f"{value!r}")
        super().__set__(instance, value)


class Adam(Optimiser):
    """Adam with per-parameter state ``M`` and ``V`` (both start at 0):

    ``M <- b1*M + (1-b1)*g``, ``V <- b2*V + (1-b2)*g^2``,
    ``theta <- theta - alpha*M*s1 / (sqrt(V*s2) + eps)`` with
    ``s1 = 1/(1 - b1^(step+1))`` and ``s2 = 1/(1 - b2^(step+1))``.

    ``Alpha``, ``MomentScale1`` and ``MomentScale2`` are dynamic parameters
    set by :meth:`set_step`, which re-reads ``self.alpha`` so learning-rate
    schedules take effect at the next step. All hyper-parameters are plain
    numbers.
    """

    alpha = _AdamParam(0.0, meaning="the learning rate; a negative one ascends the loss")
    beta1 = _AdamParam(0.0, 1.0, meaning="decay of the first moment; 1 never updates it")
    beta2 = _AdamParam(0.0, 1.0, meaning="decay of the second moment; 1 never updates it")
    epsilon = _AdamParam(0.0, low_inclusive=False,
                         meaning="keeps the step finite while the second moment is 0")

    def __init__(self, alpha=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.alpha = alpha
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def moment_scales(self, step: int):
        """``(s1, s2)`` for optimisation step ``step`` (0-based)."""
        if step < 0:
            raise RuntimeError(f"Adam: optimisation step must not be negative, got {step}")
        return (1.0 / (1.0 - self.beta1 ** (step + 1)),
                1.0 / (1.0 - self.beta2 ** (step + 1)))

    def set_step(self, genn_cu, step: int):
        s1, s2 = self.moment_scales(step)
        genn_cu.set_dynamic_param_value("Alpha", self.alpha)
        genn_cu.set_dynamic_param_value("MomentScale1", s1)
        genn_cu.set_dynamic_param_value("MomentScale2", s2)

    def get_model(self, gradient_ref, var_ref, zero_gradient: bool, clamp_var=None):
        """A custom update applying Adam to ``var_ref`` from ``gradient_ref``.

        ``zero_gradient=True`` makes the gradient reference read-write and
        resets it to 0 after use (used when there is no separate batch
        reduction); ``clamp_var=(lo, hi)`` clamps the variable after the
        update (e.g. delays to ``[0, max_delay_steps]``).
        """
        model = CustomUpdateModel(
            deepcopy(_ADAM_MODEL),
            {"Beta1": self.beta1, "Beta2": self.beta2, "Epsilon": self.epsilon,
             "Alpha": self.alpha, "MomentScale1": 0.0, "MomentScale2": 0.0},
            {"M": 0.0, "V": 0.0},
            {"Gradient": gradient_ref, "Variable": var_ref})
        model.set_param_dynamic("Alpha")
        model.set_param_dynamic("MomentScale1")
        model.set_param_dynamic("MomentScale2")
        if zero_gradient:
            model.set_var_ref_access_mode("Gradient", VarAccessMode.READ_WRITE)
            model.append_update_code("Gradient = 0.0;")
        if clamp_var is not None:
            lo, hi = clamp_var
            model.append_update_code(
                f"Variable = fmin({float(hi)!r}, fmax({float(lo)!r}, Variable));")
        return model
