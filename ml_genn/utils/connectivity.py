"""Helpers shared by the convolution and pooling connectivity classes."""
from enum import Enum
from math import prod
from numbers import Integral
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ..initializers import Initializer
from .snippet import InitializerSnippet

Param2D = Union[None, int, Sequence[int]]


class PadMode(Enum):
    """Convolution padding, as in TensorFlow/Keras."""
    VALID = "valid"
    SAME = "same"


class KernelInit(Initializer):
    """Initializer that copies entries of a convolution kernel to synapses.

    Uses the engine's ``Kernel`` variable-initialisation snippet: each synapse
    built by a connectivity snippet takes ``kernel[id_kernel]``, where
    ``id_kernel`` is the flat (C-order) index of the kernel indices passed to
    ``addSynapse``.  This is how SPARSE convolutions share one kernel.
    """

    def __init__(self, kernel):
        self.kernel = np.asarray(kernel)

    def get_snippet(self):
        return InitializerSnippet("Kernel", {}, {"kernel": self.kernel.flatten()})

    def __repr__(self):
        return f"(KernelInit) shape: {self.kernel.shape}"


def get_conv_same_padding(in_size: int, conv_size: int, stride: int) -> int:
    """Padding before the first element for TensorFlow "same" convolutions.

    TF pads ``max((ceil(in / s) - 1) * s + k - in, 0)`` in total and puts the
    smaller half before the data.
    """
    if (in_size % stride) == 0:
        return max(conv_size - stride, 0) // 2
    return max(conv_size - (in_size % stride), 0) // 2


def get_param_2d(name: str, param: Param2D,
                 default: Optional[Tuple[int, int]] = None) -> Tuple[int, int]:
    """Normalise an int or 2-sequence parameter to a ``(h, w)`` tuple.

    ``None`` gives ``default``; if there is no default, ``ValueError``.
    (Upstream's default is the typing object ``Tuple[int, int]``, so a missing
    value was never reported: here it is.)
    """
    if param is None:
        if default is None:
            raise ValueError(f"{name} cannot be None")
        return tuple(default)
    if isinstance(param, (list, tuple)):
        if len(param) != 2:
            raise ValueError(f"{name} must be an int or a sequence of 2 ints, "
                             f"got {param!r}")
        if not all(isinstance(p, Integral) for p in param):
            raise TypeError(f"{name} must contain ints, got {param!r}")
        return (int(param[0]), int(param[1]))
    if isinstance(param, Integral) and not isinstance(param, bool):
        return (int(param), int(param))
    raise TypeError(f"{name} must be an int or a sequence of 2 ints, "
                    f"not {type(param).__name__}")


def update_target_shape(target, output_shape, flatten_out: bool):
    """Give ``target`` the connectivity's output shape, or check it has it."""
    output_shape = tuple(int(s) for s in output_shape)
    expected = (prod(output_shape),) if flatten_out else output_shape
    if target.shape is None:
        target.shape = expected
    elif tuple(target.shape) != expected:
        raise RuntimeError(f"target population shape {tuple(target.shape)} doesn't match "
                           f"the connectivity's output shape {expected}"
                           + (" (flattened)" if flatten_out else ""))


# ---------------------------------------------------------------------------
# Shared by the connectivity classes (not part of the upstream module)
# ---------------------------------------------------------------------------
def get_best_matrix_type(supported_matrix_type, available, description):
    """The compiler's preferred member of ``available``; a clear error if none."""
    best = supported_matrix_type.get_best(available)
    if best is None:
        supported = getattr(supported_matrix_type, "_supported",
                            getattr(supported_matrix_type, "supported", None))
        raise NotImplementedError(
            f"{description} connectivity can be stored as "
            f"{', '.join(getattr(m, 'name', str(m)) for m in available)}, but the compiler "
            "supports none of these"
            + (f" (it supports {', '.join(getattr(m, 'name', str(m)) for m in supported)})"
               if supported is not None else ""))
    return best


def get_3d_source_shape(source, description):
    """``(h, w, c)`` of a convolution/pooling source, or a RuntimeError."""
    shape = source.shape
    if shape is None or len(shape) != 3:
        raise RuntimeError(f"{description} connectivity needs a source population with a "
                           f"3-D (height, width, channels) shape, got {shape}")
    return tuple(int(s) for s in shape)


def get_conv_output_size(in_size, conv_size, stride, padding: PadMode):
    """Output size of a TF-style convolution along one dimension."""
    if padding == PadMode.VALID:
        return -(-(in_size - conv_size + 1) // stride)
    return -(-in_size // stride)


def get_pool_output_size(in_size, pool_size, stride):
    """Output size of TF "valid" pooling along one dimension."""
    return -(-(in_size - pool_size + 1) // stride)


def check_output_shape(output_shape, source_shape, description):
    if any(s < 1 for s in output_shape):
        raise RuntimeError(f"{description}: source shape {tuple(source_shape)} is too small "
                           f"for the kernel (output shape would be {tuple(output_shape)})")


def set_conv_params(conn, description, filters, conv_size, flatten, conv_strides,
                    conv_padding):
    """Validate and store the arguments shared by Conv2D and Conv2DTranspose."""
    conn.filters = int(filters)
    conn.conv_size = get_param_2d("conv_size", conv_size)
    conn.flatten = flatten
    conn.conv_strides = get_param_2d("conv_strides", conv_strides, default=(1, 1))
    conn.conv_padding = PadMode(conv_padding)
    if conn.filters < 1 or min(conn.conv_size) < 1 or min(conn.conv_strides) < 1:
        raise ValueError(f"{description}: filters, conv_size and conv_strides must be "
                         "positive")
