"""Input mix-ins: how data reaches input neurons.

``Input`` is the abstract interface (``set_input``); ``InputBase`` implements
it for non-spiking data, either as a static per-(batch, neuron) variable or
as a time-varying buffer of frames held in an extra global parameter.
"""
from abc import ABC, abstractmethod
from numbers import Integral

import numpy as np

from ..genn import VarAccess
from ..utils.checks import check_no_more_kwargs
from ..utils.names import is_plain_identifier

# Name of the sim-code local holding this step's frame of time-varying input
_FRAME_INPUT_LOCAL = "frameInput"


class Input(ABC):
    """Abstract mix-in of every neuron that takes data from ``set_input``
    (not itself a ``Neuron``)."""

    @abstractmethod
    def set_input(self, genn_pop, batch_size: int, shape, input):
        """Copy ``input`` into the engine population ``genn_pop``."""


def check_signed_spikes(signed_spikes, input_frames):
    """Signed spikes are evaluated by outgoing synapses, which only see
    neuron variables: they need static input."""
    if signed_spikes and input_frames > 1:
        raise NotImplementedError("signed spikes cannot be used with time-varying "
                                  "input (input_frames > 1)")


def _check_positive_int(name, value):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


class InputBase(Input):
    """Non-spiking input data.

    * ``input_frames == 1`` (static): a read-only, per-(batch, neuron)
      variable ``var_name`` (``READ_ONLY_DUPLICATE``, initially 0) replaces
      the input symbol in the neuron's code.
    * ``input_frames > 1`` (time-varying): a flat buffer (extra global
      parameter ``egp_name``) laid out ``(batch, frames) + shape``; at time
      ``t`` the neuron uses frame ``min(n // input_frame_timesteps,
      input_frames - 1)`` with ``n = round(t / dt)`` the step index.

      The step index is rounded from ``t / dt`` rather than flooring
      ``t / (input_frame_timesteps * dt)`` in floating point (as upstream
      does), which could select the previous frame on a frame boundary when
      ``dt`` is not exactly representable.
    """

    def __init__(self, var_name="Input", egp_name=None, input_frames=1,
                 input_frame_timesteps=1, **kwargs):
        check_no_more_kwargs(self, kwargs, InputBase)
        super().__init__(**kwargs)
        for what, name in (("var_name", var_name), ("egp_name", egp_name)):
            if name is not None and not is_plain_identifier(name):
                raise ValueError(f"{type(self).__name__}: {what} {name!r} must be a plain "
                                 "identifier ([A-Za-z][A-Za-z0-9_]*): it names an engine "
                                 "variable")
        _check_positive_int("input_frames", input_frames)
        _check_positive_int("input_frame_timesteps", input_frame_timesteps)
        if input_frames > 1 and egp_name is None:
            raise RuntimeError("time-varying input (input_frames > 1) requires an "
                               "extra global parameter name (egp_name)")
        self.var_name = var_name
        self.egp_name = egp_name
        self.input_frames = input_frames
        self.input_frame_timesteps = input_frame_timesteps

    def create_input_model(self, base_model, batch_size: int, shape, replace_input=None):
        """Add the input variable or buffer to ``base_model`` (edited in place
        and returned); every occurrence of ``replace_input`` in the sim,
        threshold and reset code then refers to this step's input value."""
        if self.input_frames == 1:
            base_model.add_var(self.var_name, "scalar", 0.0, VarAccess.READ_ONLY_DUPLICATE)
            target = self.var_name
        else:
            target = _FRAME_INPUT_LOCAL
        if replace_input is not None and replace_input != target:
            base_model.replace_sim_code(replace_input, target)
            base_model.replace_threshold_condition_code(replace_input, target)
            base_model.replace_reset_code(replace_input, target)

        if self.input_frames > 1:
            num = int(np.prod(shape))
            frame_stride = num * self.input_frames
            batch_offset = f"(batch * {frame_stride}) + " if batch_size > 1 else ""
            base_model.add_egp(self.egp_name, "scalar*",
                               np.zeros(batch_size * frame_stride, dtype=np.float32))
            base_model.prepend_sim_code(
                f"const int inputFrame = min(((int)round(t / dt)) / "
                f"{self.input_frame_timesteps}, {self.input_frames - 1});\n"
                f"const scalar {_FRAME_INPUT_LOCAL} = "
                f"{self.egp_name}[{batch_offset}(inputFrame * {num}) + id];\n")
        return base_model

    def set_input(self, genn_pop, batch_size: int, shape, input):
        shape = tuple(shape)
        input = np.asarray(input)
        n_pop_dims = len(shape)
        if input.ndim < n_pop_dims or tuple(input.shape[input.ndim - n_pop_dims:]) != shape:
            raise RuntimeError(f"input shape {input.shape} does not end with the "
                               f"population shape {shape}")
        lead = tuple(input.shape[:input.ndim - n_pop_dims])
        num = int(np.prod(shape))

        if self.input_frames == 1:
            var = genn_pop.vars[self.var_name]
            if batch_size == 1:
                if lead not in ((), (1,)):
                    raise RuntimeError(f"input of shape {input.shape} does not fit a "
                                       f"batch of 1 with population shape {shape}")
                var.view[...] = np.reshape(input, var.view.shape)
            else:
                if len(lead) != 1 or lead[0] > batch_size:
                    raise RuntimeError(f"input of shape {input.shape} must be "
                                       f"(n,) + {shape} with n <= batch size {batch_size}")
                n = lead[0]
                view = var.view
                view[:n, :] = np.reshape(input, (n, num))
                view[n:, :] = 0.0
            var.push_to_device()
        else:
            frames = self.input_frames
            if batch_size == 1:
                if lead not in ((frames,), (1, frames)):
                    raise RuntimeError(f"input of shape {input.shape} must be "
                                       f"({frames},) + {shape} or (1, {frames}) + {shape}")
                n = 1
            else:
                if len(lead) != 2 or lead[1] != frames or lead[0] > batch_size:
                    raise RuntimeError(f"input of shape {input.shape} must be "
                                       f"(n, {frames}) + {shape} with n <= batch size "
                                       f"{batch_size}")
                n = lead[0]
            egp = genn_pop.extra_global_params[self.egp_name]
            view = egp.view
            size = n * frames * num
            view[:size] = np.reshape(input, -1)
            view[size:] = 0.0
            egp.push_to_device()
