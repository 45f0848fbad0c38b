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


def get_graded_static_pulse_model(output_ref, on_event, delay_type=None,
                                  output_type="scalar"):
    """Graded transmission (sources whose neuron has ``graded_output``):
    deliver ``g * output_ref``, the source's output read through the
    presynaptic neuron variable reference ``output_ref``, on each spike or,
    with ``on_event``, on each spike-like event (a step in which the output
    is not 0). With ``delay_type`` the value goes through the dendritic
    delay ring (``d`` steps): it is read when the spike or event is
    delivered, the step after it was emitted, so an axonal delay would read
    a later step's output."""
    if delay_type is None:
        params, deliver = [("g", "scalar")], f"addToPost(g * {output_ref});"
    else:
        params = [("g", "scalar"), ("d", delay_type)]
        deliver = f"addToPostDelay(g * {output_ref}, d);"
    model = {"params": params, "pre_neuron_var_refs": [(output_ref, output_type)]}
    if on_event:
        model["pre_event_threshold_condition_code"] = f"{output_ref} != 0.0"
        model["pre_event_syn_code"] = deliver
    else:
        model["pre_spike_syn_code"] = deliver
    return model
