"""The converter-independent plan of a converted network: which Keras layers
become populations, and which connections feed them.

The plan walks the Keras layer calls (:mod:`.keras_graph`) in topological
order and tracks, for every Keras tensor, a linear :class:`~.signals.Signal`.
Linear layers (``Dense``/``Conv2D``/``Conv2DTranspose`` without activation,
average pooling, ``Flatten``, ``BatchNormalization``, ``Add``, dropout)
only extend the signal; a non-linearity (ReLU, or a model output) turns it
into a :class:`PlannedPopulation` with one incoming connection per term.
``GlobalAveragePooling2D`` is an average pooling over the whole image. Every
layer type or activation outside the supported set is rejected; no layer
that changes the output is ever dropped silently. Kernels, biases and
batch-normalisation statistics must be finite (``ValueError`` naming the
layer otherwise).

Names: Keras layer names are arbitrary text (a ``.keras`` file can name a
layer ``"x\\n#include <cstdlib>..."``). The converter uses them only as the
*user-facing* names of the ``ml_genn`` populations and connections it
creates (and in error messages), so users find their layers by their Keras
names (``tf_layer_pops``, ``Population.name``, recordings keyed by
``pop.name``); ``ml_genn`` derives the engine's identifiers from those
names (``ml_genn.utils.names``). No Keras name is ever put into a model
class name, a code string, a parameter/variable name or a compiler name.
"""
from math import prod

import numpy as np

from .keras_graph import (PASS_THROUGH, activation_name, describe, layer_calls, layer_kind,
                          model_tensors, pre_activation, producer,
                          unsupported_activation_error, unsupported_layer_error)
from .signals import (Signal, average_pooled, flattened, scaled_and_shifted, summed,
                      weighted)


class PlannedPopulation:
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
        return f"PlannedPopulation({self.name}, {self.shape})"


def _check_channels_last(layer, config):
    if config.get("data_format", "channels_last") != "channels_last":
        raise NotImplementedError(f"{describe(layer)}: only data_format='channels_last' "
                                  "is supported")


def _check_conv(layer, config, ins):
    """What Conv2D and Conv2DTranspose both need: channels last, no
    dilation, a (height, width, channels) input."""
    _check_channels_last(layer, config)
    if _pair(config.get("dilation_rate", 1)) != (1, 1):
        raise NotImplementedError(f"{describe(layer)}: dilated convolutions are not "
                                  "supported")
    if len(ins[0].shape) != 3:
        raise NotImplementedError(f"{describe(layer)} needs a (height, width, "
                                  f"channels) input, got {ins[0].shape}")


def _finite_weight(layer, what, value):
    """``value`` as float64, ``ValueError`` naming the layer if not finite."""
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        n_bad = int(np.count_nonzero(~np.isfinite(value)))
        raise ValueError(f"{describe(layer)}: its {what} contains {n_bad} NaN or infinite "
                         f"value(s); a network cannot be converted from non-finite "
                         f"weights: retrain the model (or repair the weights with "
                         f"layer.set_weights) before converting")
    return value


def _pair(v):
    if isinstance(v, (list, tuple)):
        return (int(v[0]), int(v[1]))
    return (int(v), int(v))


def _kernel_bias(layer, config):
    weights = layer.get_weights()
    kernel = _finite_weight(layer, "kernel", weights[0])
    if kernel.size == 0:
        raise NotImplementedError(f"{describe(layer)} has an empty kernel (shape "
                                  f"{kernel.shape}); remove the layer")
    bias = (_finite_weight(layer, "bias", weights[1]) if config.get("use_bias", False)
            else None)
    return kernel, bias


class NetworkPlan:
    """The populations (``pops``, in creation order; ``input_pops`` and
    ``output_pops`` in the order of the model's inputs and outputs) that a
    Keras model converts to. ``validate_layer(layer, config)`` is called on
    every layer first (the converter's ``validate_tf_layer``)."""

    def __init__(self, model, validate_layer):
        self.model = model
        self.pops = []
        self._validate_layer = validate_layer
        self.input_tensors, self.output_tensors = model_tensors(model)
        calls = layer_calls(self.input_tensors, self.output_tensors)
        self._consumers = {}
        for call in calls:
            for t in call.inputs:
                self._consumers.setdefault(id(t), []).append(call)
        self._output_ids = {id(t) for t in self.output_tensors}
        self._signals = {}
        self._layer_calls = {}
        for call in calls:
            self._handle(call)
        self.input_pops = [self._signals[id(t)].pure_pop() for t in self.input_tensors]
        self.output_pops = []
        seen_outputs = set()
        for n, t in enumerate(self.output_tensors):
            if id(t) in seen_outputs:
                raise NotImplementedError(
                    f"model output {n} ({producer(t).name!r}) is listed "
                    f"more than once in the model's outputs; list each output tensor once")
            seen_outputs.add(id(t))
            sig = self._signals[id(t)]
            pop = sig.pure_pop()
            if pop is None:
                pop = self._new_pop(sig.origin, sig, t)
            elif pop.is_input:
                raise NotImplementedError(f"input layer {pop.name!r} is also a model "
                                          "output: input layers as output layers are not "
                                          "supported")
            pop.is_output = True
            self.output_pops.append(pop)

    def _feeds_outputs_only(self, tensor):
        """True if ``tensor`` only reaches model outputs, through pass-through
        layers (so a non-linearity like softmax there does not matter)."""
        consumers = self._consumers.get(id(tensor), [])
        if not consumers:
            return id(tensor) in self._output_ids
        for call in consumers:
            if layer_kind(call.layer) not in PASS_THROUGH:
                return False
            if not self._feeds_outputs_only(call.outputs[0]):
                return False
        return True

    # -- populations -------------------------------------------------------
    def _new_pop(self, layer, sig, norm_tensor):
        if any(p.layer is layer for p in self.pops):
            raise NotImplementedError(f"{describe(layer)} would need two populations "
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
                    f"{describe(layer)}: cannot connect population {t.source.name!r} of "
                    f"shape {t.source.shape} one-to-one to a population of shape {shape}")
        bias = None
        if sig.bias is not None:
            bias = np.asarray(sig.bias, dtype=np.float64).flatten()
            if not np.any(bias):
                bias = None
        depth = min(t.source.depth for t in sig.terms) + 1
        pop = PlannedPopulation(layer, shape, [t.copy() for t in sig.terms], bias, False,
                                norm_tensor, depth)
        self.pops.append(pop)
        return pop

    def _pop_signal(self, layer, sig, norm_tensor):
        return Signal.of_pop(self._new_pop(layer, sig, norm_tensor))

    # -- per-layer handling ------------------------------------------------
    def _handle(self, call):
        layer = call.layer
        kind = layer_kind(layer)
        if kind is None:
            raise unsupported_layer_error(layer)
        if id(layer) in self._layer_calls and self._layer_calls[id(layer)] is not call:
            raise NotImplementedError(f"{describe(layer)} is called more than once in the "
                                      "model (shared layers are not supported)")
        self._layer_calls[id(layer)] = call
        config = layer.get_config()
        self._validate_layer(layer, config)
        if len(call.outputs) != 1:
            raise NotImplementedError(f"{describe(layer)}: layers with several outputs are "
                                      "not supported")
        out = call.outputs[0]
        out_shape = tuple(out.shape[1:])
        if any(s is None for s in out_shape):
            raise NotImplementedError(f"{describe(layer)}: output shape {out.shape} is not "
                                      "fully defined (give keras.Input a complete shape)")
        ins = [self._signals[id(t)] for t in call.inputs]
        if kind == "InputLayer":
            sig = self._input_layer(layer, out, out_shape)
        elif kind in PASS_THROUGH:
            sig = ins[0]
        else:
            sig = getattr(self, f"_layer_{kind}")(call, config, ins, out_shape)
        self._signals[id(out)] = sig

    def _input_layer(self, layer, out, out_shape):
        if not self._consumers.get(id(out)):
            raise NotImplementedError(f"input layer {layer.name!r} has no consumers: input "
                                      "layers as output layers are not supported")
        pop = PlannedPopulation(layer, out_shape, [], None, True, out, 0)
        self.pops.append(pop)
        return Signal.of_pop(pop)

    def _activation(self, call, activation, sig):
        layer, out = call.layer, call.outputs[0]
        act = activation_name(activation)
        if act == "linear":
            return sig
        if act == "relu":
            return self._pop_signal(layer, sig, out)
        if act == "softmax":
            if not self._feeds_outputs_only(out):
                raise unsupported_activation_error(
                    layer, act, " on a hidden layer (softmax is only allowed on outputs)")
            return self._pop_signal(layer, sig, pre_activation(call))
        raise unsupported_activation_error(layer, act)

    def _layer_Activation(self, call, config, ins, out_shape):
        sig = ins[0]
        act = activation_name(config.get("activation"))
        if act == "linear":
            return sig
        return self._activation(call, act, sig.relabelled(call.layer))

    def _layer_ReLU(self, call, config, ins, out_shape):
        if (config.get("max_value") is not None or config.get("negative_slope", 0.0) != 0.0
                or config.get("threshold", 0.0) != 0.0):
            raise NotImplementedError(
                f"{describe(call.layer)}: only the plain ReLU is supported (max_value=None, "
                f"negative_slope=0, threshold=0), got max_value={config.get('max_value')}, "
                f"negative_slope={config.get('negative_slope')}, "
                f"threshold={config.get('threshold')}")
        return self._pop_signal(call.layer, ins[0].relabelled(call.layer), call.outputs[0])

    def _layer_SoftLIF(self, call, config, ins, out_shape):
        # a non-linearity: a population (only NengoConverter accepts it)
        return self._pop_signal(call.layer, ins[0].relabelled(call.layer), call.outputs[0])

    def _layer_Softmax(self, call, config, ins, out_shape):
        return self._activation(call, "softmax", ins[0].relabelled(call.layer))

    def _layer_Flatten(self, call, config, ins, out_shape):
        return flattened(call.layer, ins[0], out_shape)

    def _layer_AveragePooling2D(self, call, config, ins, out_shape):
        layer = call.layer
        _check_channels_last(layer, config)
        pool_size = _pair(config["pool_size"])
        strides = _pair(config["strides"] if config.get("strides") is not None
                        else config["pool_size"])
        if strides[0] < pool_size[0] or strides[1] < pool_size[1]:
            raise NotImplementedError(f"{describe(layer)}: pooling strides {strides} "
                                      f"smaller than the pool size {pool_size} (overlapping "
                                      "windows) are not supported")
        in_shape = ins[0].shape
        if config.get("padding", "valid") != "valid":
            valid = tuple((s - p) // st + 1 for s, p, st in zip(in_shape[:2], pool_size,
                                                                strides))
            if valid != tuple(out_shape[:2]):
                raise NotImplementedError(
                    f"{describe(layer)}: padding='same' is only supported when it pads "
                    f"nothing (input {in_shape[:2]}, pool size {pool_size}, strides "
                    f"{strides}); use padding='valid'")
        return average_pooled(layer, ins[0], pool_size, strides, out_shape, False)

    def _layer_GlobalAveragePooling2D(self, call, config, ins, out_shape):
        layer = call.layer
        _check_channels_last(layer, config)
        in_shape = ins[0].shape
        if len(in_shape) != 3:
            raise NotImplementedError(f"{describe(layer)} needs a (height, width, "
                                      f"channels) input, got {in_shape}")
        pool = (in_shape[0], in_shape[1])
        return average_pooled(layer, ins[0], pool, pool, out_shape,
                              not config.get("keepdims", False))

    def _layer_Dense(self, call, config, ins, out_shape):
        layer, sig = call.layer, ins[0]
        if len(sig.shape) != 1:
            raise NotImplementedError(f"{describe(layer)}: Dense layers need a flat input "
                                      f"(add a Flatten layer), got shape {sig.shape}")
        kernel, bias = _kernel_bias(layer, config)
        sig = weighted(layer, sig, "dense", kernel, bias, out_shape)
        return self._activation(call, config.get("activation"), sig)

    def _layer_Conv2D(self, call, config, ins, out_shape):
        layer = call.layer
        _check_conv(layer, config, ins)
        if config.get("groups", 1) != 1:
            raise NotImplementedError(f"{describe(layer)}: grouped convolutions are not "
                                      "supported")
        kernel, bias = _kernel_bias(layer, config)
        sig = weighted(layer, ins[0], "conv", kernel, bias, out_shape,
                       _pair(config["strides"]), config["padding"])
        return self._activation(call, config.get("activation"), sig)

    def _layer_Conv2DTranspose(self, call, config, ins, out_shape):
        layer = call.layer
        _check_conv(layer, config, ins)
        if config.get("output_padding") is not None:
            raise NotImplementedError(f"{describe(layer)}: output_padding is not supported")
        kernel, bias = _kernel_bias(layer, config)
        sig = weighted(layer, ins[0], "conv_t", kernel, bias, out_shape,
                       _pair(config["strides"]), config["padding"])
        return self._activation(call, config.get("activation"), sig)

    def _layer_BatchNormalization(self, call, config, ins, out_shape):
        layer, sig = call.layer, ins[0]
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if axis not in (-1, len(sig.shape)):
            raise NotImplementedError(f"{describe(layer)}: only normalisation over the "
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
            raise ValueError(f"{describe(layer)}: moving_variance + epsilon must be "
                             f"positive, got a minimum of {float(np.min(var + eps))}; fix "
                             f"the layer's statistics (retrain or recompute them)")
        scale = 1.0 / np.sqrt(var + eps)
        if gamma is not None:
            scale = scale * gamma
        shift = -mean * scale + (beta if beta is not None else 0.0)
        scale = np.broadcast_to(scale, (channels,)).astype(np.float64)
        return scaled_and_shifted(layer, sig, scale, shift, out_shape)

    def _layer_Add(self, call, config, ins, out_shape):
        return summed(call.layer, ins, out_shape)
