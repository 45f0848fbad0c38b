"""Communicator over MPI (``mpi4py.MPI.COMM_WORLD``)."""
from .communicator import Communicator


class MPI(Communicator):
    """Wraps ``mpi4py.MPI.COMM_WORLD``; raises ``ImportError`` with an
    explanation when mpi4py is not installed."""

    def __init__(self):
        try:
            from mpi4py import MPI as _mpi
        except ImportError as e:
            raise ImportError("The MPI communicator needs the mpi4py package (and an MPI "
                              "installation): pip install mpi4py") from e
        self._mpi = _mpi
        self._comm = _mpi.COMM_WORLD

    def barrier(self):
        self._comm.Barrier()

    def broadcast(self, data, root: int):
        self._comm.Bcast(data, root=root)

    def reduce_sum(self, value):
        return self._comm.allreduce(sendobj=value, op=self._mpi.SUM)

    @property
    def rank(self) -> int:
        return self._comm.Get_rank()

    @property
    def num_ranks(self) -> int:
        return self._comm.Get_size()
