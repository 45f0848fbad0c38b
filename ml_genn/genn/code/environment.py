"""Names visible to a code string and how each one is rendered.

An :class:`Environment` is a chain of scopes.  Every identifier a code
string uses is looked up here; the symbol found decides the C text it
becomes, whether it may be written, and (for functions) how many arguments
it takes.  The root scope records which names were used and written, so the
code generator can load only referenced variables and store only written
ones.
"""
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass
class Value:
    """A name that evaluates to a value (variable, parameter, index...).

    ``ctype`` is its C type (for arrays: the element type); the checker
    derives the type class (bool, integer, floating) from it."""
    text: str
    writable: bool = False
    pointer: bool = False                 # may be subscripted: name[i]
    description: str = "value"
    index: Optional[Callable[[str], str]] = None   # custom subscript rendering
    read_only_hint: str = ""
    ctype: str = "scalar"
    # checked element writes (arrays whose values must stay in a range):
    # store(index, op, value, old) -> C expression, op "=", "+=" or "-=",
    # old: the expression's value is the element before the write (x[i]++)
    store: Optional[Callable[[str, str, str, bool], str]] = None


@dataclass
class Function:
    """A function-like name (maths, RNG, addToPost, injectCurrent...).

    ``returns`` is the C type of the result ("void" for functions that are
    statements of their own, "args" for min/max/abs: the arguments' type)."""
    render: Callable[[list], str]
    min_args: int
    max_args: int
    description: str = "function"
    statement: bool = False     # expands to a block: only usable as a statement
    returns: str = "scalar"
    int_args: tuple = ()        # positions of arguments that must be integers


@dataclass
class Local:
    """A variable declared inside the code string itself."""
    text: str
    writable: bool = True
    pointer: bool = False
    description: str = "local variable"
    index: Optional[Callable[[str], str]] = None
    read_only_hint: str = ""
    ctype: str = "scalar"


class Environment:
    def __init__(self, parent=None, symbols=None):
        self.parent = parent
        self.symbols = dict(symbols or {})
        if parent is None:
            self.used = set()
            self.written = set()

    @property
    def root(self):
        env = self
        while env.parent is not None:
            env = env.parent
        return env

    def child(self, symbols=None):
        return Environment(self, symbols)

    def define(self, name, symbol):
        self.symbols[name] = symbol

    def lookup_local_scope(self, name):
        """The symbol ``name`` has in this scope itself (not in parents)."""
        return self.symbols.get(name)

    def lookup(self, name):
        env = self
        while env is not None:
            if name in env.symbols:
                return env.symbols[name]
            env = env.parent
        return None

    def all_names(self, include_root=True):
        """Every visible name; without the root scope (maths, RNG, ...) if asked."""
        names = set()
        env = self
        while env is not None and (include_root or env.parent is not None):
            names.update(env.symbols)
            env = env.parent
        return names

    def mark_used(self, name):
        self.root.used.add(name)

    def mark_written(self, name):
        self.root.written.add(name)
