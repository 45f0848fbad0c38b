"""Drive ml_genn neuron/synapse models directly through the engine (no
compiler): each population gets a current source whose per-(batch, neuron)
current is set before every step, and variables are sampled after it."""
import numpy as np

from ml_genn.genn import (GeNNModel, VarAccess, create_current_source_model,
                          create_neuron_model, create_postsynaptic_model,
                          init_postsynaptic, init_weight_update)

CURRENT = create_current_source_model(
    "MlTestCurrent", vars=[("I", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    injection_code="injectCurrent(I);")


class Harness:
    def __init__(self, name, dt=1.0, batch_size=1):
        self.genn = GeNNModel("float", name)
        self.genn.dt = dt
        self.genn.batch_size = batch_size
        self.batch_size = batch_size
        self.pops = {}
        self.sources = {}
        self.sizes = {}

    def add(self, key, neuron_model, n, current=True, record_spikes=False):
        """Add a utils.model.NeuronModel as population ``key`` of n neurons."""
        (model, params, dynamic, var_vals, egp_vals,
         var_egp_vals) = neuron_model.process()
        assert not dynamic and not var_egp_vals
        model = {k: v for k, v in model.items() if k != "negative_threshold_condition_code"}
        ng = self.genn.add_neuron_population(key, n, create_neuron_model(f"M{key}", **model),
                                             params, var_vals)
        for name, value in egp_vals.items():
            ng.extra_global_params[name].set_init_values(value)
        ng.spike_recording_enabled = record_spikes
        if current:
            self.sources[key] = self.genn.add_current_source(f"CS{key}", CURRENT, ng, {},
                                                             {"I": 0.0})
        self.pops[key] = ng
        self.sizes[key] = n
        return ng

    def connect(self, key, pre, post, weights, synapse_model):
        """Dense StaticPulse connection with a utils.model.SynapseModel."""
        (ps_model, ps_params, _, ps_vars, _, _, ps_refs) = synapse_model.process()
        psm = create_postsynaptic_model(f"PS{key}", **ps_model)
        return self.genn.add_synapse_population(
            key, "DENSE", self.pops[pre], self.pops[post],
            init_weight_update("StaticPulse", {}, {"g": np.ravel(weights)}),
            init_postsynaptic(psm, ps_params, ps_vars, ps_refs))

    def load(self, num_recording_timesteps=None):
        self.genn.build()
        self.genn.load(num_recording_timesteps=num_recording_timesteps)

    def set_current(self, key, current):
        var = self.sources[key].vars["I"]
        var.view[...] = np.reshape(current, var.view.shape)
        var.push_to_device()

    def var(self, key, name):
        """Copy of a variable as (batch, n)."""
        v = self.pops[key].vars[name]
        v.pull_from_device()
        arr = np.array(v.view)
        if arr.size == self.batch_size * self.sizes[key]:
            return arr.reshape(self.batch_size, self.sizes[key])
        return arr

    def run(self, steps, currents=None, record=()):
        """Step ``steps`` times; ``currents`` maps key -> (steps, batch, n).
        Returns {(key, var): (steps, batch, n)} sampled after each step."""
        currents = currents or {}
        out = {kv: [] for kv in record}
        for s in range(steps):
            for key, c in currents.items():
                self.set_current(key, c[s])
            self.genn.step_time()
            for key, name in record:
                out[(key, name)].append(self.var(key, name))
        return {kv: np.array(v) for kv, v in out.items()}


def spike_raster(ng, batch_size, steps, n, dt=1.0):
    """Recorded spikes as a boolean (steps, batch, n) raster."""
    raster = np.zeros((steps, batch_size, n), dtype=bool)
    for b, (times, ids) in enumerate(ng.spike_recording_data):
        raster[np.round(np.asarray(times) / dt).astype(int), b, ids] = True
    return raster
