"""Keras layers for training ANNs that convert to spiking networks."""
from .soft_lif import SoftLIF

__all__ = ["SoftLIF"]
