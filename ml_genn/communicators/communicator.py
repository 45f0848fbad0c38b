"""Base class of communicators (multi-process data parallelism)."""
from abc import ABC, abstractmethod


class Communicator(ABC):
    """Collective operations between the processes of one run."""

    @abstractmethod
    def barrier(self):
        """Wait until every rank reaches this point."""

    @abstractmethod
    def broadcast(self, data, root: int):
        """Copy the (array) ``data`` of rank ``root`` into ``data`` on every rank."""

    @abstractmethod
    def reduce_sum(self, value):
        """Sum of ``value`` over all ranks, returned on every rank."""

    @property
    @abstractmethod
    def rank(self) -> int:
        """This process's rank."""

    @property
    @abstractmethod
    def num_ranks(self) -> int:
        """Number of processes."""
