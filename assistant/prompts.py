"""Prompt and message templates live in ``prompts/*.j2``; this renders them and fails loudly on a missing variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from assistant.errors import ConfigError


def book_title(title: str) -> str:
    """《title》 with inner book-title marks turned into 〈〉, as Chinese typesetting requires."""
    return "《" + title.replace("《", "〈").replace("》", "〉") + "》"


@lru_cache(maxsize=8)
def _env(prompts_dir: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(prompts_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["book"] = book_title
    return env


def render(prompts_dir: Path, name: str, **variables: object) -> str:
    try:
        return _env(str(prompts_dir)).get_template(f"{name}.j2").render(**variables).strip()
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"找不到提示词模板 {name}.j2（目录 {prompts_dir}）", "请检查 ASSISTANT_PROMPTS_DIR。") from exc
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"提示词模板 {name}.j2 缺少变量：{exc}", "这是程序错误，请报告。") from exc
