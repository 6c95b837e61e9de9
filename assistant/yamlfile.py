"""YAML data files an office edits (rules, matching taxonomy): parsed with the node tree kept, so that a
validation error can name the file and the line it is on."""

from __future__ import annotations

from typing import Any

import yaml


def node_line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (the deepest node found on the path)."""
    node, line = root, None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    if node is not None:
        line = node.start_mark.line + 1
    return line


def compose(text: str) -> tuple[Any, yaml.Node | None]:
    """(data, node tree) of a YAML text; raises ``yaml.YAMLError`` (see ``syntax_error``)."""
    return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)


def syntax_error(exc: yaml.YAMLError) -> tuple[str, str]:
    """(where, problem) of a YAML syntax error, for a message like '… 第 3 行不是有效的 YAML：…'."""
    mark = getattr(exc, "problem_mark", None)
    where = f"第 {mark.line + 1} 行" if mark is not None else ""
    return where, getattr(exc, "problem", None) or str(exc)


def describe_error(root: yaml.Node | None, exc: Any, message: Any) -> str:
    """'第 12 行（answer.sentence.own_weight）有误：应为数字（另有 2 处问题）' for the first error of a pydantic
    ``ValidationError``; ``message`` turns one error dict into the words an office reads."""
    first = exc.errors()[0]
    loc = tuple(first.get("loc", ()))
    line = node_line(root, loc)
    where = f"第 {line} 行" if line else ""
    field = ".".join(str(p) for p in loc) or "(顶层)"
    more = f"（另有 {exc.error_count() - 1} 处问题）" if exc.error_count() > 1 else ""
    return f"{where}（{field}）有误：{message(first)}{more}"
