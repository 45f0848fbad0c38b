"""Built-in sparse and toeplitz connectivity snippets.

Row-building code runs once per presynaptic neuron (``id_pre``) and calls
``addSynapse(id_post[, kernel indices])``; the same code serves SPARSE
(rows stored at load time) and PROCEDURAL (rows regenerated at each spike
from the same random stream, so both give identical connectivity).
Toeplitz code runs once per diagonal (``id_diag``) and loops over the
current spikes with ``for_each_synapse``.
"""
from math import ceil, log1p

import numpy as np

from ..errors import ModelError
from ..snippets import InitSparseConnectivitySnippet, InitToeplitzConnectivitySnippet
from .binomial import binomial_inverse_cdf
from .registry import registry


def _max_row_len_binomial(num_pre, num_post, pars):
    """Row length not exceeded with probability 0.9999 over all rows."""
    quantile = 0.9999 ** (1.0 / max(num_pre, 1))
    return binomial_inverse_cdf(quantile, num_post, pars["prob"])


def _prob_log_recip(p, dt):
    prob = p["prob"]
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"prob must lie in [0, 1], got {prob}")
    return 1.0 / log1p(-prob) if 0.0 < prob < 1.0 else 0.0


OneToOne = InitSparseConnectivitySnippet(
    "OneToOne",
    row_build_code="if (id_pre < num_post) { addSynapse(id_pre + id_post_begin); }",
    calc_max_row_len_func=lambda num_pre, num_post, pars: 1,
    calc_max_col_len_func=lambda num_pre, num_post, pars: 1)

_FIXED_PROB_CODE = """
    if (prob >= 1.0) {
        for (unsigned int j = 0; j < LIMIT; j++) {
            addSynapse(TARGET(j) + id_post_begin);
        }
    }
    else if (prob > 0.0) {
        int prevJ = -1;
        while (true) {
            const scalar u = gennrand_uniform();
            prevJ += 1 + (int)fmin(log(u) * probLogRecip, (scalar)num_post);
            if (prevJ < (int)LIMIT) {
                addSynapse(TARGET(prevJ) + id_post_begin);
            }
            else {
                break;
            }
        }
    }
    """

FixedProbability = InitSparseConnectivitySnippet(
    "FixedProbability", params=["prob"],
    derived_params=[("probLogRecip", _prob_log_recip)],
    row_build_code=_FIXED_PROB_CODE.replace("LIMIT", "num_post").replace("TARGET", ""),
    calc_max_row_len_func=_max_row_len_binomial,
    calc_max_col_len_func=lambda num_pre, num_post, pars:
        _max_row_len_binomial(num_post, num_pre, pars))

# Without autapses: sample among num_post - 1 targets and skip id_pre.
FixedProbabilityNoAutapse = InitSparseConnectivitySnippet(
    "FixedProbabilityNoAutapse", params=["prob"],
    derived_params=[("probLogRecip", _prob_log_recip)],
    row_build_code=_FIXED_PROB_CODE.replace("LIMIT", "(num_post - 1)").replace(
        "TARGET(j)", "(j >= id_pre ? j + 1 : j)").replace(
        "TARGET(prevJ)", "((unsigned int)prevJ >= id_pre ? prevJ + 1 : prevJ)"),
    calc_max_row_len_func=_max_row_len_binomial,
    calc_max_col_len_func=lambda num_pre, num_post, pars:
        _max_row_len_binomial(num_post, num_pre, pars))

FixedNumberPostWithReplacement = InitSparseConnectivitySnippet(
    "FixedNumberPostWithReplacement", params=[("num", "unsigned int")],
    row_build_code="""
        for (unsigned int c = 0; c < num; c++) {
            const unsigned int j = min((unsigned int)(gennrand_uniform() * num_post),
                                       num_post - 1);
            addSynapse(j + id_post_begin);
        }
        """,
    calc_max_row_len_func=lambda num_pre, num_post, pars: int(pars["num"]))


def _conv_max_row_len(num_pre, num_post, pars):
    return (int(ceil(pars["conv_kh"] / pars["conv_sh"]))
            * int(ceil(pars["conv_kw"] / pars["conv_sw"])) * int(pars["conv_oc"]))


def _conv_kernel_size(pars):
    return [int(pars["conv_kh"]), int(pars["conv_kw"]), int(pars["conv_ic"]),
            int(pars["conv_oc"])]


_CONV_PARAMS = [(n, "int") for n in ("conv_kh", "conv_kw", "conv_sh", "conv_sw",
                                     "conv_padh", "conv_padw", "conv_ih", "conv_iw",
                                     "conv_ic", "conv_oh", "conv_ow", "conv_oc")]

# TF-style cross-correlation: in[oy*sh + ky - padh, ox*sw + kx - padw, ic] * K[ky, kx, ic, oc]
Conv2D = InitSparseConnectivitySnippet(
    "Conv2D", params=_CONV_PARAMS,
    row_build_code="""
        const int inRow = ((int)id_pre / conv_ic) / conv_iw;
        const int inCol = ((int)id_pre / conv_ic) % conv_iw;
        const int inChan = (int)id_pre % conv_ic;
        for (int kernRow = 0; kernRow < conv_kh; kernRow++) {
            const int rowNum = inRow + conv_padh - kernRow;
            if (rowNum < 0 || (rowNum % conv_sh) != 0 || (rowNum / conv_sh) >= conv_oh) {
                continue;
            }
            const int outRow = rowNum / conv_sh;
            for (int kernCol = 0; kernCol < conv_kw; kernCol++) {
                const int colNum = inCol + conv_padw - kernCol;
                if (colNum < 0 || (colNum % conv_sw) != 0 || (colNum / conv_sw) >= conv_ow) {
                    continue;
                }
                const int outCol = colNum / conv_sw;
                for (int outChan = 0; outChan < conv_oc; outChan++) {
                    addSynapse((((outRow * conv_ow) + outCol) * conv_oc) + outChan,
                               kernRow, kernCol, inChan, outChan);
                }
            }
        }
        """,
    calc_max_row_len_func=_conv_max_row_len,
    calc_kernel_size_func=_conv_kernel_size)


def _uninitialised_row_len(num_pre, num_post, pars):
    raise ModelError("sparse connectivity 'Uninitialised' is given by the user: call "
                     "set_sparse_connections(pre_inds, post_inds) on the synapse "
                     "population before build()")


# Connectivity the user sets with set_sparse_connections() before build().
Uninitialised = InitSparseConnectivitySnippet(
    "Uninitialised", calc_max_row_len_func=_uninitialised_row_len)


def _fixed_number_pre_max_row_len(num_pre, num_post, pars):
    # each column puts Binomial(num, 1/num_pre) synapses in a row: a row
    # holds Binomial(num * num_post, 1/num_pre)
    quantile = 0.9999 ** (1.0 / max(num_pre, 1))
    return binomial_inverse_cdf(quantile, int(pars["num"]) * num_post, 1.0 / max(num_pre, 1))


# `num` presynaptic partners per postsynaptic neuron, drawn uniformly with
# replacement.  GeNN builds it column by column (col_build_code); see
# constraints.py for what the engine still lacks.
FixedNumberPreWithReplacement = InitSparseConnectivitySnippet(
    "FixedNumberPreWithReplacement", params=[("num", "unsigned int")],
    col_build_code="""
        for (unsigned int c = 0; c < num; c++) {
            const unsigned int i = min((unsigned int)(gennrand_uniform() * num_pre),
                                       num_pre - 1);
            addSynapse(i);
        }
        """,
    calc_max_row_len_func=_fixed_number_pre_max_row_len,
    calc_max_col_len_func=lambda num_pre, num_post, pars: int(pars["num"]))


def _fixed_number_total_max_row_len(num_pre, num_post, pars):
    quantile = 0.9999 ** (1.0 / max(num_pre, 1))
    return binomial_inverse_cdf(quantile, int(pars["num"]), 1.0 / max(num_pre, 1))


def _fixed_number_total_max_col_len(num_pre, num_post, pars):
    quantile = 0.9999 ** (1.0 / max(num_post, 1))
    return binomial_inverse_cdf(quantile, int(pars["num"]), 1.0 / max(num_post, 1))


def fixed_number_total_row_lengths(num_pre, num_post, pars, rng):
    """Host part of FixedNumberTotalWithReplacement: how many of the ``num``
    synapses fall in each row, a Multinomial(num, 1/num_pre each) draw
    (``rng``: a numpy Generator).  GeNN draws it on the host before building
    the rows and hands it to the row code as the EGP ``preCalcRowLength``."""
    num_pre = int(num_pre)
    return {"preCalcRowLength": rng.multinomial(int(pars["num"]),
                                                np.full(num_pre, 1.0 / num_pre))
            .astype(np.uint32)}


# `num` synapses in total, each joining a uniformly drawn (pre, post) pair,
# with replacement.  The row lengths come from the host
# (fixed_number_total_row_lengths, via the EGP preCalcRowLength); each row
# then draws its targets as sorted uniforms (the next smallest of the
# remaining k uniforms on [x, 1) is x + (1 - x) * (1 - U^(1/k))).
FixedNumberTotalWithReplacement = InitSparseConnectivitySnippet(
    "FixedNumberTotalWithReplacement", params=[("num", "unsigned int")],
    extra_global_params=[("preCalcRowLength", "unsigned int*")],
    row_build_code="""
        const unsigned int rowLength = preCalcRowLength[(id_pre * num_threads) + id_thread];
        scalar x = 0.0;
        for (unsigned int j = 0; j < rowLength; j++) {
            x += (1.0 - x) * (1.0 - pow(gennrand_uniform(), 1.0 / (scalar)(rowLength - j)));
            const unsigned int idPost = min((unsigned int)(x * (scalar)num_post), num_post - 1);
            addSynapse(idPost + id_post_begin);
        }
        """,
    calc_max_row_len_func=_fixed_number_total_max_row_len,
    calc_max_col_len_func=_fixed_number_total_max_col_len)
FixedNumberTotalWithReplacement.host_init = fixed_number_total_row_lengths

sparse_connectivity_snippets = registry(
    "sparse connectivity snippet", Uninitialised, OneToOne, FixedProbability,
    FixedProbabilityNoAutapse, FixedNumberPostWithReplacement,
    FixedNumberPreWithReplacement, FixedNumberTotalWithReplacement, Conv2D)

# ---------------------------------------------------------------------------
# Toeplitz (stride 1) convolutions.  One diagonal per kernel position
# (kernRow, kernCol); for each spike the output channels are a contiguous
# run of targets and kernel entries, so the innermost loop vectorises.
# For toeplitz snippets calc_max_row_len_func gives the number of diagonals.
# ---------------------------------------------------------------------------
_TOEPLITZ_DIAG_HEADER = """
    const int kernRow = id_diag / conv_kw;
    const int kernCol = id_diag % conv_kw;
    """


def _toeplitz_max_row_len(num_pre, num_post, pars):
    return int(pars["conv_kh"]) * int(pars["conv_kw"])


def _toeplitz_kernel_size(pars):
    return [int(pars["conv_kh"]), int(pars["conv_kw"]), int(pars["conv_ic"]),
            int(pars["conv_oc"])]


ToeplitzConv2D = InitToeplitzConnectivitySnippet(
    "Conv2D",
    params=[(n, "int") for n in ("conv_kh", "conv_kw", "conv_ih", "conv_iw", "conv_ic",
                                 "conv_oh", "conv_ow", "conv_oc")],
    derived_params=[("conv_bh", lambda p, dt: (p["conv_oh"] - p["conv_ih"] + p["conv_kh"] - 1) // 2, "int"),
                    ("conv_bw", lambda p, dt: (p["conv_ow"] - p["conv_iw"] + p["conv_kw"] - 1) // 2, "int")],
    diagonal_build_code=_TOEPLITZ_DIAG_HEADER + """
    for_each_synapse {
        const int preRow = ((int)id_pre / conv_ic) / conv_iw;
        const int preCol = ((int)id_pre / conv_ic) % conv_iw;
        const int preChan = (int)id_pre % conv_ic;
        const int postRow = preRow + conv_bh - kernRow;
        const int postCol = preCol + conv_bw - kernCol;
        if (postRow >= 0 && postRow < conv_oh && postCol >= 0 && postCol < conv_ow) {
            const int postBase = ((postRow * conv_ow) + postCol) * conv_oc;
            for (int outChan = 0; outChan < conv_oc; outChan++) {
                addSynapse(postBase + outChan, kernRow, kernCol, preChan, outChan);
            }
        }
    }
    """,
    calc_max_row_len_func=_toeplitz_max_row_len,
    calc_kernel_size_func=_toeplitz_kernel_size)

# Average pooling (stride >= size) followed by a stride-1 convolution.  Each
# input spike is summed into every pooling window containing it; the kernel
# must already be divided by the pool area (pool_kh * pool_kw), as mlGeNN does.
ToeplitzAvgPoolConv2D = InitToeplitzConnectivitySnippet(
    "AvgPoolConv2D",
    params=[(n, "int") for n in ("conv_kh", "conv_kw", "pool_kh", "pool_kw", "pool_sh",
                                 "pool_sw", "pool_ih", "pool_iw", "pool_ic", "conv_oh",
                                 "conv_ow", "conv_oc")],
    derived_params=[
        ("conv_ih", lambda p, dt: (p["pool_ih"] - p["pool_kh"]) // p["pool_sh"] + 1, "int"),
        ("conv_iw", lambda p, dt: (p["pool_iw"] - p["pool_kw"]) // p["pool_sw"] + 1, "int"),
        ("conv_bh", lambda p, dt: (p["conv_oh"] - ((p["pool_ih"] - p["pool_kh"]) // p["pool_sh"] + 1)
                                   + p["conv_kh"] - 1) // 2, "int"),
        ("conv_bw", lambda p, dt: (p["conv_ow"] - ((p["pool_iw"] - p["pool_kw"]) // p["pool_sw"] + 1)
                                   + p["conv_kw"] - 1) // 2, "int")],
    diagonal_build_code=_TOEPLITZ_DIAG_HEADER + """
    for_each_synapse {
        const int preRow = ((int)id_pre / pool_ic) / pool_iw;
        const int preCol = ((int)id_pre / pool_ic) % pool_iw;
        const int preChan = (int)id_pre % pool_ic;
        const int poolRowEnd = min(preRow / pool_sh, conv_ih - 1);
        const int poolColEnd = min(preCol / pool_sw, conv_iw - 1);
        for (int poolRow = max(0, (preRow - pool_kh + pool_sh) / pool_sh); poolRow <= poolRowEnd; poolRow++) {
            const int postRow = poolRow + conv_bh - kernRow;
            if (postRow < 0 || postRow >= conv_oh || preRow >= poolRow * pool_sh + pool_kh) {
                continue;
            }
            for (int poolCol = max(0, (preCol - pool_kw + pool_sw) / pool_sw); poolCol <= poolColEnd; poolCol++) {
                const int postCol = poolCol + conv_bw - kernCol;
                if (postCol < 0 || postCol >= conv_ow || preCol >= poolCol * pool_sw + pool_kw) {
                    continue;
                }
                const int postBase = ((postRow * conv_ow) + postCol) * conv_oc;
                for (int outChan = 0; outChan < conv_oc; outChan++) {
                    addSynapse(postBase + outChan, kernRow, kernCol, preChan, outChan);
                }
            }
        }
    }
    """,
    calc_max_row_len_func=_toeplitz_max_row_len,
    calc_kernel_size_func=lambda pars: [int(pars["conv_kh"]), int(pars["conv_kw"]),
                                        int(pars["pool_ic"]), int(pars["conv_oc"])])

toeplitz_connectivity_snippets = registry("toeplitz connectivity snippet", ToeplitzConv2D,
                                          ToeplitzAvgPoolConv2D)
