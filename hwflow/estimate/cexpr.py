"""A bounded evaluator of the constant C integer expressions hls4ml writes into ``parameters.h``.

No Python ``eval`` / ``ast`` is involved: a small tokenizer and a precedence-climbing
parser implement the C operators that appear in hls4ml configurations (arithmetic,
shifts, comparisons, bitwise and logical operators, the ternary, ``static_cast``,
``DIV_ROUNDUP`` / ``MIN`` / ``MAX`` / ``ceillog2`` / ``floorlog2`` / ``pow2``) with C
integer semantics (division truncates toward zero). Everything is bounded, so a hostile
or broken header cannot hang or exhaust the estimator:

* expressions longer than :data:`MAX_CHARS` characters or nested deeper than
  :data:`MAX_DEPTH` are rejected;
* every intermediate integer must fit in 64 bits (signed or unsigned range), a shift count
  must lie in 0..63 - otherwise ``ValueError`` (the field is then left unevaluated).

Enum constants (``nnet::latency``, ``nnet::conv_implementation::linebuffer``) evaluate
to their last name component as a string, like ``layers.json`` does.
"""

from __future__ import annotations

import re
from typing import Any

MAX_CHARS = 4096
MAX_DEPTH = 64
_LIMIT = 1 << 64  # values must satisfy -2**63 <= v < 2**64

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>0[xX][0-9a-fA-F]+[uUlL]*|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?[uUlLfF]*)
  | (?P<cast>static_cast\s*<[^<>()]*>)
  | (?P<name>[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*)
  | (?P<op><<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>&|^!~?:(),])
""", re.VERBOSE)

# binary operators: precedence (higher binds tighter), C's table
_BINARY = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8,
    "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if not m:
            raise ValueError(f"unexpected character {expr[pos]!r} in {expr!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, re.sub(r"\s+", "", m.group())))
    return out


def _check(v: Any, expr: str) -> Any:
    if isinstance(v, int) and not isinstance(v, bool) and not (-(1 << 63) <= v < _LIMIT):
        raise ValueError(f"integer overflow (beyond 64 bits) in {expr!r}")
    return v


def _number(text: str, expr: str) -> int | float:
    t = text.rstrip("uUlL")
    if t.lower().startswith("0x"):
        return _check(int(t, 16), expr)
    if re.fullmatch(r"\d+", t):
        if len(t) > 20:
            raise ValueError(f"integer literal too long in {expr!r}")
        return _check(int(t, 8) if len(t) > 1 and t.startswith("0") else int(t), expr)
    return float(t.rstrip("fF"))


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _c_mod(a: int, b: int) -> int:
    return a - b * _c_div(a, b)


def _int(v: Any, expr: str) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise ValueError(f"integer expected, got {v!r} in {expr!r}")


def _binary(op: str, a: Any, b: Any, expr: str) -> Any:
    if op in ("&&", "||"):  # operands already evaluated (no side effects in constants)
        return bool(a) and bool(b) if op == "&&" else bool(a) or bool(b)
    if op in ("==", "!=", "<", ">", "<=", ">="):
        if isinstance(a, str) or isinstance(b, str):
            if op not in ("==", "!="):
                raise ValueError(f"cannot order names in {expr!r}")
        return {"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    if isinstance(a, str) or isinstance(b, str):
        raise ValueError(f"arithmetic on a name in {expr!r}")
    if op in ("<<", ">>", "&", "|", "^", "%"):
        a, b = _int(a, expr), _int(b, expr)
    if op in ("<<", ">>"):
        if not 0 <= b < 64:
            raise ValueError(f"shift by {b} (outside 0..63) in {expr!r}")
        return _check(a << b if op == "<<" else a >> b, expr)
    if op in ("/", "%"):
        if b == 0:
            raise ValueError(f"division by zero in {expr!r}")
        if op == "%":
            return _c_mod(a, b)
        if isinstance(a, (int, bool)) and isinstance(b, (int, bool)):
            return _c_div(int(a), int(b))
        return a / b
    if isinstance(a, float) or isinstance(b, float):
        if abs(a) > _LIMIT or abs(b) > _LIMIT:
            raise ValueError(f"value out of range in {expr!r}")
    fn = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
          "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b}[op]
    return _check(fn(), expr)


def _call(fn: str, args: list[Any], expr: str) -> Any:
    base = fn.split("::")[-1]
    ints = [_int(a, expr) for a in args]
    if base == "DIV_ROUNDUP" and len(ints) == 2:
        if ints[1] == 0:
            raise ValueError(f"division by zero in {expr!r}")
        return -(-ints[0] // ints[1])
    if base in ("MIN", "min") and ints:
        return min(ints)
    if base in ("MAX", "max") and ints:
        return max(ints)
    if base == "ceillog2" and len(ints) == 1:
        n = ints[0]
        return 0 if n <= 1 else (n - 1).bit_length()
    if base == "floorlog2" and len(ints) == 1:
        return max(0, ints[0].bit_length() - 1)
    if base == "pow2" and len(ints) == 1:
        if not 0 <= ints[0] < 64:
            raise ValueError(f"pow2 of {ints[0]} (outside 0..63) in {expr!r}")
        return 1 << ints[0]
    raise ValueError(f"unsupported function {fn!r} in {expr!r}")


class _Parser:
    def __init__(self, expr: str, names: dict[str, Any]):
        self.expr = expr
        self.names = names
        self.toks = _tokens(expr)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        t = self.peek()
        if t is None or (value is not None and t[1] != value):
            raise ValueError(f"expected {value or 'more'} in {self.expr!r}")
        self.i += 1
        return t

    def parse(self) -> Any:
        v = self.ternary(0)
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()[1]!r} in {self.expr!r}")
        return v

    def ternary(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"expression nested too deeply: {self.expr[:60]!r}...")
        cond = self.binary(1, depth)
        t = self.peek()
        if t and t[1] == "?":
            self.take("?")
            a = self.ternary(depth + 1)
            self.take(":")
            b = self.ternary(depth + 1)
            return a if cond else b
        return cond

    def binary(self, min_prec: int, depth: int) -> Any:
        left = self.unary(depth)
        while True:
            t = self.peek()
            if not t or t[0] != "op" or t[1] not in _BINARY or _BINARY[t[1]] < min_prec:
                return left
            op = t[1]
            self.i += 1
            right = self.binary(_BINARY[op] + 1, depth)
            left = _binary(op, left, right, self.expr)

    def unary(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"expression nested too deeply: {self.expr[:60]!r}...")
        t = self.take()
        kind, text = t
        if kind == "op" and text in ("-", "+", "!", "~"):
            v = self.unary(depth + 1)
            if isinstance(v, str):
                raise ValueError(f"operator {text} on a name in {self.expr!r}")
            if text == "-":
                return _check(-v, self.expr)
            if text == "+":
                return v
            if text == "!":
                return not v
            return _check(~_int(v, self.expr), self.expr)
        if kind == "cast":
            self.take("(")
            v = self.ternary(depth + 1)
            self.take(")")
            return v
        if kind == "op" and text == "(":
            v = self.ternary(depth + 1)
            self.take(")")
            return v
        if kind == "num":
            return _number(text, self.expr)
        if kind == "name":
            nxt = self.peek()
            if nxt and nxt[1] == "(":
                self.take("(")
                args = []
                if self.peek() and self.peek()[1] != ")":
                    args.append(self.ternary(depth + 1))
                    while self.peek() and self.peek()[1] == ",":
                        self.take(",")
                        args.append(self.ternary(depth + 1))
                self.take(")")
                return _call(text, args, self.expr)
            if text in ("true", "false"):
                return text == "true"
            if text in self.names:
                return self.names[text]
            if "::" in text:
                return text.split("::")[-1]
            raise ValueError(f"unknown name {text!r} in {self.expr!r}")
        raise ValueError(f"unexpected {text!r} in {self.expr!r}")


def eval_c_expr(expr: str, names: dict[str, Any]) -> Any:
    """Value of a constant C expression (int, float, bool, or an enum's last name component).

    ``names`` maps identifiers (``n_in``, ``N_LAYER_2``, qualified ``config2::n_out``) to
    values. Raises ``ValueError`` for anything that is not such a constant, or that
    exceeds the bounds (length, nesting, 64-bit range, shift count).
    """
    if len(expr) > MAX_CHARS:
        raise ValueError(f"expression longer than {MAX_CHARS} characters")
    if not expr.strip():
        raise ValueError("empty expression")
    return _Parser(expr.strip(), names).parse()
