"""How input data is turned into spikes by the rate-coding converters."""
from enum import Enum


class InputType(Enum):
    """Input encoding of :class:`Simple` and :class:`DataNorm`.

    * ``SPIKE`` (``"spike"``): :class:`ml_genn.neurons.BinarySpikeInput`,
      a spike on every step where the input is positive (binary inputs).
    * ``POISSON`` (``"poisson"``): :class:`ml_genn.neurons.PoissonInput`,
      a spike with probability ``1 - exp(-x dt)`` per step.
    * ``IF`` (``"if"``): :class:`ml_genn.neurons.IntegrateFireInput`,
      ``V += x`` each step with threshold 1 (deterministic rate ``~x``).

    Constructors accept the enum member or its string value.
    """
    SPIKE = "spike"
    POISSON = "poisson"
    IF = "if"
