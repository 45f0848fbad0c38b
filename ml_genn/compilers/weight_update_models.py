"""Static pulse weight-update models used by the compilers (model dicts)."""

static_pulse_model = {
    "params": [("g", "scalar")],
    "pre_spike_syn_code": "addToPost(g);"}

# Negative spikes (spike-like events) deliver -g.
signed_static_pulse_model = {
    "params": [("g", "scalar")],
    "pre_spike_syn_code": "addToPost(g);",
    "pre_event_syn_code": "addToPost(-g);"}


def get_static_pulse_delay_model(delay_type):
    return {"params": [("g", "scalar"), ("d", delay_type)],
            "pre_spike_syn_code": "addToPostDelay(g, d);"}


def get_signed_static_pulse_delay_model(delay_type):
    """Negative events deliver -g after the same delay d (upstream applies the
    sign to the delay instead, a bug not reproduced here)."""
    return {"params": [("g", "scalar"), ("d", delay_type)],
            "pre_spike_syn_code": "addToPostDelay(g, d);",
            "pre_event_syn_code": "addToPostDelay(-g, d);"}
