"""How input data is turned into spikes by the rate-coding converters."""
from enum import Enum


class InputType(Enum):
    """Input encoding of :class:`Simple` and :class:`DataNorm`.

    * ``SPIKE`` (``"spike"``): :class:`ml_genn.neurons.BinarySpikeInput`,
      a spike on every step where the input is positive (binary inputs).
    * ``POISSON`` (``"poisson"``, the default): random (Poisson-like) spike
      trains whose rate is proportional to the input:
      :class:`ml_genn.neurons.BernoulliInput`, a spike with probability
      ``min(|x|, 1)`` per step, so ``n`` steps carry ``n x`` spikes on
      average, the rate an integrate-and-fire neuron downstream expects.
    * ``IF`` (``"if"``): :class:`ml_genn.neurons.IntegrateFireInput`,
      ``V += x`` each step with threshold 1 (deterministic rate ``~x``).
    * ``POISSON_EXP`` (``"poisson_exp"``): upstream mlGeNN's ``"poisson"``,
      :class:`ml_genn.neurons.PoissonInput`: ``x`` read as a rate in spikes
      per ms, a spike with probability ``1 - exp(-|x| dt)`` per step.

    Difference from upstream: mlGeNN maps ``"poisson"`` to ``PoissonInput``.
    Its probability ``1 - exp(-x dt)`` squashes the (normalised) inputs --
    ``x = 1`` spikes on 63 % of the steps, ``x = 0.5`` on 39 % -- so the
    converted network sees smaller, distorted inputs and loses accuracy
    (2-5 points on a digits CNN that loses under 1 point with
    ``BernoulliInput``; much more when biases matter). ``"poisson"`` keeps
    its meaning (random spike trains with the input's rate) but with the
    rate proportional to the input; ``"poisson_exp"`` gives upstream's
    encoding exactly.

    Constructors accept the enum member or its string value.
    """
    SPIKE = "spike"
    POISSON = "poisson"
    IF = "if"
    POISSON_EXP = "poisson_exp"
