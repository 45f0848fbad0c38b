"""Data-parallel training over MPI: ``mpirun -np 2`` reaches the weights that
one process reaches with the whole batch (tests/mpi_training_script.py).

Each rank simulates half of every batch; the compiler sums the gradients
over the ranks (AllReduceGradients) before the optimiser, so both ranks
apply the update of the whole batch. The sums are added in a different
order than one process adds them, so the weights agree to float rounding
(amplified a little by three epochs of Adam), and the two ranks agree
exactly with each other.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mpi_training_script import weights

SCRIPT = os.path.join(os.path.dirname(__file__), "mpi_training_script.py")


def _run(cmd, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.getcwd())
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, (f"{' '.join(cmd)} failed:\n{result.stdout}\n"
                                    f"{result.stderr}")


@pytest.mark.parametrize("compiler", ["eprop", "event_prop"])
def test_two_ranks_reach_the_weights_of_one_process(compiler, tmp_path):
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        pytest.fail("mpirun not found: `make test` installs Open MPI (openmpi-bin); "
                    "install it to run the data-parallel tests")
    _run([sys.executable, SCRIPT, "--compiler", compiler, "--ranks", "1",
          "--out", str(tmp_path)], tmp_path)
    _run([mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2", sys.executable,
          SCRIPT, "--compiler", compiler, "--out", str(tmp_path)], tmp_path)
    alone = np.load(tmp_path / f"{compiler}_1_rank0.npz")
    rank0 = np.load(tmp_path / f"{compiler}_2_rank0.npz")
    rank1 = np.load(tmp_path / f"{compiler}_2_rank1.npz")
    for key, initial in zip(("g0", "g1", "g2"), weights()):
        np.testing.assert_array_equal(rank0[key], rank1[key])
        # training moved the weights by much more than the tolerance below ...
        assert np.max(np.abs(alone[key] - initial.reshape(-1))) > 1e-2
        # ... and both runs moved them the same way
        np.testing.assert_allclose(rank0[key], alone[key], rtol=1e-4, atol=1e-5)
    assert float(rank0["accuracy"]) == float(alone["accuracy"])
