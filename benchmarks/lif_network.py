"""Benchmark: the standard recurrent LIF network on the engine's CPU backend.

1000 LIF neurons (tau 20 ms, rest/reset -65 mV, threshold -50 mV, refractory
2 ms), constant drive per neuron uniform in 16..20 mV, recurrent connection
probability 0.1, weights uniform in 0..0.1 mV added to V, dt 0.1 ms, 1 s.
The network is given as arrays (initial V, drive, sparse indices, weights),
so any engine with GeNN's API sees the same network.  The model uses GeNN 5
syntax only, so the same script can drive pygenn where it is installed.

Prints cold build, cached build, run time, spikes, synaptic events per
second, and a scale sweep at 100 synapses per neuron.

    python benchmarks/lif_network.py [--repeats 5] [--sweep 1000,2000,...]
        [--neurons 4000] [--backend cpu|cuda]

The standard network is run on one thread and on every core (at batch size
1 a large enough step is shared among threads: see backends/cpu.py).
"""
import argparse
import os
import statistics
import tempfile
import time

import numpy as np

from ml_genn.genn import (GeNNModel, VarAccess, create_neuron_model, init_postsynaptic,
                          init_weight_update)

LIF_DRIVE = create_neuron_model(
    "LIFDrive",
    params=["TauM", "Vrest", "Vreset", "Vthresh", "TauRefrac"],
    derived_params=[("ExpTC", lambda p, dt: np.exp(-dt / p["TauM"]))],
    vars=[("V", "scalar"), ("RefracTime", "scalar"), ("I", "scalar", VarAccess.READ_ONLY)],
    sim_code="""
        if (RefracTime <= 0.0) {
            V = Vrest + I + ((V - Vrest - I) * ExpTC) + Isyn;
        }
        else {
            RefracTime -= dt;
        }
        """,
    threshold_condition_code="RefracTime <= 0.0 && V >= Vthresh",
    reset_code="""
        V = Vreset;
        RefracTime = TauRefrac;
        """)


def make_network(n, syn_per_neuron, seed=1234):
    """Arrays describing the network: initial V, drive, pre, post, weights."""
    rng = np.random.default_rng(seed)
    v0 = rng.uniform(-65.0, -50.0, n)
    drive = rng.uniform(16.0, 20.0, n)
    prob = syn_per_neuron / n
    if n * n <= 2e7:
        # every pair independently with probability prob
        pre, post = np.nonzero(rng.random((n, n)) < prob)
    else:
        # large sweeps: targets drawn per row, duplicates dropped (< 1 %)
        counts = rng.binomial(n, prob, n)
        keys = np.unique(np.repeat(np.arange(n, dtype=np.int64), counts) * n
                         + rng.integers(0, n, counts.sum()))
        pre, post = keys // n, keys % n
    g = rng.uniform(0.0, 0.1, pre.size)
    return v0, drive, pre, post, g


def build_model(net, name, batch_size=1, backend="cpu"):
    v0, drive, pre, post, g = net
    model = GeNNModel("float", name, backend=backend)
    model.dt = 0.1
    model.batch_size = batch_size
    model.seed = 1
    pop = model.add_neuron_population(
        "Neurons", v0.size, LIF_DRIVE,
        {"TauM": 20.0, "Vrest": -65.0, "Vreset": -65.0, "Vthresh": -50.0, "TauRefrac": 2.0},
        {"V": v0, "RefracTime": 0.0, "I": drive})
    pop.spike_recording_enabled = True
    syn = model.add_synapse_population(
        "Recurrent", "SPARSE", pop, pop,
        init_weight_update("StaticPulse", {}, {"g": g}), init_postsynaptic("DeltaCurr"))
    syn.set_sparse_connections(pre, post)
    return model, pop


def measure(net, name, steps=10000, repeats=3, batch_size=1, backend="cpu", num_threads=None):
    """Cold build (fresh cache), cached build, best-of-N run time, spikes."""
    with tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("ML_GENN_CACHE_DIR")
        os.environ["ML_GENN_CACHE_DIR"] = cache
        try:
            model, pop = build_model(net, name, batch_size, backend)
            t0 = time.perf_counter()
            model.build()
            cold = time.perf_counter() - t0
            model2, pop2 = build_model(net, name, batch_size, backend)
            model2.num_threads = num_threads
            t0 = time.perf_counter()
            model2.build()
            model2.load(num_recording_timesteps=steps)
            cached = time.perf_counter() - t0
            assert model2.cache_hit
        finally:
            if old is None:
                del os.environ["ML_GENN_CACHE_DIR"]
            else:
                os.environ["ML_GENN_CACHE_DIR"] = old
        runs = []
        spikes = None
        model2.load(num_recording_timesteps=steps)
        model2.run(steps)                      # warm-up: page faults, caches
        for _ in range(repeats):
            model2.load(num_recording_timesteps=steps)
            t0 = time.perf_counter()
            model2.run(steps)
            runs.append(time.perf_counter() - t0)
            data = pop2.spike_recording_data
            spikes = sum(len(t) for t, _ in data)
    syn_per_neuron = net[2].size / net[0].size
    return {"cold": cold, "cached": cached, "run": min(runs), "run_median": statistics.median(runs),
            "spikes": spikes, "events_per_s": spikes * syn_per_neuron / min(runs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sweep", default="1000,2000,4000,8000,16000,32000")
    parser.add_argument("--neurons", default="1000,4000",
                        help="sizes of the standard network (p=0.1)")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; precision float; dt 0.1 ms; 1 s biological time; "
          f"backend {args.backend}")
    for n in [int(s) for s in args.neurons.split(",") if s]:
        net = make_network(n, n // 10)
        print(f"\nStandard network: {n} LIF, p=0.1 ({net[2].size} synapses)")
        print(f"{'threads':>8} {'cold build [s]':>15} {'cached build+load [s]':>22} "
              f"{'run [s]':>9} {'run median [s]':>15} {'spikes':>8} {'syn events/s':>13}")
        for threads in ([1, None] if args.backend == "cpu" else [None]):
            r = measure(net, f"bench_standard_{n}", repeats=args.repeats,
                        backend=args.backend, num_threads=threads)
            print(f"{threads or 'all':>8} {r['cold']:15.3f} {r['cached']:22.3f} {r['run']:9.4f} "
                  f"{r['run_median']:15.4f} {r['spikes']:8d} {r['events_per_s']:13.3e}")
    print("Reference for 1000 neurons (issue 2, same machine class): GeNN 5.4 single-threaded "
          "CPU, optimize_code=True: run 0.03-0.05 s, cold build ~1.4 s, cached 0.06-0.09 s, "
          "34k spikes")

    print("\nScale sweep (100 synapses per neuron)")
    print(f"{'neurons':>8} {'synapses':>10} {'cold build [s]':>15} {'run [s]':>9} {'spikes':>9} "
          f"{'syn events/s':>13} {'us per step':>12}")
    for n in [int(s) for s in args.sweep.split(",") if s]:
        net = make_network(n, 100)
        r = measure(net, f"bench_sweep_{n}", repeats=max(1, args.repeats // 2),
                    backend=args.backend)
        print(f"{n:8d} {net[2].size:10d} {r['cold']:15.3f} {r['run']:9.4f} {r['spikes']:9d} "
              f"{r['events_per_s']:13.3e} {r['run'] / 10000 * 1e6:12.2f}")


if __name__ == "__main__":
    main()
