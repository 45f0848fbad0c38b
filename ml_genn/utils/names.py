"""Safe engine identifiers derived from user-facing names.

Users may name populations and connections anything (``"layer 1"``,
Keras names such as ``"conv2d/1"``, unicode, duplicates, the empty string,
a C keyword, text containing newlines or ``#include``...). Those names are
kept unchanged on the ``ml_genn`` objects, for lookups, error messages,
recordings and checkpoints; the engine only ever sees an identifier derived
from them by :class:`GeNNNames`:

``<kind>_<ascii>`` where ``<ascii>`` is the name with every run of
characters outside ``[A-Za-z0-9]`` (underscores included) replaced by one
``_``, leading/trailing ``_`` removed and cut to 48 characters; just
``<kind>`` if nothing is left. ``<kind>`` is a fixed lower-case prefix
(``pop``, ``conn``, ``cu``...), so the result always starts with a letter,
never starts with ``_`` or ``mg_``, contains no ``__`` and cannot be a C/C++
keyword or an engine built-in name. Names already used in the same model
get ``_2``, ``_3``, ... appended.
"""
import re

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
MAX_STEM_LENGTH = 48


def sanitise(name, max_length: int = MAX_STEM_LENGTH) -> str:
    """ASCII ``[A-Za-z0-9_]`` text from any object's ``str()`` (may be empty)."""
    stem = _NON_ALNUM.sub("_", str(name)).strip("_")
    return stem[:max_length].rstrip("_")


def derive_identifier(kind: str, name) -> str:
    """``<kind>_<sanitised name>`` (or ``<kind>``): a valid C identifier."""
    if not _IDENT.match(kind) or "__" in kind or kind.startswith("mg_"):
        raise ValueError(f"identifier prefix {kind!r} must be a plain identifier")
    stem = sanitise(name)
    return f"{kind}_{stem}" if stem else kind


def _engine_problem(identifier):
    """The engine's objection to ``identifier`` (None when acceptable); the
    derivation above never produces a refused name, this is a safety net."""
    try:
        from ..genn.names import identifier_problem
    except ImportError:            # an engine without published rules
        return None
    return identifier_problem(identifier)


class GeNNNames:
    """Hands out unique engine identifiers within one model."""

    def __init__(self):
        self._used = set()

    def reserve(self, identifier: str):
        """Mark a fixed identifier (e.g. a custom-update group) as used."""
        self._used.add(identifier)

    def get(self, kind: str, name) -> str:
        base = derive_identifier(kind, name)
        candidate = base
        n = 2
        while candidate in self._used or _engine_problem(candidate):
            candidate = f"{base}_{n}"
            n += 1
        self._used.add(candidate)
        return candidate


def is_plain_identifier(name) -> bool:
    """True for ``[A-Za-z][A-Za-z0-9_]*`` strings without ``__``."""
    return isinstance(name, str) and bool(_IDENT.match(name)) and "__" not in name


def add_note(exc, note):
    """Attach ``note`` to ``exc`` (shown under its message; Python >= 3.11),
    keeping the exception's type and message."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)


def explain_engine_names(exc, names):
    """Note which ml_genn objects the engine identifiers quoted in ``exc``'s
    message stand for (``names``: ``{identifier: user-facing name}``)."""
    text = str(exc)
    for ident, original in names.items():
        if re.search(rf"\b{re.escape(ident)}\b", text) and ident != original:
            add_note(exc, f"(engine name {ident!r} is the ml_genn object named "
                          f"{original!r})")
