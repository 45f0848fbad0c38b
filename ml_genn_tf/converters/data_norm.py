"""Data-based threshold balancing (Diehl et al. 2015)."""
from ml_genn.utils.checks import check_positive_int, reject_unknown_kwargs
from .checks import check_bool, check_input_type, check_norm_data
from .converter import Converter
from .enum import InputType
from .norm_data import norm_maxima
from .rate_coding import create_rate_compiler, create_rate_input_neuron, create_rate_neuron


class DataNorm(Converter):
    """Rate coding with thresholds balanced on a sample of data.

    For every population ``P`` (in topological order) the scale
    ``lambda_P = max(largest activation of P over norm_data, largest incoming
    kernel weight)`` is found (inputs: ``lambda = 1``, the input encoding is
    fixed by the data range). With ``ref`` the source of ``P``'s first
    incoming connection, ``P`` gets ``IntegrateFire(v_thresh=lambda_P /
    lambda_ref)``; so the kernels stay the Keras kernels and a spike rate of
    ``P`` encodes ``activation / lambda_P``. Connections from other sources
    (``Add`` skip connections) have their weights multiplied by
    ``lambda_source / lambda_ref`` and biases are divided by ``lambda_ref``,
    which keeps every population's rate consistent.

    Upstream mlGeNN normalises only the chain from the input up to the first
    branch (ResNets keep threshold 1 after it); here every population is
    normalised. Only single-input models (``NotImplementedError``).

    Args:
        evaluate_timesteps: time steps per example (for ``create_compiler``).
        signed_input:       inputs may be negative (negative spikes).
        norm_data:          ``[data]`` with ``data`` an array of examples, an
                            ``(x, y)`` pair or an iterable of ``x`` / ``(x, y)``
                            batches (e.g. a ``tf.data.Dataset``); the list
                            wrapper is optional. ``None``: all thresholds 1.
                            NaN/inf in the data: ``ValueError``.
        input_type:         :class:`InputType` or its string: ``"poisson"``
                            (default; spike probability ``min(x, 1)`` per
                            step, not upstream's ``1 - exp(-x dt)``: see
                            :class:`InputType`), ``"spike"``, ``"if"`` or
                            ``"poisson_exp"``.
        relative_reset:     reset by subtraction (default) or to 0 as
                            upstream (``False``); see :class:`Simple`.

    Unknown keyword arguments raise ``TypeError``; invalid values
    ``ValueError`` (in the constructor where possible).
    """

    def __init__(self, evaluate_timesteps: int, signed_input: bool = False,
                 norm_data=None, input_type=InputType.POISSON, relative_reset: bool = True,
                 **kwargs):
        reject_unknown_kwargs("DataNorm()", kwargs, ("evaluate_timesteps", "signed_input",
                                                     "norm_data", "input_type",
                                                     "relative_reset"))
        self.evaluate_timesteps = check_positive_int("DataNorm", "evaluate_timesteps",
                                                     evaluate_timesteps)
        self.signed_input = check_bool("DataNorm", "signed_input", signed_input)
        self.norm_data = check_norm_data("DataNorm", norm_data)
        self.input_type = check_input_type("DataNorm", input_type)
        self.relative_reset = check_bool("DataNorm", "relative_reset", relative_reset)

    def pre_convert(self, tf_model):
        plan = self._network_plan(tf_model)
        thresholds = {p.layer: 1.0 for p in plan.pops}
        scales = {p.layer: 1.0 for p in plan.pops}
        weight_scales = {}
        bias_scales = {}
        if self.norm_data is None:
            return {"thresholds": thresholds, "scales": scales,
                    "weight_scales": weight_scales, "bias_scales": bias_scales}
        if len(plan.input_pops) != 1:
            raise NotImplementedError(
                f"DataNorm: normalisation data is only supported for models with one "
                f"input; this model has {len(plan.input_pops)} "
                f"({', '.join(repr(p.name) for p in plan.input_pops)}); use "
                f"norm_data=None (all thresholds 1) or FewSpike without norm_data")
        maxima, _ = norm_maxima(plan, self.norm_data, "DataNorm")
        for p in plan.pops:
            if p.is_input:
                continue
            ref = p.terms[0].source
            lam = maxima[p]
            for t in p.terms:
                w = t.max_weight()
                if w is not None:
                    lam = max(lam, w)
            if not lam > 0.0:
                lam = scales[ref.layer]      # never active: keep the source's scale
            scales[p.layer] = lam
            thresholds[p.layer] = lam / scales[ref.layer]
            bias_scales[p.layer] = 1.0 / scales[ref.layer]
            for t in p.terms:
                weight_scales[(t.source.layer, p.layer)] = (scales[t.source.layer]
                                                            / scales[ref.layer])
        return {"thresholds": thresholds, "scales": scales,
                "weight_scales": weight_scales, "bias_scales": bias_scales}

    def create_input_neurons(self, pre_convert_output):
        return create_rate_input_neuron(self.input_type, self.signed_input,
                                        self.relative_reset)

    def create_neurons(self, tf_layer, pre_convert_output, is_output):
        return create_rate_neuron(pre_convert_output["thresholds"][tf_layer], is_output,
                                  self.relative_reset)

    def get_weight_scale(self, source_tf_layer, target_tf_layer, pre_convert_output):
        return pre_convert_output["weight_scales"].get((source_tf_layer, target_tf_layer),
                                                       1.0)

    def get_bias_scale(self, tf_layer, pre_convert_output):
        return pre_convert_output["bias_scales"].get(tf_layer, 1.0)

    def create_compiler(self, **kwargs):
        return create_rate_compiler(self, **kwargs)
