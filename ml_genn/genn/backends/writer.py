"""A code stream with scoped blocks: generators write lines, the writer
indents them.

Generators never indent by hand: ``with w.block("for (...)"):`` opens a
scope (``{`` ... ``}``) and everything written inside it is indented one
level deeper.  Code rendered elsewhere (a code string, a helper returning
lines) is added with :meth:`CodeWriter.lines`, relative to the current
scope.  Comments go through :func:`ml_genn.genn.names.comment`, so no raw
user text ever reaches generated code.
"""
from contextlib import contextmanager

from ..code.renderer import INDENT
from ..names import comment as _sanitise


class CodeWriter:
    def __init__(self, depth=0):
        self._lines = []
        self._depth = depth

    def line(self, text=""):
        """One line (several if ``text`` holds newlines), at the current depth."""
        for part in text.split("\n"):
            self._lines.append(INDENT * self._depth + part if part else "")
        return self

    def lines(self, lines):
        """Lines already indented relative to the current scope."""
        for text in lines:
            self.line(text)
        return self

    def comment(self, text):
        """``// text``, sanitised (user names may appear in it)."""
        return self.line("// " + _sanitise(text))

    @contextmanager
    def block(self, head=None, tail="}"):
        """``head {`` ... ``tail``: the body is indented one level; without
        ``head`` a bare scope ``{ ... }``."""
        self.line(f"{head} {{" if head else "{")
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
        self.line(tail)

    def result(self):
        """The lines written so far."""
        return list(self._lines)

    def text(self):
        return "\n".join(self._lines) + "\n"
