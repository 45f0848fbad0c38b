"""Rate-coding conversion without normalisation."""
from ml_genn.utils.checks import check_positive_int, reject_unknown_kwargs
from .checks import check_bool, check_input_type
from .converter import Converter
from .enum import InputType
from .rate_coding import create_rate_compiler, create_rate_input_neuron, create_rate_neuron


class Simple(Converter):
    """Every ReLU becomes an integrate-and-fire population with threshold 1
    (the weights are the Keras kernels, unscaled); outputs count spikes.

    Args:
        evaluate_timesteps: time steps per example (for ``create_compiler``).
        signed_input:       inputs may be negative (negative spikes).
        input_type:         :class:`InputType` or its string: ``"poisson"``
                            (default: random spikes, probability ``min(x, 1)``
                            per step; see :class:`InputType` for the
                            difference from upstream), ``"spike"``, ``"if"``
                            or ``"poisson_exp"`` (upstream's Poisson input).
        relative_reset:     neurons (and IF inputs) reset by subtracting the
                            threshold (:class:`RelativeResetIntegrateFire`,
                            default) instead of resetting to 0 as upstream's
                            ``IntegrateFire`` does (``False``), which loses
                            the charge above threshold at every spike and
                            biases rates low (on a digits CNN: 93-95 % at any
                            number of steps against 98 % for the ANN and
                            98 % with reset by subtraction).

    Use :func:`spike_normalise` to balance the thresholds afterwards.
    Unknown keyword arguments raise ``TypeError``; invalid values
    (``evaluate_timesteps`` not a positive integer, an unknown
    ``input_type``...) ``ValueError``.
    """

    def __init__(self, evaluate_timesteps: int, signed_input: bool = False,
                 input_type=InputType.POISSON, relative_reset: bool = True, **kwargs):
        reject_unknown_kwargs("Simple()", kwargs, ("evaluate_timesteps", "signed_input",
                                                   "input_type", "relative_reset"))
        self.evaluate_timesteps = check_positive_int("Simple", "evaluate_timesteps",
                                                     evaluate_timesteps)
        self.signed_input = check_bool("Simple", "signed_input", signed_input)
        self.input_type = check_input_type("Simple", input_type)
        self.relative_reset = check_bool("Simple", "relative_reset", relative_reset)

    def create_input_neurons(self, pre_convert_output):
        return create_rate_input_neuron(self.input_type, self.signed_input,
                                        self.relative_reset)

    def create_neurons(self, tf_layer, pre_convert_output, is_output):
        return create_rate_neuron(1.0, is_output, self.relative_reset)

    def create_compiler(self, **kwargs):
        return create_rate_compiler(self, **kwargs)
