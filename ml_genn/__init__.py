"""ml_genn: spiking neural networks from Python, compiled to native code.

The model-building API is compatible with mlGeNN 2.x; models run on the
package's own engine, :mod:`ml_genn.genn`.
"""
import importlib as _importlib

from . import (callbacks, communicators, compilers, connectivity, initializers, losses,
               metrics, neurons, optimisers, readouts, serialisers, synapses, utils)
from .connection import Connection
from .layer import InputLayer, Layer
from .network import Network
from .population import Population
from .sequential_network import SequentialNetwork

# importing ml_genn makes every utility module available (ml_genn.utils.data, ...)
for _name in ("callback_list", "connectivity", "data", "decorators", "filter", "model",
              "module", "names", "network", "snippet", "value"):
    _importlib.import_module(f"{__name__}.utils.{_name}")

__all__ = ["Connection", "InputLayer", "Layer", "Network", "Population",
           "SequentialNetwork", "callbacks", "communicators", "compilers", "connectivity",
           "initializers", "losses", "metrics", "neurons", "optimisers", "readouts",
           "serialisers", "synapses", "utils"]
