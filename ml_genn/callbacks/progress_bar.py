"""A tqdm progress bar over batches."""
from tqdm.auto import tqdm

from .callback import Callback


class BatchProgressBar(Callback):
    """tqdm bar with ``total = num_batches``.

    A new bar is created at every ``on_test_begin``/``on_train_begin`` and
    closed at the matching end, so one object may be reused across calls
    (compiled networks use a fresh ``[BatchProgressBar()]`` when
    ``callbacks=None``; upstream shares one default object between calls).
    Each epoch sets the description ``"Epoch e"`` and resets the bar; after
    each batch the postfix lists ``"ClassName: 0.1234"`` for every metric
    with a result.
    """

    def __init__(self):
        self._pbar = None
        self._num_batches = None

    def set_params(self, num_batches=None, **kwargs):
        self._num_batches = num_batches

    def _open(self):
        self._close()
        self._pbar = tqdm(total=self._num_batches)

    def _close(self):
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None

    def on_test_begin(self):
        self._open()

    def on_train_begin(self):
        self._open()

    def on_test_end(self, metrics):
        self._close()

    def on_train_end(self, metrics):
        self._close()

    def on_epoch_begin(self, epoch: int):
        if self._pbar is None:
            self._open()
        self._pbar.set_description(f"Epoch {epoch}")
        self._pbar.reset(total=self._num_batches)

    def on_batch_end(self, batch: int, metrics):
        if self._pbar is None:
            self._open()
        results = [f"{type(m).__name__}: {m.result:.4f}"
                   for m in (metrics or {}).values() if m.result is not None]
        if results:
            self._pbar.set_postfix_str(", ".join(results), refresh=False)
        self._pbar.update(1)
