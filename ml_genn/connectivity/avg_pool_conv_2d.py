"""Average pooling fused with a following stride-1 convolution."""
import numpy as np

from ..genn import (SynapseMatrixType, create_sparse_connect_init_snippet,
                    init_sparse_connectivity, init_toeplitz_connectivity)
from ..utils.connectivity import (PadMode, check_output_shape, get_3d_source_shape,
                                  get_best_matrix_type, get_conv_output_size,
                                  get_conv_same_padding, get_param_2d, update_target_shape)
from ..utils.snippet import ConnectivitySnippet
from ..utils.value import is_value_array, is_value_initializer
from .avg_pool_2d import (POOL_ROW_HEADER, get_pool_geometry, get_pool_params,
                          get_pool_snippet_params)
from .conv_2d import check_kernel_array, kernel_value
from .connectivity import Connectivity

_PARAMS = ([(n, "int") for n in ("pool_kh", "pool_kw", "pool_sh", "pool_sw", "pool_ih",
                                  "pool_iw", "pool_ic", "pool_oh", "pool_ow")]
           + [(n, "int") for n in ("conv_kh", "conv_kw", "conv_padh", "conv_padw",
                                   "conv_oh", "conv_ow", "conv_oc")])

# The input pixel's pooling window (if any) is a pixel of the convolution's
# input; the stride-1 convolution then scatters it like the Conv2D snippet.
avg_pool_conv_2d_snippet = create_sparse_connect_init_snippet(
    "AvgPoolConv2D",
    params=_PARAMS,
    row_build_code=POOL_ROW_HEADER + """
    if (inWindow) {
        for (int kernRow = 0; kernRow < conv_kh; kernRow++) {
            const int outRow = poolRow + conv_padh - kernRow;
            if (outRow < 0 || outRow >= conv_oh) {
                continue;
            }
            for (int kernCol = 0; kernCol < conv_kw; kernCol++) {
                const int outCol = poolCol + conv_padw - kernCol;
                if (outCol < 0 || outCol >= conv_ow) {
                    continue;
                }
                for (int outChan = 0; outChan < conv_oc; outChan++) {
                    addSynapse((((outRow * conv_ow) + outCol) * conv_oc) + outChan,
                               kernRow, kernCol, inChan, outChan);
                }
            }
        }
    }
    """,
    calc_max_row_len_func=lambda num_pre, num_post, pars:
        int(pars["conv_kh"]) * int(pars["conv_kw"]) * int(pars["conv_oc"]),
    calc_kernel_size_func=lambda pars: [int(pars["conv_kh"]), int(pars["conv_kw"]),
                                        int(pars["pool_ic"]), int(pars["conv_oc"])])


class AvgPoolConv2D(Connectivity):
    """``Conv2D(AvgPool2D(x))`` as one connection (no nonlinearity between).

    Pooling as ``AvgPool2D`` (stride >= size); the convolution (stride 1,
    ``NotImplementedError`` otherwise) is applied to the pooled image as
    ``Conv2D``. The effective kernel is ``weight / (pool_h * pool_w)``.

    Args:
        weight:       HWIO kernel array ``(kh, kw, ic, filters)`` or a number
                      (an initializer cannot be scaled: ``NotImplementedError``).
        filters:      number of output channels.
        pool_size:    int or ``(ph, pw)``.
        conv_size:    int or ``(kh, kw)``.
        flatten:      give the target a flat shape.
        pool_strides: int or pair, default ``pool_size``.
        conv_strides: must be 1 (the default).
        conv_padding: ``"valid"`` or ``"same"`` (TF rules, on the pooled image).
        delay:        number, initializer or array of the kernel's shape.
    """

    def __init__(self, weight, filters, pool_size, conv_size, flatten=False,
                 pool_strides=None, conv_strides=None, conv_padding="valid", delay=0):
        super().__init__(weight, delay)
        if is_value_initializer(self.weight):
            raise NotImplementedError("AvgPoolConv2D weights must be an array or a number "
                                      "(an initializer cannot be scaled by the pool area)")
        self.filters = int(filters)
        self.pool_size, self.pool_strides = get_pool_params(pool_size, pool_strides,
                                                            "AvgPoolConv2D")
        self.conv_size = get_param_2d("conv_size", conv_size)
        self.conv_strides = get_param_2d("conv_strides", conv_strides, default=(1, 1))
        if self.conv_strides != (1, 1):
            raise NotImplementedError("AvgPoolConv2D only supports conv_strides of 1")
        self.flatten = flatten
        self.conv_padding = PadMode(conv_padding)
        if self.filters < 1 or min(self.conv_size) < 1:
            raise ValueError("AvgPoolConv2D: filters and conv_size must be positive")

    def _geometry(self, source_shape):
        _, _, ic, pool_oh, pool_ow = get_pool_geometry(source_shape, self.pool_size,
                                                       self.pool_strides)
        kh, kw = self.conv_size
        oh = get_conv_output_size(pool_oh, kh, 1, self.conv_padding)
        ow = get_conv_output_size(pool_ow, kw, 1, self.conv_padding)
        if self.conv_padding == PadMode.SAME:
            ph = get_conv_same_padding(pool_oh, kh, 1)
            pw = get_conv_same_padding(pool_ow, kw, 1)
        else:
            ph = pw = 0
        return ic, pool_oh, pool_ow, oh, ow, ph, pw

    def _kernel_shape(self, ic):
        return (*self.conv_size, ic, self.filters)

    def connect(self, source, target):
        source_shape = get_3d_source_shape(source, "AvgPoolConv2D")
        ic, pool_oh, pool_ow, oh, ow, _, _ = self._geometry(source_shape)
        check_output_shape((pool_oh, pool_ow, ic), source_shape, "AvgPoolConv2D pooling")
        output_shape = (oh, ow, self.filters)
        check_output_shape(output_shape, source_shape, "AvgPoolConv2D")
        for name in ("weight", "delay"):
            check_kernel_array(getattr(self, name), self._kernel_shape(ic), "AvgPoolConv2D",
                               name)
        update_target_shape(target, output_shape, self.flatten)

    def get_snippet(self, connection, supported_matrix_type):
        source_shape = get_3d_source_shape(connection.source(), "AvgPoolConv2D")
        ic, pool_oh, pool_ow, oh, ow, ph, pw = self._geometry(source_shape)
        kh, kw = self.conv_size
        available = [SynapseMatrixType.SPARSE, SynapseMatrixType.PROCEDURAL_KERNELG]
        if self.conv_padding == PadMode.VALID or (kh % 2 == 1 and kw % 2 == 1):
            available.append(SynapseMatrixType.TOEPLITZ)
        matrix_type = get_best_matrix_type(supported_matrix_type, available, "AvgPoolConv2D")

        pool_params = get_pool_snippet_params(source_shape, self.pool_size, self.pool_strides)
        if matrix_type == SynapseMatrixType.TOEPLITZ:
            params = {k: v for k, v in pool_params.items()
                      if k not in ("pool_oh", "pool_ow")}
            params.update(conv_kh=kh, conv_kw=kw, conv_oh=oh, conv_ow=ow,
                          conv_oc=self.filters)
            conn_init = init_toeplitz_connectivity("AvgPoolConv2D", params)
        else:
            params = dict(pool_params)
            params.update(conv_kh=kh, conv_kw=kw, conv_padh=ph, conv_padw=pw, conv_oh=oh,
                          conv_ow=ow, conv_oc=self.filters)
            conn_init = init_sparse_connectivity(avg_pool_conv_2d_snippet, params)

        # the engine sums the window's spikes: divide the kernel by the pool area
        area = self.pool_size[0] * self.pool_size[1]
        weight = (np.asarray(self.weight) / area if is_value_array(self.weight)
                  else self.weight / area)
        kernel_shape = self._kernel_shape(ic)
        return ConnectivitySnippet(
            snippet=conn_init, matrix_type=matrix_type,
            weight=kernel_value(weight, kernel_shape, matrix_type, "AvgPoolConv2D"),
            delay=kernel_value(self.delay, kernel_shape, matrix_type, "AvgPoolConv2D",
                               "delay"))
