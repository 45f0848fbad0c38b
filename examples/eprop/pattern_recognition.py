"""e-prop pattern recognition (Bellec et al. 2020): a recurrent network of
256 leaky integrate-and-fire neurons learns to produce three target traces,
each a sum of sinusoids, from a fixed pattern of input spikes.

Input: 20 channels in 5 groups of 4; group g fires Poisson-like (100 Hz)
during [200 g, 200 g + 200) ms of each 1 s example, the same spikes every
epoch (drawn once from a seeded generator). Targets: each of 3 outputs is
a sum of sinusoids of 1, 2 and 3 Hz with fixed random amplitudes and
phases. Training: mean squared error, Adam(0.003), firing-rate
regularisation c_reg = 3, one example (batch 1) per epoch.

Prints a table (epoch, MSE of the output traces, seconds per epoch) and
writes a PNG with the target and output traces and the MSE per epoch.

    python examples/eprop/pattern_recognition.py [--epochs 100] [--out out]
"""
import argparse
import os
import time

import numpy as np

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Callback, VarRecorder
from ml_genn.compilers.eprop_compiler import EPropCompiler, default_params
from ml_genn.connectivity import Dense
from ml_genn.initializers import Normal
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.utils.data import preprocess_spikes

NUM_INPUT, NUM_HIDDEN, NUM_OUTPUT = 20, 256, 3
GROUP_SIZE, GROUP_TIME, GROUP_RATE = 4, 200, 0.1    # channels, ms, spikes per ms
EXAMPLE_TIMESTEPS = 1000                            # 1 s at dt = 1 ms
FREQUENCIES = (1.0, 2.0, 3.0)                       # Hz


def make_task(seed: int = 1234):
    """The fixed input spikes (one example) and the targets
    ``(EXAMPLE_TIMESTEPS, NUM_OUTPUT)``."""
    rng = np.random.default_rng(seed)
    step = np.arange(EXAMPLE_TIMESTEPS)
    active = (step[:, None] // GROUP_TIME) == (np.arange(NUM_INPUT)[None, :] // GROUP_SIZE)
    times, ids = np.nonzero(active & (rng.random(active.shape) < GROUP_RATE))
    spikes = preprocess_spikes(times.astype(float), ids, NUM_INPUT)
    t = step / 1000.0
    amplitude = rng.uniform(0.5, 2.0, (len(FREQUENCIES), NUM_OUTPUT))
    phase = rng.uniform(0.0, 2.0 * np.pi, (len(FREQUENCIES), NUM_OUTPUT))
    targets = sum(amplitude[i] * np.sin(2.0 * np.pi * f * t[:, None] + phase[i])
                  for i, f in enumerate(FREQUENCIES))
    return spikes, targets.astype(np.float32)


def build_network():
    """``(network, input population, output population)``."""
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=EXAMPLE_TIMESTEPS * NUM_INPUT), NUM_INPUT)
        hidden = Population(LeakyIntegrateFire(v_thresh=0.61, tau_mem=20.0, tau_refrac=5.0),
                            NUM_HIDDEN)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="var"), NUM_OUTPUT)
        Connection(inp, hidden, Dense(Normal(sd=1.0 / np.sqrt(NUM_INPUT))))
        Connection(hidden, hidden, Dense(Normal(sd=1.0 / np.sqrt(NUM_HIDDEN))))
        Connection(hidden, out, Dense(Normal(sd=1.0 / np.sqrt(NUM_HIDDEN))))
    return network, inp, out


def build_compiler(rng_seed: int = 1, **genn_kwargs):
    """The e-prop compiler of the task (``genn_kwargs`` go to the engine,
    e.g. ``num_threads=1`` or ``backend="cuda"``)."""
    return EPropCompiler(example_timesteps=EXAMPLE_TIMESTEPS, losses="mean_square_error",
                         optimiser=Adam(0.003), c_reg=3.0, batch_size=1, rng_seed=rng_seed,
                         **genn_kwargs)


class EpochLog(Callback):
    """Seconds and metric of every epoch (the "mean_square_error" metric
    of a training network with per-step targets is the MSE of the whole
    output traces, summed in the engine: no per-step recording needed)."""

    def __init__(self, out, report=None):
        self.out, self.report = out, report
        self.seconds, self.mse = [], []

    def on_epoch_begin(self, epoch):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, metrics):
        self.seconds.append(time.perf_counter() - self._start)
        self.mse.append(metrics[self.out].result)
        if self.report is not None:
            self.report(epoch, self.mse[-1], self.seconds[-1])


def train(compiled_net, inp, out, spikes, targets, epochs: int, record: bool = True,
          report=None):
    """Train for ``epochs`` epochs; returns ``(seconds per epoch, MSE per
    epoch, output traces of the last epoch)``. The traces are recorded
    (a VarRecorder, which steps one step at a time) only in the last epoch
    and only when ``record``."""
    log = EpochLog(out, report)
    x, y = {inp: [spikes]}, {out: targets[None]}
    if epochs > 1 or not record:
        compiled_net.train(x, y, num_epochs=epochs - record, shuffle=False,
                           metrics="mean_square_error", callbacks=[log])
    trace = None
    if record:
        _, data = compiled_net.train(x, y, num_epochs=1, start_epoch=epochs - 1,
                                     shuffle=False, metrics="mean_square_error",
                                     callbacks=[log, VarRecorder(out, "v", key="v")])
        trace = data["v"][0]
    return log.seconds, log.mse, trace


def plot(path, targets, trace, mse):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(NUM_OUTPUT + 1, 1, figsize=(8, 2.2 * (NUM_OUTPUT + 1)))
    for i in range(NUM_OUTPUT):
        axes[i].plot(targets[:, i], label="target")
        axes[i].plot(trace[:, i], label="output (last epoch)")
        axes[i].set_ylabel(f"output {i}")
    axes[0].legend(loc="upper right")
    axes[NUM_OUTPUT - 1].set_xlabel("time step (ms)")
    axes[NUM_OUTPUT].semilogy(np.arange(len(mse)), mse)
    axes[NUM_OUTPUT].set_xlabel("epoch")
    axes[NUM_OUTPUT].set_ylabel("MSE")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--out", default="out", help="folder of the PNG")
    args = parser.parse_args()
    spikes, targets = make_task()
    network, inp, out = build_network()
    compiled_net = build_compiler().compile(network, name="eprop_pattern_recognition")
    print(f"{'epoch':>5} {'MSE':>10} {'s/epoch':>8}")

    def report(epoch, mse, seconds):
        print(f"{epoch:>5} {mse:>10.4f} {seconds:>8.3f}", flush=True)

    with compiled_net:
        _, mse, trace = train(compiled_net, inp, out, spikes, targets, args.epochs,
                              report=report)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "eprop_pattern_recognition.png")
    plot(path, targets, trace, mse)
    print(f"variance of the targets {np.var(targets):.4f}; plot written to {path}")


if __name__ == "__main__":
    main()
