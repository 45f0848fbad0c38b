"""Callbacks of EventProp training: the ``Trial`` index the output adjoints
read, the schedules of the gradient custom updates (every batch end but an
epoch's first, the first only), and the ring-buffer overflow check of
``strict_buffer_checking``."""
import numpy as np

from ...callbacks import Callback, CustomUpdateOnBatchEnd, CustomUpdateOnTimestepBegin


class UpdateTrial(Callback):
    """Set the dynamic parameter ``Trial`` of an output population to the
    batch index at the start of every batch (the loss drive of the backward
    pass is off while it is 0)."""

    def __init__(self, genn_pop):
        self.genn_pop = genn_pop

    def on_batch_begin(self, batch: int):
        self.genn_pop.set_dynamic_param_value("Trial", batch)


class CustomUpdateOnLastTimestep(CustomUpdateOnTimestepBegin):
    """Run a custom-update group at the start of the last time step of every
    example. Kept for code written against upstream; this compiler clears
    the synaptic state at the start of each batch instead (exact, and it
    lets a batch run in one native call)."""

    def __init__(self, name: str, example_timesteps: int):
        super().__init__(name, lambda timestep: timestep == example_timesteps - 1)


class CustomUpdateOnBatchEndNotFirst(CustomUpdateOnBatchEnd):
    """Run a custom-update group at the end of every batch but the first of
    an epoch (whose backward pass belonged to the previous epoch)."""

    def __init__(self, name: str):
        super().__init__(name, lambda batch: batch != 0)


class CustomUpdateOnFirstBatchEnd(CustomUpdateOnBatchEnd):
    """Run a custom-update group at the end of the first batch of an epoch."""

    def __init__(self, name: str):
        super().__init__(name, lambda batch: batch == 0)


class _CheckRingOverflow(Callback):
    """``strict_buffer_checking``: after each batch, fail if a neuron had more
    spikes in one trial than its ring buffer holds."""

    def __init__(self, pops, max_spikes):
        self.pops = pops        # [(Population, engine group)]
        self.max_spikes = max_spikes

    def on_batch_end(self, batch: int, metrics):
        for pop, genn_pop in self.pops:
            var = genn_pop.vars["RingDropped"]
            var.pull_from_device()
            dropped = int(np.sum(var.view))
            if dropped:
                raise RuntimeError(
                    f"EventPropCompiler: population '{pop.name}' had {dropped} spike(s) "
                    f"beyond max_spikes={self.max_spikes} per neuron in one trial; their "
                    "gradient would be lost: raise max_spikes (strict_buffer_checking=True "
                    "reports this)")
