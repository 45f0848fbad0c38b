"""Conversion of ANNs trained with Nengo-style activations (``SoftLIF``) to
networks of the Nengo neuron family (spiking ``LIF`` by default)."""
import inspect
from copy import deepcopy

import numpy as np

from ml_genn.neurons import (LIF, LeakyIntegrate, Neuron, RateInput, RectifiedLinear,
                             SoftLIFRate)
from ml_genn.neurons.nengo_neuron import NengoNeuron
from ml_genn.synapses import Synapse
from ml_genn.utils.model import SynapseModel
from ml_genn.utils.checks import check_positive_int, reject_unknown_kwargs

from .converter import Converter
from .keras_graph import describe, layer_kind
from .rate_coding import create_rate_compiler, create_rate_input_neuron


class NengoConverter(Converter):
    """NengoDL's recipe: train a Keras model whose hidden non-linearities are
    :class:`ml_genn_tf.layers.SoftLIF` layers (a smooth LIF rate), then run
    it with spiking LIF neurons.

    * Each ``SoftLIF`` layer becomes a population of :class:`ml_genn.neurons.LIF`
      neurons with the layer's ``tau_rc``, ``tau_ref`` and ``amplitude`` (the
      time average of a LIF's output is ``amplitude`` times its rate, the
      SoftLIF activation); each ReLU becomes :class:`ml_genn.neurons.RectifiedLinear`
      (rate; pick ``SpikingRectifiedLinear(amplitude=...)`` to spike).
      ``neurons`` picks other neurons, per layer if wanted.
    * Inputs: ``input_type="rate"`` (default) presents the data values
      themselves (:class:`ml_genn.neurons.RateInput`, like a Nengo ``Node``);
      ``"if"``, ``"poisson"``, ``"spike"``, ``"poisson_exp"`` are the
      rate-coding converters' spiking inputs (see ``InputType``; inputs must
      then be in [0, 1]).
    * Outputs (the model's output layers, linear or softmax):
      ``LeakyIntegrate(tau_mem=1e-3)``, whose ``V`` is each step's input
      current (the logits' estimate), read with ``output_readout``
      (default ``"avg_var"``, the average over the presentation; ``"var"``:
      the last step's).
    * Synapses: with ``synapse_tau`` (ms, default 5.0, NengoDL's usual
      0.005 s) each connection filters its input with Nengo's ``Lowpass``,
      ``y <- d y + (1 - d) x`` with ``d = exp(-dt / tau)`` (unit gain, so a
      constant input passes unchanged): spikes of amplitude ``1 / dt`` become
      a smooth current, as a trained SoftLIF layer expects. ``None``: no
      filter (each step's input is the previous step's output; exact for
      rate neurons).
    * Weights are the Keras kernels: every compiler delivers ``g * Out``
      from the populations of the Nengo family (their ``graded_output``),
      so the next layer receives ``W . Out`` as in Nengo (a layer's input
      arrives one step after its source's output). :meth:`create_compiler`
      gives an :class:`ml_genn.compilers.InferenceCompiler`.

    Args:
        evaluate_timesteps: time steps per example (for ``create_compiler``).
        neurons:            what each non-linear layer becomes: ``None``
                            (the defaults above); a neuron object (copied
                            for every ``SoftLIF`` layer); a neuron class of
                            the LIF family (``LIF``, ``LIFRate``,
                            ``SoftLIFRate``, ``AdaptiveLIF``...), made with
                            the layer's parameters; a function
                            ``f(tf_layer) -> neuron``; or a dict mapping
                            Keras layer names to any of those (other layers
                            keep the defaults).
        input_type:         ``"rate"`` or an ``InputType`` (see above).
        output_readout:     readout of the output populations.
        synapse_tau:        time constant (ms) of the synapses' low-pass
                            filter, or ``None`` (see above).
    """
    converts_soft_lif = True

    def __init__(self, evaluate_timesteps: int, neurons=None, input_type="rate",
                 output_readout="avg_var", synapse_tau=5.0, **kwargs):
        reject_unknown_kwargs("NengoConverter()", kwargs,
                              ("evaluate_timesteps", "neurons", "input_type",
                               "output_readout", "synapse_tau"))
        if synapse_tau is not None and not (isinstance(synapse_tau, (int, float))
                                            and np.isfinite(synapse_tau) and synapse_tau > 0):
            raise ValueError(f"NengoConverter: synapse_tau must be a positive number of ms "
                             f"or None, got {synapse_tau!r}")
        self.synapse_tau = synapse_tau
        self.evaluate_timesteps = check_positive_int("NengoConverter", "evaluate_timesteps",
                                                     evaluate_timesteps)
        if not (neurons is None or isinstance(neurons, dict) or _is_choice(neurons)):
            raise TypeError(f"NengoConverter: neurons must be None, a neuron, a neuron "
                            f"class, a function of the Keras layer or a dict of those, "
                            f"not {type(neurons).__name__}")
        if isinstance(neurons, dict):
            for name, choice in neurons.items():
                if not _is_choice(choice):
                    raise TypeError(f"NengoConverter: neurons[{name!r}] must be a neuron, "
                                    f"a neuron class or a function of the Keras layer, "
                                    f"not {type(choice).__name__}")
        self.neurons = neurons
        if input_type != "rate":
            from .checks import check_input_type
            input_type = check_input_type("NengoConverter", input_type)
        self.input_type = input_type
        self.output_readout = output_readout

    def pre_convert(self, tf_model):
        if isinstance(self.neurons, dict):
            names = {layer.name for layer in tf_model.layers}
            unknown = sorted(set(self.neurons) - names)
            if unknown:
                raise ValueError(f"NengoConverter: neurons names layers {unknown} that the "
                                 f"model does not have; its layers: {sorted(names)}")
        return None

    def create_input_neurons(self, pre_convert_output):
        if self.input_type == "rate":
            return RateInput()
        return create_rate_input_neuron(self.input_type, False)

    def create_neurons(self, tf_layer, pre_convert_output, is_output):
        kind = layer_kind(tf_layer)
        if isinstance(self.neurons, dict):
            choice = self.neurons.get(tf_layer.name)
        else:
            # one choice for every layer applies to the SoftLIF layers only
            choice = self.neurons if kind == "SoftLIF" else None
        if choice is None:
            if is_output and kind != "SoftLIF":
                return LeakyIntegrate(tau_mem=1e-3, readout=self.output_readout)
            choice = LIF if kind == "SoftLIF" else RectifiedLinear
        neuron = _make(choice, tf_layer)
        if not isinstance(neuron, Neuron):
            raise TypeError(f"NengoConverter: the neuron for {describe(tf_layer)} is a "
                            f"{type(neuron).__name__}, not an ml_genn neuron")
        if is_output and neuron.readout is None:
            neuron.readout = self.output_readout
        return neuron

    def create_synapse(self, source_tf_layer, target_tf_layer, pre_convert_output):
        return "delta" if self.synapse_tau is None else Lowpass(self.synapse_tau)

    def create_compiler(self, **kwargs):
        """An :class:`~ml_genn.compilers.InferenceCompiler` with this
        converter's ``evaluate_timesteps``; with a Lowpass synapse its filter
        state is reset between batches (``reset_in_syn_between_batches``,
        unless given), so an example's output does not depend on the batch
        it is in, as when nengo runs each example from rest."""
        if self.synapse_tau is not None:
            kwargs.setdefault("reset_in_syn_between_batches", True)
        return create_rate_compiler(self, **kwargs)


class Lowpass(Synapse):
    """Nengo's ``Lowpass`` synapse (zero-order hold): each step ``y <- d y +
    (1 - d) x`` with ``d = exp(-dt / tau)`` and ``x`` the input arriving
    this step; ``y`` is injected. GeNN names: params ``Decay``, ``Scale``."""

    def __init__(self, tau: float = 5.0):
        super().__init__()
        self.tau = float(tau)

    def get_model(self, connection, dt, batch_size):
        decay = float(np.exp(-dt / self.tau))
        return SynapseModel({"params": [("Decay", "scalar"), ("Scale", "scalar")],
                             "sim_code": "injectCurrent(inSyn * Scale);\ninSyn *= Decay;"},
                            {"Decay": decay, "Scale": 1.0 - decay})


def _is_choice(value):
    return isinstance(value, Neuron) or callable(value)


def _make(choice, tf_layer):
    """The neuron ``choice`` gives for ``tf_layer``."""
    if isinstance(choice, Neuron):
        return deepcopy(choice)
    if inspect.isclass(choice):
        if issubclass(choice, NengoNeuron) and layer_kind(tf_layer) == "SoftLIF":
            params = inspect.signature(choice.__init__).parameters
            config = {k: getattr(tf_layer, k) for k in ("tau_rc", "tau_ref", "amplitude")
                      if k in params}
            if issubclass(choice, SoftLIFRate):
                config["sigma"] = tf_layer.sigma
            return choice(**config)
        return choice()
    return choice(tf_layer)
