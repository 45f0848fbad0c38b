"""Keras 3 -> ml_genn conversion: the :class:`Converter` base, which plans
the network (:mod:`.network_plan`), asks its subclass for neurons and scales,
and builds the ``ml_genn`` network.

Modules: :mod:`.keras_graph` (the Keras side: supported layers, the graph
of layer calls; all access to Keras internals), :mod:`.signals` (the linear
algebra of layers between non-linearities), :mod:`.network_plan`
(populations and their incoming connections), :mod:`.norm_data`
(normalisation data and activation maxima), :mod:`.neuron_adaptations`
(biases, reset by subtraction, signed inputs), :mod:`.rate_coding` (what
Simple and DataNorm share).
"""
import keras

from ml_genn import Connection, Network, Population
from ml_genn.compilers import InferenceCompiler
from ml_genn.neurons import Neuron, default_neurons
from ml_genn.utils.checks import reject_unknown_kwargs
from ml_genn.utils.module import get_object

from .keras_graph import (SUPPORTED_ACTIVATIONS, activation_name, describe,
                          layer_kind, unsupported_activation_error, unsupported_layer_error)
from .network_plan import NetworkPlan
from .neuron_adaptations import with_bias

__all__ = ["Converter", "check_compiler_kwargs"]


def check_compiler_kwargs(converter, kwargs, fixed):
    """``TypeError`` if ``create_compiler`` is given an argument that the
    converter sets itself."""
    name = type(converter).__name__
    for key in fixed:
        if key in kwargs:
            raise TypeError(f"{name}.create_compiler() got {key}={kwargs[key]!r}, but {key} "
                            f"is set by the converter ({name}({key}=...)); pass it to the "
                            f"converter's constructor instead")


class Converter:
    """Base class of the Keras -> ml_genn converters.

    ``convert(tf_model)`` returns ``(network, inputs, outputs,
    tf_layer_pops)``: the ``ml_genn.Network``, its input and output
    populations (in the order of ``tf_model.inputs``/``tf_model.outputs``)
    and a dict mapping each Keras layer that became a population to it.
    Populations are named after their Keras layers and created in
    topological order; connections use ``Delta`` synapses.

    Subclasses implement ``create_input_neurons(pre_convert_output)`` and
    ``create_neurons(tf_layer, pre_convert_output, is_output)``; they may
    override ``pre_convert(tf_model)`` (whose result is passed to the other
    hooks), ``post_convert(network, inputs, outputs)``, ``create_synapse``,
    ``create_compiler(**kwargs)``, ``validate_tf_layer(tf_layer, config)``
    and the scale hooks ``get_weight_scale`` / ``get_bias_scale``.

    Biases (upstream mlGeNN rejects ``use_bias=True``): the bias of a
    population (Keras biases and folded batch-normalisation shifts, times
    ``get_bias_scale``) is added to the neuron ``create_neurons`` returns
    through the neuron's ``add_bias`` hook (see :func:`with_bias`): neurons
    driven by an input current (``IntegrateFire``, ``LeakyIntegrateFire``...)
    get a constant input current from the step the population's first input
    spikes can arrive; ``FewSpikeRelu`` adds the bias to the accumulated
    pre-activation. Other neurons raise ``NotImplementedError``.
    """

    #: Whether ``ml_genn_tf.layers.SoftLIF`` layers are accepted (they
    #: become populations; only :class:`NengoConverter` knows their neurons)
    converts_soft_lif = False

    # -- hooks ------------------------------------------------------------
    def pre_convert(self, tf_model):
        return None

    def create_input_neurons(self, pre_convert_output):
        raise NotImplementedError(f"{type(self).__name__} does not say which neurons inputs "
                                  "become: convert with Simple, DataNorm or FewSpike (or a "
                                  "subclass defining create_input_neurons)")

    def create_neurons(self, tf_layer, pre_convert_output, is_output):
        raise NotImplementedError(f"{type(self).__name__} does not say which neurons layers "
                                  "become: convert with Simple, DataNorm or FewSpike (or a "
                                  "subclass defining create_neurons)")

    def post_convert(self, network, inputs, outputs):
        pass

    def create_compiler(self, **kwargs):
        return InferenceCompiler(**kwargs)

    def get_weight_scale(self, source_tf_layer, target_tf_layer, pre_convert_output):
        """Factor applied to the weights from the population of
        ``source_tf_layer`` to the population of ``target_tf_layer``."""
        return 1.0

    def create_synapse(self, source_tf_layer, target_tf_layer, pre_convert_output):
        """The synapse (``ml_genn.synapses`` object or registry name) of the
        connection from the population of ``source_tf_layer`` to that of
        ``target_tf_layer``: ``"delta"``."""
        return "delta"

    def get_bias_scale(self, tf_layer, pre_convert_output):
        """Factor applied to the bias of the population of ``tf_layer``."""
        return 1.0

    def validate_tf_layer(self, tf_layer, config):
        """Reject unsupported layer types and activations (NotImplementedError
        naming the layer, its type and the supported set). Softmax on hidden
        layers and configuration details are checked during conversion."""
        kind = layer_kind(tf_layer)
        if kind is None:
            raise unsupported_layer_error(tf_layer)
        if kind == "SoftLIF" and not self.converts_soft_lif:
            raise NotImplementedError(f"{describe(tf_layer)}: {type(self).__name__} does not "
                                      f"convert SoftLIF layers; use NengoConverter (spiking "
                                      f"LIF neurons, or neurons of your choice)")
        if kind in ("Dense", "Conv2D", "Conv2DTranspose", "Activation"):
            act = activation_name(config.get("activation"))
            if act not in SUPPORTED_ACTIVATIONS:
                raise unsupported_activation_error(tf_layer, act)
        if kind == "Softmax":
            axis = config.get("axis", -1)
            if axis not in (-1, [-1], (-1,)):
                raise NotImplementedError(f"{describe(tf_layer)}: only softmax over the "
                                          "last axis is supported")

    # -- conversion -------------------------------------------------------
    def _network_plan(self, tf_model):
        """The (cached during ``convert``) plan of ``tf_model``, for
        ``pre_convert`` to read."""
        cached = getattr(self, "_plan", None)
        if cached is not None and cached.model is tf_model:
            return cached
        self._plan = NetworkPlan(tf_model, self.validate_tf_layer)
        return self._plan

    def convert(self, tf_model, **kwargs):
        """-> ``(network, inputs, outputs, tf_layer_pops)`` (see the class)."""
        reject_unknown_kwargs(f"{type(self).__name__}.convert()", kwargs, ())
        if not isinstance(tf_model, keras.Model):
            hint = (" (load a saved model with keras.models.load_model(path) first)"
                    if isinstance(tf_model, (str, bytes)) or hasattr(tf_model, "__fspath__")
                    else "")
            raise TypeError(f"{type(self).__name__}.convert() needs a keras.Model, got "
                            f"{type(tf_model).__name__}{hint}")
        self._plan = None
        plan = self._network_plan(tf_model)
        try:
            pre_convert_output = self.pre_convert(tf_model)
            network = Network()
            tf_layer_pops = {}
            conn_names = set()
            with network:
                for pp in plan.pops:
                    if pp.is_input:
                        neuron = self.create_input_neurons(pre_convert_output)
                    else:
                        neuron = self.create_neurons(pp.layer, pre_convert_output,
                                                     pp.is_output)
                    neuron = get_object(neuron, Neuron, "Neuron", default_neurons)
                    if pp.bias is not None:
                        scale = self.get_bias_scale(pp.layer, pre_convert_output)
                        neuron = with_bias(neuron, pp.bias * scale, pp.depth)
                    pop = Population(neuron, pp.shape, name=pp.name)
                    pp.population = pop
                    tf_layer_pops[pp.layer] = pop
                    for term in pp.terms:
                        factor = self.get_weight_scale(term.source.layer, pp.layer,
                                                       pre_convert_output)
                        name = f"Conn_{term.source.name}_{pp.name}"
                        base, i = name, 1
                        while name in conn_names:
                            name = f"{base}_{i}"
                            i += 1
                        conn_names.add(name)
                        synapse = self.create_synapse(term.source.layer, pp.layer,
                                                      pre_convert_output)
                        Connection(term.source.population, pop,
                                   term.connectivity(pp.shape, factor), synapse=synapse,
                                   name=name)
            inputs = [pp.population for pp in plan.input_pops]
            outputs = [pp.population for pp in plan.output_pops]
            self.post_convert(network, inputs, outputs)
            return network, inputs, outputs, tf_layer_pops
        finally:
            self._plan = None
