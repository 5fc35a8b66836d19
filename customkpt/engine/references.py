"""``${...}`` references: config values derived from the config's top-level knobs.

A base config writes a value that depends on a knob as a reference string,
e.g. ``input_size='${train_size}'`` or ``end='${max_epochs - 30}'``. mmengine
merges ``_base_`` files and ``--cfg-options`` without recomputing anything, so
a child that sets ``train_size = (96, 128)`` at its top would otherwise leave
the base's dicts at the old size; :func:`resolve_references` evaluates every
reference after merging, against the merged top-level values.

The expression inside ``${...}`` is a small, safe subset of Python (parsed
with :mod:`ast`, never ``eval``): top-level config names, numbers, strings,
``True``/``False``/``None``, tuples and lists, ``+ - * / //``, unary minus,
indexing (``widths[arch]``, ``train_size[0]``) and the functions in
:data:`FUNCTIONS`. A string that is a whole reference takes the value's type
(a tuple stays a tuple, a dict a dict); a reference inside a longer string
is written into it as text (``'${data_root}images/'``). A name that is itself
a reference is resolved first; cycles and unknown names are errors that name
the key path and the reference.
"""
from __future__ import annotations

import ast
import copy
import operator
import re
from typing import Any, Callable

from mmengine.config import Config, ConfigDict

from customkpt.codecs import build_codec

WHOLE = re.compile(r'\A\$\{([^{}]*)\}\Z')
INNER = re.compile(r'\$\{([^{}]*)\}')
NAME = re.compile(r'\A\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\Z')

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class ConfigReferenceError(ValueError):
    """A ``${...}`` reference that cannot be resolved."""


def codec_use_udp(cfg: dict) -> bool:
    """Whether the codec config ``cfg`` implies the UDP crop convention
    (the built codec's ``use_udp``: True for ``UDPHeatmap``)."""
    return bool(build_codec(cfg).use_udp)


FUNCTIONS: dict[str, Callable[..., Any]] = {'use_udp': codec_use_udp}


class _Resolver:
    """Resolves the references of one config's top-level values, each once."""

    def __init__(self, top: dict) -> None:
        self.top = top
        self.done: dict[str, Any] = {}
        self.active: list[str] = []

    def name(self, name: str, where: str) -> Any:
        if name in self.done:
            return copy.deepcopy(self.done[name])
        if name not in self.top:
            raise ConfigReferenceError(f'{where}: {name!r} is not a top-level key of the config')
        if name in self.active:
            cycle = ' -> '.join(self.active[self.active.index(name):] + [name])
            raise ConfigReferenceError(f'{where}: the references go round in a circle: {cycle}')
        self.active.append(name)
        try:
            self.done[name] = self.value(self.top[name], name)
        finally:
            self.active.pop()
        return copy.deepcopy(self.done[name])

    def value(self, value: Any, path: str) -> Any:
        if isinstance(value, str):
            return self.string(value, path) if '${' in value else value
        if isinstance(value, dict):
            return {k: self.value(v, f'{path}.{k}') for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, f'{path}[{i}]') for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return tuple(self.value(v, f'{path}[{i}]') for i, v in enumerate(value))
        return value

    def string(self, text: str, path: str) -> Any:
        whole = WHOLE.match(text)
        if whole:
            return self.expression(whole.group(1), path, text)
        pieces = []
        last = 0
        for match in INNER.finditer(text):
            value = self.expression(match.group(1), path, text)
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ConfigReferenceError(
                    f'{path} = {text!r}: {match.group(0)} is {value!r}; only strings and '
                    'numbers can stand inside a longer string')
            pieces += [text[last:match.start()], str(value)]
            last = match.end()
        rest = text[last:]
        if '${' in rest:
            raise ConfigReferenceError(f'{path} = {text!r}: a "${{" without its closing "}}"')
        return ''.join(pieces) + rest

    def expression(self, source: str, path: str, text: str) -> Any:
        where = f'{path} = {text!r}'
        try:
            tree = ast.parse(source.strip(), mode='eval')
        except SyntaxError as err:
            raise ConfigReferenceError(f'{where}: not an expression ({err.msg})') from None
        try:
            return self.node(tree.body, where)
        except ConfigReferenceError:
            raise
        except (TypeError, KeyError, IndexError, ValueError, ZeroDivisionError) as err:
            raise ConfigReferenceError(
                f'{where}: {type(err).__name__}: {err}') from None

    def node(self, node: ast.AST, where: str) -> Any:
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(
                node.value, (bool, int, float, str))):
            return node.value
        if isinstance(node, ast.Name):
            return self.name(node.id, where)
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.node(item, where) for item in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](self.node(node.left, where),
                                          self.node(node.right, where))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.node(node.operand, where))
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            return self.node(node.value, where)[self.node(node.slice, where)]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in FUNCTIONS and not node.keywords):
            return FUNCTIONS[node.func.id](*[self.node(arg, where) for arg in node.args])
        raise ConfigReferenceError(
            f'{where}: {ast.unparse(node)!r} is not allowed in a reference (names, numbers, '
            f'strings, tuples, lists, + - * / //, indexing and {sorted(FUNCTIONS)} only)')


def resolve_references(cfg: Config) -> Config:
    """Replace every ``${...}`` reference in ``cfg`` by its value, in place.

    Run it after the ``_base_`` merge and ``--cfg-options``; a config without
    references is left as it is, so resolving twice changes nothing.

    Args:
        cfg: a loaded config.

    Returns:
        ``cfg`` itself.

    Raises:
        ConfigReferenceError: a reference names an unknown key, goes round in
            a circle, uses a construct outside the allowed subset, or fails to
            evaluate; the message names the key path and the reference.
    """
    top = cfg.to_dict()
    resolver = _Resolver(top)
    resolved = ConfigDict({key: resolver.name(key, key) for key in top})
    for key in top:
        if resolved[key] != top[key]:
            cfg[key] = resolved[key]
    return cfg


def expand_option_targets(cfg: Config, options: dict) -> None:
    """Copy in the dicts and lists that ``--cfg-options`` keys reach through.

    ``model.head.decoder.sigma=3`` descends into ``model.head.decoder``; when
    that value is the reference ``'${codec}'``, the referenced top-level
    value (its own references kept) replaces it there, so the option merges
    into a dict as it would without references. Options on top-level knobs
    (``sigma=3``) still reach every reference to them.
    """
    for full_key in options:
        parts = full_key.split('.')
        node: Any = cfg
        for part in parts[:-1]:
            child = _child(node, part)
            name = NAME.match(child) if isinstance(child, str) else None
            if name and isinstance(cfg.get(name.group(1)), (dict, list)):
                child = copy.deepcopy(cfg[name.group(1)])
                _set_child(node, part, child)
            if child is None or not isinstance(child, (dict, list)):
                break
            node = child


def _child(node: Any, key: str) -> Any:
    if isinstance(node, list):
        return node[int(key)] if key.isdigit() and int(key) < len(node) else None
    return node.get(key)


def _set_child(node: Any, key: str, value: Any) -> None:
    if isinstance(node, list):
        node[int(key)] = value
    else:
        node[key] = value
