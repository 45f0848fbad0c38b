"""Keras 3 -> ml_genn converters (rate coding and few-spike coding)."""
from .converter import Converter
from .data_norm import DataNorm
from .enum import InputType
from .few_spike import FewSpike
from .nengo import NengoConverter
from .simple import Simple
from .spike_norm import spike_normalise  # noqa: F401 (not in __all__, as upstream)

__all__ = ["Converter", "DataNorm", "FewSpike", "InputType", "NengoConverter", "Simple"]
