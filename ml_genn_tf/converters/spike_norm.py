"""SpikeNorm: threshold balancing by simulation (Sengupta et al. 2019)."""
from copy import deepcopy

import numpy as np

from ml_genn.compilers import InferenceCompiler
from ml_genn.connectivity import AvgPool2D, AvgPoolConv2D
from ml_genn.genn import VarAccess
from ml_genn.neurons import Input, IntegrateFire
from ml_genn.utils.network import get_network_dag, get_underlying_pop
from ml_genn.utils.value import is_value_array, is_value_constant

from ml_genn.utils.checks import check_positive_finite, check_positive_int
from .checks import check_norm_data
from .neuron_adaptations import is_biased
from .norm_data import iter_norm_batches

_NO_INPUT = -3.0e38


class _NormCompiler(InferenceCompiler):
    """InferenceCompiler whose IntegrateFire populations have a dynamic
    threshold (and bias scale) and record their largest per-step input
    (``TfMaxIn``, reset every batch)."""

    def __init__(self, norm_pops, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.norm_pops = set(norm_pops)

    def build_neuron_model(self, pop, model, compile_state):
        if pop in self.norm_pops:
            model = deepcopy(model)
            model.param_vals["Vthresh"] = 1.0
            model.set_param_dynamic("Vthresh")
            if model.has_param("TfBiasScale"):
                model.set_param_dynamic("TfBiasScale")
            model.add_var("TfMaxIn", "scalar", _NO_INPUT, VarAccess.READ_WRITE)
            model.model["sim_code"] = ("const scalar TfVPrev = V;\n" + model.model["sim_code"]
                                       + "\nTfMaxIn = fmax(TfMaxIn, V - TfVPrev);\n")
        return super().build_neuron_model(pop, model, compile_state)


def _scale_connection(conn, factor):
    """Multiply a connection's weights by ``factor`` (in the Network)."""
    conn_ty = conn.connectivity
    if isinstance(conn_ty, AvgPool2D):
        channels = conn.source().shape[-1]
        kernel = (np.eye(channels) * factor).reshape(1, 1, channels, channels)
        conn.connectivity = AvgPoolConv2D(kernel.astype(np.float32), channels,
                                          conn_ty.pool_size, 1, flatten=conn_ty.flatten,
                                          pool_strides=conn_ty.pool_strides)
        return
    weight = getattr(conn_ty, "weight", None)
    if is_value_array(weight):
        conn_ty.weight = (np.asarray(weight) * factor).astype(np.float32)
    elif is_value_constant(weight):
        conn_ty.weight = weight * factor
    else:
        raise NotImplementedError(f"spike_normalise: cannot rescale the weights of "
                                  f"connection {conn.name!r} ({type(conn_ty).__name__})")


def spike_normalise(net, net_inputs, net_outputs, norm_data, evaluate_timesteps: int,
                    num_batches=None, dt: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                    kernel_profiling: bool = False, prefer_in_memory_connect: bool = True,
                    reset_time_between_batches: bool = True, **genn_kwargs):
    """Set the thresholds of a rate-coded network's IntegrateFire populations
    layer by layer from simulations over ``norm_data`` (SpikeNorm).

    Meant for networks made by :class:`Simple` (thresholds 1, weights and
    biases as in Keras). In topological order, each IntegrateFire population
    ``P`` is simulated (``evaluate_timesteps`` steps per example, with the
    thresholds already found upstream) and its threshold becomes the largest
    input it receives in one time step over all neurons, steps and examples.
    With ``Lambda_P = threshold_P * Lambda_ref`` (``Lambda_input = 1``,
    ``ref`` = source of ``P``'s first connection), ``P``'s bias is divided by
    ``Lambda_ref`` and weights from other sources (``Add`` skip connections)
    are multiplied by ``Lambda_source / Lambda_ref``, so rates stay
    consistent. The thresholds, biases and weights are written into ``net``
    (upstream's version writes them nowhere and stops at the first branch).
    Populations of other neuron types keep their values.

    ``norm_data`` takes the forms :class:`DataNorm` accepts; ``num_batches``
    limits how many of its batches are used. ``evaluate_timesteps``,
    ``batch_size`` and ``num_batches`` must be positive integers and ``dt``
    positive (``ValueError``). Returns ``{population:
    threshold}``. Only single-input networks (``NotImplementedError``).
    """
    owner = "spike_normalise"
    evaluate_timesteps = check_positive_int(owner, "evaluate_timesteps", evaluate_timesteps)
    batch_size = check_positive_int(owner, "batch_size", batch_size)
    if num_batches is not None:
        num_batches = check_positive_int(owner, "num_batches", num_batches)
    dt = check_positive_finite(owner, "dt", dt)
    if norm_data is None:
        raise ValueError("spike_normalise: norm_data is None; pass [data] (e.g. "
                         "[x_train[:256]]) to find the thresholds from")
    check_norm_data(owner, norm_data)
    inputs = list(net_inputs) if isinstance(net_inputs, (list, tuple)) else [net_inputs]
    outputs = list(net_outputs) if isinstance(net_outputs, (list, tuple)) else [net_outputs]
    if len(inputs) != 1:
        raise NotImplementedError("spike_normalise only supports networks with one input")
    inp = get_underlying_pop(inputs[0])
    order = get_network_dag(inputs, outputs)
    norm_pops = [p for p in order if isinstance(p.neuron, IntegrateFire)
                 and not isinstance(p.neuron, Input)]

    data = []
    for i, x in enumerate(iter_norm_batches(norm_data, inp.shape)):
        if num_batches is not None and i >= num_batches:
            break
        for j in range(0, len(x), batch_size):
            data.append(np.asarray(x[j:j + batch_size], dtype=np.float32))
    if not data:
        raise ValueError("spike_normalise: the normalisation data contains no examples")

    def compile_net():
        compiler = _NormCompiler(norm_pops, evaluate_timesteps, dt=dt, batch_size=batch_size,
                                 rng_seed=rng_seed, kernel_profiling=kernel_profiling,
                                 prefer_in_memory_connect=prefer_in_memory_connect,
                                 reset_time_between_batches=reset_time_between_batches,
                                 **genn_kwargs)
        return compiler.compile(net, name="spike_normalise")

    scales = {inp: 1.0}
    thresholds = {}
    bias_scales = {}
    compiled = None
    try:
        for pop in order:
            if pop is inp:
                continue
            sources = [c().source() for c in pop.incoming_connections]
            ref = sources[0]
            if pop not in norm_pops:
                scales[pop] = scales.get(ref, 1.0)
                continue
            rescaled = False
            for c in pop.incoming_connections:
                factor = scales[c().source()] / scales[ref]
                if abs(factor - 1.0) > 1e-9:
                    _scale_connection(c(), factor)
                    rescaled = True
            if compiled is None or rescaled:
                if compiled is not None:
                    compiled.__exit__(None, None, None)
                compiled = compile_net()
                compiled.__enter__()
                for p in norm_pops:
                    genn_pop = compiled.neuron_populations[p]
                    genn_pop.set_dynamic_param_value("Vthresh", thresholds.get(p, 1.0))
                    if p in bias_scales:
                        genn_pop.set_dynamic_param_value("TfBiasScale", bias_scales[p])
            genn_pop = compiled.neuron_populations[pop]
            bias_scales[pop] = 1.0 / scales[ref]
            if is_biased(pop.neuron):
                genn_pop.set_dynamic_param_value("TfBiasScale", bias_scales[pop])
            max_in = _NO_INPUT
            for x in data:
                compiled.predict({inp: x}, outputs, callbacks=[])
                var = genn_pop.vars["TfMaxIn"]
                var.pull_from_device()
                values = np.reshape(np.asarray(var.view), (batch_size, -1))[:len(x)]
                max_in = max(max_in, float(np.max(values)))
            threshold = max_in if max_in > 0.0 else 1.0
            thresholds[pop] = threshold
            scales[pop] = threshold * scales[ref]
            genn_pop.set_dynamic_param_value("Vthresh", threshold)
    finally:
        if compiled is not None:
            compiled.__exit__(None, None, None)

    for pop, threshold in thresholds.items():
        pop.neuron.v_thresh = threshold
        if is_biased(pop.neuron):
            pop.neuron.tf_bias = (np.asarray(pop.neuron.tf_bias, dtype=np.float64)
                                  * bias_scales[pop]).astype(np.float32)
    return thresholds
