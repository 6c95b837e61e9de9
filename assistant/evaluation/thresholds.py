"""The quality gate's thresholds, kept in one file (``eval/thresholds.toml``), and the check against them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from assistant.errors import ConfigError
from assistant.settings import REPO_ROOT

DEFAULT_THRESHOLDS = REPO_ROOT / "eval" / "thresholds.toml"


class Thresholds(BaseModel):
    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)
    optional: list[str] = Field(default_factory=list)


class Check(BaseModel):
    metric: str
    op: str  # ">=" or "<="
    threshold: float
    value: float | None
    status: str  # "pass" | "fail" | "n/a"

    def line(self) -> str:
        shown = "n/a" if self.value is None else f"{self.value:.4f}"
        return f"{self.metric} = {shown} (需要 {self.op} {self.threshold})"


class GateResult(BaseModel):
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]


def read_toml(path: Path, what: str, default_hint: str) -> dict:
    """A TOML data file of the eval (thresholds, splits), with clear errors for a missing or malformed file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到{what} {path}", default_hint) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} 不是合法的 TOML：{exc}", "请修正该文件。") from exc


def load_thresholds(path: Path | str | None = None) -> Thresholds:
    path = Path(path) if path is not None else DEFAULT_THRESHOLDS
    data = read_toml(path, "阈值文件", "阈值文件默认在 eval/thresholds.toml。")
    try:
        return Thresholds.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"阈值文件 {path} 格式不对：{exc}", "格式：[min] / [max] 表，值为数字。") from exc


def check(values: dict[str, float | None], thresholds: Thresholds) -> GateResult:
    """Each threshold against the measured value. A missing value fails, unless the metric is optional."""
    checks: list[Check] = []
    for op, table in ((">=", thresholds.min), ("<=", thresholds.max)):
        for metric, limit in table.items():
            value = values.get(metric)
            if value is None:
                status = "n/a" if metric in thresholds.optional else "fail"
            elif op == ">=":
                status = "pass" if value >= limit else "fail"
            else:
                status = "pass" if value <= limit else "fail"
            checks.append(Check(metric=metric, op=op, threshold=limit, value=value, status=status))
    return GateResult(checks=checks)
