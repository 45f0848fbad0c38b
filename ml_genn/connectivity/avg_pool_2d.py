"""Average pooling (TensorFlow "valid" pooling, non-overlapping windows)."""
from ..genn import (SynapseMatrixType, create_sparse_connect_init_snippet,
                    init_sparse_connectivity)
from ..utils.connectivity import (check_output_shape, get_3d_source_shape,
                                  get_best_matrix_type, get_param_2d,
                                  get_pool_output_size, update_target_shape)
from ..utils.snippet import ConnectivitySnippet
from ..utils.value import is_value_constant
from .connectivity import Connectivity

_POOL_PARAM_NAMES = ("pool_kh", "pool_kw", "pool_sh", "pool_sw", "pool_ih", "pool_iw",
                     "pool_ic", "pool_oh", "pool_ow")

# Code shared with the fused pooling snippets: the pooling window
# (poolRow, poolCol) containing input pixel id_pre, if any (stride >= size,
# so windows never overlap).
POOL_ROW_HEADER = """
    const int inRow = ((int)id_pre / pool_ic) / pool_iw;
    const int inCol = ((int)id_pre / pool_ic) % pool_iw;
    const int inChan = (int)id_pre % pool_ic;
    const int poolRow = inRow / pool_sh;
    const int poolCol = inCol / pool_sw;
    const bool inWindow = (poolRow < pool_oh && poolCol < pool_ow
                           && inRow < (poolRow * pool_sh) + pool_kh
                           && inCol < (poolCol * pool_sw) + pool_kw);
    """

avg_pool_2d_snippet = create_sparse_connect_init_snippet(
    "AvgPool2D",
    params=[(n, "int") for n in _POOL_PARAM_NAMES],
    row_build_code=POOL_ROW_HEADER + """
    if (inWindow) {
        addSynapse((((poolRow * pool_ow) + poolCol) * pool_ic) + inChan);
    }
    """,
    calc_max_row_len_func=lambda num_pre, num_post, pars: 1,
    calc_max_col_len_func=lambda num_pre, num_post, pars:
        int(pars["pool_kh"]) * int(pars["pool_kw"]))


def get_pool_params(pool_size, pool_strides, description):
    """``(pool_size, pool_strides)`` as 2-tuples; stride defaults to the size."""
    pool_size = get_param_2d("pool_size", pool_size)
    pool_strides = get_param_2d("pool_strides", pool_strides, default=pool_size)
    if min(pool_size) < 1 or min(pool_strides) < 1:
        raise ValueError(f"{description}: pool_size and pool_strides must be positive")
    if pool_strides[0] < pool_size[0] or pool_strides[1] < pool_size[1]:
        raise NotImplementedError(f"{description}: pool_strides {pool_strides} smaller "
                                  f"than pool_size {pool_size} (overlapping windows) are "
                                  "not supported")
    return pool_size, pool_strides


def get_pool_geometry(source_shape, pool_size, pool_strides):
    """``(ih, iw, ic, oh, ow)`` of "valid" pooling."""
    ih, iw, ic = source_shape
    oh = get_pool_output_size(ih, pool_size[0], pool_strides[0])
    ow = get_pool_output_size(iw, pool_size[1], pool_strides[1])
    return ih, iw, ic, oh, ow


def get_pool_snippet_params(source_shape, pool_size, pool_strides):
    ih, iw, ic, oh, ow = get_pool_geometry(source_shape, pool_size, pool_strides)
    return dict(zip(_POOL_PARAM_NAMES, (*pool_size, *pool_strides, ih, iw, ic, oh, ow)))


class AvgPool2D(Connectivity):
    """Average pooling of a ``(height, width, channels)`` source.

    Each input pixel inside a pooling window connects to that window's output
    with weight ``1 / (pool_h * pool_w)``; output shape
    ``(ceil((ih - kh + 1) / sh), ceil((iw - kw + 1) / sw), ic)`` (TF "valid").

    Args:
        pool_size:    int or ``(kh, kw)``.
        flatten:      give the target a flat shape.
        pool_strides: int or ``(sh, sw)``, default ``pool_size``; must not be
                      smaller than the size (``NotImplementedError``).
        delay:        a number (``NotImplementedError`` otherwise).
    """

    def __init__(self, pool_size, flatten=False, pool_strides=None, delay=0):
        self.pool_size, self.pool_strides = get_pool_params(pool_size, pool_strides,
                                                            "AvgPool2D")
        super().__init__(1.0 / (self.pool_size[0] * self.pool_size[1]), delay)
        if not is_value_constant(self.delay):
            raise NotImplementedError("AvgPool2D only supports constant delays")
        self.flatten = flatten

    def connect(self, source, target):
        source_shape = get_3d_source_shape(source, "AvgPool2D")
        _, _, ic, oh, ow = get_pool_geometry(source_shape, self.pool_size,
                                             self.pool_strides)
        output_shape = (oh, ow, ic)
        check_output_shape(output_shape, source_shape, "AvgPool2D")
        update_target_shape(target, output_shape, self.flatten)

    def get_snippet(self, connection, supported_matrix_type):
        source_shape = get_3d_source_shape(connection.source(), "AvgPool2D")
        matrix_type = get_best_matrix_type(
            supported_matrix_type,
            [SynapseMatrixType.SPARSE, SynapseMatrixType.PROCEDURAL], "AvgPool2D")
        conn_init = init_sparse_connectivity(
            avg_pool_2d_snippet,
            get_pool_snippet_params(source_shape, self.pool_size, self.pool_strides))
        return ConnectivitySnippet(snippet=conn_init, matrix_type=matrix_type,
                                   weight=self.weight, delay=self.delay, trainable=False)
