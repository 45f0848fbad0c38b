"""Keras 3 -> ml_genn conversion: the graph walk shared by every converter.

The converter walks the Keras graph from ``model.inputs`` to
``model.outputs`` and tracks, for every Keras tensor, a *linear signal*: a
sum of terms, each the spikes of one already-converted population passed
through a chain of linear operations, plus a constant bias. Linear layers
(``Dense``/``Conv2D``/``Conv2DTranspose`` without activation, average
pooling, ``Flatten``, ``BatchNormalization``, ``Add``, dropout) only extend
the signal; a non-linearity (ReLU, or a model output) turns the signal into
a population with one incoming connection per term:

=========================================  ===========================================
term (chain of linear operations)          ml_genn connectivity
=========================================  ===========================================
nothing (the source population itself)     ``OneToOne`` (weight 1, or BN scales)
average pooling                            ``AvgPool2D`` (``AvgPoolConv2D`` with a
                                           diagonal 1x1 kernel if scaled)
average pooling, then Dense                ``AvgPoolDense2D``
average pooling, then Conv2D (stride 1)    ``AvgPoolConv2D``
Dense / Conv2D / Conv2DTranspose           ``Dense`` / ``Conv2D`` / ``Conv2DTranspose``
=========================================  ===========================================

``BatchNormalization`` is folded into the kernel of the preceding weighted
layer (per output channel) and into the bias; ``Flatten`` sets the
connectivity's ``flatten`` flag (Dense connectivity takes multi-dimensional
sources in Keras' HWC flatten order); ``GlobalAveragePooling2D`` is an
average pooling over the whole image. ``Add`` concatenates the terms of its
inputs (ResNet skip connections become several connections into one
population). Biases are kept: see :class:`Converter` for how neurons get
them. Two weighted layers with no non-linearity between them are rejected,
as is every layer type or activation outside the supported set; no layer
that changes the output is ever dropped silently. Kernels, biases and
batch-normalisation statistics must be finite (``ValueError`` naming the
layer otherwise).

Names: Keras layer names are arbitrary text (a ``.keras`` file can name a
layer ``"x\n#include <cstdlib>..."``). The converter uses them only as the
*user-facing* names of the ``ml_genn`` populations and connections it
creates (and in error messages), so users find their layers by their Keras
names (``tf_layer_pops``, ``Population.name``, recordings keyed by
``pop.name``); ``ml_genn`` derives the engine's identifiers from those
names (``ml_genn.utils.names``). No Keras name is ever put into a model
class name, a code string, a parameter/variable name or a compiler name.
"""
import re
from copy import copy
from math import prod

import numpy as np

import keras

from ml_genn import Connection, Network, Population
from ml_genn.connectivity import (AvgPool2D, AvgPoolConv2D, AvgPoolDense2D, Conv2D,
                                  Conv2DTranspose, Dense, OneToOne)
from ml_genn.neurons import (BernoulliInput, BinarySpikeInput, IntegrateFire,
                             IntegrateFireInput, Neuron, PoissonInput, default_neurons)
from ml_genn.compilers import InferenceCompiler
from ml_genn.utils.module import get_object

from ml_genn.utils.checks import reject_unknown_kwargs
from .checks import check_finite_data
from .enum import InputType

__all__ = ["Converter", "SUPPORTED_LAYERS", "SUPPORTED_ACTIVATIONS",
           "RelativeResetIntegrateFire", "RelativeResetIntegrateFireInput",
           "SignedIntegrateFireInput", "iter_norm_batches", "with_bias"]

# Layers that are identities at inference time
_PASS_THROUGH = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                 "GaussianNoise", "GaussianDropout", "AlphaDropout",
                 "ActivityRegularization", "Identity")
_CONVERTED = ("Activation", "Add", "AveragePooling2D", "BatchNormalization", "Conv2D",
              "Conv2DTranspose", "Dense", "Flatten", "GlobalAveragePooling2D", "InputLayer",
              "ReLU", "Softmax")
#: Names of the Keras layer classes the converters accept
SUPPORTED_LAYERS = tuple(sorted(_CONVERTED + _PASS_THROUGH))
#: Activations accepted on Dense/Conv2D/Conv2DTranspose/Activation layers
SUPPORTED_ACTIVATIONS = ("linear", "relu", "softmax")


def _layer_class_map():
    classes = {}
    for name in SUPPORTED_LAYERS:
        cls = getattr(keras.layers, name, None)
        if cls is not None:
            classes[cls] = name
    return classes


def _describe(layer):
    return f"layer {layer.name!r} ({type(layer).__name__})"


def unsupported_layer_error(layer):
    if isinstance(layer, keras.Model):
        return NotImplementedError(
            f"{_describe(layer)} is a nested model: models used as layers inside another "
            f"model are not supported by the converter; rebuild the model from the nested "
            f"model's layers (call each of its layers on the outer model's tensors) so "
            f"that the graph is flat")
    return NotImplementedError(
        f"{_describe(layer)}: {type(layer).__name__} layers are not supported by the "
        f"converter; supported layer types: {', '.join(SUPPORTED_LAYERS)}")


def _activation_name(layer, activation):
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    name = getattr(activation, "__name__", None)
    if name is None and isinstance(activation, dict):
        name = activation.get("config", activation.get("class_name"))
    return str(name)


def unsupported_activation_error(layer, activation, extra=""):
    return NotImplementedError(
        f"{_describe(layer)} uses activation '{activation}', which the converter does not "
        f"support{extra}; supported activations: 'relu' (hidden and output layers), "
        f"'linear' (folded into the next layer, or an output), 'softmax' (output layers "
        f"only)")


# ---------------------------------------------------------------------------
# Normalisation data
# ---------------------------------------------------------------------------
def _to_numpy(x):
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def iter_norm_batches(norm_data, input_shape=None, max_batch=256):
    """Yield the ``x`` arrays of normalisation data, each ``(n,) + input_shape``.

    Accepted forms (upstream passes ``[dataset]``): a list/tuple whose first
    element is the data source, or the data source itself. A data source is
    an array of examples, an ``(x, y)`` tuple, or an iterable (e.g. a
    ``tf.data.Dataset``) of ``x`` or ``(x, y)`` batches. Arrays are cut into
    batches of at most ``max_batch`` examples. ``ValueError`` if an ``x``
    batch does not have the model's input shape.
    """
    src = norm_data
    if isinstance(src, list) and len(src) > 0:
        src = src[0]
    elif isinstance(src, tuple) and len(src) > 0 and not _is_array_like(src[0]):
        src = src[0]
    if isinstance(src, tuple) and len(src) in (1, 2) and _is_array_like(src[0]):
        src = src[0]
    if _is_array_like(src):
        x = _to_numpy(src)
        _check_norm_shape(x, input_shape)
        check_finite_data("normalisation data", x, "norm_data")
        for i in range(0, len(x), max_batch):
            yield x[i:i + max_batch]
        return
    if not hasattr(src, "__iter__"):
        raise ValueError(f"normalisation data must be an array of examples, an (x, y) pair "
                         f"or an iterable of batches, got {type(src).__name__}")
    for i, item in enumerate(src):
        x = item[0] if isinstance(item, (tuple, list)) else item
        x = _to_numpy(x)
        _check_norm_shape(x, input_shape)
        check_finite_data("normalisation data", x, f"norm_data (batch {i})")
        yield x


def _is_array_like(x):
    return isinstance(x, np.ndarray) or (hasattr(x, "numpy") and hasattr(x, "shape")
                                         and hasattr(x, "dtype"))


def _check_norm_shape(x, input_shape):
    if input_shape is None:
        return
    if x.ndim != len(input_shape) + 1 or tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(f"normalisation data has shape {tuple(x.shape)}, but the model "
                         f"input expects (batch,) + {tuple(input_shape)}")


# ---------------------------------------------------------------------------
# Linear signals
# ---------------------------------------------------------------------------
class _PendingPop:
    """A population to be created (once the converter's hooks have run)."""

    def __init__(self, layer, shape, terms, bias, is_input, norm_tensor, depth):
        self.layer = layer
        self.name = layer.name
        self.shape = tuple(int(s) for s in shape)
        self.terms = terms
        self.bias = bias            # None or a flat array, one value per neuron
        self.is_input = is_input
        self.is_output = False
        # Keras tensor (or a function making one) whose maximum over the
        # normalisation data is the population's largest activation
        self.norm_tensor = norm_tensor
        self.depth = depth          # shortest path (in connections) from an input
        self.population = None

    def __repr__(self):
        return f"_PendingPop({self.name}, {self.shape})"


class _Term:
    """Spikes of ``source`` through ``[scale] [pool] [weighted op] [flatten]``.

    ``scale`` is a factor per channel (or, for a flattened image, per
    element; folded into the weights as soon as there is a weighted op),
    ``pool`` is ``(size, strides)``, ``op`` is a dict with ``kind`` in
    ``dense``/``conv``/``conv_t`` and the (folded) kernel. ``shape`` is the
    term's output shape before flattening."""

    def __init__(self, source):
        self.source = source
        self.shape = source.shape
        self.flatten = False
        self.scale = None
        self.pool = None
        self.op = None
        self.layers = []

    def copy(self):
        t = copy(self)
        t.layers = list(self.layers)
        if t.op is not None:
            t.op = dict(t.op)
        return t

    @property
    def out_shape(self):
        return (prod(self.shape),) if self.flatten else self.shape

    @property
    def is_identity(self):
        return self.op is None and self.pool is None

    def max_weight(self):
        return None if self.op is None else float(np.max(self.op["weight"]))

    def connectivity(self, target_shape, factor=1.0):
        """The ml_genn connectivity of this term into a target of
        ``target_shape``, weights multiplied by ``factor``."""
        src_shape = self.source.shape
        flatten = len(target_shape) == 1 and len(self.shape) == 3
        if self.is_identity:
            if self.scale is None:
                weight = float(factor)
            else:       # one factor per channel, or per neuron (after Flatten)
                weight = (np.resize(self.scale, prod(src_shape)) * factor).astype(np.float32)
            return OneToOne(weight=weight)
        if self.op is None:
            pool_size, pool_strides = self.pool
            if self.scale is None and factor == 1.0:
                return AvgPool2D(pool_size, flatten=flatten, pool_strides=pool_strides)
            channels = src_shape[-1]
            scale = np.ones(channels) if self.scale is None else self.scale
            kernel = np.diag(scale * factor).reshape(1, 1, channels, channels)
            return AvgPoolConv2D(kernel.astype(np.float32), channels, pool_size, 1,
                                 flatten=flatten, pool_strides=pool_strides)
        op = self.op
        weight = (op["weight"] * factor).astype(np.float32)
        if op["kind"] == "dense":
            if self.pool is not None:
                return AvgPoolDense2D(weight, self.pool[0], pool_strides=self.pool[1])
            return Dense(weight=weight)
        if op["kind"] == "conv":
            if self.pool is not None:
                return AvgPoolConv2D(weight, weight.shape[3], self.pool[0], weight.shape[:2],
                                     flatten=flatten, pool_strides=self.pool[1],
                                     conv_padding=op["padding"])
            return Conv2D(weight=weight, filters=weight.shape[3], conv_size=weight.shape[:2],
                          flatten=flatten, conv_strides=op["strides"],
                          conv_padding=op["padding"])
        return Conv2DTranspose(weight=weight, filters=weight.shape[2],
                               conv_size=weight.shape[:2], flatten=flatten,
                               conv_strides=op["strides"], conv_padding=op["padding"])


class _Signal:
    """Sum of terms plus a bias array (or None), with the Keras shape."""

    def __init__(self, terms, bias, shape, origin):
        self.terms = terms
        self.bias = bias
        self.shape = tuple(int(s) for s in shape)
        self.origin = origin            # the Keras layer that last changed it

    @staticmethod
    def of_pop(pop):
        return _Signal([_Term(pop)], None, pop.shape, pop.layer)

    def pure_pop(self):
        """The population if this signal is exactly its spikes, else None."""
        if len(self.terms) == 1 and self.bias is None:
            t = self.terms[0]
            if t.is_identity and t.scale is None:
                return t.source         # (a flattened copy keeps the source's shape)
        return None


def _check_channels_last(layer, config):
    if config.get("data_format", "channels_last") != "channels_last":
        raise NotImplementedError(f"{_describe(layer)}: only data_format='channels_last' "
                                  "is supported")


def _check_conv(layer, config, ins):
    """What Conv2D and Conv2DTranspose both need: channels last, no
    dilation, a (height, width, channels) input."""
    _check_channels_last(layer, config)
    if _pair(config.get("dilation_rate", 1)) != (1, 1):
        raise NotImplementedError(f"{_describe(layer)}: dilated convolutions are not "
                                  "supported")
    if len(ins[0].shape) != 3:
        raise NotImplementedError(f"{_describe(layer)} needs a (height, width, "
                                  f"channels) input, got {ins[0].shape}")


def _finite_weight(layer, what, value):
    """``value`` as float64, ``ValueError`` naming the layer if not finite."""
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        n_bad = int(np.count_nonzero(~np.isfinite(value)))
        raise ValueError(f"{_describe(layer)}: its {what} contains {n_bad} NaN or infinite "
                         f"value(s); a network cannot be converted from non-finite "
                         f"weights: retrain the model (or repair the weights with "
                         f"layer.set_weights) before converting")
    return value


def _pair(v):
    if isinstance(v, (list, tuple)):
        return (int(v[0]), int(v[1]))
    return (int(v), int(v))


def _avg_pool_np(x, pool_size, strides):
    """Valid average pooling of an (h, w, c) array."""
    (ph, pw), (sh, sw) = pool_size, strides
    h, w, c = x.shape
    oh, ow = (h - ph) // sh + 1, (w - pw) // sw + 1
    out = np.empty((oh, ow, c), dtype=np.float64)
    for i in range(oh):
        for j in range(ow):
            out[i, j] = x[i * sh:i * sh + ph, j * sw:j * sw + pw].mean(axis=(0, 1))
    return out


def _conv_np(x, kernel, strides, padding, transpose=False):
    """Keras' own (transposed) convolution of one (h, w, c) array."""
    xb = keras.ops.convert_to_tensor(x[None].astype(np.float32))
    k = keras.ops.convert_to_tensor(kernel.astype(np.float32))
    if transpose:
        y = keras.ops.conv_transpose(xb, k, strides=strides, padding=padding)
    else:
        y = keras.ops.conv(xb, k, strides=strides, padding=padding)
    return keras.ops.convert_to_numpy(y)[0].astype(np.float64)


class _KerasGraph:
    """The converter-independent analysis of a Keras model."""

    def __init__(self, model, converter):
        self.model = model
        self.converter = converter
        self.pops = []
        self._classes = _layer_class_map()
        inputs = getattr(model, "inputs", None)
        outputs = getattr(model, "outputs", None)
        if not inputs or not outputs:
            raise RuntimeError(f"the Keras model {model.name!r} ({type(model).__name__}) "
                               "has no symbolic inputs/outputs (a subclassed keras.Model, "
                               "or a Sequential model never built on keras.Input): build "
                               "it from keras.Input(...) with the functional API "
                               "(Sequential: keras.Sequential([keras.Input(shape), ...]))")
        self.input_tensors = list(inputs)
        self.output_tensors = list(outputs)
        nodes = self._topological_nodes()
        self._consumers = {}
        for node in nodes:
            for t in node.input_tensors:
                self._consumers.setdefault(id(t), []).append(node)
        self._output_ids = {id(t) for t in self.output_tensors}
        self._signals = {}
        self._layer_nodes = {}
        for node in nodes:
            self._handle(node)
        self.input_pops = [self._signals[id(t)].pure_pop() for t in self.input_tensors]
        self.output_pops = []
        seen_outputs = set()
        for n, t in enumerate(self.output_tensors):
            if id(t) in seen_outputs:
                raise NotImplementedError(
                    f"model output {n} ({self._node_of(t).operation.name!r}) is listed "
                    f"more than once in the model's outputs; list each output tensor once")
            seen_outputs.add(id(t))
            sig = self._signals[id(t)]
            pop = sig.pure_pop()
            if pop is None:
                pop = self._new_pop(sig.origin, sig, t, t)
            elif pop.is_input:
                raise NotImplementedError(f"input layer {pop.name!r} is also a model "
                                          "output: input layers as output layers are not "
                                          "supported")
            pop.is_output = True
            self.output_pops.append(pop)

    # -- graph traversal ---------------------------------------------------
    @staticmethod
    def _node_of(tensor):
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            raise RuntimeError(f"tensor {tensor} is not a Keras symbolic tensor")
        return history.operation._inbound_nodes[history.node_index]

    def _topological_nodes(self):
        order, done, on_stack = [], set(), set()
        input_ids = {id(t) for t in self.input_tensors}
        for out in self.output_tensors:
            stack = [(self._node_of(out), False)]
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
                    parent = self._node_of(t)
                    if id(parent) not in done:
                        if id(parent) in on_stack:
                            raise RuntimeError("the Keras graph has a cycle")
                        stack.append((parent, False))
        for node in order:
            if not node.input_tensors and not any(id(t) in input_ids
                                                  for t in node.output_tensors):
                raise RuntimeError(f"layer {node.operation.name!r} has no inputs but is not "
                                   "one of the model's inputs")
        return order

    def _feeds_outputs_only(self, tensor):
        """True if ``tensor`` only reaches model outputs, through pass-through
        layers (so a non-linearity like softmax there does not matter)."""
        consumers = self._consumers.get(id(tensor), [])
        if not consumers:
            return id(tensor) in self._output_ids
        for node in consumers:
            if self._classes.get(type(node.operation)) not in _PASS_THROUGH:
                return False
            if not self._feeds_outputs_only(node.output_tensors[0]):
                return False
        return True

    # -- populations -------------------------------------------------------
    def _new_pop(self, layer, sig, tensor, norm_tensor):
        if any(p.layer is layer for p in self.pops):
            raise NotImplementedError(f"{_describe(layer)} would need two populations "
                                      "(is the layer shared, i.e. called twice?)")
        shape = sig.shape
        identity = [t for t in sig.terms if t.is_identity]
        if identity and len(identity) == len(sig.terms):
            # only (possibly flattened) copies of populations: a flattened copy
            # keeps the source's shape (Dense connectivity reads it in HWC order)
            shapes = {t.source.shape for t in identity}
            if len(shapes) == 1:
                src_shape = shapes.pop()
                if prod(src_shape) == prod(shape):
                    shape = src_shape
        for t in identity:
            if t.source.shape != shape:
                raise NotImplementedError(
                    f"{_describe(layer)}: cannot connect population {t.source.name!r} of "
                    f"shape {t.source.shape} one-to-one to a population of shape {shape}")
        bias = None
        if sig.bias is not None:
            bias = np.asarray(sig.bias, dtype=np.float64).flatten()
            if not np.any(bias):
                bias = None
        depth = min(t.source.depth for t in sig.terms) + 1
        pop = _PendingPop(layer, shape, [t.copy() for t in sig.terms], bias, False,
                          norm_tensor, depth)
        self.pops.append(pop)
        return pop

    def _pop_signal(self, layer, sig, tensor, norm_tensor):
        return _Signal.of_pop(self._new_pop(layer, sig, tensor, norm_tensor))

    # -- per-layer handling ------------------------------------------------
    def _handle(self, node):
        layer = node.operation
        kind = self._classes.get(type(layer))
        if kind is None:
            raise unsupported_layer_error(layer)
        if id(layer) in self._layer_nodes and self._layer_nodes[id(layer)] is not node:
            raise NotImplementedError(f"{_describe(layer)} is called more than once in the "
                                      "model (shared layers are not supported)")
        self._layer_nodes[id(layer)] = node
        config = layer.get_config()
        self.converter.validate_tf_layer(layer, config)
        if len(node.output_tensors) != 1:
            raise NotImplementedError(f"{_describe(layer)}: layers with several outputs are "
                                      "not supported")
        out = node.output_tensors[0]
        out_shape = tuple(out.shape[1:])
        if any(s is None for s in out_shape):
            raise NotImplementedError(f"{_describe(layer)}: output shape {out.shape} is not "
                                      "fully defined (give keras.Input a complete shape)")
        ins = [self._signals[id(t)] for t in node.input_tensors]
        handler = getattr(self, f"_layer_{kind}", None)
        if kind == "InputLayer":
            sig = self._input_layer(layer, out, out_shape)
        elif kind in _PASS_THROUGH:
            sig = ins[0]
        else:
            sig = handler(node, layer, config, ins, out, out_shape)
        self._signals[id(out)] = sig

    def _input_layer(self, layer, out, out_shape):
        if not self._consumers.get(id(out)):
            raise NotImplementedError(f"input layer {layer.name!r} has no consumers: input "
                                      "layers as output layers are not supported")
        pop = _PendingPop(layer, out_shape, [], None, True, out, 0)
        self.pops.append(pop)
        return _Signal.of_pop(pop)

    def _activation(self, node, layer, activation, sig, out, out_shape):
        act = _activation_name(layer, activation)
        if act == "linear":
            return sig
        if act == "relu":
            return self._pop_signal(layer, sig, out, out)
        if act == "softmax":
            if not self._feeds_outputs_only(out):
                raise unsupported_activation_error(
                    layer, act, " on a hidden layer (softmax is only allowed on outputs)")
            return self._pop_signal(layer, sig, out, self._linear_tensor(node, layer))
        raise unsupported_activation_error(layer, act)

    def _linear_tensor(self, node, layer):
        """A function making the pre-activation tensor of a fused activation."""
        kind = self._classes.get(type(layer))
        if kind in ("Activation", "Softmax"):
            return node.input_tensors[0]

        def make():
            config = layer.get_config()
            config["activation"] = "linear"
            config["name"] = f"{layer.name}_ml_genn_linear"
            clone = type(layer).from_config(config)
            tensor = clone(node.input_tensors[0])
            clone.set_weights(layer.get_weights())
            return tensor
        return make

    def _layer_Activation(self, node, layer, config, ins, out, out_shape):
        sig = ins[0]
        act = _activation_name(layer, config.get("activation"))
        if act == "linear":
            return sig
        sig = _Signal(sig.terms, sig.bias, sig.shape, layer)
        return self._activation(node, layer, act, sig, out, out_shape)

    def _layer_ReLU(self, node, layer, config, ins, out, out_shape):
        if (config.get("max_value") is not None or config.get("negative_slope", 0.0) != 0.0
                or config.get("threshold", 0.0) != 0.0):
            raise NotImplementedError(
                f"{_describe(layer)}: only the plain ReLU is supported (max_value=None, "
                f"negative_slope=0, threshold=0), got max_value={config.get('max_value')}, "
                f"negative_slope={config.get('negative_slope')}, "
                f"threshold={config.get('threshold')}")
        sig = _Signal(ins[0].terms, ins[0].bias, ins[0].shape, layer)
        return self._pop_signal(layer, sig, out, out)

    def _layer_Softmax(self, node, layer, config, ins, out, out_shape):
        sig = _Signal(ins[0].terms, ins[0].bias, ins[0].shape, layer)
        return self._activation(node, layer, "softmax", sig, out, out_shape)

    def _layer_Flatten(self, node, layer, config, ins, out, out_shape):
        sig = ins[0]
        terms = []
        for t in sig.terms:
            t = t.copy()
            t.flatten = True
            t.layers.append(layer.name)
            terms.append(t)
        bias = None if sig.bias is None else np.reshape(sig.bias, (-1,))
        return _Signal(terms, bias, out_shape, layer)

    def _pool(self, layer, sig, pool_size, strides, out_shape, flatten):
        if len(sig.shape) != 3:
            raise NotImplementedError(f"{_describe(layer)}: pooling needs a (height, width, "
                                      f"channels) input, got shape {sig.shape}")
        terms = []
        for t in sig.terms:
            if t.flatten:
                raise NotImplementedError(f"{_describe(layer)}: pooling after Flatten is "
                                          "not supported")
            if t.op is not None:
                raise NotImplementedError(
                    f"{_describe(layer)} follows the linear layer {t.op['layer']!r} "
                    "directly: average pooling after a weighted layer without a "
                    "non-linearity in between is not supported (put a ReLU before the "
                    "pooling)")
            t = t.copy()
            if t.pool is None:
                t.pool = (pool_size, strides)
            else:
                # pooling tiles (stride = size) then pooling them again is
                # one pooling of the original image
                (p1, s1) = t.pool
                if p1 != s1:
                    raise NotImplementedError(
                        f"{_describe(layer)}: two average poolings without a "
                        "non-linearity in between are only supported when the first "
                        "one's strides equal its pool size")
                t.pool = ((p1[0] * pool_size[0], p1[1] * pool_size[1]),
                          (p1[0] * strides[0], p1[1] * strides[1]))
            (ph, pw), (sh, sw) = pool_size, strides
            h, w, c = t.shape
            t.shape = ((h - ph) // sh + 1, (w - pw) // sw + 1, c)
            t.flatten = flatten
            t.layers.append(layer.name)
            terms.append(t)
        bias = None
        if sig.bias is not None:
            bias = _avg_pool_np(np.asarray(sig.bias), pool_size, strides)
            if flatten:
                bias = bias.reshape(-1)
        return _Signal(terms, bias, out_shape, layer)

    def _layer_AveragePooling2D(self, node, layer, config, ins, out, out_shape):
        _check_channels_last(layer, config)
        pool_size = _pair(config["pool_size"])
        strides = _pair(config["strides"] if config.get("strides") is not None
                        else config["pool_size"])
        if strides[0] < pool_size[0] or strides[1] < pool_size[1]:
            raise NotImplementedError(f"{_describe(layer)}: pooling strides {strides} "
                                      f"smaller than the pool size {pool_size} (overlapping "
                                      "windows) are not supported")
        in_shape = ins[0].shape
        if config.get("padding", "valid") != "valid":
            valid = tuple((s - p) // st + 1 for s, p, st in zip(in_shape[:2], pool_size,
                                                                strides))
            if valid != tuple(out_shape[:2]):
                raise NotImplementedError(
                    f"{_describe(layer)}: padding='same' is only supported when it pads "
                    f"nothing (input {in_shape[:2]}, pool size {pool_size}, strides "
                    f"{strides}); use padding='valid'")
        return self._pool(layer, ins[0], pool_size, strides, out_shape, False)

    def _layer_GlobalAveragePooling2D(self, node, layer, config, ins, out, out_shape):
        _check_channels_last(layer, config)
        in_shape = ins[0].shape
        if len(in_shape) != 3:
            raise NotImplementedError(f"{_describe(layer)} needs a (height, width, "
                                      f"channels) input, got {in_shape}")
        pool = (in_shape[0], in_shape[1])
        return self._pool(layer, ins[0], pool, pool, out_shape,
                          not config.get("keepdims", False))

    def _weighted(self, layer, sig, kind, kernel, bias, out_shape, strides=None,
                  padding=None):
        """Append a weighted op to every term of ``sig``."""
        terms = []
        kernel = np.asarray(kernel, dtype=np.float64)
        for t in sig.terms:
            if t.op is not None:
                raise NotImplementedError(
                    f"{_describe(layer)} follows the linear layer {t.op['layer']!r} with no "
                    "non-linearity in between; give that layer activation='relu' (or merge "
                    "the two layers)")
            t = t.copy()
            w = kernel.copy()
            if t.scale is not None:
                if kind == "dense":
                    w *= np.resize(t.scale, w.shape[0])[:, None]
                elif kind == "conv":
                    w *= t.scale[None, None, :, None]
                else:
                    w *= t.scale[None, None, None, :]
                t.scale = None
            if kind == "conv":
                if t.flatten:
                    raise NotImplementedError(f"{_describe(layer)} after Flatten")
                if t.pool is not None and tuple(strides) != (1, 1):
                    raise NotImplementedError(
                        f"{_describe(layer)}: a Conv2D with strides {tuple(strides)} right "
                        "after average pooling cannot be fused (AvgPoolConv2D needs "
                        "stride 1); put a ReLU between them or use strides=1")
            elif kind == "conv_t":
                if t.flatten:
                    raise NotImplementedError(f"{_describe(layer)} after Flatten")
                if t.pool is not None:
                    raise NotImplementedError(
                        f"{_describe(layer)}: Conv2DTranspose right after average pooling "
                        "is not supported; put a ReLU between them")
            t.op = {"kind": kind, "weight": w, "strides": strides, "padding": padding,
                    "layer": layer.name}
            t.shape = tuple(out_shape)
            t.flatten = False
            t.layers.append(layer.name)
            terms.append(t)
        new_bias = None
        if sig.bias is not None:
            b = np.asarray(sig.bias, dtype=np.float64)
            if kind == "dense":
                new_bias = b.reshape(-1) @ kernel
            else:
                new_bias = _conv_np(b, kernel, strides, padding, transpose=(kind == "conv_t"))
        if bias is not None:
            bias = np.asarray(bias, dtype=np.float64)
            new_bias = (np.broadcast_to(bias, out_shape).astype(np.float64)
                        if new_bias is None else new_bias + bias)
        return _Signal(terms, new_bias, out_shape, layer)

    @staticmethod
    def _kernel_bias(layer, config):
        weights = layer.get_weights()
        kernel = _finite_weight(layer, "kernel", weights[0])
        if kernel.size == 0:
            raise NotImplementedError(f"{_describe(layer)} has an empty kernel (shape "
                                      f"{kernel.shape}); remove the layer")
        bias = (_finite_weight(layer, "bias", weights[1]) if config.get("use_bias", False)
                else None)
        return kernel, bias

    def _layer_Dense(self, node, layer, config, ins, out, out_shape):
        sig = ins[0]
        if len(sig.shape) != 1:
            raise NotImplementedError(f"{_describe(layer)}: Dense layers need a flat input "
                                      f"(add a Flatten layer), got shape {sig.shape}")
        kernel, bias = self._kernel_bias(layer, config)
        sig = self._weighted(layer, sig, "dense", kernel, bias, out_shape)
        return self._activation(node, layer, config.get("activation"), sig, out, out_shape)

    def _layer_Conv2D(self, node, layer, config, ins, out, out_shape):
        _check_conv(layer, config, ins)
        if config.get("groups", 1) != 1:
            raise NotImplementedError(f"{_describe(layer)}: grouped convolutions are not "
                                      "supported")
        kernel, bias = self._kernel_bias(layer, config)
        sig = self._weighted(layer, ins[0], "conv", kernel, bias, out_shape,
                             _pair(config["strides"]), config["padding"])
        return self._activation(node, layer, config.get("activation"), sig, out, out_shape)

    def _layer_Conv2DTranspose(self, node, layer, config, ins, out, out_shape):
        _check_conv(layer, config, ins)
        if config.get("output_padding") is not None:
            raise NotImplementedError(f"{_describe(layer)}: output_padding is not supported")
        kernel, bias = self._kernel_bias(layer, config)
        sig = self._weighted(layer, ins[0], "conv_t", kernel, bias, out_shape,
                             _pair(config["strides"]), config["padding"])
        return self._activation(node, layer, config.get("activation"), sig, out, out_shape)

    def _layer_BatchNormalization(self, node, layer, config, ins, out, out_shape):
        sig = ins[0]
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if axis not in (-1, len(sig.shape)):
            raise NotImplementedError(f"{_describe(layer)}: only normalisation over the "
                                      f"last (channel) axis is supported, got axis={axis}")
        weights = layer.get_weights()
        i = 0
        channels = sig.shape[-1]
        gamma = beta = None
        if config.get("scale", True):
            gamma = np.asarray(weights[i], dtype=np.float64)
            i += 1
        if config.get("center", True):
            beta = np.asarray(weights[i], dtype=np.float64)
            i += 1
        mean = np.asarray(weights[i], dtype=np.float64)
        var = np.asarray(weights[i + 1], dtype=np.float64)
        for what, value in (("gamma", gamma), ("beta", beta), ("moving_mean", mean),
                            ("moving_variance", var)):
            if value is not None:
                _finite_weight(layer, what, value)
        eps = float(config.get("epsilon", 1e-3))
        if np.any(var + eps <= 0.0):
            raise ValueError(f"{_describe(layer)}: moving_variance + epsilon must be "
                             f"positive, got a minimum of {float(np.min(var + eps))}; fix "
                             f"the layer's statistics (retrain or recompute them)")
        scale = 1.0 / np.sqrt(var + eps)
        if gamma is not None:
            scale = scale * gamma
        shift = -mean * scale + (beta if beta is not None else 0.0)
        scale = np.broadcast_to(scale, (channels,)).astype(np.float64)
        terms = []
        for t in sig.terms:
            t = t.copy()
            if t.op is not None:
                w = t.op["weight"].copy()
                if t.op["kind"] == "dense":
                    w *= scale[None, :]
                elif t.op["kind"] == "conv":
                    w *= scale[None, None, None, :]
                else:
                    w *= scale[None, None, :, None]
                t.op["weight"] = w
            elif t.flatten and len(t.shape) == 3 and t.shape[0] * t.shape[1] != 1:
                # one factor per element of the flattened image
                if t.pool is not None:
                    raise NotImplementedError(
                        f"{_describe(layer)}: batch normalisation of a flattened, pooled "
                        "image without a weighted layer in between is not supported")
                old = np.ones(t.shape[-1]) if t.scale is None else t.scale
                t.scale = np.resize(old, scale.size) * scale
            else:
                t.scale = scale.copy() if t.scale is None else t.scale * scale
            t.layers.append(layer.name)
            terms.append(t)
        bias = np.broadcast_to(shift, sig.shape).astype(np.float64)
        if sig.bias is not None:
            bias = np.asarray(sig.bias) * scale + bias
        return _Signal(terms, bias, out_shape, layer)

    def _layer_Add(self, node, layer, config, ins, out, out_shape):
        shape = tuple(out_shape)
        terms = []
        bias = None
        for sig in ins:
            if sig.shape != shape:
                raise NotImplementedError(f"{_describe(layer)}: inputs of shape {sig.shape} "
                                          f"and output {shape} differ (broadcasting Add is "
                                          "not supported)")
            terms += [t.copy() for t in sig.terms]
            if sig.bias is not None:
                bias = np.array(sig.bias, dtype=np.float64) if bias is None \
                    else bias + sig.bias
        for t in terms:
            t.layers.append(layer.name)
        return _Signal(terms, bias, shape, layer)


# ---------------------------------------------------------------------------
# Biased neurons
# ---------------------------------------------------------------------------
class _BiasMixin:
    """Adds a constant per-neuron input ``TfBias`` (the Keras bias).

    * Integrate-and-fire style neurons (whose ``sim_code`` reads ``Isyn``):
      every occurrence of ``Isyn`` becomes ``Isyn + TfBias * TfBiasScale``
      from step ``tf_bias_start`` on (the population's distance from the
      input, i.e. the first step its inputs' spikes can arrive); so over a
      presentation the bias is integrated like a constant input current.
    * ``FewSpikeRelu``: the accumulator ``Fx`` restarts every presentation at
      ``TfBias`` instead of 0, so the re-encoded value is
      ``relu(sum w x + b)`` and an output's ``Fx`` readout includes ``b``.

    ``TfBiasScale`` (1.0) is there for :func:`spike_normalise`.
    """
    tf_bias = 0.0
    tf_bias_start = 0
    tf_bias_scale = 1.0

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        return add_bias_to_model(model, self.tf_bias, self.tf_bias_start,
                                 self.tf_bias_scale, dt, type(self).__name__)


def add_bias_to_model(model, bias, start_step, bias_scale, dt, description):
    bias = np.asarray(bias, dtype=np.float32)
    value = float(bias.flat[0]) if bias.size and np.all(bias == bias.flat[0]) else bias
    sim = model.model.get("sim_code", "")
    names = [v[0] for v in model.model.get("vars", [])]
    if "Fx" in names and "Fx = 0.0;" in sim:
        model.model["sim_code"] = sim.replace("Fx = 0.0;", "Fx = TfBias * TfBiasScale;")
    elif re.search(r"\bIsyn\b", sim):
        sim = re.sub(r"\bIsyn\b", "(Isyn + TfBiasIn)", sim)
        model.model["sim_code"] = (
            "const scalar TfBiasIn = (t >= TfBiasStart) ? (TfBias * TfBiasScale) : 0.0;\n"
            + sim)
        model.add_param("TfBiasStart", "scalar", (start_step - 0.5) * dt)
    else:
        raise NotImplementedError(f"cannot add a bias to {description} neurons (their model "
                                  "neither integrates Isyn nor is a FewSpikeRelu)")
    model.add_param("TfBias", "scalar", value)
    model.add_param("TfBiasScale", "scalar", float(bias_scale))
    return model


_biased_classes = {}


def _biased_class(cls):
    if issubclass(cls, _BiasMixin):
        return cls
    if cls not in _biased_classes:
        _biased_classes[cls] = type(f"Biased{cls.__name__}", (_BiasMixin, cls),
                                    {"__module__": __name__,
                                     "__doc__": f"{cls.__name__} plus a constant bias "
                                                "input (see _BiasMixin)."})
    return _biased_classes[cls]


def with_bias(neuron, bias, start_step=0):
    """A copy of ``neuron`` whose class also adds ``bias`` (see _BiasMixin)."""
    cls = _biased_class(type(neuron))
    new = cls.__new__(cls)
    new.__dict__.update(neuron.__dict__)
    new.tf_bias = np.asarray(bias, dtype=np.float32)
    new.tf_bias_start = int(start_step)
    new.tf_bias_scale = 1.0
    return new


# ---------------------------------------------------------------------------
# Integrate-and-fire neurons that reset by subtraction
# ---------------------------------------------------------------------------
_RELATIVE_RESET = "V -= (Vthresh - Vreset);"


class RelativeResetIntegrateFire(IntegrateFire):
    """``IntegrateFire`` that resets by subtraction, ``V <- V - (Vthresh -
    Vreset)``, keeping the charge above threshold (Rueckauer et al. 2017):
    its spike count over ``T`` steps is ``floor(sum of inputs / Vthresh)``,
    so rates follow ReLU activations without the rounding down of the
    reset to ``Vreset``."""

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        model.model["reset_code"] = _RELATIVE_RESET
        return model


class RelativeResetIntegrateFireInput(IntegrateFireInput):
    """``IntegrateFireInput`` that resets by subtraction (see
    :class:`RelativeResetIntegrateFire`): an input ``x`` in [0, 1] gives
    ``floor(n x)`` spikes in ``n`` steps."""

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        model.model["reset_code"] = _RELATIVE_RESET
        return model


class SignedIntegrateFireInput(IntegrateFireInput):
    """``IntegrateFireInput`` that also integrates negative inputs into
    negative spikes: a spike-like event (delivering ``-w``) when
    ``V <= -Vthresh``, after which ``V`` is reset as a positive spike's
    mirror image (``V <- -Vreset``, or ``V <- V + (Vthresh - Vreset)`` with
    ``relative_reset``). Static input only."""

    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, relative_reset=False):
        super().__init__(v_thresh=v_thresh, v_reset=v_reset, v=v)
        self.relative_reset = relative_reset

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        if self.relative_reset:
            model.model["reset_code"] = _RELATIVE_RESET
            negative_reset = "V += (Vthresh - Vreset);"
        else:
            negative_reset = "V = -Vreset;"
        model.model["sim_code"] = (f"if (V <= -Vthresh) {{\n    {negative_reset}\n}}\n"
                                   + model.model["sim_code"])
        model.model["negative_threshold_condition_code"] = "V <= -Vthresh"
        return model


def create_rate_input_neuron(input_type, signed_input, relative_reset=True):
    """The input neuron of the rate-coding converters (Simple, DataNorm).

    ``InputType.POISSON`` gives a :class:`BernoulliInput` (spike probability
    ``min(|x|, 1)`` per step, proportional to the normalised input), not
    upstream's :class:`PoissonInput` (``1 - exp(-|x| dt)``, which squashes
    the inputs): that one is ``InputType.POISSON_EXP``."""
    input_type = InputType(input_type)
    if input_type == InputType.SPIKE:
        return BinarySpikeInput(signed_spikes=signed_input)
    if input_type == InputType.POISSON:
        return BernoulliInput(signed_spikes=signed_input)
    if input_type == InputType.POISSON_EXP:
        return PoissonInput(signed_spikes=signed_input)
    if signed_input:
        return SignedIntegrateFireInput(relative_reset=relative_reset)
    return RelativeResetIntegrateFireInput() if relative_reset else IntegrateFireInput()


def check_compiler_kwargs(converter, kwargs, fixed):
    """``TypeError`` if ``create_compiler`` is given an argument that the
    converter sets itself."""
    name = type(converter).__name__
    for key in fixed:
        if key in kwargs:
            raise TypeError(f"{name}.create_compiler() got {key}={kwargs[key]!r}, but {key} "
                            f"is set by the converter ({name}({key}=...)); pass it to the "
                            f"converter's constructor instead")


def create_rate_compiler(converter, **kwargs):
    """``InferenceCompiler(evaluate_timesteps=converter.evaluate_timesteps,
    **kwargs)`` (Simple, DataNorm)."""
    check_compiler_kwargs(converter, kwargs, ("evaluate_timesteps",))
    return InferenceCompiler(evaluate_timesteps=converter.evaluate_timesteps, **kwargs)


def create_rate_neuron(v_thresh, is_output, relative_reset=True):
    """The hidden/output neuron of the rate-coding converters."""
    cls = RelativeResetIntegrateFire if relative_reset else IntegrateFire
    return cls(v_thresh=v_thresh, readout="spike_count" if is_output else None)


# ---------------------------------------------------------------------------
# The converter base class
# ---------------------------------------------------------------------------
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
    hooks), ``post_convert(network, inputs, outputs)``,
    ``create_compiler(**kwargs)``, ``validate_tf_layer(tf_layer, config)``
    and the scale hooks ``get_weight_scale`` / ``get_bias_scale``.

    Biases (upstream mlGeNN rejects ``use_bias=True``): the bias of a
    population (Keras biases and folded batch-normalisation shifts, times
    ``get_bias_scale``) is added to the neuron ``create_neurons`` returns, by
    making it an instance of a subclass of its class (``Biased<Class>``) that
    adds a constant input current from the step the population's first
    input spikes can arrive (integrate-and-fire style neurons), or adds the
    bias to the accumulated pre-activation (``FewSpikeRelu``). Any neuron
    class whose ``sim_code`` integrates ``Isyn`` works.
    """

    # -- hooks ------------------------------------------------------------
    def pre_convert(self, tf_model):
        return None

    def create_input_neurons(self, pre_convert_output):
        raise NotImplementedError

    def create_neurons(self, tf_layer, pre_convert_output, is_output):
        raise NotImplementedError

    def post_convert(self, network, inputs, outputs):
        pass

    def create_compiler(self, **kwargs):
        return InferenceCompiler(**kwargs)

    def get_weight_scale(self, source_tf_layer, target_tf_layer, pre_convert_output):
        """Factor applied to the weights from the population of
        ``source_tf_layer`` to the population of ``target_tf_layer``."""
        return 1.0

    def get_bias_scale(self, tf_layer, pre_convert_output):
        """Factor applied to the bias of the population of ``tf_layer``."""
        return 1.0

    def validate_tf_layer(self, tf_layer, config):
        """Reject unsupported layer types and activations (NotImplementedError
        naming the layer, its type and the supported set). Softmax on hidden
        layers and configuration details are checked during conversion."""
        cls_name = _layer_class_map().get(type(tf_layer))
        if cls_name is None:
            raise unsupported_layer_error(tf_layer)
        if cls_name in ("Dense", "Conv2D", "Conv2DTranspose", "Activation"):
            act = _activation_name(tf_layer, config.get("activation"))
            if act not in SUPPORTED_ACTIVATIONS:
                raise unsupported_activation_error(tf_layer, act)
        if cls_name == "Softmax":
            axis = config.get("axis", -1)
            if axis not in (-1, [-1], (-1,)):
                raise NotImplementedError(f"{_describe(tf_layer)}: only softmax over the "
                                          "last axis is supported")

    # -- conversion -------------------------------------------------------
    def _get_graph(self, tf_model):
        """The (cached) converter-independent analysis of ``tf_model``."""
        cached = getattr(self, "_tf_graph", None)
        if cached is not None and cached.model is tf_model:
            return cached
        self._tf_graph = _KerasGraph(tf_model, self)
        return self._tf_graph

    def convert(self, tf_model, **kwargs):
        """-> ``(network, inputs, outputs, tf_layer_pops)`` (see the class)."""
        reject_unknown_kwargs(f"{type(self).__name__}.convert()", kwargs, ())
        if not isinstance(tf_model, keras.Model):
            hint = (" (load a saved model with keras.models.load_model(path) first)"
                    if isinstance(tf_model, (str, bytes)) or hasattr(tf_model, "__fspath__")
                    else "")
            raise TypeError(f"{type(self).__name__}.convert() needs a keras.Model, got "
                            f"{type(tf_model).__name__}{hint}")
        self._tf_graph = None
        graph = self._get_graph(tf_model)
        try:
            pre_convert_output = self.pre_convert(tf_model)
            network = Network()
            tf_layer_pops = {}
            conn_names = set()
            with network:
                for pp in graph.pops:
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
                        Connection(term.source.population, pop,
                                   term.connectivity(pp.shape, factor), name=name)
            inputs = [pp.population for pp in graph.input_pops]
            outputs = [pp.population for pp in graph.output_pops]
            self.post_convert(network, inputs, outputs)
            return network, inputs, outputs, tf_layer_pops
        finally:
            self._tf_graph = None


# ---------------------------------------------------------------------------
# Helpers for the normalising converters
# ---------------------------------------------------------------------------
def norm_maxima(graph, norm_data, abs_input=False):
    """Max over the normalisation data of every population's activation.

    -> ``(maxima, input_max)``: ``maxima`` maps each non-input pending
    population to the max of its activation (ReLU output, or pre-activation
    for linear/softmax outputs); ``input_max`` is the max of ``x`` (or of
    ``|x|`` with ``abs_input``)."""
    if len(graph.input_tensors) != 1:
        raise NotImplementedError("normalisation data is only supported for models with "
                                  "one input")
    input_shape = tuple(graph.input_tensors[0].shape[1:])
    pops = [p for p in graph.pops if not p.is_input]
    tensors, index, pop_index = [], {}, {}
    for p in pops:
        t = p.norm_tensor() if callable(p.norm_tensor) else p.norm_tensor
        if id(t) not in index:
            index[id(t)] = len(tensors)
            tensors.append(t)
        pop_index[p] = index[id(t)]
    norm_model = (keras.Model(inputs=graph.input_tensors[0], outputs=tensors) if tensors
                  else None)
    maxima = [-np.inf] * len(tensors)
    input_max = -np.inf
    seen = False
    for x in iter_norm_batches(norm_data, input_shape):
        if len(x) == 0:
            continue
        seen = True
        x = x.astype(np.float32)
        input_max = max(input_max, float(np.max(np.abs(x) if abs_input else x)))
        if norm_model is None:
            continue
        outs = norm_model(x, training=False)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        for i, o in enumerate(outs):
            maxima[i] = max(maxima[i], float(np.max(keras.ops.convert_to_numpy(o))))
    if not seen:
        raise ValueError("the normalisation data contains no examples")
    for p, i in pop_index.items():
        if not np.isfinite(maxima[i]):
            raise ValueError(f"{_describe(p.layer)}: its largest activation over the "
                             f"normalisation data is {maxima[i]} (the Keras model "
                             f"overflows); check the model's weights and the data's scale")
    return {p: maxima[i] for p, i in pop_index.items()}, input_max
