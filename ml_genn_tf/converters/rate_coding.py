"""What the rate-coding converters (Simple, DataNorm) share: their neurons
and their compiler."""
from ml_genn.compilers import InferenceCompiler
from ml_genn.neurons import (BernoulliInput, BinarySpikeInput, IntegrateFire,
                             IntegrateFireInput, PoissonInput)

from .converter import check_compiler_kwargs
from .enum import InputType
from .neuron_adaptations import (RelativeResetIntegrateFire, RelativeResetIntegrateFireInput,
                                 SignedIntegrateFireInput)


def create_rate_input_neuron(input_type, signed_input, relative_reset=True):
    """The input neuron of the rate-coding converters.

    ``InputType.POISSON`` gives a :class:`BernoulliInput` (spike probability
    ``min(|x|, 1)`` per step, proportional to the normalised input), not
    upstream's :class:`PoissonInput` (``1 - exp(-|x| dt)``, which squashes
    the inputs): that one is ``InputType.POISSON_EXP``."""
    input_type = InputType(input_type)
    if input_type == InputType.SPIKE:
        return BinarySpikeInput(signed_spikes=signed_input)
    if input_type == InputType.POISSON:
        return BernoulliInput(signed_spikes=signed_input)
    if input_type == InputType.POISSON_EXP:
        return PoissonInput(signed_spikes=signed_input)
    if signed_input:
        return SignedIntegrateFireInput(relative_reset=relative_reset)
    return RelativeResetIntegrateFireInput() if relative_reset else IntegrateFireInput()


def create_rate_neuron(v_thresh, is_output, relative_reset=True):
    """The hidden/output neuron of the rate-coding converters."""
    cls = RelativeResetIntegrateFire if relative_reset else IntegrateFire
    return cls(v_thresh=v_thresh, readout="spike_count" if is_output else None)


def create_rate_compiler(converter, **kwargs):
    """``InferenceCompiler(evaluate_timesteps=converter.evaluate_timesteps,
    **kwargs)``."""
    check_compiler_kwargs(converter, kwargs, ("evaluate_timesteps",))
    return InferenceCompiler(evaluate_timesteps=converter.evaluate_timesteps, **kwargs)
