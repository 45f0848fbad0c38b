"""The Keras side of conversion: which layers are supported, and the graph of
layer calls from ``model.inputs`` to ``model.outputs``.

Every access to Keras internals (``_keras_history``, ``_inbound_nodes``,
Keras' ``Node`` objects) is in this module, behind :func:`layer_calls` and
:func:`producer`, so that a change in Keras is repaired here only.
"""
from typing import NamedTuple

import keras

from ..layers import SoftLIF

# Layers that are identities at inference time
PASS_THROUGH = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                "GaussianNoise", "GaussianDropout", "AlphaDropout",
                "ActivityRegularization", "Identity")
_CONVERTED = ("Activation", "Add", "AveragePooling2D", "BatchNormalization", "Conv2D",
              "Conv2DTranspose", "Dense", "Flatten", "GlobalAveragePooling2D", "InputLayer",
              "ReLU", "Softmax")
#: ml_genn_tf's own layers (a non-linearity each; see NengoConverter)
_OWN_LAYERS = {SoftLIF: "SoftLIF"}
#: Names of the Keras layer classes the converters accept
SUPPORTED_LAYERS = tuple(sorted(_CONVERTED + PASS_THROUGH + tuple(_OWN_LAYERS.values())))
#: Activations accepted on Dense/Conv2D/Conv2DTranspose/Activation layers
SUPPORTED_ACTIVATIONS = ("linear", "relu", "softmax")

_LAYER_KINDS = {getattr(keras.layers, name): name for name in SUPPORTED_LAYERS
                if getattr(keras.layers, name, None) is not None}
_LAYER_KINDS.update(_OWN_LAYERS)


def layer_kind(layer):
    """The name of ``layer``'s class in :data:`SUPPORTED_LAYERS`, or None
    (subclasses of supported layers are not supported: they may compute
    something else)."""
    return _LAYER_KINDS.get(type(layer))


def describe(layer):
    """``layer 'name' (Class)``, for error messages."""
    return f"layer {layer.name!r} ({type(layer).__name__})"


def activation_name(activation):
    """The name of a layer's ``activation`` config entry (None is linear)."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    name = getattr(activation, "__name__", None)
    if name is None and isinstance(activation, dict):
        name = activation.get("config", activation.get("class_name"))
    return str(name)


def unsupported_layer_error(layer):
    if isinstance(layer, keras.Model):
        return NotImplementedError(
            f"{describe(layer)} is a nested model: models used as layers inside another "
            f"model are not supported by the converter; rebuild the model from the nested "
            f"model's layers (call each of its layers on the outer model's tensors) so "
            f"that the graph is flat")
    return NotImplementedError(
        f"{describe(layer)}: {type(layer).__name__} layers are not supported by the "
        f"converter; supported layer types: {', '.join(SUPPORTED_LAYERS)}")


def unsupported_activation_error(layer, activation, extra=""):
    return NotImplementedError(
        f"{describe(layer)} uses activation '{activation}', which the converter does not "
        f"support{extra}; supported activations: 'relu' (hidden and output layers), "
        f"'linear' (folded into the next layer, or an output), 'softmax' (output layers "
        f"only)")


def model_tensors(model):
    """``(inputs, outputs)``: the model's symbolic input and output tensors."""
    inputs = getattr(model, "inputs", None)
    outputs = getattr(model, "outputs", None)
    if not inputs or not outputs:
        raise RuntimeError(f"the Keras model {model.name!r} ({type(model).__name__}) "
                           "has no symbolic inputs/outputs (a subclassed keras.Model, "
                           "or a Sequential model never built on keras.Input): build "
                           "it from keras.Input(...) with the functional API "
                           "(Sequential: keras.Sequential([keras.Input(shape), ...]))")
    return list(inputs), list(outputs)


class LayerCall(NamedTuple):
    """One call of a layer in the graph: the layer, its input tensors and its
    output tensors (a layer called twice has two calls)."""
    layer: object
    inputs: list
    outputs: list


def _node_of(tensor):
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        raise RuntimeError(f"tensor {tensor} is not a Keras symbolic tensor")
    return history.operation._inbound_nodes[history.node_index]


def producer(tensor):
    """The layer whose call made ``tensor``."""
    return _node_of(tensor).operation


def layer_calls(input_tensors, output_tensors):
    """The layer calls that lead from ``input_tensors`` to ``output_tensors``,
    in topological order (``RuntimeError`` for a cycle or a layer with no
    inputs that is not an input)."""
    order, done, on_stack = [], set(), set()
    input_ids = {id(t) for t in input_tensors}
    for out in output_tensors:
        stack = [(_node_of(out), False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                on_stack.discard(id(node))
                done.add(id(node))
                order.append(node)
                continue
            on_stack.add(id(node))
            stack.append((node, True))
            for t in node.input_tensors:
                parent = _node_of(t)
                if id(parent) not in done:
                    if id(parent) in on_stack:
                        raise RuntimeError("the Keras graph has a cycle")
                    stack.append((parent, False))
    for node in order:
        if not node.input_tensors and not any(id(t) in input_ids
                                              for t in node.output_tensors):
            raise RuntimeError(f"layer {node.operation.name!r} has no inputs but is not "
                               "one of the model's inputs")
    return [LayerCall(node.operation, list(node.input_tensors), list(node.output_tensors))
            for node in order]


def pre_activation(call):
    """The pre-activation tensor of ``call``'s fused activation, or a function
    making it (a linear clone of the layer, built only when needed)."""
    layer = call.layer
    if layer_kind(layer) in ("Activation", "Softmax"):
        return call.inputs[0]

    def make():
        config = layer.get_config()
        config["activation"] = "linear"
        config["name"] = f"{layer.name}_ml_genn_linear"
        clone = type(layer).from_config(config)
        tensor = clone(call.inputs[0])
        clone.set_weights(layer.get_weights())
        return tensor
    return make
