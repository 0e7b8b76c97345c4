"""The communicator under seqnet.distribute: MPI_COMM_WORLD through mpi4py, or a single
process when mpi4py is missing (or the script was not started by mpiexec)."""
import os
import sys
import time
import traceback

import numpy as np

# Set by the common MPI launchers in every process they start.
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")

_MPI_MISSING = ("seqnet.distribute: this process was started by an MPI launcher ({var}={value}) but mpi4py is not "
                "installed, so it cannot talk to the other processes. Install it with `pip install seqnet[mpi]` "
                "(mpi4py and the mpich wheel) or `pip install mpi4py` against your system MPI.")


def launched_size():
    """The number of processes the MPI launcher says it started (1 without a launcher)."""
    for var in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(var)
        if value and value.isdigit() and int(value) > 1:
            return var, int(value)
    return None, 1


class Communicator:
    """size/rank/local_rank/local_size and the collectives seqnet uses. With one process
    every collective returns its input (nothing is imported or sent)."""

    def __init__(self):
        self.MPI = self.comm = None
        self.size, self.rank, self.local_rank, self.local_size = 1, 0, 0, 1
        try:
            from mpi4py import MPI
        except ImportError:
            var, value = launched_size()
            if value > 1:
                raise ImportError(_MPI_MISSING.format(var=var, value=value)) from None
            return
        self.MPI, self.comm = MPI, MPI.COMM_WORLD
        self.size, self.rank = self.comm.Get_size(), self.comm.Get_rank()
        if self.size > 1:
            local = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
            self.local_rank, self.local_size = local.Get_rank(), local.Get_size()
            local.Free()

    # ---- collectives ------------------------------------------------------------------------
    def allreduce_sum_(self, array):
        """Sums `array` (C-contiguous) over ranks, in place: one MPI Allreduce. MPI's
        algorithm for a given size and length is fixed, so a run is bit-reproducible."""
        if self.size > 1:
            self.comm.Allreduce(self.MPI.IN_PLACE, array, op=self.MPI.SUM)
        return array

    def allgather_rows(self, array):
        """(size, *array.shape): every rank's array, in rank order."""
        array = np.ascontiguousarray(array)
        out = np.empty((self.size,) + array.shape, dtype=array.dtype)
        if self.size == 1:
            out[0] = array
        else:
            self.comm.Allgather(array, out)
        return out

    def sum_in_order(self, array):
        """The sum over ranks of a small array, added in rank order on every rank, so the
        result is bit-identical everywhere."""
        if self.size == 1:
            return np.array(array, copy=True)
        rows = self.allgather_rows(array)
        total = rows[0].copy()
        for row in rows[1:]:
            total += row
        return total

    def bcast_(self, array, root):
        """Overwrites `array` (C-contiguous) on every rank with root's, in place."""
        if self.size > 1:
            self.comm.Bcast(array, root=root)
        return array

    def bcast_object(self, obj, root):
        return obj if self.size == 1 else self.comm.bcast(obj, root=root)

    def allgather_object(self, obj):
        return [obj] if self.size == 1 else self.comm.allgather(obj)

    def any(self, flag):
        """True on every rank if `flag` is true on any."""
        if self.size == 1:
            return bool(flag)
        return bool(self.comm.allreduce(1 if flag else 0, op=self.MPI.MAX))

    def abort(self, message, code=1):
        """Prints `message` to stderr and ends every process of the job (MPI_Abort)."""
        sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stderr.flush()
        if self.size > 1:
            time.sleep(0.5)  # lets the launcher forward the message before it kills the job
            self.comm.Abort(code)
        raise SystemExit(code)


_WORLD = [None, None]  # the Communicator, the excepthook it replaced


def world(create=True):
    """The job's Communicator, created (MPI started) on first use; None if not yet
    created and `create` is False. In a job of several processes, an uncaught exception
    on any rank then aborts them all with a message naming the rank, instead of leaving
    the others waiting."""
    if _WORLD[0] is None and create:
        comm = Communicator()
        _WORLD[0] = comm
        if comm.size > 1 and _WORLD[1] is None:
            _WORLD[1] = sys.excepthook
            sys.excepthook = _abort_on_uncaught
    return _WORLD[0]


def forget_world():
    if _WORLD[1] is not None:
        sys.excepthook, _WORLD[1] = _WORLD[1], None
    _WORLD[0] = None


def _abort_on_uncaught(exc_type, exc, tb):
    comm = _WORLD[0]
    if comm is None or comm.size == 1:
        (_WORLD[1] or sys.__excepthook__)(exc_type, exc, tb)
        return
    if exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    comm.abort(failure_message(comm.rank, comm.size, exc))


def failure_message(rank, size, exc):
    """What a failing rank prints before the job is aborted: its rank and its exception."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (f"{trace}seqnet.distribute: rank {rank} of {size} failed with {type(exc).__name__}: {exc}\n"
            f"seqnet.distribute: aborting all {size} processes (MPI_Abort) so that none waits for rank {rank}.")
