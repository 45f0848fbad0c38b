"""Base class of serialisers (checkpoint storage)."""
from abc import ABC, abstractmethod


class Serialiser(ABC):
    """Stores arrays under tuples of keys."""

    @abstractmethod
    def serialise(self, keys, data):
        """Store array ``data`` under ``keys`` (a tuple)."""

    @abstractmethod
    def deserialise(self, keys):
        """The array stored under ``keys``."""

    @abstractmethod
    def deserialise_all(self, keys) -> dict:
        """``{last key component: array}`` for everything stored under
        ``keys + (component,)``."""
