"""What the converters change in ml_genn's neurons: Keras biases, reset by
subtraction and signed integrate-and-fire inputs."""
import numpy as np

from ml_genn.neurons import FewSpikeRelu, IntegrateFire, IntegrateFireInput

# ---------------------------------------------------------------------------
# Biased neurons
# ---------------------------------------------------------------------------
_BIAS = "TfBias * TfBiasScale"


class _BiasMixin:
    """Adds a constant per-neuron bias ``TfBias`` (the Keras bias) through
    the neuron's own :meth:`~ml_genn.neurons.Neuron.add_bias` hook.

    * Neurons driven by an input current integrate ``Isyn + TfBias *
      TfBiasScale`` from step ``tf_bias_start`` on (the population's distance
      from the input, i.e. the first step its inputs' spikes can arrive); so
      over a presentation the bias is integrated like a constant input.
    * ``FewSpikeRelu`` (pipelined: one value per presentation, no start step)
      restarts its accumulator ``Fx`` every presentation at the bias, so the
      re-encoded value is ``relu(sum w x + b)``.

    ``TfBiasScale`` (1.0) is there for :func:`spike_normalise`.
    """
    tf_bias = 0.0
    tf_bias_start = 0
    tf_bias_scale = 1.0

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        bias = np.asarray(self.tf_bias, dtype=np.float32)
        value = float(bias.flat[0]) if bias.size and np.all(bias == bias.flat[0]) else bias
        if isinstance(self, FewSpikeRelu):
            expression = _BIAS
        else:
            model.add_param("TfBiasStart", "scalar", (self.tf_bias_start - 0.5) * dt)
            expression = f"((t >= TfBiasStart) ? ({_BIAS}) : 0.0)"
        self.add_bias(model, expression)
        model.add_param("TfBias", "scalar", value)
        model.add_param("TfBiasScale", "scalar", float(self.tf_bias_scale))
        return model


_biased_classes = {}


def _biased_class(cls):
    if issubclass(cls, _BiasMixin):
        return cls
    if cls not in _biased_classes:
        _biased_classes[cls] = type(f"Biased{cls.__name__}", (_BiasMixin, cls),
                                    {"__module__": __name__,
                                     "__doc__": f"{cls.__name__} plus a constant bias "
                                                "input (see _BiasMixin)."})
    return _biased_classes[cls]


def with_bias(neuron, bias, start_step=0):
    """A copy of ``neuron`` whose class also adds ``bias`` (see _BiasMixin)."""
    cls = _biased_class(type(neuron))
    new = cls.__new__(cls)
    new.__dict__.update(neuron.__dict__)
    new.tf_bias = np.asarray(bias, dtype=np.float32)
    new.tf_bias_start = int(start_step)
    new.tf_bias_scale = 1.0
    return new


def is_biased(neuron):
    """True if ``neuron`` was made by :func:`with_bias`."""
    return isinstance(neuron, _BiasMixin)


# ---------------------------------------------------------------------------
# Integrate-and-fire neurons that reset by subtraction
# ---------------------------------------------------------------------------
_RELATIVE_RESET = "V -= (Vthresh - Vreset);"


class RelativeResetIntegrateFire(IntegrateFire):
    """``IntegrateFire`` that resets by subtraction, ``V <- V - (Vthresh -
    Vreset)``, keeping the charge above threshold (Rueckauer et al. 2017):
    its spike count over ``T`` steps is ``floor(sum of inputs / Vthresh)``,
    so rates follow ReLU activations without the rounding down of the
    reset to ``Vreset``."""

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        model.model["reset_code"] = _RELATIVE_RESET
        return model


class RelativeResetIntegrateFireInput(IntegrateFireInput):
    """``IntegrateFireInput`` that resets by subtraction (see
    :class:`RelativeResetIntegrateFire`): an input ``x`` in [0, 1] gives
    ``floor(n x)`` spikes in ``n`` steps."""

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        model.model["reset_code"] = _RELATIVE_RESET
        return model


class SignedIntegrateFireInput(IntegrateFireInput):
    """``IntegrateFireInput`` that also integrates negative inputs into
    negative spikes: a spike-like event (delivering ``-w``) when
    ``V <= -Vthresh``, after which ``V`` is reset as a positive spike's
    mirror image (``V <- -Vreset``, or ``V <- V + (Vthresh - Vreset)`` with
    ``relative_reset``) at the start of the next step. Static input only."""

    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, relative_reset=False):
        super().__init__(v_thresh=v_thresh, v_reset=v_reset, v=v)
        self.relative_reset = relative_reset

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        if self.relative_reset:
            model.model["reset_code"] = _RELATIVE_RESET
            negative_reset = "V += (Vthresh - Vreset);"
        else:
            negative_reset = "V = -Vreset;"
        model.prepend_sim_code(f"if (V <= -Vthresh) {{\n    {negative_reset}\n}}")
        model.model["negative_threshold_condition_code"] = "V <= -Vthresh"
        return model
