"""Tokenizer for GeNN-5 code strings (a C99 subset with plain identifiers)."""
import re
import warnings
from dataclasses import dataclass

from ..errors import CodeError


@dataclass(frozen=True)
class Token:
    kind: str     # "ident", "number", "op", "string", "eof"
    text: str
    line: int
    col: int


_PATTERN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<legacy>\$\()
  | (?P<number>0[xX][0-9a-fA-F]+[uUlL]*
              |(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?
              |\d+[eE][+-]?\d+[fFdD]?
              |\d+[uUlL]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<op><<=|>>=|\+\+|--|->|&&|\|\||<=|>=|==|!=|\+=|-=|\*=|/=|%=|&=|\|=|\^=|<<|>>
            |[-+*/%<>=!~&|^?:;,.(){}\[\]])
""", re.VERBOSE | re.DOTALL)


_LEGACY_FUNCS = {"addToInSyn": "addToPost", "addToInSynDelay": "addToPostDelay",
                 "addToPre": "addToPre", "addSynapse": "addSynapse",
                 "injectCurrent": "injectCurrent"}
_LEGACY_NAMES = {"inSyn": "inSyn",
                 **{f"{old}{sfx}": f"{new}{sfx}" for old, new in (
                     ("sT", "st"), ("prev_sT", "prev_st"), ("seT", "set"),
                     ("prev_seT", "prev_set")) for sfx in ("", "_pre", "_post")}}


def upgrade_legacy_syntax(code):
    """Rewrite GeNN-4 ``$(name)`` / ``$(func, args)`` into GeNN-5 plain names.

    Returns ``(code, changed)``.  Like pygenn, callers warn when it changed.
    """
    if "$(" not in code:
        return code, False
    code = re.sub(r"\$\(\s*(\w+)\s*,",
                  lambda m: _LEGACY_FUNCS.get(m.group(1), m.group(1)) + "(", code)
    code = re.sub(r"\$\(\s*(\w+)\s*\)",
                  lambda m: _LEGACY_NAMES.get(m.group(1), m.group(1)), code)
    return code, True


def tokenize(code):
    """Split ``code`` into tokens, raising CodeError on a stray character."""
    code, changed = upgrade_legacy_syntax(code)
    if changed:
        warnings.warn("GeNN-4 '$(name)' syntax is deprecated; write plain names "
                      "(e.g. 'V' instead of '$(V)', 'addToPost(x)' instead of "
                      "'$(addToInSyn, x)')", FutureWarning, stacklevel=3)
    tokens = []
    pos = 0
    line = 1
    line_start = 0
    n = len(code)
    while pos < n:
        m = _PATTERN.match(code, pos)
        if m is None:
            raise CodeError(f"unexpected character {code[pos]!r}",
                            line=line, column=pos - line_start + 1)
        kind = m.lastgroup
        text = m.group()
        if kind == "legacy":
            raise CodeError("unbalanced GeNN-4 '$(' syntax; write plain names",
                            line=line, column=pos - line_start + 1)
        if kind not in ("ws", "comment"):
            tokens.append(Token(kind, text, line, pos - line_start + 1))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rfind("\n") + 1
        pos = m.end()
    tokens.append(Token("eof", "", line, pos - line_start + 1))
    return tokens
