"""Evaluation splits (``eval/splits.toml``): which gold questions are scored on which corpus, gated by what.

A split names its gold file(s) (files, folders of ``questions*.jsonl``, or glob patterns, relative to the
repository), its corpus folder(s) and, optionally, a thresholds file. A split whose only corpus folder is the
configured corpus uses the configured index. Any other split gets its own index under
``<data_dir>/eval/<split>/data``; a split of several folders is ingested from ``<data_dir>/eval/<split>/corpus``,
a folder of symlinks with every document at the top level (a file name found in two folders is an error).
All splits share one embedding cache (``<data_dir>/cache/embeddings.sqlite``), so re-runs embed only what is new.
"""

from __future__ import annotations

import glob as globlib
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from assistant.errors import ConfigError
from assistant.evaluation.thresholds import read_toml
from assistant.ingest.pipeline import iter_corpus
from assistant.settings import REPO_ROOT, Settings

DEFAULT_SPLITS = REPO_ROOT / "eval" / "splits.toml"
_GLOB_CHARS = set("*?[")


class Split(BaseModel):
    name: str = ""
    description: str = ""
    gold: list[str] = Field(min_length=1)
    corpus: list[str] = Field(min_length=1)
    thresholds: str = ""  # empty: no gate for this split
    match: bool = False  # also score the profile-matching gold (eval/gold/profiles.jsonl needs the shipped corpus)

    @field_validator("gold", "corpus", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def _path(self, entry: str, root: Path) -> Path:
        path = Path(entry).expanduser()
        return path if path.is_absolute() else root / path

    def gold_files(self, root: Path = REPO_ROOT) -> list[Path]:
        """The gold files/folders that exist (glob patterns expanded, sorted)."""
        out: list[Path] = []
        for entry in self.gold:
            path = self._path(entry, root)
            if _GLOB_CHARS & set(entry):
                out += [Path(p) for p in sorted(globlib.glob(str(path)))]
            elif path.is_file() or (path.is_dir() and any(path.glob("questions*.jsonl"))):
                out.append(path)
        return out

    def corpus_dirs(self, root: Path = REPO_ROOT) -> list[Path]:
        return [self._path(entry, root).resolve() for entry in self.corpus]

    def thresholds_path(self, root: Path = REPO_ROOT) -> Path | None:
        return self._path(self.thresholds, root) if self.thresholds else None

    def missing(self, root: Path = REPO_ROOT) -> str | None:
        """Why this split cannot run now (None when it can)."""
        if not self.gold_files(root):
            return f"没有金标文件（{'、'.join(self.gold)}）"
        for entry, folder in zip(self.corpus, self.corpus_dirs(root), strict=True):
            if not folder.is_dir():
                return f"语料目录不存在（{entry}）"
            if not any(iter_corpus(folder)):
                return f"语料目录是空的（{entry}）"
        path = self.thresholds_path(root)
        if path is not None and not path.is_file():
            return f"阈值文件不存在（{self.thresholds}）"
        return None


class SplitsConfig(BaseModel):
    splits: dict[str, Split]


def load_splits(path: Path | str | None = None) -> dict[str, Split]:
    """Splits in file order, each with its ``name`` set."""
    path = Path(path) if path is not None else DEFAULT_SPLITS
    data = read_toml(path, "评测划分文件", "划分文件默认在 eval/splits.toml。")
    try:
        config = SplitsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"评测划分文件 {path} 格式不对：{exc}",
            "格式：[splits.<名称>] 表，含 gold（列表）、corpus（列表）、可选 thresholds、description。",
        ) from exc
    return {name: split.model_copy(update={"name": name}) for name, split in config.splits.items()}


def link_corpus(folders: list[Path], dest: Path) -> Path:
    """Make ``dest`` a folder of symlinks to every document of ``folders``, at the top level by file name.

    Kept in step with the folders on every call (stale links removed, new ones added), so that an incremental
    ingest of ``dest`` sees exactly the folders' documents. Two documents with the same file name are an error.
    """
    wanted: dict[str, Path] = {}
    for folder in folders:
        for path in iter_corpus(folder):
            name = path.name
            if name in wanted and wanted[name] != path.resolve():
                raise ConfigError(
                    f"语料文件名冲突：{name} 同时在 {wanted[name].parent} 和 {path.parent} 中",
                    "合并后的语料按文件名平铺在一个目录里，请给其中一个文件改名。",
                )
            wanted[name] = path.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for entry in dest.iterdir():
        if entry.is_symlink():
            if entry.name not in wanted or Path(os.readlink(entry)) != wanted[entry.name]:
                entry.unlink()
        else:
            raise ConfigError(f"{dest} 中有不是符号链接的文件 {entry.name}", "这个目录由评测生成，请删除它后重试。")
    for name, target in wanted.items():
        link = dest / name
        if not link.is_symlink():
            link.symlink_to(target)
    return dest


def split_settings(split: Split, base: Settings, root: Path = REPO_ROOT) -> Settings:
    """Settings whose corpus and data dir are the split's (the configured ones when its corpus is the configured one)."""
    folders = split.corpus_dirs(root)
    if folders == [base.corpus_dir.resolve()]:
        return base
    split_root = base.data_dir / "eval" / split.name
    corpus = folders[0] if len(folders) == 1 else link_corpus(folders, split_root / "corpus")
    return base.model_copy(update={"corpus_dir": corpus, "data_dir": split_root / "data"})
