"""Brunel-style balanced network of LIF neurons, built directly with the engine.

800 excitatory + 200 inhibitory LIF neurons with sparse random recurrent
connectivity (p = 0.1, exponential current synapses), driven by a population
of Poisson neurons. ``batch_size`` independent copies are simulated at once:
they share the connectivity but draw different random inputs.

The network settles into an asynchronous irregular state (roughly 5-30 Hz).
The script prints build/run timings and firing statistics, and saves a raster
plot of batch element 0 to ``<out>/raster.png``.

    python examples/engine_lif_network.py [--out out/] [--batch-size 4]
                                          [--duration-ms 1000]
"""
import argparse
import os
import time

import numpy as np

from ml_genn.genn import (GeNNModel, init_postsynaptic, init_sparse_connectivity,
                          init_var, init_weight_update)

try:
    from tqdm import tqdm
except ImportError:  # tqdm is a dependency of ml_genn, but keep the demo robust
    tqdm = None

DT = 0.1            # ms
NUM_EXC = 800
NUM_INH = 200
NUM_INPUT = 1000
PROB = 0.1          # connection probability for every projection
INPUT_RATE = 20.0   # Hz, per Poisson neuron
TAU_SYN = 5.0       # ms

# Weights are synaptic current jumps in nA (C = 1 nF, tau_m = 20 ms, so a
# weight w deposits w * TAU_SYN pC, i.e. a voltage jump of about 5 * w mV).
# Inhibition dominates (G > NUM_EXC / NUM_INH = 4) and the external drive alone
# brings the mean membrane potential to about threshold, so neurons fire
# irregularly, driven by fluctuations: the asynchronous irregular regime.
W_INPUT = 0.15
W_EXC = 0.4
G = 7.0             # relative strength of inhibition
W_INH = -G * W_EXC

LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": -70.0, "Vreset": -70.0,
              "Vthresh": -50.0, "Ioffset": 0.0, "TauRefrac": 2.0}


def build_model(batch_size, seed):
    model = GeNNModel("float", "brunel_lif")
    model.dt = DT
    model.batch_size = batch_size
    model.seed = seed

    lif_vars = {"V": init_var("Uniform", {"min": -70.0, "max": -50.0}),
                "RefracTime": 0.0}
    exc = model.add_neuron_population("Exc", NUM_EXC, "LIF", LIF_PARAMS, lif_vars)
    inh = model.add_neuron_population("Inh", NUM_INH, "LIF", LIF_PARAMS, lif_vars)
    inp = model.add_neuron_population("Input", NUM_INPUT, "Poisson",
                                      {"rate": INPUT_RATE}, {"timeStepToSpike": 0.0})
    for pop in (exc, inh, inp):
        pop.spike_recording_enabled = True

    syns = {}
    for src, weight in ((inp, W_INPUT), (exc, W_EXC), (inh, W_INH)):
        for trg in (exc, inh):
            name = f"{src.name}_{trg.name}"
            syns[name] = model.add_synapse_population(
                name, "SPARSE", src, trg,
                init_weight_update("StaticPulse", {}, {"g": weight}),
                init_postsynaptic("ExpCurr", {"tau": TAU_SYN}),
                init_sparse_connectivity("FixedProbability", {"prob": PROB}))
    return model, (exc, inh, inp), syns


def out_degrees(syns, pops):
    """Number of outgoing synapses of every neuron, per source population."""
    deg = {p.name: np.zeros(p.num_neurons, dtype=np.int64) for p in pops}
    for sg in syns.values():
        name = sg.src.name
        deg[name] += np.bincount(sg.get_sparse_pre_inds(), minlength=len(deg[name]))
    return deg


def save_raster(path, spikes_b0, duration_ms):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (t_e, i_e), (t_i, i_i) = spikes_b0
    fig, (ax_r, ax_h) = plt.subplots(2, 1, figsize=(10, 6), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1]})
    ax_r.scatter(t_e, i_e, s=1, c="tab:blue", marker=".", linewidths=0,
                 label=f"excitatory ({NUM_EXC})")
    ax_r.scatter(t_i, i_i + NUM_EXC, s=1, c="tab:red", marker=".", linewidths=0,
                 label=f"inhibitory ({NUM_INH})")
    ax_r.set_ylim(0, NUM_EXC + NUM_INH)
    ax_r.set_ylabel("neuron")
    ax_r.set_title("Brunel-style LIF network, batch element 0")
    ax_r.legend(loc="upper right", markerscale=8, fontsize=8)

    bin_ms = 5.0
    bins = np.arange(0.0, duration_ms + bin_ms, bin_ms)
    for times, n, colour, label in ((t_e, NUM_EXC, "tab:blue", "exc"),
                                    (t_i, NUM_INH, "tab:red", "inh")):
        counts, _ = np.histogram(times, bins)
        rate = counts / (n * bin_ms * 1e-3)
        ax_h.step(bins[:-1], rate, where="post", color=colour, label=label)
    ax_h.set_xlim(0, duration_ms)
    ax_h.set_ylim(0, ax_h.get_ylim()[1] * 1.3)  # room for the legend
    ax_h.set_xlabel("time (ms)")
    ax_h.set_ylabel(f"rate (Hz, {bin_ms:g} ms bins)")
    ax_h.legend(loc="upper right", fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out/", help="output directory (default out/)")
    parser.add_argument("--batch-size", type=int, default=4,
                        help="independent copies simulated together (default 4)")
    parser.add_argument("--duration-ms", type=float, default=1000.0,
                        help="simulated time in ms (default 1000)")
    parser.add_argument("--chunks", type=int, default=10,
                        help="run in this many chunks, decoding spikes after each "
                             "(default 10)")
    parser.add_argument("--seed", type=int, default=1234, help="RNG seed")
    parser.add_argument("--no-plot", action="store_true", help="skip raster.png")
    args = parser.parse_args()
    if args.batch_size < 1 or args.duration_ms <= 0 or args.chunks < 1:
        parser.error("--batch-size and --chunks must be >= 1, --duration-ms > 0")

    os.makedirs(args.out, exist_ok=True)
    total_steps = int(round(args.duration_ms / DT))
    chunk_steps = -(-total_steps // args.chunks)  # ceil
    num_chunks = -(-total_steps // chunk_steps)
    total_steps = num_chunks * chunk_steps
    duration_ms = total_steps * DT

    model, pops, syns = build_model(args.batch_size, args.seed)
    model.build()
    # The recording buffer holds one chunk; spikes are decoded after each chunk.
    model.load(num_recording_timesteps=chunk_steps)

    spikes = {p.name: [([], []) for _ in range(args.batch_size)] for p in pops}
    chunk_iter = range(num_chunks)
    if tqdm is not None:
        chunk_iter = tqdm(chunk_iter, desc="simulating", unit="chunk",
                          postfix={"steps/chunk": chunk_steps})
    run_time = 0.0
    decode_time = 0.0
    for _ in chunk_iter:
        t0 = time.perf_counter()
        model.run(chunk_steps)
        t1 = time.perf_counter()
        model.pull_recording_buffers_from_device()
        for p in pops:
            for b, (t, i) in enumerate(p.spike_recording_data):
                spikes[p.name][b][0].append(t)
                spikes[p.name][b][1].append(i)
        run_time += t1 - t0
        decode_time += time.perf_counter() - t1
    spikes = {name: [(np.concatenate(t), np.concatenate(i)) for t, i in per_batch]
              for name, per_batch in spikes.items()}

    # statistics ---------------------------------------------------------
    deg = out_degrees(syns, pops)
    dur_s = duration_ms * 1e-3
    syn_events = np.zeros(args.batch_size, dtype=np.int64)
    for name, per_batch in spikes.items():
        for b, (_, ids) in enumerate(per_batch):
            syn_events[b] += deg[name][ids].sum()
    num_syn = sum(len(sg.get_sparse_pre_inds()) for sg in syns.values())

    def row(label, value):
        print(f"  {label:<38}{value}")

    print()
    print(f"Brunel-style LIF network: {NUM_EXC} exc + {NUM_INH} inh LIF, "
          f"{NUM_INPUT} Poisson inputs @ {INPUT_RATE:g} Hz, {num_syn} synapses")
    print(f"batch size {args.batch_size}, dt {DT} ms, {duration_ms:g} ms simulated "
          f"in {num_chunks} chunk(s) of {chunk_steps} steps, backend "
          f"{model.backend_name}")
    print("-" * 72)
    row("build time", f"{model.build_time:.3f} s "
        f"({'cache hit' if model.cache_hit else 'compiled'})")
    row("run time (native, all chunks)", f"{run_time:.3f} s "
        f"({duration_ms / 1e3 * args.batch_size / run_time:.1f}x real time "
        f"x batch)")
    row("spike decode time", f"{decode_time:.3f} s")
    for b in range(args.batch_size):
        n_e = len(spikes["Exc"][b][0])
        n_i = len(spikes["Inh"][b][0])
        n_in = len(spikes["Input"][b][0])
        row(f"spikes, batch element {b}", f"exc {n_e:>6}  inh {n_i:>6}  input {n_in:>6}")
    for p in pops:
        rates = [len(spikes[p.name][b][0]) / (p.num_neurons * dur_s)
                 for b in range(args.batch_size)]
        row(f"mean rate {p.name}", f"{np.mean(rates):6.2f} Hz "
            f"(per element: {', '.join(f'{r:.2f}' for r in rates)})")
    row("synaptic events (all elements)", f"{syn_events.sum():,}")
    row("synaptic events / s simulated / elem", f"{syn_events.mean() / dur_s:,.0f}")
    row("synaptic events / s wall time", f"{syn_events.sum() / run_time:,.0f}")
    print("-" * 72)
    print(f"generated source: {model.source_path}")

    if not args.no_plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("raster plot:      skipped (pip install matplotlib)")
            return
        path = os.path.join(args.out, "raster.png")
        save_raster(path, (spikes["Exc"][0], spikes["Inh"][0]), duration_ms)
        print(f"raster plot:      {path}")


if __name__ == "__main__":
    main()
