"""Documents (list / upload / delete with the admin key) and feedback, over real HTTP.

Writes go to a temporary COPY of the corpus with its own index: the shipped corpus is never touched."""

from __future__ import annotations

import shutil

import httpx
import pytest

from api.main import create_app
from assistant.service import Assistant
from tests.api.conftest import settings_for
from tests.conftest import CORPUS, PLAN, REPLY

pytestmark = pytest.mark.slow

KEY = "test-admin-key-123"
NEW_DOC = "low-altitude-pilot-2026.md"
NEW_TEXT = """# 上海市长宁区科学技术委员会文件

长科委〔2026〕3号

## 关于开展长宁区低空飞行器测试场试点的通知

各有关单位：

为推动低空经济发展，现就开展低空飞行器测试场试点有关事项通知如下。

## 一、支持内容

对入驻虹桥低空飞行器测试场的企业，按测试飞行小时给予补贴，每家企业每年最高补贴88万元。

## 二、申报方式

企业通过长宁区科委网上平台提交申请材料。

长宁区科学技术委员会

2026年1月9日
"""


@pytest.fixture
def writable(tmp_path, shared_embeddings, corpus_settings):
    """An ingested index over a temp copy of the corpus, and settings pointing at it."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = settings_for(corpus_settings, tmp_path / "data", corpus_dir=corpus, admin_key=KEY)
    assistant = Assistant(settings, embeddings=shared_embeddings)
    assistant.ingest()
    return settings, assistant


@pytest.fixture
def admin_url(writable, live_server) -> str:
    settings, assistant = writable
    return live_server(create_app(settings=settings, assistant=assistant))


def upload(base: str, name: str, content: bytes, headers: dict | None = None, **form) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/documents", files={"file": (name, content, "application/octet-stream")}, data=form,
        headers=headers if headers is not None else {"X-Admin-Key": KEY}, timeout=120,
    )


def test_list_documents(base_url):
    r = httpx.get(f"{base_url}/v1/documents")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2 == len(body["documents"])
    by_source = {d["source"]: d for d in body["documents"]}
    assert by_source[PLAN]["doc_number"] == "长科委〔2025〕13号" and by_source[PLAN]["date"] == "2025-07-25"
    assert by_source[REPLY]["doc_number"] == "长科委〔2025〕6号"
    assert all(d["chunks"] > 0 and d["title"] and len(d["id"]) == 16 for d in body["documents"])


def test_document_chunks_show_how_a_document_was_parsed(base_url):
    docs = httpx.get(f"{base_url}/v1/documents").json()["documents"]
    plan = next(d for d in docs if d["source"] == PLAN)
    r = httpx.get(f"{base_url}/v1/documents/{plan['id']}/chunks")
    assert r.status_code == 200
    body = r.json()
    assert body["document"]["source"] == PLAN and body["count"] == plan["chunks"] == len(body["chunks"])
    assert body["uncovered"] == []  # nothing of the document is outside the index
    first = body["chunks"][0]
    assert {"chunk_id", "source", "section", "text", "start", "end"} <= set(first)
    assert [c["ordinal"] for c in body["chunks"]] == list(range(body["count"]))
    task6 = next(c for c in body["chunks"] if c["section"].endswith("6、重点发展互联网服务主导产业"))
    assert "6、重点发展互联网服务主导产业" in task6["text"] and task6["end"] - task6["start"] == len(task6["text"])

    missing = httpx.get(f"{base_url}/v1/documents/0123456789abcdef/chunks")
    assert missing.status_code == 404 and "GET /v1/documents" in missing.json()["detail"]


def test_upload_ask_then_delete(admin_url, writable):
    settings, _ = writable
    r = upload(admin_url, NEW_DOC, NEW_TEXT.encode())
    assert r.status_code == 201, r.text
    doc = r.json()["document"]
    assert doc["source"] == NEW_DOC and doc["doc_number"] == "长科委〔2026〕3号" and doc["chunks"] >= 1
    assert NEW_DOC in r.json()["report"]["added"]
    assert (settings.corpus_dir / NEW_DOC).read_text(encoding="utf-8") == NEW_TEXT
    assert not any(p.name.startswith(".") for p in settings.corpus_dir.iterdir())

    listed = httpx.get(f"{admin_url}/v1/documents").json()
    assert listed["count"] == 3
    answer = httpx.post(f"{admin_url}/v1/ask", json={"question": "低空飞行器测试场试点每家企业每年最高补贴多少？"}).json()
    assert answer["grounded"] and "88万元" in answer["answer"]
    assert answer["citations"][0]["source"] == NEW_DOC

    again = upload(admin_url, NEW_DOC, NEW_TEXT.encode())
    assert again.status_code == 409 and "overwrite" in again.json()["detail"]
    replaced = upload(admin_url, NEW_DOC, NEW_TEXT.replace("88万元", "99万元").encode(), overwrite="true")
    assert replaced.status_code == 201 and NEW_DOC in replaced.json()["report"]["updated"]
    doc = replaced.json()["document"]  # the id follows the content (sha256 prefix)

    gone = httpx.delete(f"{admin_url}/v1/documents/{doc['id']}", headers={"Authorization": f"Bearer {KEY}"}, timeout=120)
    assert gone.status_code == 200, gone.text
    assert NEW_DOC in gone.json()["report"]["removed"]
    assert not (settings.corpus_dir / NEW_DOC).exists()
    assert httpx.get(f"{admin_url}/v1/documents").json()["count"] == 2
    missing = httpx.delete(f"{admin_url}/v1/documents/{doc['id']}", headers={"X-Admin-Key": KEY})
    assert missing.status_code == 404 and "GET /v1/documents" in missing.json()["detail"]


def test_bad_uploads_are_rejected_clearly(admin_url, writable):
    settings, _ = writable
    before = sorted(p.name for p in settings.corpus_dir.iterdir())
    r = upload(admin_url, "notes.exe", b"MZ\x00\x00")
    assert r.status_code == 415 and ".exe" in r.json()["detail"] and ".pdf" in r.json()["detail"]
    r = upload(admin_url, "empty.txt", b"")
    assert r.status_code == 422 and "空" in r.json()["detail"]
    r = upload(admin_url, "broken.pdf", b"%PDF-1.4 this is not really a pdf")
    assert r.status_code == 422 and "无法导入" in r.json()["detail"]
    r = upload(admin_url, "../../escape.txt", "越界写入测试内容。".encode())  # a path in the name is refused
    assert r.status_code == 422 and "路径" in r.json()["detail"], r.text
    assert not (settings.corpus_dir / "escape.txt").exists()
    assert not (settings.corpus_dir.parent / "escape.txt").exists()
    r = upload(admin_url, ".hidden.md", NEW_TEXT.encode())
    assert r.status_code == 422 and "文件名" in r.json()["detail"]
    after = sorted(p.name for p in settings.corpus_dir.iterdir())
    assert after == before


def test_write_auth(admin_url, writable, make_app, live_server):
    settings, _ = writable
    files = {"file": (NEW_DOC, NEW_TEXT.encode(), "text/markdown")}
    no_key = httpx.post(f"{admin_url}/v1/documents", files=files)
    assert no_key.status_code == 401 and "X-Admin-Key" in no_key.json()["detail"]
    assert no_key.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(f"{admin_url}/v1/documents", files=files, headers={"X-Admin-Key": KEY + "x"})
    assert wrong.status_code == 403 and "不正确" in wrong.json()["detail"]
    wrong_bearer = httpx.delete(f"{admin_url}/v1/documents/whatever", headers={"Authorization": "Bearer nope"})
    assert wrong_bearer.status_code == 403
    assert not (settings.corpus_dir / NEW_DOC).exists()

    disabled = live_server(create_app(settings=settings.model_copy(update={"admin_key": ""}), assistant=writable[1]))
    r = httpx.post(f"{disabled}/v1/documents", files=files, headers={"X-Admin-Key": "anything"})
    assert r.status_code == 403 and "ASSISTANT_ADMIN_KEY" in r.json()["detail"]
    assert httpx.get(f"{disabled}/v1/feedback").status_code == 403
    assert not (settings.corpus_dir / NEW_DOC).exists()


def test_feedback_is_stored_durably(make_app, live_server, tmp_path):
    app = make_app(admin_key=KEY, data_dir=tmp_path)
    base = live_server(app)
    answer = httpx.post(f"{base}/v1/ask", json={"question": "“虹桥人才荟”是做什么的？"}).json()
    r = httpx.post(f"{base}/v1/feedback", json={"answer_id": answer["answer_id"], "rating": "down", "comment": "想看具体补贴"})
    assert r.status_code == 201 and r.json()["rating"] == "down"
    up = httpx.post(f"{base}/v1/feedback", json={"answer_id": answer["answer_id"], "rating": "up"})
    assert up.status_code == 201

    unknown = httpx.post(f"{base}/v1/feedback", json={"answer_id": "no-such-answer", "rating": "up"})
    assert unknown.status_code == 404 and "找不到回答" in unknown.json()["detail"]
    bad = httpx.post(f"{base}/v1/feedback", json={"answer_id": answer["answer_id"], "rating": "meh"})
    assert bad.status_code == 422
    assert httpx.get(f"{base}/v1/feedback").status_code == 401

    # a new app (a restart) on the same data dir still has it
    restarted = live_server(make_app(admin_key=KEY, data_dir=tmp_path))
    items = httpx.get(f"{restarted}/v1/feedback", headers={"X-Admin-Key": KEY}).json()["items"]
    assert [i["rating"] for i in items] == ["up", "down"]  # newest first
    down = items[1]
    assert down["answer_id"] == answer["answer_id"] and down["comment"] == "想看具体补贴"
    assert down["question"] == "“虹桥人才荟”是做什么的？" and down["sources"] == [PLAN] and down["grounded"] is True
    page = httpx.get(f"{restarted}/v1/feedback?limit=1&offset=1", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert [i["rating"] for i in page["items"]] == ["down"]
