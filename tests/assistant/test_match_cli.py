"""`assistant match` and `assistant measures` (in-process with typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.ingest import pipeline
from assistant.match.matcher import match
from assistant.match.profile import ProfileInput

EXAMPLE = "我们是一家做工业软件的成长期企业，想申请贷款，也担心海外专利纠纷"


@pytest.fixture()
def cli(monkeypatch, shared_embeddings) -> CliRunner:
    """The commands build their own Assistant; let it reuse the already loaded real model."""
    monkeypatch.setattr(pipeline, "get_embeddings", lambda settings: shared_embeddings.inner)
    return CliRunner()


def invoke(cli: CliRunner, corpus_settings, *args: str):
    return cli.invoke(app, [*args, "--data-dir", str(corpus_settings.data_dir)])


def test_match_json_is_the_api_object(cli: CliRunner, corpus_settings, bot) -> None:
    result = invoke(cli, corpus_settings, "match", "--json", EXAMPLE)
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    expected = match(bot, ProfileInput(description=EXAMPLE)).model_dump(mode="json")
    assert set(got) == {"profile", "results"}
    assert got["profile"] == expected["profile"]
    assert [r["measure_id"] for r in got["results"]] == [r["measure_id"] for r in expected["results"]]
    assert got["results"][0]["citations"][0]["quote"] == expected["results"][0]["citations"][0]["quote"]


def test_match_profile_file_and_options(cli: CliRunner, corpus_settings, tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(
        json.dumps({"industry": "软件", "size": "50人", "location": "长宁区"}, ensure_ascii=False), "utf-8"
    )
    result = invoke(
        cli,
        corpus_settings,
        "match",
        "--profile",
        str(profile),
        "--need",
        "融资/信贷",
        "--json",
        "--top-k",
        "2",
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got["profile"]["needs"] == ["融资/信贷"] and got["profile"]["size_class"] == "小型"
    assert len(got["results"]) == 2
    assert got["results"][0]["conditions"][0]["status"] == "满足"

    pretty = invoke(cli, corpus_settings, "match", "--profile", str(profile), "--need", "融资/信贷")
    assert pretty.exit_code == 0, pretty.output
    assert (
        "提升科技金融服务能力" in pretty.stdout
        and "【满足】" in pretty.stdout
        and "长科委〔2025〕13号" in pretty.stdout
    )


def test_match_errors_are_clean(cli: CliRunner, corpus_settings, tmp_path: Path) -> None:
    empty = invoke(cli, corpus_settings, "match")
    assert empty.exit_code == 2 and "请至少填写企业描述" in empty.stderr

    broken = tmp_path / "broken.json"
    broken.write_text('{"description": "做软件",', "utf-8")
    bad = invoke(cli, corpus_settings, "match", "--profile", str(broken))
    assert bad.exit_code == 2 and "不是有效的 JSON" in bad.stderr

    typo = tmp_path / "typo.json"
    typo.write_text('{"descripton": "做软件"}', "utf-8")
    bad = invoke(cli, corpus_settings, "match", "--profile", str(typo))
    assert bad.exit_code == 2 and "descripton" in bad.stderr

    missing = cli.invoke(app, ["match", "做软件的", "--data-dir", str(tmp_path / "no-index")])
    assert missing.exit_code == 2 and "assistant ingest" in missing.stderr
    assert "Traceback" not in empty.output + bad.output + missing.output


def test_measures_lists_and_filters(cli: CliRunner, corpus_settings) -> None:
    result = invoke(cli, corpus_settings, "measures", "--kind", "知识产权", "--json")
    assert result.exit_code == 0, result.output
    [measure] = json.loads(result.stdout)
    assert measure["section"] == "二、重点任务 > （五）完善创新创业生态体系 > 14、健全知识产权服务体系"
    assert measure["doc_number"] == "长科委〔2025〕13号" and measure["kinds"][0] == "知识产权"

    table = invoke(cli, corpus_settings, "measures")
    assert table.exit_code == 0 and "共 26 条" in table.stdout

    unknown = invoke(cli, corpus_settings, "measures", "--kind", "免税")
    assert unknown.exit_code == 2 and "未知的支持类型" in unknown.stderr
