"""Communicators for data-parallel runs over several processes."""
from .communicator import Communicator
from .mpi import MPI

__all__ = ["Communicator", "MPI"]
