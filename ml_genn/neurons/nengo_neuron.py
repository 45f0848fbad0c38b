"""Base classes of the Nengo neuron family (``LIF``, ``LIFRate``,
``SoftLIFRate``, ``RectifiedLinear``, ``Sigmoid``, ``Tanh``,
``SpikingRectifiedLinear``, ``AdaptiveLIF``, ``AdaptiveLIFRate``,
``Izhikevich``) and of the wrappers that make a rate neuron spike
(``RegularSpiking``, ``StochasticSpiking``, ``PoissonSpiking``).

Conventions shared by the whole family (they follow Nengo, in ml_genn's
units):

* Input: each neuron's current is ``J = gain * x + bias`` with ``x`` the
  synaptic input ``Isyn`` (Nengo's gain and bias; :meth:`NengoNeuron.gain_bias`
  turns Nengo's ``max_rates``/``intercepts`` into them). A Keras bias given
  to ``add_bias`` is added to ``x``.
* Units: time constants in milliseconds like the rest of ml_genn
  (``tau_rc=20.0``, ``tau_ref=2.0`` are Nengo's 0.02 s and 0.002 s); the
  generated code works in seconds, as Nengo's ``step`` does, so that a
  population and Nengo compute the same numbers. Rates are in Hz.
* Output: the variable ``Out`` (the output variable, read by the
  ``var``/``avg_var``/``sum_var`` readouts) holds what Nengo's ``step``
  writes to ``output``: the rate in Hz for rate neurons; for spiking
  neurons ``amplitude / dt`` (dt in seconds) times the number of spikes
  emitted in the step (0 without a spike), so that its time average is
  ``amplitude`` times the firing rate in Hz.
* Spikes: spiking neurons emit an ml_genn spike in every step in which
  ``Out`` is not 0 (``threshold_condition_code``), so ``SpikeCount``,
  ``FirstSpikeTime`` and spike recording work; rate neurons have no
  threshold condition.
* Transmission: an ml_genn connection normally delivers its weight ``g``
  once per presynaptic spike. The family declares ``graded_output = True``
  and every compiler (the ``Compiler`` base class builds the weight
  update) then delivers ``g * Out`` instead, on each spike of a spiking
  neuron and each step ``Out`` is not 0 for a rate neuron (a spike-like
  event: rate neurons never spike), which is how Nengo's next layer reads a
  neuron's output. It arrives one step later, as every ml_genn spike does.
"""
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import ValueDescriptor, get_values
from .neuron import CurrentNeuron

#: Name of the output variable of every neuron of the family
OUTPUT_VAR = "Out"


def is_graded(neuron) -> bool:
    """True if ``neuron``'s output is graded (``graded_output = True``): a
    connection from its population delivers ``g * Out``, not ``g`` per
    spike (see :meth:`ml_genn.compilers.Compiler.build_weight_update_model`)."""
    return bool(getattr(neuron, "graded_output", False))


def ms_to_s(value, dt):
    """A ``ValueDescriptor`` transform: milliseconds (ml_genn) to seconds
    (the generated code). A division, so that ``20.0 / 1000.0`` is exactly
    the double nearest 0.02, as in Nengo."""
    return value / 1000.0


def per_neuron(*values) -> Tuple[np.ndarray, ...]:
    """Each of ``values`` as a float64 array of at least one dimension
    (the arguments of ``gain_bias`` and ``rates``)."""
    return tuple(np.asarray(np.atleast_1d(v), dtype=float) for v in values)


def check_max_rates(owner: str, max_rates: np.ndarray, inv_tau_ref) -> None:
    """``gain_bias``: no neuron can fire faster than ``1 / tau_ref`` (Hz)."""
    if not np.all(max_rates < inv_tau_ref):
        raise ValueError(f"{owner}.gain_bias: max_rates must be below the inverse "
                         f"refractory period ({np.min(inv_tau_ref):0.3f} Hz)")


def regular_spike_code(rate: str, amplitude: str, out: str) -> str:
    """Spikes at regular intervals (Nengo's ``SpikingRectifiedLinear`` and
    ``RegularSpiking``): ``V`` accumulates ``rate * dt``, ``n = floor(V)``
    spikes leave it and ``out = amplitude * n / dt``."""
    return (f"V += {rate} * DtS;\n"
            f"const scalar nSpikes = floor(V);\n"
            f"{out} = ({amplitude} / DtS) * nSpikes;\n"
            f"V -= nSpikes;\n")


class NengoNeuron(CurrentNeuron):
    """Base class of the Nengo neuron family (see the module docstring).

    Subclasses set :attr:`model_params` and :attr:`state_vars` and implement
    :meth:`update_code`.

    Args:
        gain:    Nengo's gain (number or one value per neuron).
        bias:    Nengo's bias current (number or one value per neuron).
        readout: readout of the population, when it is an output.
    """
    gain = ValueDescriptor("Gain")
    bias = ValueDescriptor("Bias")

    #: The output variable is a graded value the next layer reads (see the
    #: module docstring)
    graded_output = True
    #: Spiking neuron (a threshold condition on ``Out``)
    spiking = False
    #: ``Out`` can be negative
    negative = False
    #: ``(GeNN name, type)`` of the parameters besides Gain, Bias and DtS
    model_params: List[Tuple[str, str]] = []
    #: ``(GeNN name, type)`` of the state variables besides ``Out``
    state_vars: List[Tuple[str, str]] = []

    def __init__(self, gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(readout, **kwargs)
        self.gain = gain
        self.bias = bias

    # -- what subclasses provide -----------------------------------------
    def update_code(self, current: str, out: str) -> str:
        """Code of one Nengo ``step``: reads the code expression ``current``
        (J), updates the state variables and writes the output into
        ``out`` (a variable name)."""
        raise NotImplementedError

    def initial_state(self) -> Dict[str, object]:
        """Initial values of :attr:`state_vars` not given by a descriptor."""
        return {}

    # -- the model -------------------------------------------------------
    def threshold_condition(self) -> Optional[str]:
        if not self.spiking:
            return None
        return f"{OUTPUT_VAR} != 0.0" if self.negative else f"{OUTPUT_VAR} > 0.0"

    def sim_code_for(self, input_current: str) -> str:
        return (f"const scalar J = (Gain * {input_current}) + Bias;\n"
                + self.update_code("J", OUTPUT_VAR))

    def get_model(self, population, dt, batch_size):
        genn_model = {
            "params": ([("Gain", "scalar"), ("Bias", "scalar"), ("DtS", "scalar")]
                       + list(self.model_params)),
            "vars": [(OUTPUT_VAR, "scalar")] + list(self.state_vars),
            "sim_code": self.sim_code_for("Isyn")}
        threshold = self.threshold_condition()
        if threshold is not None:
            genn_model["threshold_condition_code"] = threshold
            genn_model["reset_code"] = ""
        var_vals = {OUTPUT_VAR: 0.0}
        var_vals.update(self.initial_state())
        return NeuronModel.from_val_descriptors(genn_model, OUTPUT_VAR, self, dt,
                                                param_vals={"DtS": dt / 1000.0},
                                                var_vals=var_vals)

    # -- rates, gain and bias (NumPy, Nengo's definitions) ----------------
    def rate_function(self, J: np.ndarray) -> np.ndarray:
        """Steady-state output (Hz) for input current ``J`` (NumPy, float64)."""
        raise NotImplementedError(f"{type(self).__name__} has no rate function")

    def rates(self, x, gain, bias) -> np.ndarray:
        """Nengo's ``rates``: the rates (Hz) for inputs ``x`` (shape
        ``(n_samples,)`` or ``(n_samples, n_neurons)``) given ``gain`` and
        ``bias`` (one value per neuron)."""
        x, gain, bias = per_neuron(x, gain, bias)
        if x.ndim == 1:
            x = x[:, np.newaxis]
        return self.rate_function(gain * x + bias)

    def gain_bias(self, max_rates, intercepts) -> Tuple[np.ndarray, np.ndarray]:
        """Nengo's ``gain_bias``: the gain and bias giving each neuron the
        rate ``max_rates`` (Hz) at ``x = 1`` and its firing threshold at
        ``x = intercepts``. This generic version samples :meth:`rates`
        (Nengo's numerical method); subclasses with a closed form override it.

        Args:
            max_rates:  maximum rates in Hz, one per neuron.
            intercepts: x-intercepts (in [-1, 1)), one per neuron.

        Returns:
            ``(gain, bias)``, arrays of one value per neuron; pass them to
            the neuron's constructor (``gain=..., bias=...``).
        """
        max_rates, intercepts = per_neuron(max_rates, intercepts)
        J_steps = 101
        max_rate = max_rates.max()
        one, zero = np.ones(1), np.zeros(1)
        J_threshold = J_max = None
        Jr = 10.0
        for _ in range(10):
            J = np.linspace(-Jr, Jr, J_steps)
            rate = self.rates(J, one, zero)
            if J_threshold is None and (rate <= 0).any():
                J_threshold = J[np.where(rate <= 0)[0][-1]]
            if J_max is None and (rate >= max_rate).any():
                J_max = J[np.where(rate >= max_rate)[0][0]]
            if J_threshold is not None and J_max is not None:
                break
            Jr *= 2
        else:
            raise ValueError(f"{type(self).__name__}.gain_bias: could not find the "
                             f"{'firing threshold' if J_threshold is None else 'maximum current'}")
        J = np.linspace(J_threshold, J_max, J_steps)
        rate = self.rates(J, one, zero).squeeze(axis=1)
        J_tops = np.interp(max_rates, rate, J)
        gain = (J_threshold - J_tops) / (intercepts - 1)
        bias = J_tops - gain
        return gain, bias

    def max_rates_intercepts(self, gain, bias) -> Tuple[np.ndarray, np.ndarray]:
        """Nengo's ``max_rates_intercepts``, the inverse of :meth:`gain_bias`
        (generic version: samples :meth:`rates` on [-1, 1])."""
        max_rates = self.rates(1, gain, bias).squeeze(axis=0)
        x_range = np.linspace(-1, 1, 101)
        rates = self.rates(x_range, gain, bias)
        last_zeros = np.maximum(np.argmax(rates > 0, axis=0) - 1, 0)
        return max_rates, x_range[last_zeros]


class LIFRateBase(NengoNeuron):
    """What the LIF family shares: ``tau_rc``, ``tau_ref``, ``amplitude``,
    the LIF rate function and its closed-form gain and bias."""
    tau_rc = ValueDescriptor(("TauRC", ms_to_s), constraint="positive")
    tau_ref = ValueDescriptor(("TauRef", ms_to_s), constraint="non_negative")
    amplitude = ValueDescriptor("Amplitude", constraint="positive")
    model_params = [("TauRC", "scalar"), ("TauRef", "scalar"), ("Amplitude", "scalar")]

    def __init__(self, tau_rc=20.0, tau_ref=2.0, amplitude=1.0, gain=1.0, bias=0.0,
                 readout=None, **kwargs):
        super().__init__(gain=gain, bias=bias, readout=readout, **kwargs)
        self.tau_rc = tau_rc
        self.tau_ref = tau_ref
        self.amplitude = amplitude

    def _seconds(self):
        return (np.asarray(self.tau_rc, dtype=float) / 1000.0,
                np.asarray(self.tau_ref, dtype=float) / 1000.0)

    @staticmethod
    def lif_rate_code(current: str, out: str) -> str:
        """Code of LIFRate's step (Nengo: 0 at or below ``J = 1``)."""
        return (f"const scalar jLif = {current} - 1.0;\n"
                f"{out} = (jLif > 0.0) ? (Amplitude / (TauRef + (TauRC * log1p(1.0 / jLif))))"
                f" : 0.0;\n")

    def rate_function(self, J):
        tau_rc, tau_ref = self._seconds()
        j = np.asarray(J, dtype=float) - 1.0
        out = np.zeros_like(j)
        pos = j > 0
        with np.errstate(divide="ignore"):
            rate = np.asarray(self.amplitude, dtype=float) / (
                tau_ref + tau_rc * np.log1p(1.0 / np.where(pos, j, 1.0)))
        out[pos] = np.broadcast_to(rate, j.shape)[pos]
        return out

    def gain_bias(self, max_rates, intercepts):
        """Nengo's closed form for LIF neurons (see :meth:`NengoNeuron.gain_bias`)."""
        tau_rc, tau_ref = self._seconds()
        max_rates, intercepts = per_neuron(max_rates, intercepts)
        check_max_rates(type(self).__name__, max_rates,
                        1.0 / tau_ref if np.all(tau_ref > 0) else np.inf)
        x = 1.0 / (1 - np.exp((tau_ref - (1.0 / max_rates)) / tau_rc))
        gain = (1 - x) / (intercepts - 1.0)
        bias = 1 - gain * intercepts
        return gain, bias

    def max_rates_intercepts(self, gain, bias):
        tau_rc, tau_ref = self._seconds()
        gain = np.asarray(gain, dtype=float)
        bias = np.asarray(bias, dtype=float)
        intercepts = (1 - bias) / gain
        max_rates = 1.0 / (tau_ref - tau_rc * np.log1p(1.0 / (gain * (intercepts - 1) - 1)))
        return max_rates, intercepts


class LIFSpikingBase(LIFRateBase):
    """Nengo's spiking LIF step (shared by ``LIF`` and ``AdaptiveLIF``)."""
    min_voltage = ValueDescriptor("MinVoltage")
    v = ValueDescriptor("V")
    spiking = True
    model_params = LIFRateBase.model_params + [("MinVoltage", "scalar")]
    state_vars = [("V", "scalar"), ("RefracTime", "scalar")]

    def __init__(self, tau_rc=20.0, tau_ref=2.0, min_voltage=0.0, amplitude=1.0, v=0.0,
                 gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(tau_rc=tau_rc, tau_ref=tau_ref, amplitude=amplitude, gain=gain,
                         bias=bias, readout=readout, **kwargs)
        if np.any(np.asarray(min_voltage) > 0):
            raise ValueError(f"{type(self).__name__}: min_voltage must be <= 0, got "
                             f"{min_voltage!r}")
        self.min_voltage = min_voltage
        self.v = v

    def initial_state(self):
        return {"RefracTime": 0.0}

    @staticmethod
    def lif_spiking_code(current: str, out: str) -> str:
        """Nengo's ``LIF.step``: exact sub-step refractory period and spike
        time, voltage floor ``MinVoltage``. ``RefracTime`` is in seconds."""
        return (f"RefracTime -= DtS;\n"
                f"const scalar deltaT = fmin(fmax(DtS - RefracTime, 0.0), DtS);\n"
                f"V -= ({current} - V) * expm1(-deltaT / TauRC);\n"
                f"if (V > 1.0) {{\n"
                f"    {out} = Amplitude / DtS;\n"
                f"    const scalar tSpike = DtS + (TauRC * log1p(-(V - 1.0) / "
                f"({current} - 1.0)));\n"
                f"    V = 0.0;\n"
                f"    RefracTime = TauRef + tSpike;\n"
                f"}}\n"
                f"else {{\n"
                f"    {out} = 0.0;\n"
                f"    if (V < MinVoltage) {{\n"
                f"        V = MinVoltage;\n"
                f"    }}\n"
                f"}}\n")


class TauRefRateBase(NengoNeuron):
    """What ``Sigmoid`` and ``Tanh`` share: ``tau_ref`` (ms; Nengo's
    0.0025 s), whose inverse is their largest rate."""
    tau_ref = ValueDescriptor(("TauRef", ms_to_s), constraint="positive")
    model_params = [("TauRef", "scalar")]

    @network_default_params
    def __init__(self, tau_ref: float = 2.5, gain=1.0, bias=0.0, readout=None, **kwargs):
        super().__init__(gain=gain, bias=bias, readout=readout, **kwargs)
        self.tau_ref = tau_ref

    def inv_tau_ref(self) -> np.ndarray:
        """``1 / tau_ref`` in Hz: the largest rate."""
        return 1000.0 / np.asarray(self.tau_ref, dtype=float)


class Adaptation:
    """Nengo's adaptation (mixed into ``AdaptiveLIF`` and
    ``AdaptiveLIFRate``): the neuron's step is driven by ``J - N`` and then
    ``N += (dt / tau_n) * (inc_n * Out - N)`` (dt in seconds). GeNN names:
    params ``TauN`` (seconds), ``IncN``; var ``N``."""
    tau_n = ValueDescriptor(("TauN", ms_to_s), constraint="positive")
    inc_n = ValueDescriptor("IncN", constraint="non_negative")
    n = ValueDescriptor("N")
    adaptation_params = [("TauN", "scalar"), ("IncN", "scalar")]
    adaptation_vars = [("N", "scalar")]

    @staticmethod
    def adapted_code(step_code: Callable[[str, str], str], current: str, out: str) -> str:
        """``step_code(current, out)`` (a neuron's step) driven by
        ``current - N``, followed by the adaptation's update."""
        return (f"const scalar jAdapt = {current} - N;\n"
                + step_code("jAdapt", out)
                + f"N += (DtS / TauN) * ((IncN * {out}) - N);\n")


def _base_attribute(name: str, doc: Optional[str] = None) -> property:
    """A wrapper's property reading and writing its base neuron's ``name``."""
    return property(lambda self: getattr(self.base, name),
                    lambda self, value: setattr(self.base, name, value), doc=doc)


class RatesToSpikes(NengoNeuron):
    """Base of the wrappers turning a rate neuron of the family into a
    spiking one (Nengo's ``RatesToSpikesNeuronType``).

    The base neuron's step writes its rate into the variable ``Rate`` (Hz);
    the wrapper turns ``Rate * dt`` into a number of spikes ``n`` and
    ``Out = amplitude * n / dt``. The gain, bias, tuning curves and rates
    are the base neuron's.

    Args:
        base:      a rate neuron of the family (``LIFRate``, ``SoftLIFRate``,
                   ``RectifiedLinear``, ``Sigmoid``, ``Tanh``,
                   ``AdaptiveLIFRate``).
        amplitude: scale of the output spikes.
        readout:   readout of the population, when it is an output.

    GeNN names: the base's, param ``SpikeAmplitude`` and var ``Rate``.
    """
    amplitude = ValueDescriptor("SpikeAmplitude", constraint="positive")
    spiking = True
    wrapper_params: List[Tuple[str, str]] = [("SpikeAmplitude", "scalar")]
    wrapper_vars: List[Tuple[str, str]] = []

    @network_default_params
    def __init__(self, base, amplitude: float = 1.0, readout=None, **kwargs):
        self._wrap(base, amplitude, readout, **kwargs)

    def _wrap(self, base, amplitude, readout, **kwargs):
        """What ``__init__`` does, for subclasses with more arguments
        (calling the decorated ``__init__`` would apply their network
        defaults a second time)."""
        if not isinstance(base, NengoNeuron) or isinstance(base, RatesToSpikes):
            raise TypeError(f"{type(self).__name__}: base must be a rate neuron of the "
                            f"Nengo family (LIFRate, SoftLIFRate, RectifiedLinear, Sigmoid, "
                            f"Tanh, AdaptiveLIFRate), not {type(base).__name__}")
        if base.spiking:
            raise TypeError(f"{type(self).__name__}: base {type(base).__name__} is a "
                            f"spiking neuron; wrap its rate equivalent instead")
        self.base = base
        # not NengoNeuron.__init__: gain and bias are the base's
        CurrentNeuron.__init__(self, readout, **kwargs)
        self.amplitude = amplitude

    # the base's gain and bias drive the wrapper (``_gain``/``_bias`` are
    # where NengoNeuron's descriptors read them)
    gain = _base_attribute("gain", "The base neuron's gain.")
    bias = _base_attribute("bias", "The base neuron's bias.")
    _gain = _base_attribute("gain")
    _bias = _base_attribute("bias")

    @property
    def negative(self):
        return self.base.negative

    @property
    def model_params(self):
        return list(self.base.model_params) + list(self.wrapper_params)

    @property
    def state_vars(self):
        return [("Rate", "scalar")] + list(self.base.state_vars) + list(self.wrapper_vars)

    def initial_state(self):
        return {"Rate": 0.0}

    def spike_code(self, rate: str, out: str) -> str:
        """Code turning the rate ``rate`` into the output ``out``."""
        raise NotImplementedError

    def magnitude_and_sign(self, rate: str) -> Tuple[str, str]:
        """For the random wrappers: the code expression of the rate whose
        spikes are drawn, and a factor giving the output its sign. A base
        with negative rates (``Tanh``) uses ``|rate|`` and gives the output
        the rate's sign, as Nengo; others use ``max(rate, 0)``."""
        if self.negative:
            return f"fabs({rate})", f" * (({rate} < 0.0) ? -1.0 : 1.0)"
        return f"fmax({rate}, 0.0)", ""

    def update_code(self, current, out):
        return self.base.update_code(current, "Rate") + self.spike_code("Rate", out)

    def get_model(self, population, dt, batch_size):
        model = super().get_model(population, dt, batch_size)
        # the base's parameters and state variables take the base's values
        own = {n for n, _ in self.wrapper_params} | {"DtS", "Gain", "Bias"}
        model.param_vals.update(get_values(
            self.base, [p for p in model.model["params"] if p[0] not in own], dt))
        base_vars = {n for n, _ in self.base.state_vars}
        base_vals = dict(self.base.initial_state())
        base_vals.update(get_values(
            self.base, [v for v in model.model["vars"] if v[0] in base_vars], dt))
        model.var_vals.update(base_vals)
        return model

    def rate_function(self, J):
        return self.base.rate_function(J)

    def gain_bias(self, max_rates, intercepts):
        return self.base.gain_bias(max_rates, intercepts)

    def max_rates_intercepts(self, gain, bias):
        return self.base.max_rates_intercepts(gain, bias)


__all__ = ["NengoNeuron", "LIFRateBase", "LIFSpikingBase", "TauRefRateBase", "Adaptation",
           "RatesToSpikes", "OUTPUT_VAR", "is_graded", "ms_to_s", "per_neuron",
           "check_max_rates", "regular_spike_code"]
