"""Base class of connectivity: weights, delays and the synapse layout."""
from abc import ABC, abstractmethod

from ..utils.value import ValueDescriptor


class Connectivity(ABC):
    weight = ValueDescriptor("g")
    delay = ValueDescriptor("d", constraint="non_negative")

    def __init__(self, weight, delay):
        self.weight = weight
        self.delay = delay

    @abstractmethod
    def connect(self, source, target):
        """Infer or check shapes when the Connection is made."""

    @abstractmethod
    def get_snippet(self, connection, supported_matrix_type):
        """-> utils.snippet.ConnectivitySnippet"""
