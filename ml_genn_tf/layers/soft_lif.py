"""SoftLIF: a differentiable LIF rate activation for Keras (Hunsberger &
Eliasmith 2015), the training-time counterpart of ml_genn's
:class:`~ml_genn.neurons.SoftLIFRate` and :class:`~ml_genn.neurons.LIF`."""
import math

import keras
from keras import ops

from ml_genn.neurons.soft_lif_rate import SOFTPLUS_EXP, SOFTPLUS_LINEAR


@keras.saving.register_keras_serializable(package="ml_genn_tf")
class SoftLIF(keras.layers.Layer):
    """Elementwise smoothed LIF rate, the same formula as
    :class:`ml_genn.neurons.SoftLIFRate` with ``J`` the layer's input:
    ``j = sigma * log1p(exp((J - 1) / sigma))`` (``J - 1`` when ``(J - 1) /
    sigma > 34``) and ``amplitude / (tau_ref + tau_rc * log1p(1 / j))``
    (times in seconds, so the rate is in Hz, times ``amplitude``).

    Every branch is computed on inputs clipped to its own range, so the
    gradient is finite everywhere, including at the LIF threshold ``J = 1``.
    ``ml_genn_tf.converters.NengoConverter`` turns each ``SoftLIF`` layer into
    a population of spiking :class:`ml_genn.neurons.LIF` neurons with the
    same ``tau_rc``, ``tau_ref`` and ``amplitude`` (or into neurons of your
    choice).

    Args:
        sigma:     smoothing around the threshold (> 0).
        tau_rc:    membrane time constant in ms (Nengo's 0.02 s).
        tau_ref:   refractory period in ms (Nengo's 0.002 s).
        amplitude: scale of the output (NengoDL uses e.g. 0.01 so that
                   activations are of order 1).
        kwargs:    ``keras.layers.Layer`` arguments (``name``...).
    """

    def __init__(self, sigma: float = 1.0, tau_rc: float = 20.0, tau_ref: float = 2.0,
                 amplitude: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        for name, value, low_open in (("sigma", sigma, True), ("tau_rc", tau_rc, True),
                                      ("tau_ref", tau_ref, False),
                                      ("amplitude", amplitude, True)):
            value = float(value)
            if not (value > 0 if low_open else value >= 0) or value != value:
                raise ValueError(f"SoftLIF: {name} must be "
                                 f"{'> 0' if low_open else '>= 0'}, got {value!r}")
        self.sigma = float(sigma)
        self.tau_rc = float(tau_rc)
        self.tau_ref = float(tau_ref)
        self.amplitude = float(amplitude)

    def call(self, inputs):
        x = ops.convert_to_tensor(inputs)
        sigma = self.sigma
        y = (x - 1.0) / sigma
        linear = y > SOFTPLUS_LINEAR
        far_below = y < SOFTPLUS_EXP
        # each branch on inputs clipped into its range: no inf/NaN gradients
        y_mid = ops.clip(y, SOFTPLUS_EXP, SOFTPLUS_LINEAR)
        r_mid = ops.log1p(1.0 / (sigma * ops.log1p(ops.exp(y_mid))))
        r_lin = ops.log1p(1.0 / ops.maximum(x - 1.0, sigma * SOFTPLUS_LINEAR))
        r_low = -math.log(sigma) - ops.minimum(y, SOFTPLUS_EXP)
        r = ops.where(linear, r_lin, ops.where(far_below, r_low, r_mid))
        return self.amplitude / (self.tau_ref / 1000.0 + (self.tau_rc / 1000.0) * r)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"sigma": self.sigma, "tau_rc": self.tau_rc, "tau_ref": self.tau_ref,
                       "amplitude": self.amplitude})
        return config
