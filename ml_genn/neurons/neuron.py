"""Base class of every neuron type, and of those driven by an input current."""
from abc import ABC, abstractmethod

from ..utils.checks import check_no_more_kwargs
from ..utils.module import get_object


class Neuron(ABC):
    """A neuron type: ``get_model`` returns a ``utils.model.NeuronModel``."""

    def __init__(self, readout=None, **kwargs):
        # an unknown keyword argument is a TypeError naming it (not object's)
        check_no_more_kwargs(self, kwargs, Neuron)
        super().__init__(**kwargs)
        self.readout = readout

    @property
    def readout(self):
        return self._readout

    @readout.setter
    def readout(self, r):
        from ..readouts import Readout, default_readouts
        self._readout = get_object(r, Readout, "Readout", default_readouts)

    @abstractmethod
    def get_model(self, population, dt, batch_size):
        """-> utils.model.NeuronModel"""

    def add_bias(self, model, bias: str):
        """Make ``model``, what this neuron's ``get_model`` has just returned,
        add the code expression ``bias`` to the neuron's input.

        The neuron owns where a bias enters its equations, so code that
        biases neurons (the Keras converters) never edits their code
        strings. Neurons driven by an input current (:class:`CurrentNeuron`)
        integrate ``Isyn + bias``; ``FewSpikeRelu`` adds ``bias`` to the
        value it decodes each presentation; others cannot take a bias.
        """
        raise NotImplementedError(
            f"{type(self).__name__} neurons cannot take a bias: only neurons driven by an "
            f"input current (IntegrateFire, LeakyIntegrateFire, LeakyIntegrate, "
            f"AdaptiveLeakyIntegrateFire) and FewSpikeRelu can")

    def get_readout(self, genn_pop, batch_size, shape):
        if self.readout is None:
            raise RuntimeError("this neuron has no readout; give readout=... to make its "
                               "population an output")
        return self.readout.get_readout(genn_pop, batch_size, shape)


class CurrentNeuron(Neuron):
    """A neuron whose ``sim_code`` is ``sim_code_for("Isyn")``: driven by the
    input current ``Isyn``, it takes a bias as a constant part of that
    current (``sim_code_for("(Isyn + bias)")``)."""

    @abstractmethod
    def sim_code_for(self, input_current: str) -> str:
        """The ``sim_code`` of this neuron driven by the code expression
        ``input_current``."""

    def add_bias(self, model, bias: str):
        if model.model.get("sim_code") != self.sim_code_for("Isyn"):
            # input neurons (driven by data) and subclasses that change the code
            raise NotImplementedError(
                f"{type(self).__name__} neurons cannot take a bias: their sim_code is not "
                f"driven by Isyn as {type(self).__name__}.sim_code_for('Isyn') says (a "
                f"subclass that changes the sim_code must override add_bias)")
        model.model["sim_code"] = self.sim_code_for(f"(Isyn + {bias})")
