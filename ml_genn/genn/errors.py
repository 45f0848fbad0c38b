"""Exceptions raised by the engine, each explaining the problem and the fix."""
import difflib


class GeNNError(Exception):
    """Base class of every engine error."""


def _suggest(identifier, candidates, preferred):
    """Close names, the model's own names first; short names match short names."""
    preferred = sorted(set(preferred))
    others = sorted(set(candidates) - set(preferred))
    found = [c for c in preferred if len(c) <= 2] if len(identifier) <= 2 else []
    for pool in (preferred, others):
        found += [c for c in difflib.get_close_matches(identifier, pool, n=4, cutoff=0.5)
                  if c not in found]
    return found[:4]


class CodeError(GeNNError):
    """A mistake in a user code string, found before any C compiler runs.

    Attributes name the model, the code field, the 1-based line and column,
    the offending identifier (if any) and the closest valid names.
    """

    def __init__(self, problem, model=None, field=None, line=None, column=None,
                 identifier=None, candidates=(), source=None, hint=None, group=None,
                 preferred=()):
        self.problem = problem
        self.model = model
        self.group = group
        self.field = field
        self.line = line
        self.column = column
        self.identifier = identifier
        self.suggestions = (_suggest(identifier, candidates, preferred)
                            if identifier is not None and candidates else [])
        self.source = source
        self.hint = hint
        super().__init__(self._message())

    def with_context(self, model, field, source, group=None):
        """Return a copy of this error that also names where it happened."""
        err = CodeError(self.problem, model, field, self.line, self.column,
                        None, (), source, self.hint, group)
        err.identifier = self.identifier
        err.suggestions = self.suggestions
        err.args = (err._message(),)
        return err

    def _message(self):
        where = []
        if self.group is not None:
            where.append(self.group)
        if self.model is not None:
            where.append(f"model '{self.model}'")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        if self.line is not None:
            where.append(f"line {self.line}, column {self.column}")
        msg = self.problem
        if where:
            msg = f"{', '.join(where)}: {msg}"
        if self.suggestions:
            msg += " Did you mean: " + ", ".join(f"'{s}'" for s in self.suggestions) + "?"
        if self.hint:
            msg += " " + self.hint
        if self.source is not None and self.line is not None:
            lines = self.source.splitlines()
            if 0 < self.line <= len(lines):
                text = lines[self.line - 1]
                msg += f"\n    {text}\n    {' ' * (self.column - 1)}^"
        return msg


class BuildError(GeNNError):
    """The C/C++/CUDA compiler failed on generated code.

    ``compiler_output`` holds what the compiler printed and ``source_path``
    the generated file, so the user can open it.
    """

    def __init__(self, explanation, compiler_output="", source_path=None):
        self.compiler_output = compiler_output
        self.source_path = source_path
        msg = explanation
        if source_path:
            msg += f"\nGenerated source: {source_path}"
        if compiler_output:
            msg += "\nCompiler output:\n" + compiler_output.strip()
        super().__init__(msg)


class ModelError(GeNNError, ValueError):
    """Invalid model description (names, sizes, parameters, matrix types)."""


class RuntimeStateError(GeNNError, RuntimeError):
    """An operation was called in the wrong state (e.g. before load())."""
