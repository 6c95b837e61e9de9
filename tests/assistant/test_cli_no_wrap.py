"""CLI error text is never folded mid-phrase when stderr is not a terminal, whatever the console width and the
length of the paths in it (a hard wrap at 80 columns once made a test depend on the temp path's length)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses of the installed command

ASSISTANT = Path(sys.executable).parent / "assistant"


def run(*args: str, columns: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": columns, "HF_HUB_OFFLINE": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([str(ASSISTANT), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("columns", ["20", "80"])
def test_errors_are_one_line_each_at_any_width(tmp_path: Path, columns: str) -> None:
    long_dir = tmp_path / ("很长的目录名" * 12) / ("nested-" * 20) / "data"
    missing = run("ask", "--data-dir", str(long_dir), "长宁园管理专班由哪个部门牵头组建？", columns=columns)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    first = missing.stderr.splitlines()[0]
    assert str(long_dir) in first and "没有找到索引" in first, missing.stderr  # path and phrase on one line
    assert "请先运行 `assistant ingest`" in missing.stderr

    usage = run("ask", "--top-k", "0", "问题", columns=columns)  # a usage error: Typer's, not ours
    assert usage.returncode == 2
    assert any("Invalid value for '--top-k'" in line and "greater than or equal to 1" in line
               for line in usage.stderr.splitlines()), usage.stderr
    assert "╭" not in usage.stderr  # no panel: plain text
