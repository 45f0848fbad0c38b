"""2-D convolution (TensorFlow/Keras ``Conv2D`` semantics)."""
import numpy as np

from ..genn import (SynapseMatrixType, init_sparse_connectivity,
                    init_toeplitz_connectivity)
from ..utils.connectivity import (KernelInit, PadMode, check_output_shape,
                                  get_3d_source_shape, get_best_matrix_type,
                                  get_conv_output_size, get_conv_same_padding,
                                  set_conv_params, update_target_shape)
from ..utils.snippet import ConnectivitySnippet
from ..utils.value import is_value_array
from .connectivity import Connectivity


def kernel_value(value, kernel_shape, matrix_type, description, name="weight"):
    """A weight/delay value in the form the engine expects for ``matrix_type``.

    Arrays must have ``kernel_shape`` (or its size, as restored by
    ``Network.load``); KERNEL matrix types take the flat kernel, SPARSE a
    ``KernelInit`` copying ``kernel[id_kernel]`` into every synapse.
    """
    if not is_value_array(value):
        return value
    value = np.asarray(value)
    if value.shape != tuple(kernel_shape) and value.size != int(np.prod(kernel_shape)):
        raise RuntimeError(f"{description} {name} array has shape {value.shape}; "
                           f"expected {tuple(kernel_shape)}")
    if name == "delay":
        # integer steps (the compiler rounds plain arrays, not initializers)
        value = np.round(value)
    if matrix_type == SynapseMatrixType.SPARSE:
        return KernelInit(value.reshape(kernel_shape))
    return value.flatten()


def check_kernel_array(value, kernel_shape, description, name):
    if is_value_array(value) and value.shape != tuple(kernel_shape):
        raise RuntimeError(f"{description} {name} array has shape {value.shape}; "
                           f"expected {tuple(kernel_shape)}")


class Conv2D(Connectivity):
    """Convolution of a ``(height, width, channels)`` source with a kernel.

    ``out[oy, ox, oc] = sum in[oy*sh - ph + ky, ox*sw - pw + kx, ic] * W[ky, kx, ic, oc]``
    (TensorFlow cross-correlation; out-of-range inputs are zero).

    Args:
        weight:       number, initializer or HWIO array ``(kh, kw, ic, filters)``
                      (the Keras ``Conv2D`` kernel layout).
        filters:      number of output channels.
        conv_size:    kernel size, int or ``(kh, kw)``.
        flatten:      give the target a flat ``(oh * ow * filters,)`` shape.
        conv_strides: int or ``(sh, sw)``, default ``(1, 1)``.
        conv_padding: ``"valid"`` or ``"same"`` (TF rules).
        delay:        number, initializer or array of the kernel's shape.
    """

    def __init__(self, weight, filters, conv_size, flatten=False, conv_strides=None,
                 conv_padding="valid", delay=0):
        super().__init__(weight, delay)
        set_conv_params(self, "Conv2D", filters, conv_size, flatten, conv_strides,
                        conv_padding)

    def _geometry(self, source_shape):
        ih, iw, ic = source_shape
        (kh, kw), (sh, sw) = self.conv_size, self.conv_strides
        oh = get_conv_output_size(ih, kh, sh, self.conv_padding)
        ow = get_conv_output_size(iw, kw, sw, self.conv_padding)
        if self.conv_padding == PadMode.SAME:
            ph, pw = get_conv_same_padding(ih, kh, sh), get_conv_same_padding(iw, kw, sw)
        else:
            ph = pw = 0
        return ih, iw, ic, oh, ow, ph, pw

    def _kernel_shape(self, ic):
        return (*self.conv_size, ic, self.filters)

    def connect(self, source, target):
        source_shape = get_3d_source_shape(source, "Conv2D")
        ih, iw, ic, oh, ow, _, _ = self._geometry(source_shape)
        output_shape = (oh, ow, self.filters)
        check_output_shape(output_shape, source_shape, "Conv2D")
        for name in ("weight", "delay"):
            check_kernel_array(getattr(self, name), self._kernel_shape(ic), "Conv2D", name)
        update_target_shape(target, output_shape, self.flatten)

    def get_snippet(self, connection, supported_matrix_type):
        source_shape = get_3d_source_shape(connection.source(), "Conv2D")
        ih, iw, ic, oh, ow, ph, pw = self._geometry(source_shape)
        (kh, kw), (sh, sw) = self.conv_size, self.conv_strides

        available = [SynapseMatrixType.SPARSE, SynapseMatrixType.PROCEDURAL_KERNELG]
        if sh == 1 and sw == 1:
            # the Toeplitz form infers the padding from the sizes, which is TF's
            # for stride 1 (valid: 0; same: (k - 1) // 2)
            available.append(SynapseMatrixType.TOEPLITZ)
        matrix_type = get_best_matrix_type(supported_matrix_type, available, "Conv2D")

        if matrix_type == SynapseMatrixType.TOEPLITZ:
            conn_init = init_toeplitz_connectivity(
                "Conv2D", {"conv_kh": kh, "conv_kw": kw, "conv_ih": ih, "conv_iw": iw,
                           "conv_ic": ic, "conv_oh": oh, "conv_ow": ow,
                           "conv_oc": self.filters})
        else:
            conn_init = init_sparse_connectivity(
                "Conv2D", {"conv_kh": kh, "conv_kw": kw, "conv_sh": sh, "conv_sw": sw,
                           "conv_padh": ph, "conv_padw": pw, "conv_ih": ih, "conv_iw": iw,
                           "conv_ic": ic, "conv_oh": oh, "conv_ow": ow,
                           "conv_oc": self.filters})
        kernel_shape = self._kernel_shape(ic)
        return ConnectivitySnippet(
            snippet=conn_init, matrix_type=matrix_type,
            weight=kernel_value(self.weight, kernel_shape, matrix_type, "Conv2D"),
            delay=kernel_value(self.delay, kernel_shape, matrix_type, "Conv2D", "delay"))
