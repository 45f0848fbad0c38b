"""Base class of callbacks."""


class Callback:
    """Base class of every callback.

    There are no default hook implementations: a :class:`CallbackList` looks
    hooks up with ``hasattr``, so a callback defines only what it needs:

    ``on_test_begin()``, ``on_test_end(metrics)``, ``on_train_begin()``,
    ``on_train_end(metrics)``, ``on_epoch_begin(epoch)``,
    ``on_epoch_end(epoch, metrics)``, ``on_batch_begin(batch)``,
    ``on_batch_end(batch, metrics)``, ``on_timestep_begin(timestep)``,
    ``on_timestep_end(timestep)``; and optionally
    ``set_params(data, compiled_network, num_batches, [num_epochs], **kwargs)``
    (must accept unknown keyword arguments), ``set_first()`` (called on the
    first callback of each class in a list) and ``get_data() -> (key, data)``.

    Defining ``on_timestep_begin``/``on_timestep_end`` makes the compiled
    network step one time step at a time (a Python call per step), so only
    callbacks that need per-step data should define them.
    """
