"""The matching taxonomy is data: the packaged file loads, an office's corpus_dir/taxonomy.yaml extends it, and a
bad file fails with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.match.profile import ProfileInput, understand
from assistant.match.taxonomy import PACKAGED, TaxonomyError, build, load_taxonomy
from tests.conftest import make_settings


def test_packaged_taxonomy_loads_with_every_part(tmp_path: Path) -> None:
    tax = load_taxonomy(make_settings(tmp_path))
    kinds = tax.names("kinds")
    for kind in (
        "资金",
        "融资/信贷",
        "人才引进",
        "人才培育",
        "落户/居留",
        "场地/载体",
        "孵化",
        "成果转化/概念验证",
        "知识产权",
        "应用场景",
        "国际化/出海",
        "资质认定",
        "政务服务",
    ):
        assert kind in kinds
    for qual in ("高新技术企业", "专精特新", "科技型中小企业", "外资研发中心", "孵化器"):
        assert qual in tax.names("qualifications")
    assert tax.names("stages") == ["初创", "成长", "成熟"]
    assert tax.measure_rules.triggers and tax.conditions.patterns and tax.conditions.checks
    assert tax.sources == [str(PACKAGED)] and len(tax.fingerprint) == 16
    assert load_taxonomy(make_settings(tmp_path)) is tax, "cached while the file is unchanged"


def test_corpus_taxonomy_extends_the_packaged_one(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "taxonomy.yaml").write_text(
        "kinds:\n"
        "  - name: 算力支持\n"
        "    description: 算力券、智算中心\n"
        "    keywords: [算力券, 智算中心]\n"
        "  - name: 知识产权\n"
        "    profile_words: [专利池]\n"
        "scoring:\n"
        "  min_score: 0.5\n",
        encoding="utf-8",
    )
    base = load_taxonomy(make_settings(tmp_path / "a"))
    tax = load_taxonomy(make_settings(tmp_path / "b", corpus_dir=corpus))
    assert tax.sources == [str(PACKAGED), str(corpus / "taxonomy.yaml")]
    assert tax.fingerprint != base.fingerprint
    assert tax.names("kinds")[-1] == "算力支持" and len(tax.kinds) == len(base.kinds) + 1
    ip = tax.term("kinds", "知识产权")
    assert (
        ip is not None
        and "专利池" in ip.profile_words
        and set(base.term("kinds", "知识产权").keywords) <= set(ip.keywords)
    )
    assert tax.scoring.min_score == 0.5 and tax.scoring.need == base.scoring.need
    profile = understand(ProfileInput(description="我们想申请算力券，也想加入专利池"), tax)
    assert profile.needs == ["知识产权", "算力支持"]


def test_taxonomy_path_replaces_the_packaged_file(tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    own.write_text("kinds:\n  - name: 只此一类\n    keywords: [补贴]\n", encoding="utf-8")
    tax = load_taxonomy(make_settings(tmp_path, taxonomy_path=str(own)))
    assert tax.names("kinds") == ["只此一类"] and tax.names("industries") == []

    with pytest.raises(TaxonomyError) as exc:
        load_taxonomy(make_settings(tmp_path, taxonomy_path=str(tmp_path / "missing.yaml")))
    assert "找不到分类词表文件" in exc.value.message and "missing.yaml" in exc.value.message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("kinds:\n  - name: 资金\n    keywords: [补贴, 奖励\n  - name: 融资\n", 4, ["不是有效的 YAML"]),
        ("kinds:\n  - name: 资金\n    keyword: [补贴]\n", 3, ["kinds.0.keyword"]),
        (
            "kinds:\n  - name: 资金\n    keywords: [补贴]\n  - name: 资金\n    keywords: [奖励]\n",
            None,
            ["名称重复", "资金"],
        ),
        ("kinds:\n  - name: 资金\n    keywords: 补贴\n", 3, ["kinds.0.keywords"]),
        (
            "kinds:\n  - name: 资金\n    keywords: [补贴]\nconditions:\n  patterns:\n    - '符合(.+的企业'\n",
            6,
            ["正则表达式无效"],
        ),
        (
            "kinds:\n  - name: 资金\n    keywords: [补贴]\nconditions:\n  patterns:\n    - '符合.+的企业'\n",
            6,
            ["cond"],
        ),
        (
            "kinds:\n  - name: 资金\n    keywords: [补贴]\nsizes:\n  - name: 小型\n    keywords: [小型]\n"
            "conditions:\n  checks:\n    - name: 中小微企业\n      words: [中小微企业]\n      facet: size\n"
            "      satisfied_by: [小型, 超小型]\n",
            12,
            ["超小型", "中小微企业"],
        ),
        ("kinds:\n  - name: 资金\n    keywords: [补贴]\nscoring:\n  need: 很多\n", 5, ["scoring.need"]),
        ("- 资金\n- 融资\n", None, ["顶层必须是键值映射"]),
    ],
)
def test_bad_taxonomy_files_name_the_file_and_line(
    tmp_path: Path, text: str, line: int | None, words: list[str]
) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as exc:
        build([path])
    message = exc.value.message
    assert str(path) in message
    if line is not None:
        assert f"第 {line} 行" in message, message
    for w in words:
        assert w in message, message
    assert exc.value.hint
    assert exc.value.status_code == 500  # a server configuration problem, not bad user input


def test_bad_extension_file_is_reported_not_ignored(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "taxonomy.yml").write_text(
        "industries:\n  - name: 软件/信息技术\n    related: [不存在的行业]\n", encoding="utf-8"
    )
    with pytest.raises(TaxonomyError) as exc:
        load_taxonomy(make_settings(tmp_path, corpus_dir=corpus))
    assert "taxonomy.yml 第 3 行" in exc.value.message and "不存在的行业" in exc.value.message
