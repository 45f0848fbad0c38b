"""Transposed 2-D convolution (TensorFlow/Keras ``Conv2DTranspose`` semantics)."""
from ..genn import (SynapseMatrixType, create_sparse_connect_init_snippet,
                    init_sparse_connectivity)
from ..utils.connectivity import (PadMode, check_output_shape, get_3d_source_shape,
                                  get_best_matrix_type, get_conv_same_padding,
                                  set_conv_params, update_target_shape)
from ..utils.snippet import ConnectivitySnippet
from .conv_2d import check_kernel_array, kernel_value
from .connectivity import Connectivity

_PARAMS = [(n, "int") for n in ("conv_kh", "conv_kw", "conv_sh", "conv_sw", "conv_padh",
                                 "conv_padw", "conv_ih", "conv_iw", "conv_ic", "conv_oh",
                                 "conv_ow", "conv_oc")]

# Each input pixel scatters into a kh x kw block of the (strided) output:
# out[iy*sh - padh + ky, ix*sw - padw + kx, oc] += in[iy, ix, ic] * K[ky, kx, oc, ic]
conv_2d_transpose_snippet = create_sparse_connect_init_snippet(
    "Conv2DTranspose",
    params=_PARAMS,
    row_build_code="""
        const int inRow = ((int)id_pre / conv_ic) / conv_iw;
        const int inCol = ((int)id_pre / conv_ic) % conv_iw;
        const int inChan = (int)id_pre % conv_ic;
        for (int kernRow = 0; kernRow < conv_kh; kernRow++) {
            const int outRow = (inRow * conv_sh) - conv_padh + kernRow;
            if (outRow < 0 || outRow >= conv_oh) {
                continue;
            }
            for (int kernCol = 0; kernCol < conv_kw; kernCol++) {
                const int outCol = (inCol * conv_sw) - conv_padw + kernCol;
                if (outCol < 0 || outCol >= conv_ow) {
                    continue;
                }
                for (int outChan = 0; outChan < conv_oc; outChan++) {
                    addSynapse((((outRow * conv_ow) + outCol) * conv_oc) + outChan,
                               kernRow, kernCol, outChan, inChan);
                }
            }
        }
        """,
    calc_max_row_len_func=lambda num_pre, num_post, pars:
        int(pars["conv_kh"]) * int(pars["conv_kw"]) * int(pars["conv_oc"]),
    calc_kernel_size_func=lambda pars: [int(pars["conv_kh"]), int(pars["conv_kw"]),
                                        int(pars["conv_oc"]), int(pars["conv_ic"])])


class Conv2DTranspose(Connectivity):
    """Transposed convolution of a ``(height, width, channels)`` source.

    For each input pixel ``(iy, ix, ic)`` and kernel tap ``(ky, kx)``:
    ``out[iy*sh - ph + ky, ix*sw - pw + kx, oc] += in[iy, ix, ic] * W[ky, kx, oc, ic]``
    (outputs out of range are dropped), i.e. the adjoint of a TF ``Conv2D``
    whose input has the output's shape.

    Output shape: valid ``(ih*sh + max(kh - sh, 0), iw*sw + max(kw - sw, 0), filters)``
    (Keras' ``deconv_output_length``), same ``(ih*sh, iw*sw, filters)``.

    "same" padding: ``ph`` is TF's padding of the forward convolution, i.e.
    ``get_conv_same_padding(ih * sh, kh, sh) = max(kh - sh, 0) // 2``.
    (Upstream uses ``get_conv_same_padding(ih, kh, sh)``, which differs from
    TF when ``ih`` is not a multiple of the stride, e.g. ih=3, k=3, s=2.)

    Args:
        weight:       number, initializer or array ``(kh, kw, filters, ic)``
                      (the Keras ``Conv2DTranspose`` kernel layout).
        filters:      number of output channels.
        conv_size:    kernel size, int or ``(kh, kw)``.
        flatten:      give the target a flat shape.
        conv_strides: int or ``(sh, sw)``, default ``(1, 1)``.
        conv_padding: ``"valid"`` or ``"same"``.
        delay:        number, initializer or array of the kernel's shape.
    """

    def __init__(self, weight, filters, conv_size, flatten=False, conv_strides=None,
                 conv_padding="valid", delay=0):
        super().__init__(weight, delay)
        set_conv_params(self, "Conv2DTranspose", filters, conv_size, flatten, conv_strides,
                        conv_padding)

    def _geometry(self, source_shape):
        ih, iw, ic = source_shape
        (kh, kw), (sh, sw) = self.conv_size, self.conv_strides
        if self.conv_padding == PadMode.VALID:
            oh, ow = ih * sh + max(kh - sh, 0), iw * sw + max(kw - sw, 0)
            ph = pw = 0
        else:
            oh, ow = ih * sh, iw * sw
            ph = get_conv_same_padding(oh, kh, sh)
            pw = get_conv_same_padding(ow, kw, sw)
        return ih, iw, ic, oh, ow, ph, pw

    def _kernel_shape(self, ic):
        return (*self.conv_size, self.filters, ic)

    def connect(self, source, target):
        source_shape = get_3d_source_shape(source, "Conv2DTranspose")
        ih, iw, ic, oh, ow, _, _ = self._geometry(source_shape)
        output_shape = (oh, ow, self.filters)
        check_output_shape(output_shape, source_shape, "Conv2DTranspose")
        for name in ("weight", "delay"):
            check_kernel_array(getattr(self, name), self._kernel_shape(ic),
                               "Conv2DTranspose", name)
        update_target_shape(target, output_shape, self.flatten)

    def get_snippet(self, connection, supported_matrix_type):
        source_shape = get_3d_source_shape(connection.source(), "Conv2DTranspose")
        ih, iw, ic, oh, ow, ph, pw = self._geometry(source_shape)
        (kh, kw), (sh, sw) = self.conv_size, self.conv_strides
        matrix_type = get_best_matrix_type(
            supported_matrix_type,
            [SynapseMatrixType.SPARSE, SynapseMatrixType.PROCEDURAL_KERNELG],
            "Conv2DTranspose")
        conn_init = init_sparse_connectivity(
            conv_2d_transpose_snippet,
            {"conv_kh": kh, "conv_kw": kw, "conv_sh": sh, "conv_sw": sw, "conv_padh": ph,
             "conv_padw": pw, "conv_ih": ih, "conv_iw": iw, "conv_ic": ic, "conv_oh": oh,
             "conv_ow": ow, "conv_oc": self.filters})
        kernel_shape = self._kernel_shape(ic)
        return ConnectivitySnippet(
            snippet=conn_init, matrix_type=matrix_type,
            weight=kernel_value(self.weight, kernel_shape, matrix_type, "Conv2DTranspose"),
            delay=kernel_value(self.delay, kernel_shape, matrix_type, "Conv2DTranspose",
                               "delay"))
