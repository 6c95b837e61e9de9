"""Evaluation splits: eval/splits.toml parsing, availability, the merged symlink corpus, per-split settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.evaluation.splits import DEFAULT_SPLITS, link_corpus, load_splits, split_settings
from tests.conftest import CORPUS, make_settings


def test_shipped_splits_file_names_every_split() -> None:
    splits = load_splits(DEFAULT_SPLITS)
    assert list(splits) == ["gold", "heldout", "holdout2", "dev-tune", "dev-tune2", "dev-test"]
    assert splits["gold"].thresholds == "eval/thresholds.toml" and splits["gold"].match
    assert splits["dev-test"].thresholds == "eval/thresholds-dev-test.toml"
    assert splits["dev-tune"].thresholds == ""  # tuning split: no gate
    for name in ("gold", "heldout", "holdout2"):
        assert splits[name].corpus_dirs() == [CORPUS.resolve()]
        assert splits[name].missing() is None, name
    for name in ("dev-tune", "dev-test"):
        assert splits[name].corpus == [f"eval/corpus_dev/{name[4:]}/docs", "corpus"]
        assert splits[name].gold == [f"eval/corpus_dev/{name[4:]}/questions-*.jsonl"]
        assert splits[name].description
    # the second tune-side batch: its own documents plus the tune documents its questions T4 are about
    assert splits["dev-tune2"].corpus == ["eval/corpus_dev/tune2/docs", "eval/corpus_dev/tune/docs", "corpus"]
    assert splits["dev-tune2"].thresholds == "" and splits["dev-tune2"].missing() is None


def test_dev_test_is_gated_on_the_issue_metrics() -> None:
    """The test split gates make test: every metric the goals name has an active threshold."""
    from assistant.evaluation.thresholds import load_thresholds

    t = load_thresholds(Path(DEFAULT_SPLITS).parent / "thresholds-dev-test.toml")
    assert {"fact_recall", "near_miss_refusal_rate", "citation_precision", "right_doc_cited"} <= set(t.min)
    assert "false_refusal_rate" in t.max


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "dev" / "docs").mkdir(parents=True)
    (root / "dev" / "docs" / "a.txt").write_text("甲", encoding="utf-8")
    (root / "dev" / "docs" / "sub").mkdir()
    (root / "dev" / "docs" / "sub" / "b.md").write_text("乙", encoding="utf-8")
    (root / "dev" / "docs" / ".hidden.txt").write_text("x", encoding="utf-8")
    (root / "base").mkdir()
    (root / "base" / "c.txt").write_text("丙", encoding="utf-8")
    (root / "dev" / "questions-1.jsonl").write_text("{}\n", encoding="utf-8")
    (root / "dev" / "questions-2.jsonl").write_text("{}\n", encoding="utf-8")
    return root


def test_parse_glob_and_missing_reasons(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    cfg = tmp_path / "splits.toml"
    cfg.write_text(
        '[splits.one]\ngold = "dev/questions-*.jsonl"\ncorpus = ["dev/docs", "base"]\ndescription = "d"\n'
        '[splits.none]\ngold = ["nope/questions-*.jsonl"]\ncorpus = ["base"]\n'
        '[splits.nodir]\ngold = ["dev"]\ncorpus = ["base", "gone"]\n'
        '[splits.gate]\ngold = ["dev/questions-1.jsonl"]\ncorpus = ["base"]\nthresholds = "t.toml"\n',
        encoding="utf-8",
    )
    splits = load_splits(cfg)
    assert list(splits) == ["one", "none", "nodir", "gate"] and splits["one"].name == "one"
    assert [p.name for p in splits["one"].gold_files(root)] == ["questions-1.jsonl", "questions-2.jsonl"]
    assert splits["one"].missing(root) is None
    assert "没有金标文件" in splits["none"].missing(root)
    assert "语料目录不存在（gone）" in splits["nodir"].missing(root)
    assert "阈值文件不存在" in splits["gate"].missing(root)

    cfg.write_text("[splits.bad]\ncorpus = ['x']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="格式不对"):
        load_splits(cfg)
    cfg.write_text("[splits.bad\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="不是合法的 TOML"):
        load_splits(cfg)
    with pytest.raises(ConfigError, match="找不到"):
        load_splits(tmp_path / "none.toml")


def test_link_corpus_flattens_and_stays_in_step(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    dest = tmp_path / "merged"
    link_corpus([root / "dev" / "docs", root / "base"], dest)
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt", "b.md", "c.txt"]
    assert all(p.is_symlink() for p in dest.iterdir())
    assert (dest / "b.md").read_text(encoding="utf-8") == "乙"
    # a document removed from a folder disappears, a new one appears; the rest stay as they were
    (root / "base" / "c.txt").unlink()
    (root / "base" / "d.txt").write_text("丁", encoding="utf-8")
    link_corpus([root / "dev" / "docs", root / "base"], dest)
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt", "b.md", "d.txt"]
    # the same file name in two folders is an error naming both
    (root / "base" / "a.txt").write_text("另一个甲", encoding="utf-8")
    with pytest.raises(ConfigError, match="a.txt"):
        link_corpus([root / "dev" / "docs", root / "base"], dest)


def test_split_settings_uses_its_own_index_unless_its_corpus_is_the_configured_one(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    cfg = tmp_path / "splits.toml"
    cfg.write_text(
        f'[splits.same]\ngold = ["dev"]\ncorpus = ["{CORPUS}"]\n'
        '[splits.merged]\ngold = ["dev"]\ncorpus = ["dev/docs", "base"]\n'
        '[splits.single]\ngold = ["dev"]\ncorpus = ["base"]\n',
        encoding="utf-8",
    )
    splits = load_splits(cfg)
    base = make_settings(tmp_path / "data")
    assert split_settings(splits["same"], base, root) is base
    merged = split_settings(splits["merged"], base, root)
    assert merged.data_dir == base.data_dir / "eval" / "merged" / "data"
    assert merged.corpus_dir == base.data_dir / "eval" / "merged" / "corpus"
    assert sorted(p.name for p in merged.corpus_dir.iterdir()) == ["a.txt", "b.md", "c.txt"]
    single = split_settings(splits["single"], base, root)
    assert single.corpus_dir == (root / "base").resolve() and single.data_dir == base.data_dir / "eval" / "single" / "data"


def test_all_splits_skips_a_split_that_stops_on_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.evaluation import multi
    from assistant.evaluation.gold import GoldError

    root = _tree(tmp_path)
    cfg = tmp_path / "splits.toml"
    cfg.write_text(f'[splits.bad]\ngold = ["{root}/dev/questions-*.jsonl"]\ncorpus = ["{root}/base"]\n'
                   f'[splits.gone]\ngold = ["{root}/none/*.jsonl"]\ncorpus = ["{root}/base"]\n', encoding="utf-8")
    splits = load_splits(cfg)

    def broken(*args: object, **kwargs: object) -> None:
        raise GoldError("questions-1.jsonl 第 1 行：expected_sources 中的 x.txt 不在语料中")

    monkeypatch.setattr(multi, "run_split", broken)
    base = make_settings(tmp_path / "data")
    report = multi.run_splits(["bad", "gone"], splits, base, skip_missing=True, embeddings=object())
    assert report.splits == {} and report.passed
    assert report.skipped["bad"].startswith("出错：questions-1.jsonl 第 1 行") and "没有金标文件" in report.skipped["gone"]
    with pytest.raises(GoldError):
        multi.run_splits(["bad"], splits, base, embeddings=object())
    with pytest.raises(ConfigError, match="无法运行"):
        multi.run_splits(["gone"], splits, base, embeddings=object())
