"""Base class of postsynaptic (synapse) models."""
from abc import ABC, abstractmethod


class Synapse(ABC):
    @abstractmethod
    def get_model(self, connection, dt, batch_size):
        """-> utils.model.SynapseModel"""
