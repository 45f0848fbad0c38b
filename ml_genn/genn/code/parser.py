"""Recursive-descent parser turning code-string tokens into a small AST.

The AST keeps every token so that errors can point at line and column and
so that the renderer can re-emit code faithfully (parentheses included).
"""
from dataclasses import dataclass, field
from typing import List, Optional

from ..errors import CodeError
from .tokenizer import Token, tokenize

# Words that may start a type in a declaration or cast.
TYPE_WORDS = {"const", "unsigned", "signed", "int", "float", "double", "bool",
              "scalar", "timepoint", "char", "short", "long",
              "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t",
              "int64_t", "uint64_t"}
KEYWORDS = {"if", "else", "for", "while", "do", "break", "continue", "return",
            "for_each_synapse", "true", "false", "sizeof", "switch", "case",
            "default", "goto", "struct", "typedef", "union", "enum"}
ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}
BINARY_PRECEDENCE = [
    ["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="],
    ["<<", ">>"], ["+", "-"], ["*", "/", "%"]]
_LEVEL = {op: i for i, ops in enumerate(BINARY_PRECEDENCE) for op in ops}

#: Deepest nesting of brackets, blocks and unary operators the parser follows,
#: and the deepest syntax tree accepted (long operator chains nest too): the
#: parser and the renderer recurse, and must never hit Python's limit.
MAX_NESTING = 40
MAX_DEPTH = 120


@dataclass
class Node:
    kind: str
    tok: Token
    children: List["Node"] = field(default_factory=list)
    text: str = ""             # operator, literal, name or type
    extra: Optional[object] = None
    depth: int = 1

    def __post_init__(self):
        self.depth = 1 + max((c.depth for c in self.children if c is not None), default=0)
        if self.depth > MAX_DEPTH:
            raise CodeError(f"the code is nested too deeply (more than {MAX_DEPTH} levels "
                            "of expressions and statements); split it with local "
                            "variables", line=self.tok.line, column=self.tok.col)


class Parser:
    def __init__(self, code):
        self.tokens = tokenize(code)
        self.pos = 0
        self.nesting = 0

    def _enter(self):
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.error(f"the code is nested too deeply (more than {MAX_NESTING} levels of "
                       "brackets, blocks, nested statements or unary operators; each "
                       "'else if' of a chain counts as one level); split it up")

    def _leave(self):
        self.nesting -= 1

    # -- helpers --------------------------------------------------------
    @property
    def cur(self):
        return self.tokens[self.pos]

    def peek(self, k=1):
        return self.tokens[min(self.pos + k, len(self.tokens) - 1)]

    def advance(self):
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, text):
        return self.cur.kind in ("op", "ident") and self.cur.text == text

    def expect(self, text, what=None):
        if not self.at(text):
            self.error(f"expected '{text}'" + (f" {what}" if what else "")
                       + f" but found {self._describe(self.cur)}")
        return self.advance()

    def error(self, msg, tok=None, identifier=None):
        tok = tok or self.cur
        raise CodeError(msg, line=tok.line, column=tok.col)

    @staticmethod
    def _describe(tok):
        return "end of code" if tok.kind == "eof" else f"'{tok.text}'"

    # -- statements -----------------------------------------------------
    def parse_statements(self):
        stmts = []
        while self.cur.kind != "eof":
            stmts.append(self.statement())
        return Node("block", self.tokens[0], stmts, extra="top")

    def statement(self):
        self._enter()
        try:
            return self._statement()
        finally:
            self._leave()

    def _statement(self):
        tok = self.cur
        if tok.kind == "op":
            if tok.text == "{":
                return self.block()
            if tok.text == ";":
                self.advance()
                return Node("empty", tok)
        if tok.kind == "ident":
            t = tok.text
            if t in ("struct", "typedef", "union", "enum", "goto", "switch", "case",
                     "default"):
                self.error(f"'{t}' is not supported in code strings", tok)
            if t == "if":
                self.advance()
                self.expect("(", "after 'if'")
                cond = self.expression()
                self.expect(")", "to close the 'if' condition")
                then = self.statement()
                els = None
                if self.at("else"):
                    self.advance()
                    els = self.statement()
                return Node("if", tok, [cond, then, els])
            if t == "while":
                self.advance()
                self.expect("(", "after 'while'")
                cond = self.expression()
                self.expect(")", "to close the 'while' condition")
                return Node("while", tok, [cond, self.statement()])
            if t == "do":
                self.advance()
                body = self.statement()
                self.expect("while", "after the body of 'do'")
                self.expect("(")
                cond = self.expression()
                self.expect(")")
                self.expect(";")
                return Node("do", tok, [body, cond])
            if t == "for":
                self.advance()
                self.expect("(", "after 'for'")
                if self.at(";"):
                    init = Node("empty", self.advance())
                elif self.is_type_start():
                    init = self.declaration()
                else:
                    init = Node("expr", self.cur, [self.expression()])
                    self.expect(";", "after the 'for' initialiser")
                cond = None if self.at(";") else self.expression()
                self.expect(";", "after the 'for' condition")
                step = None if self.at(")") else self.expression()
                self.expect(")", "to close the 'for' header")
                return Node("for", tok, [init, cond, step, self.statement()])
            if t in ("break", "continue"):
                self.advance()
                self.expect(";", f"after '{t}'")
                return Node(t, tok)
            if t == "return":
                self.advance()
                value = None if self.at(";") else self.expression()
                self.expect(";", "after 'return'")
                return Node("return", tok, [value])
            if t == "for_each_synapse":
                self.advance()
                return Node("for_each_synapse", tok, [self.block()])
            if self.is_type_start():
                return self.declaration()
            # "foo bar ..." where foo is not a known type: an unsupported type
            nxt = self.peek()
            if (nxt.kind == "ident" and t not in KEYWORDS
                    and nxt.text not in KEYWORDS):
                raise CodeError(f"unsupported type '{t}' in declaration of '{nxt.text}'; "
                                "supported types: " + ", ".join(sorted(TYPE_WORDS - {"const"})),
                                line=tok.line, column=tok.col)
        expr = self.expression()
        self.expect(";", "at the end of the statement")
        return Node("expr", tok, [expr])

    def block(self):
        tok = self.expect("{")
        stmts = []
        while not self.at("}"):
            if self.cur.kind == "eof":
                self.error("missing '}' to close the block opened", tok)
            stmts.append(self.statement())
        self.advance()
        return Node("block", tok, stmts)

    def is_type_start(self):
        return self.cur.kind == "ident" and self.cur.text in TYPE_WORDS

    def type_name(self):
        tok = self.cur
        words = []
        while self.cur.kind == "ident" and self.cur.text in TYPE_WORDS:
            words.append(self.advance().text)
        pointer = False
        if self.at("*"):
            self.error("pointer types are not supported in code strings; extra global "
                       "parameters are read with name[index]")
        if self.at("&"):
            self.error("reference types are not supported in code strings")
        return tok, words, pointer

    def declaration(self):
        tok, words, pointer = self.type_name()
        declarators = []
        while True:
            name = self.cur
            if name.kind != "ident" or name.text in KEYWORDS or name.text in TYPE_WORDS:
                self.error(f"expected a variable name after the type but found "
                           f"{self._describe(name)}")
            self.advance()
            if self.at("["):
                self.error("local arrays are not supported in code strings")
            init = None
            if self.at("="):
                self.advance()
                init = self.assignment()
            declarators.append(Node("declarator", name, [init], text=name.text))
            if self.at(","):
                self.advance()
                continue
            break
        self.expect(";", "at the end of the declaration")
        return Node("decl", tok, declarators, extra=(words, pointer))

    # -- expressions ----------------------------------------------------
    def expression(self):
        expr = self.assignment()
        while self.at(","):
            tok = self.advance()
            expr = Node("binary", tok, [expr, self.assignment()], text=",")
        return expr

    def assignment(self):
        lhs = self.ternary()
        if self.cur.kind == "op" and self.cur.text in ASSIGN_OPS:
            tok = self.advance()
            self._enter()
            try:
                rhs = self.assignment()
            finally:
                self._leave()
            return Node("assign", tok, [lhs, rhs], text=tok.text)
        return lhs

    def ternary(self):
        cond = self.binary(0)
        if self.at("?"):
            tok = self.advance()
            self._enter()
            try:
                a = self.assignment()
                self.expect(":", "in the conditional expression")
                b = self.ternary()
            finally:
                self._leave()
            return Node("ternary", tok, [cond, a, b])
        return cond

    def binary(self, level):
        """Precedence climbing: operators of ``level`` or tighter."""
        lhs = self.unary()
        while self.cur.kind == "op" and _LEVEL.get(self.cur.text, -1) >= level:
            tok = self.advance()
            rhs = self.binary(_LEVEL[tok.text] + 1)
            lhs = Node("binary", tok, [lhs, rhs], text=tok.text)
        return lhs

    def unary(self):
        self._enter()
        try:
            return self._unary()
        finally:
            self._leave()

    def _unary(self):
        tok = self.cur
        if tok.kind == "op" and tok.text in ("+", "-", "!", "~"):
            self.advance()
            return Node("unary", tok, [self.unary()], text=tok.text)
        if tok.kind == "op" and tok.text in ("++", "--"):
            self.advance()
            return Node("preinc", tok, [self.unary()], text=tok.text)
        if tok.kind == "op" and tok.text == "&":
            self.error("the address-of operator '&' is not supported in code strings")
        if tok.kind == "op" and tok.text == "*":
            self.error("the dereference operator '*' is not supported in code strings; "
                       "read extra global parameters with name[index]")
        if tok.kind == "op" and tok.text == "(" and self.peek().kind == "ident" \
                and self.peek().text in TYPE_WORDS:
            self.advance()
            ttok, words, pointer = self.type_name()
            self.expect(")", "to close the cast")
            return Node("cast", tok, [self.unary()], extra=(words, pointer))
        if (tok.kind == "op" and tok.text == "(" and self.peek().kind == "ident"
                and self.peek().text not in KEYWORDS and self.peek(2).text == ")"
                and (self.peek(3).kind in ("ident", "number")
                     or self.peek(3).text == "(")):
            bad = self.peek()
            raise CodeError(f"unsupported type '{bad.text}' in a cast; supported types: "
                            + ", ".join(sorted(TYPE_WORDS - {"const"})),
                            line=tok.line, column=tok.col, identifier=bad.text)
        return self.postfix()

    def postfix(self):
        expr = self.primary()
        while True:
            tok = self.cur
            if self.at("("):
                if expr.kind != "name":
                    self.error("only named functions can be called", tok)
                self.advance()
                args = []
                if not self.at(")"):
                    args.append(self.assignment())
                    while self.at(","):
                        self.advance()
                        args.append(self.assignment())
                self.expect(")", f"to close the call to '{expr.text}'")
                expr = Node("call", expr.tok, args, text=expr.text)
            elif self.at("["):
                self.advance()
                idx = self.expression()
                self.expect("]", "to close the subscript")
                expr = Node("index", tok, [expr, idx])
            elif self.cur.kind == "op" and self.cur.text in ("++", "--"):
                self.advance()
                expr = Node("postinc", tok, [expr], text=tok.text)
            elif self.cur.kind == "op" and self.cur.text in (".", "->"):
                self.error("member access is not supported in code strings", tok)
            else:
                return expr

    def primary(self):
        tok = self.cur
        if tok.kind == "number":
            self.advance()
            return Node("number", tok, text=tok.text)
        if tok.kind == "string":
            self.advance()
            return Node("string", tok, text=tok.text)
        if tok.kind == "ident":
            if tok.text in ("true", "false"):
                self.advance()
                return Node("number", tok, text=tok.text)
            if tok.text in KEYWORDS or tok.text in TYPE_WORDS:
                self.error(f"unexpected keyword '{tok.text}' in an expression", tok)
            self.advance()
            return Node("name", tok, text=tok.text)
        if self.at("("):
            self.advance()
            inner = self.expression()
            self.expect(")", "to close the parenthesis")
            return Node("paren", tok, [inner])
        self.error(f"expected an expression but found {self._describe(tok)}")


def parse_statements(code):
    """Parse a block of statements (sim_code, reset_code, ...)."""
    return Parser(code).parse_statements()


def parse_expression(code):
    """Parse a single expression (threshold conditions)."""
    p = Parser(code)
    expr = p.expression()
    if p.at(";"):
        p.advance()
    if p.cur.kind != "eof":
        p.error(f"unexpected {p._describe(p.cur)} after the end of the expression")
    return expr
