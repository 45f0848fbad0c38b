"""CallbackList: resolves callbacks and forwards hooks to them in order."""
from warnings import warn

_HOOKS = ("on_test_begin", "on_test_end", "on_train_begin", "on_train_end",
          "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
          "on_timestep_begin", "on_timestep_end")


class CallbackList:
    """A list of callbacks sharing one ``data`` dict.

    Strings are resolved through ``ml_genn.callbacks.default_callbacks``
    (``"batch_progress_bar"``, ``"checkpoint"``); callback objects are copied
    (shallow), so one object passed to several calls starts fresh each time.
    ``set_params(data=<shared dict>, **params)`` is called on every callback
    that has it, then ``set_first()`` on the first callback of each class.
    Hooks are found with ``hasattr`` and called in list order.
    """

    def __init__(self, callbacks, **params):
        from ..callbacks import Callback, default_callbacks
        from .module import get_object

        if callbacks is None:
            callbacks = []
        self._callbacks = [get_object(c, Callback, "Callback", default_callbacks)
                           for c in callbacks]
        self._callbacks = [c for c in self._callbacks if c is not None]
        self._data = {}
        for c in self._callbacks:
            if hasattr(c, "set_params"):
                c.set_params(data=self._data, **params)
        seen = set()
        for c in self._callbacks:
            if type(c) not in seen:
                seen.add(type(c))
                if hasattr(c, "set_first"):
                    c.set_first()
        self._hooks = {h: [getattr(c, h) for c in self._callbacks if hasattr(c, h)]
                       for h in _HOOKS}

    # -- hooks ----------------------------------------------------------
    def _call(self, hook, *args):
        for fn in self._hooks[hook]:
            fn(*args)

    def on_test_begin(self):
        self._call("on_test_begin")

    def on_test_end(self, metrics):
        self._call("on_test_end", metrics)

    def on_train_begin(self):
        self._call("on_train_begin")

    def on_train_end(self, metrics):
        self._call("on_train_end", metrics)

    def on_epoch_begin(self, epoch):
        self._call("on_epoch_begin", epoch)

    def on_epoch_end(self, epoch, metrics):
        self._call("on_epoch_end", epoch, metrics)

    def on_batch_begin(self, batch):
        self._call("on_batch_begin", batch)

    def on_batch_end(self, batch, metrics):
        self._call("on_batch_end", batch, metrics)

    def on_timestep_begin(self, timestep):
        self._call("on_timestep_begin", timestep)

    def on_timestep_end(self, timestep):
        self._call("on_timestep_end", timestep)

    def step_custom_updates(self):
        """When the only per-step work of the callbacks is custom update
        groups run at the end of every step (``CustomUpdateOnTimestepEnd``
        without a filter), their names in order: the engine can run them
        between steps itself. Otherwise ``None``."""
        from ..callbacks import CustomUpdateOnTimestepEnd
        if self._hooks["on_timestep_begin"]:
            return None
        names = []
        for fn in self._hooks["on_timestep_end"]:
            c = getattr(fn, "__self__", None)
            if type(c) is not CustomUpdateOnTimestepEnd or c.filter_fn is not None:
                return None
            names.append(c.name)
        return names

    @property
    def needs_timesteps(self):
        """True when some callback needs to run between time steps (the
        compiled network must then step one at a time)."""
        return bool(self._hooks["on_timestep_begin"] or self._hooks["on_timestep_end"])

    # -- access ---------------------------------------------------------
    def __getitem__(self, index):
        return self._callbacks[index]

    def __len__(self):
        return len(self._callbacks)

    def __iter__(self):
        return iter(self._callbacks)

    def get_data(self):
        """``{key: data}`` from every callback with ``get_data()``.

        A ``None`` key triggers a warning and the callback's index in the
        list is used instead; a key used twice raises ``KeyError``.
        """
        data = {}
        for i, c in enumerate(self._callbacks):
            if not hasattr(c, "get_data"):
                continue
            key, value = c.get_data()
            if key is None:
                warn(f"{type(c).__name__} at position {i} of the callback list has no key; "
                     f"its data is stored under the key {i}", stacklevel=2)
                key = i
            if key in data:
                raise KeyError(f"two callbacks return data under the key {key!r}; give "
                               f"each recorder a unique key")
            data[key] = value
        return data
