"""Test helpers for ml_genn models.

``Harness`` drives ml_genn neuron/synapse models directly through the engine
(no compiler): each population gets a current source whose per-(batch,
neuron) current is set before every step, and variables are sampled after
it. ``ref_lif``/``ref_if`` are NumPy references written from the equations
of the API spec (§3.3-3.8)."""
import numpy as np

from ml_genn.genn import (GeNNModel, VarAccess, create_current_source_model,
                          create_neuron_model, create_postsynaptic_model,
                          init_postsynaptic, init_weight_update)

CURRENT = create_current_source_model(
    "MlTestCurrent", vars=[("I", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    injection_code="injectCurrent(I);")
f32 = np.float32


class Harness:
    def __init__(self, name, dt=1.0, batch_size=1, precision="float"):
        self.genn = GeNNModel(precision, name)
        self.genn.dt = dt
        self.genn.batch_size = batch_size
        self.batch_size = batch_size
        self.pops = {}
        self.sources = {}
        self.sizes = {}

    def add(self, key, neuron_model, n, current=True, record_spikes=False):
        """Add a utils.model.NeuronModel as population ``key`` of n neurons."""
        p = neuron_model.process()
        assert not p.dynamic_param_names and not p.var_egp_vals
        model = {k: v for k, v in p.model.items()
                 if k != "negative_threshold_condition_code"}
        ng = self.genn.add_neuron_population(key, n, create_neuron_model(f"M{key}", **model),
                                             p.constant_param_vals, p.var_vals)
        for name, value in p.egp_vals.items():
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
        ps = synapse_model.process()
        psm = create_postsynaptic_model(f"PS{key}", **ps.model)
        return self.genn.add_synapse_population(
            key, "DENSE", self.pops[pre], self.pops[post],
            init_weight_update("StaticPulse", {}, {"g": np.ravel(weights)}),
            init_postsynaptic(psm, ps.constant_param_vals, ps.var_vals,
                              ps.neuron_var_refs))

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

def ref_lif(current, vth, vreset, alpha, v0=0.0, tau_refrac=None, relative_reset=True,
            integrate_during_refrac=True, scale_i=False, dt=1.0, beta=None, rho=None,
            bias=0.0, spiking=True):
    """LIF / ALIF / IF / LI reference. ``current``: (steps, batch, n).
    Returns V after each step, the pre-reset V, spikes and A."""
    steps, batch, n = current.shape
    alpha, dt = f32(alpha), f32(dt)
    vth, vreset = f32(vth), f32(vreset)
    V = np.broadcast_to(f32(v0), (batch, n)).astype(f32)
    R = np.zeros((batch, n), f32)
    A = np.zeros((batch, n), f32)
    out = {k: np.zeros((steps, batch, n), f32) for k in ("V", "Vpre", "A")}
    out["spikes"] = np.zeros((steps, batch, n), bool)
    for s in range(steps):
        J = (f32(1.0) - alpha) * current[s] if scale_i else current[s]
        if tau_refrac is None:
            V = alpha * V + J
        elif integrate_during_refrac:
            V = alpha * V + J
            R = np.where(R > 0, R - dt, R)
        else:
            refrac = R > 0
            R = np.where(refrac, R - dt, R)
            V = np.where(refrac, V, alpha * V + J)
        V = V + f32(bias) if bias else V
        if beta is not None:
            A = f32(rho) * A
        out["Vpre"][s] = V
        if spiking:
            thresh = vth + f32(beta) * A if beta is not None else vth
            spike = V >= thresh
            if tau_refrac is not None:
                spike &= R <= 0
            V = np.where(spike, V - (vth - vreset) if relative_reset else vreset, V)
            if beta is not None:
                A = np.where(spike, A + f32(1.0), A)
            if tau_refrac is not None:
                R = np.where(spike, f32(tau_refrac), R)
            out["spikes"][s] = spike
        out["V"][s], out["A"][s] = V, A
    return out


def ref_if(current, vth, vreset, v0=0.0):
    return ref_lif(current, vth, vreset, 1.0, v0=v0, relative_reset=False)


def spike_raster(ng, batch_size, steps, n, dt=1.0):
    """Recorded spikes as a boolean (steps, batch, n) raster."""
    raster = np.zeros((steps, batch_size, n), dtype=bool)
    for b, (times, ids) in enumerate(ng.spike_recording_data):
        raster[np.round(np.asarray(times) / dt).astype(int), b, ids] = True
    return raster
