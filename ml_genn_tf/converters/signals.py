"""Linear signals: what a Keras tensor is in terms of spiking populations.

A *signal* is a sum of *terms*, each the spikes of one already-converted
population passed through a chain of linear operations, plus a constant
bias. Linear layers only extend a signal (the functions below); a
non-linearity turns it into a population with one incoming connection per
term (:meth:`Term.connectivity`):

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

Batch normalisation is folded into the kernel of the preceding weighted op
(per output channel) and into the bias; ``Flatten`` sets the connectivity's
``flatten`` flag (Dense connectivity takes multi-dimensional sources in
Keras' HWC flatten order); ``Add`` concatenates the terms of its inputs
(ResNet skip connections become several connections into one population).
Two weighted ops with no non-linearity between them are rejected.
"""
from copy import copy
from math import prod

import numpy as np

import keras

from ml_genn.connectivity import (AvgPool2D, AvgPoolConv2D, AvgPoolDense2D, Conv2D,
                                  Conv2DTranspose, Dense, OneToOne)

from .keras_graph import describe


class Term:
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


class Signal:
    """Sum of terms plus a bias array (or None), with the Keras shape."""

    def __init__(self, terms, bias, shape, origin):
        self.terms = terms
        self.bias = bias
        self.shape = tuple(int(s) for s in shape)
        self.origin = origin            # the Keras layer that last changed it

    @staticmethod
    def of_pop(pop):
        return Signal([Term(pop)], None, pop.shape, pop.layer)

    def pure_pop(self):
        """The population if this signal is exactly its spikes, else None."""
        if len(self.terms) == 1 and self.bias is None:
            t = self.terms[0]
            if t.is_identity and t.scale is None:
                return t.source         # (a flattened copy keeps the source's shape)
        return None

    def relabelled(self, layer):
        """The same signal, last changed by ``layer`` (an activation layer)."""
        return Signal(self.terms, self.bias, self.shape, layer)


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


def flattened(layer, sig, out_shape):
    """``sig`` through a ``Flatten`` layer."""
    terms = []
    for t in sig.terms:
        t = t.copy()
        t.flatten = True
        t.layers.append(layer.name)
        terms.append(t)
    bias = None if sig.bias is None else np.reshape(sig.bias, (-1,))
    return Signal(terms, bias, out_shape, layer)


def average_pooled(layer, sig, pool_size, strides, out_shape, flatten):
    """``sig`` through valid average pooling (then flattened if ``flatten``)."""
    if len(sig.shape) != 3:
        raise NotImplementedError(f"{describe(layer)}: pooling needs a (height, width, "
                                  f"channels) input, got shape {sig.shape}")
    terms = []
    for t in sig.terms:
        if t.flatten:
            raise NotImplementedError(f"{describe(layer)}: pooling after Flatten is "
                                      "not supported")
        if t.op is not None:
            raise NotImplementedError(
                f"{describe(layer)} follows the linear layer {t.op['layer']!r} "
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
                    f"{describe(layer)}: two average poolings without a "
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
    return Signal(terms, bias, out_shape, layer)


def weighted(layer, sig, kind, kernel, bias, out_shape, strides=None, padding=None):
    """``sig`` through a weighted op (``kind`` ``dense``, ``conv`` or
    ``conv_t``) with ``kernel`` and ``bias`` (or None)."""
    terms = []
    kernel = np.asarray(kernel, dtype=np.float64)
    for t in sig.terms:
        if t.op is not None:
            raise NotImplementedError(
                f"{describe(layer)} follows the linear layer {t.op['layer']!r} with no "
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
                raise NotImplementedError(f"{describe(layer)} after Flatten")
            if t.pool is not None and tuple(strides) != (1, 1):
                raise NotImplementedError(
                    f"{describe(layer)}: a Conv2D with strides {tuple(strides)} right "
                    "after average pooling cannot be fused (AvgPoolConv2D needs "
                    "stride 1); put a ReLU between them or use strides=1")
        elif kind == "conv_t":
            if t.flatten:
                raise NotImplementedError(f"{describe(layer)} after Flatten")
            if t.pool is not None:
                raise NotImplementedError(
                    f"{describe(layer)}: Conv2DTranspose right after average pooling "
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
    return Signal(terms, new_bias, out_shape, layer)


def scaled_and_shifted(layer, sig, scale, shift, out_shape):
    """``sig * scale + shift`` with one ``scale`` and ``shift`` per channel
    (batch normalisation), folded into the terms' kernels or scales."""
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
                    f"{describe(layer)}: batch normalisation of a flattened, pooled "
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
    return Signal(terms, bias, out_shape, layer)


def summed(layer, signals, out_shape):
    """The sum of ``signals`` (all of shape ``out_shape``)."""
    shape = tuple(out_shape)
    terms = []
    bias = None
    for sig in signals:
        if sig.shape != shape:
            raise NotImplementedError(f"{describe(layer)}: inputs of shape {sig.shape} "
                                      f"and output {shape} differ (broadcasting Add is "
                                      "not supported)")
        terms += [t.copy() for t in sig.terms]
        if sig.bias is not None:
            bias = np.array(sig.bias, dtype=np.float64) if bias is None \
                else bias + sig.bias
    for t in terms:
        t.layers.append(layer.name)
    return Signal(terms, bias, shape, layer)
