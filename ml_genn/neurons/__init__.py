"""Neuron models."""
from .adaptive_leaky_integrate_fire import AdaptiveLeakyIntegrateFire
from .binary_spike_input import BinarySpikeInput
from .few_spike_relu import FewSpikeRelu
from .few_spike_relu_input import FewSpikeReluInput
from .input import Input, InputBase  # noqa: F401 (InputBase: for user input neurons)
from .integrate_fire import IntegrateFire
from .integrate_fire_input import IntegrateFireInput
from .leaky_integrate import LeakyIntegrate
from .leaky_integrate_fire import LeakyIntegrateFire
from .leaky_integrate_fire_input import LeakyIntegrateFireInput
from .neuron import Neuron
from .poisson_input import PoissonInput
from .spike_input import SpikeInput

from ..utils.module import get_module_classes

default_neurons = get_module_classes(globals(), Neuron)
from .bernoulli_input import BernoulliInput  # noqa: E402,F401 (not in upstream's registry)
# The Nengo neuron family (not in upstream's registry nor __all__; see nengo_neuron)
from .adaptive_lif import AdaptiveLIF  # noqa: E402,F401
from .adaptive_lif_rate import AdaptiveLIFRate  # noqa: E402,F401
from .izhikevich import Izhikevich  # noqa: E402,F401
from .lif import LIF  # noqa: E402,F401
from .lif_rate import LIFRate  # noqa: E402,F401
from .poisson_spiking import PoissonSpiking  # noqa: E402,F401
from .rate_input import RateInput  # noqa: E402,F401
from .rectified_linear import RectifiedLinear  # noqa: E402,F401
from .regular_spiking import RegularSpiking  # noqa: E402,F401
from .sigmoid import Sigmoid  # noqa: E402,F401
from .soft_lif_rate import SoftLIFRate  # noqa: E402,F401
from .spiking_rectified_linear import SpikingRectifiedLinear  # noqa: E402,F401
from .stochastic_spiking import StochasticSpiking  # noqa: E402,F401
from .tanh import Tanh  # noqa: E402,F401

__all__ = ["AdaptiveLeakyIntegrateFire", "BinarySpikeInput", "FewSpikeRelu",
           "FewSpikeReluInput", "Input", "IntegrateFire", "IntegrateFireInput",
           "LeakyIntegrate", "LeakyIntegrateFire", "LeakyIntegrateFireInput", "Neuron",
           "PoissonInput", "SpikeInput", "default_neurons"]
