"""Weight-update models of EventProp: the forward spike transmission, and
the backward events that accumulate the weight (and delay) gradients and
carry the adjoint back to hidden sources (``RevISyn``)."""
import numpy as np

from ...genn import SynapseMatrixWeight, VarAccess
from ...neurons.input import Input
from ...utils.model import WeightUpdateModel
from ...utils.value import is_value_array, is_value_constant
from ..compiler import get_conn_max_delay, get_delay_type
from ..deep_r import check_deep_r_connection
from .scales import _AdjointScales, _lit


def _is_zero(delay):
    """Whether a connection's delay is 0 everywhere (a number or an array)."""
    if is_value_constant(delay) or is_value_array(delay):
        return not np.any(np.round(delay))
    return False


class _GradientWeightUpdates(_AdjointScales):
    """``build_weight_update_model`` and ``apply_delay`` (mixin of
    ``EventPropCompiler``)."""

    def build_weight_update_model(self, conn, connect_snippet, compile_state):
        state = compile_state
        src, trg = conn.source(), conn.target()
        tau_syn = state.tau_syn[trg]
        trainable = connect_snippet.trainable
        hidden_source = not isinstance(src.neuron, Input)
        learn_delay = conn in state.delay_learn
        if conn in state.deep_r:
            check_deep_r_connection(conn, connect_snippet.matrix_type)
        if learn_delay and not trainable:
            raise NotImplementedError(f"EventPropCompiler: connection '{conn.name}' is not "
                                      "trainable, so its delays cannot be learned")
        delay = connect_snippet.delay
        kernel = connect_snippet.matrix_type.weight == SynapseMatrixWeight.KERNEL
        if kernel and (learn_delay or not _is_zero(delay)):
            raise NotImplementedError(
                f"EventPropCompiler: connection '{conn.name}' "
                f"({type(conn.connectivity).__name__}) shares kernel weights and has "
                f"{'learned ' if learn_delay else ''}delays; EventProp supports delays on "
                "Dense and sparse connectivity only: use delay=0")
        delta = tau_syn is None
        # Delta synapses jump the target's V: the gradient reads LambdaV, the
        # timing terms LambdaI (LambdaV minus the loss drive, package docstring)
        lambda_ref = "LambdaV_post" if delta else "LambdaI_post"
        model = {"params": [] if delta else [("TauSyn", "scalar")],
                 "vars": [("g", "scalar", VarAccess.READ_ONLY)],
                 "pre_neuron_var_refs": [("BackSpike_pre", "uint8_t")],
                 "post_neuron_var_refs": [(lambda_ref, "scalar")],
                 "pre_event_threshold_condition_code": "BackSpike_pre"}
        param_vals = {} if delta else {"TauSyn": tau_syn}
        var_vals = {"g": connect_snippet.weight}
        if learn_delay:
            model["params"].append(("MaxDelay", "scalar"))
            param_vals["MaxDelay"] = float(conn.max_delay_steps)
            model["vars"].append(("d", "scalar", VarAccess.READ_ONLY))
            var_vals["d"] = delay
            delay_decl = ("const unsigned int delay = (unsigned int)fmin(MaxDelay, "
                          "fmax(0.0, round(d)));\n")
            d = "delay"
        elif is_value_constant(delay) and int(round(delay)) == 0:
            delay_decl, d = "", None
        else:
            delay_type = get_delay_type(get_conn_max_delay(conn, conn.connectivity.delay))
            if is_value_constant(delay):
                model["params"].append(("d", delay_type))
                param_vals["d"] = int(round(delay))
            else:
                model["vars"].append(("d", delay_type, VarAccess.READ_ONLY))
                var_vals["d"] = np.round(delay) if is_value_array(delay) else delay
            delay_decl, d = "", "d"
        past = "" if d is None else f"[{d}]"
        forward = "addToPost(g);" if d is None else f"addToPostDelay(g, {d});"
        if delta:
            scale = self._delta_scale(trg)
            # dL/dw = -tau_mem * scale * LambdaV at the arrival (package docstring)
            grad_factor = f"{_lit(float(trg.neuron.tau_mem) * scale)}"
        else:
            scale = self._weight_scale(conn, trg, tau_syn)
            grad_factor = "TauSyn" if scale == 1.0 else f"TauSyn * {_lit(scale)}"
        scaled_g = "g" if scale == 1.0 else f"(g * {_lit(scale)})"
        backward = []
        if delta and trainable:
            model["vars"].append(("Gradient", "scalar"))
            var_vals["Gradient"] = 0.0
            if kernel:
                backward.append(f"atomic_add_Gradient(-LambdaV_post * {grad_factor});")
            else:
                backward.append(f"Gradient -= LambdaV_post{past} * {grad_factor};")
        elif trainable:
            model["vars"].append(("Gradient", "scalar"))
            var_vals["Gradient"] = 0.0
            grad_scale = "" if scale == 1.0 else f" * {_lit(scale)}"
            if kernel:
                # every synapse using a kernel entry adds to its one gradient
                backward.append(f"atomic_add_Gradient(-LambdaI_post * TauSyn{grad_scale});")
            else:
                backward.append(f"Gradient -= LambdaI_post{past} * TauSyn{grad_scale};")
        if hidden_source or learn_delay:
            model["post_neuron_var_refs"].append(
                ("LambdaI_post" if delta else "LambdaV_post", "scalar"))
        if delta and learn_delay:
            # delaying a jump J of V by ds takes J off V (and off the loss
            # integrand) over ds
            model["vars"].append(("DelayGradient", "scalar"))
            var_vals["DelayGradient"] = 0.0
            backward.append(f"DelayGradient -= {scaled_g} * LambdaI_post{past};")
        elif learn_delay:
            model["vars"].append(("DelayGradient", "scalar"))
            var_vals["DelayGradient"] = 0.0
            backward.append(f"DelayGradient -= {scaled_g} * (LambdaI_post{past} - "
                            f"LambdaV_post{past});")
        if delta and hidden_source:
            backward.append(f"addToPre(-{scaled_g} * LambdaI_post{past});")
        elif hidden_source:
            backward.append(f"addToPre({scaled_g} * (LambdaV_post{past} - "
                            f"LambdaI_post{past}));")
        if not backward:
            # nothing to do in the backward pass (a static input connection)
            del model["pre_event_threshold_condition_code"]
            del model["pre_neuron_var_refs"]
        body = "\n".join(backward)
        if d is not None and backward:
            # a delayed spike arriving after the end of the trial had no effect
            body = (f"if (((int)round(t / dt)) - 1 - (int){d} >= 0) {{\n{body}\n}}")
        model["pre_spike_syn_code"] = delay_decl + forward
        if backward:
            model["pre_event_syn_code"] = delay_decl + body
        wum = WeightUpdateModel(model, param_vals, var_vals,
                                pre_neuron_var_refs=({"BackSpike_pre": "BackSpike"}
                                                     if backward else {}),
                                post_neuron_var_refs={lambda_ref: lambda_ref[:-5]})
        if (hidden_source or learn_delay) and delta:
            wum.post_neuron_var_refs["LambdaI_post"] = "LambdaI"
        elif hidden_source or learn_delay:
            wum.post_neuron_var_refs["LambdaV_post"] = "LambdaV"
        if trainable:
            state.trainable.append(conn)
        return wum

    def apply_delay(self, genn_pop, conn, delay, compile_state):
        """Every connection delays through the dendritic ring (its length
        also bounds how far back the postsynaptic adjoint can be read)."""
        if conn in compile_state.delay_learn:
            genn_pop.max_dendritic_delay_timesteps = 1 + conn.max_delay_steps
        else:
            genn_pop.max_dendritic_delay_timesteps = get_conn_max_delay(conn, delay)
