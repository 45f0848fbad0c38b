"""Average pooling fused with a following Dense layer."""
from math import prod

import numpy as np

from ..genn import SynapseMatrixType
from ..utils.connectivity import (check_output_shape, get_3d_source_shape,
                                  get_best_matrix_type, update_target_shape)
from ..utils.snippet import ConnectivitySnippet
from ..utils.value import is_value_array, is_value_constant
from .avg_pool_2d import get_pool_geometry, get_pool_params
from .connectivity import Connectivity


class AvgPoolDense2D(Connectivity):
    """``Dense(Flatten(AvgPool2D(x)))`` as one all-to-all connection.

    Stored as a dense matrix over (source neurons x units):
    ``g[pre, u] = W[flat(pool_out(pre)), u] / (pool_h * pool_w)`` when ``pre``
    lies in a pooling window, else 0.

    Args:
        weight:       array ``(prod(pool_output_shape), units)``, rows in HWC
                      flatten order (Keras ``Flatten``).
        pool_size:    int or ``(ph, pw)``.
        pool_strides: int or pair, default ``pool_size`` (must be >= size).
        delay:        a number.

    The dense matrix is expanded on the host. (Upstream also lists
    DENSE_PROCEDURALG, which no compiler selects; this engine does not
    implement it, so only DENSE is offered.)
    """

    def __init__(self, weight, pool_size, pool_strides=None, delay=0):
        super().__init__(weight, delay)
        if not is_value_array(self.weight) or self.weight.ndim != 2:
            raise NotImplementedError("AvgPoolDense2D weight must be a 2-D array "
                                      "(pool output size, units)")
        if not is_value_constant(self.delay):
            raise NotImplementedError("AvgPoolDense2D only supports constant delays")
        self.pool_size, self.pool_strides = get_pool_params(pool_size, pool_strides,
                                                            "AvgPoolDense2D")

    def _pool_output_shape(self, source_shape):
        _, _, ic, oh, ow = get_pool_geometry(source_shape, self.pool_size, self.pool_strides)
        return (oh, ow, ic)

    def connect(self, source, target):
        source_shape = get_3d_source_shape(source, "AvgPoolDense2D")
        pool_shape = self._pool_output_shape(source_shape)
        check_output_shape(pool_shape, source_shape, "AvgPoolDense2D")
        if self.weight.shape[0] != prod(pool_shape):
            raise RuntimeError(f"AvgPoolDense2D weight has {self.weight.shape[0]} rows but "
                               f"the pooled source has {prod(pool_shape)} "
                               f"({pool_shape}) neurons")
        update_target_shape(target, (self.weight.shape[1],), False)

    def get_snippet(self, connection, supported_matrix_type):
        source_shape = get_3d_source_shape(connection.source(), "AvgPoolDense2D")
        matrix_type = get_best_matrix_type(supported_matrix_type,
                                           [SynapseMatrixType.DENSE], "AvgPoolDense2D")
        ih, iw, ic = source_shape
        oh, ow, _ = self._pool_output_shape(source_shape)
        (kh, kw), (sh, sw) = self.pool_size, self.pool_strides
        weight = np.asarray(self.weight)
        num_pre = ih * iw * ic
        units = weight.shape[-1] if weight.ndim == 2 else prod(connection.target().shape)
        if weight.ndim == 1 and weight.size == num_pre * units:
            # the expanded matrix itself, e.g. restored by Network.load from a
            # checkpoint of the compiled network's "g"
            return ConnectivitySnippet(snippet=None, matrix_type=matrix_type,
                                       weight=weight, delay=self.delay)
        weight = weight.reshape(-1, units)
        if weight.shape[0] != oh * ow * ic:
            raise RuntimeError(f"AvgPoolDense2D weight has {weight.shape[0]} rows but the "
                               f"pooled source has {oh * ow * ic} neurons")

        # pooling window of every source pixel (rows/cols outside any window: -1)
        def window(n, k, s, o):
            idx = np.arange(n)
            w = idx // s
            return np.where((w < o) & (idx < w * s + k), w, -1)

        row, col = window(ih, kh, sh, oh), window(iw, kw, sw, ow)
        chan = np.arange(ic)
        pool_index = (row[:, None, None] * ow + col[None, :, None]) * ic + chan[None, None, :]
        inside = (row[:, None, None] >= 0) & (col[None, :, None] >= 0)
        inside = np.broadcast_to(inside, pool_index.shape).flatten()
        pool_index = pool_index.flatten()

        g = np.zeros((num_pre, units), dtype=np.result_type(weight.dtype, np.float32))
        g[inside] = weight[pool_index[inside]] / (kh * kw)
        return ConnectivitySnippet(snippet=None, matrix_type=matrix_type,
                                   weight=g.flatten(), delay=self.delay)
