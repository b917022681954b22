"""The subset of Cumulocity's inventory query language the fleet tool uses, parsed strictly.

    $filter=(has(deviceCertificate) and deviceCertificate.notAfterEpoch le 1767225600) $orderby=deviceCertificate.notAfterEpoch asc

Filter: `has(fragment)`, `not(...)`, `bygroupid(id)`, `<path> eq|ne|gt|ge|lt|le <value>` on dotted
paths, `and`, `or`, parentheses; values are single-quoted strings ('' for a quote, `*` a wildcard
with eq/ne), numbers, true, false. Order: `$orderby=<path> [asc|desc][, ...]`. The `$filter=`
prefix may be left out, as the tenant allows. Anything else raises QueryError (the tenant's 400).

Where the tenant's documentation is silent the emulator chooses, and says so here: a comparison
with a missing path or a value of another type is false (`ne` too); objects without the sort path
come last whichever the direction; strings compare by code point.
"""

from __future__ import annotations

import re
from typing import Callable

MAX_DEPTH = 32
MAX_QUERY = 8192
COMPARISONS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
}
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<punct>[(),])
    | '(?P<string>(?:[^']|'')*)'
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""", re.VERBOSE)
MISSING = object()  # what lookup() returns for a path the document lacks

Predicate = Callable[[dict, Callable[[str], set]], bool]  # (object, group id → member ids) → matches


class QueryError(ValueError):
    pass


def lookup(document: dict, path: str):
    """The value at a dotted path (`a.b.c`) of nested objects, or MISSING."""
    value = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _tokens(text: str) -> list[tuple[str, object]]:
    out, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"unexpected character at {position}: {text[position:position + 10]!r}")
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = value.replace("''", "'")
        elif kind == "number":
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:  # more digits than Python converts
                raise QueryError(f"number too long at {position}") from None
        out.append((kind, value))
    return out


class _Parser:
    def __init__(self, tokens):
        self.tokens, self.at, self.depth = tokens, 0, 0

    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", None)

    def take(self, kind: str, value=None):
        token = self.peek()
        if token[0] != kind or (value is not None and token[1] != value):
            wanted = repr(value) if value is not None else kind
            raise QueryError(f"expected {wanted} at token {self.at + 1}, found {token[1]!r}")
        self.at += 1
        return token[1]

    def is_word(self, word: str) -> bool:
        kind, value = self.peek()
        return kind == "word" and value == word

    def expression(self) -> Predicate:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"query nested deeper than {MAX_DEPTH}")
        terms = [self.conjunction()]
        while self.is_word("or"):
            self.at += 1
            terms.append(self.conjunction())
        self.depth -= 1
        return terms[0] if len(terms) == 1 else (lambda d, g, ts=tuple(terms): any(t(d, g) for t in ts))

    def conjunction(self) -> Predicate:
        terms = [self.unary()]
        while self.is_word("and"):
            self.at += 1
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else (lambda d, g, ts=tuple(terms): all(t(d, g) for t in ts))

    def parenthesised(self) -> Predicate:
        self.take("punct", "(")
        inner = self.expression()
        self.take("punct", ")")
        return inner

    def unary(self) -> Predicate:
        kind, value = self.peek()
        if kind == "punct" and value == "(":
            return self.parenthesised()
        if kind != "word":
            raise QueryError(f"expected a condition at token {self.at + 1}, found {value!r}")
        if value == "not":
            self.at += 1
            inner = self.parenthesised()
            return lambda d, g: not inner(d, g)
        if value == "has":
            self.at += 1
            self.take("punct", "(")
            fragment = self.take("word")
            self.take("punct", ")")
            return lambda d, g: lookup(d, fragment) is not MISSING
        if value == "bygroupid":
            self.at += 1
            self.take("punct", "(")
            kind, group = self.peek()
            if kind not in ("number", "word", "string"):
                raise QueryError("bygroupid needs a group id")
            self.at += 1
            self.take("punct", ")")
            return lambda d, g: d.get("id") in g(str(group))
        return self.comparison()

    def comparison(self) -> Predicate:
        path = self.take("word")
        if path in COMPARISONS or path in ("and", "or", "not", "true", "false"):
            raise QueryError(f"expected a path at token {self.at}, found {path!r}")
        operator = self.take("word")
        if operator not in COMPARISONS:
            raise QueryError(f"unknown operator {operator!r} after {path}")
        kind, value = self.peek()
        if kind == "word" and value in ("true", "false"):
            value = value == "true"
        elif kind not in ("string", "number"):
            raise QueryError(f"expected a value after {path} {operator}, found {value!r}")
        self.at += 1
        compare = COMPARISONS[operator]
        if kind == "string" and "*" in value and operator in ("eq", "ne"):
            pattern = re.compile(".*".join(re.escape(part) for part in value.split("*")), re.S)
            wanted = operator == "eq"
            return lambda d, g: isinstance(lookup(d, path), str) and bool(pattern.fullmatch(lookup(d, path))) == wanted
        return lambda d, g: _comparable(lookup(d, path), value) and compare(lookup(d, path), value)


def _comparable(found, value) -> bool:
    if isinstance(value, bool) or isinstance(found, bool):
        return isinstance(value, bool) and isinstance(found, bool)
    if isinstance(value, (int, float)):
        return isinstance(found, (int, float))
    return isinstance(found, str)


def _order(text: str) -> list[tuple[str, bool]]:
    """[(path, descending)] of an $orderby clause."""
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", words[0]):
            raise QueryError(f"bad $orderby clause {part.strip()!r}")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise QueryError(f"bad $orderby direction {words[1]!r}")
        keys.append((words[0], direction == "desc"))
    return keys


class Query:
    def __init__(self, text: str):
        if len(text) > MAX_QUERY:
            raise QueryError("query too long")
        filter_text, marker, order_text = text.partition("$orderby=")
        filter_text = filter_text.strip()
        if filter_text.startswith("$filter="):
            filter_text = filter_text[len("$filter="):].strip()
        elif "$" in filter_text:
            raise QueryError("unknown $ clause")
        self.order = _order(order_text) if marker else []
        if filter_text:
            parser = _Parser(_tokens(filter_text))
            self.predicate = parser.expression()
            if parser.at != len(parser.tokens):
                raise QueryError(f"unexpected {parser.peek()[1]!r} after the condition")
        else:
            self.predicate = lambda d, g: True

    def run(self, documents: list[dict], members_of: Callable[[str], set]) -> list[dict]:
        found = [d for d in documents if self.predicate(d, members_of)]
        for path, descending in reversed(self.order):
            present = [d for d in found if _sort_key(lookup(d, path)) is not None]
            absent = [d for d in found if _sort_key(lookup(d, path)) is None]
            present.sort(key=lambda d: _sort_key(lookup(d, path)), reverse=descending)
            found = present + absent
        return found


def _sort_key(value):
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return None
