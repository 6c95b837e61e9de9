"""Where uploads go and what they may not do, over real HTTP.

- a server started with another ``--data-dir`` and ``--corpus`` from another working directory saves uploads in its
  configured upload folder (ASSISTANT_UPLOAD_DIR under the corpus dir), says so in /readyz and the documents listing,
  and never writes into the working directory or the shipped corpus;
- path traversal, control characters, disallowed types and oversize uploads are refused with the reason, and
  nothing is written anywhere;
- a file that cannot be ingested is reported in the documents listing with its reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from assistant.bench import free_port, stop, wait_ready
from assistant.ingest.pipeline import run_ingest
from assistant.service import Assistant
from embeddings.cache import CachedEmbeddings
from tests.api.conftest import settings_for
from tests.api.test_documents_feedback import KEY, NEW_DOC, NEW_TEXT, upload
from tests.conftest import CORPUS, PLAN, REPLY, REPO, make_settings
from tests.fixtures.contract import subprocess_env
from tests.fixtures.docs import make_scanned_pdf

pytestmark = pytest.mark.slow

NEW_QUESTION = "低空飞行器测试场试点每家企业每年最高补贴多少？"


def tree(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its size (to prove a refused upload wrote nothing, anywhere)."""
    out = {}
    for p in root.rglob("*"):
        try:
            if p.is_file():
                out[p.relative_to(root).as_posix()] = p.stat().st_size
        except OSError:  # a file another test's server removed meanwhile
            continue
    return out


MARKER = "越界写入测试内容。"


def nothing_written(root: Path, before: dict[str, int]) -> list[str]:
    """Files new or changed under ``root`` since ``before`` that hold the refused upload's bytes. Other tests'
    servers (a Chroma server, Redis) write into their own folders under the same root meanwhile: only the
    upload's content tells its file apart."""
    hits = []
    for name, size in tree(root).items():
        if before.get(name) == size:
            continue
        try:
            if MARKER.encode() in (root / name).read_bytes():
                hits.append(name)
        except OSError:
            continue
    return hits


def test_uploads_go_to_the_configured_folder_whatever_the_working_directory(tmp_path: Path, shared_embeddings) -> None:
    corpus, data, cwd = tmp_path / "srv" / "docs", tmp_path / "srv" / "index", tmp_path / "elsewhere"
    corpus.mkdir(parents=True)
    (cwd / "corpus").mkdir(parents=True)  # a corpus folder in the working directory: must stay empty
    for name in (PLAN, REPLY):
        shutil.copyfile(CORPUS / name, corpus / name)
    # index built like `assistant ingest --corpus … --data-dir …`, its embedding cache filled by the session model
    settings = make_settings(data, corpus_dir=corpus)
    run_ingest(settings, embeddings=CachedEmbeddings(shared_embeddings.inner, data / "cache" / "embeddings.sqlite"))
    shipped = tree(REPO / "corpus")

    port = free_port()
    env = {**subprocess_env(), "ASSISTANT_ADMIN_KEY": KEY, "ASSISTANT_UPLOAD_DIR": "incoming",
           "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0", "PYTHONPATH": str(REPO)}
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--data-dir", str(data),
         "--corpus", str(corpus)],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, timeout_s=180, log=log.name)
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["corpus_dir"] == str(corpus) and ready["upload_dir"] == str(corpus / "incoming"), ready
        assert httpx.get(f"{base}/v1/documents").json()["upload_dir"] == str(corpus / "incoming")

        r = upload(base, NEW_DOC, NEW_TEXT.encode())
        assert r.status_code == 201, r.text
        assert r.json()["document"]["source"] == f"incoming/{NEW_DOC}"
        assert (corpus / "incoming" / NEW_DOC).read_text(encoding="utf-8") == NEW_TEXT
        assert tree(cwd) == {} and tree(REPO / "corpus") == shipped  # not the working directory, not the shipped corpus
        answer = httpx.post(f"{base}/v1/ask", json={"question": NEW_QUESTION}, timeout=60).json()
        assert answer["grounded"] and answer["citations"][0]["source"] == f"incoming/{NEW_DOC}"
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def small_limits(tmp_path, shared_embeddings, corpus_settings):
    """A writable copy of the corpus (files of 12 KB) and a server with a 32 KiB document cap."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = settings_for(corpus_settings, tmp_path / "data", corpus_dir=corpus, admin_key=KEY,
                            max_document_bytes=32 * 1024, max_body_bytes=128 * 1024)
    assistant = Assistant(settings, embeddings=shared_embeddings)
    assistant.ingest()
    return settings, assistant


@pytest.mark.parametrize(
    ("filename", "status", "needle"),
    [
        ("../escape.txt", 422, "路径"),
        ("../../etc/cron.d/x.txt", 422, "路径"),
        ("/tmp/absolute.txt", 422, "路径"),
        ("..\\escape.txt", 422, "路径"),
        ("..", 422, "文件名不可用"),
        (".env", 422, "文件名不可用"),
        ("payload.exe", 415, ".pdf"),
        ("macro.docm", 415, ".docx"),
        ("noext", 415, "无扩展名"),
    ],
)
def test_unsafe_upload_names_are_refused_and_nothing_is_written(
    small_limits, live_server, tmp_path, filename, status, needle
) -> None:
    settings, assistant = small_limits
    base = live_server(create_app(settings=settings, assistant=assistant))
    before = tree(tmp_path.parent)
    r = upload(base, filename, MARKER.encode())
    assert r.status_code == status, (filename, r.status_code, r.text)
    assert needle in r.json()["detail"], r.json()
    assert nothing_written(tmp_path.parent, before) == []  # nothing written, in the corpus or anywhere around it


def raw_upload(base: str, filename: bytes, content: bytes) -> httpx.Response:
    """A multipart body built by hand, so the file name reaches the server byte for byte (httpx would
    percent-encode control characters)."""
    boundary = b"----policy-test-boundary"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n"
    )
    headers = {"X-Admin-Key": KEY, "Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}
    return httpx.post(f"{base}/v1/documents", content=body, headers=headers, timeout=120)


@pytest.mark.parametrize("filename", [b"a\x00b.txt", b"tab\tname.txt", b"esc\x1b.txt", b"../raw.txt", b"/abs/raw.txt"])
def test_raw_control_characters_and_paths_in_the_name_are_refused(small_limits, live_server, tmp_path, filename) -> None:
    settings, assistant = small_limits
    base = live_server(create_app(settings=settings, assistant=assistant))
    before = tree(tmp_path.parent)
    r = raw_upload(base, filename, MARKER.encode())
    assert r.status_code == 422, (filename, r.status_code, r.text)
    assert "控制字符" in r.json()["detail"] or "路径" in r.json()["detail"], r.json()
    assert nothing_written(tmp_path.parent, before) == []


def test_a_full_windows_path_is_cut_to_its_name_by_the_multipart_parser(small_limits, live_server, tmp_path) -> None:
    """python-multipart reduces ``C:\\…\\name`` (what old IE sent) to ``name`` before the app sees it: the file can
    only land in the upload folder, under its own name."""
    settings, assistant = small_limits
    base = live_server(create_app(settings=settings, assistant=assistant))
    before = tree(tmp_path.parent)
    r = upload(base, "C:\\Users\\me\\notice.txt", "路径测试内容，给予支持。".encode())
    assert r.status_code == 201 and r.json()["document"]["source"] == "notice.txt", r.text
    added = set(tree(tmp_path.parent)) - set(before)
    assert f"{tmp_path.name}/corpus/notice.txt" in added
    # (the Chroma server's own database legitimately holds the accepted document: it is the index)
    outside = [p for p in added if not p.startswith((f"{tmp_path.name}/", "chroma-server"))]
    # nothing of this upload outside this test's folders (other tests' servers write their own files meanwhile)
    assert all("路径测试内容".encode() not in (tmp_path.parent / p).read_bytes() for p in outside if (tmp_path.parent / p).is_file()), outside


def test_oversize_uploads_are_refused_with_the_limit(small_limits, live_server, tmp_path) -> None:
    settings, assistant = small_limits
    base = live_server(create_app(settings=settings, assistant=assistant))
    before = tree(tmp_path)
    big = ("对符合条件的企业给予支持。\n" * 1000).encode()  # 40 KB: over the 32 KiB document cap, under the body cap
    r = upload(base, "big.txt", big)
    assert r.status_code == 413 and "过大" in r.json()["detail"] and "ASSISTANT_MAX_DOCUMENT_BYTES" in r.json()["detail"]
    huge = b"x" * (256 * 1024)  # over the request body cap: refused before the body is read
    r = upload(base, "huge.txt", huge)
    assert r.status_code == 413 and "ASSISTANT_MAX_BODY_BYTES" in r.text
    assert tree(tmp_path) == before
    ok = upload(base, NEW_DOC, NEW_TEXT.encode())  # under the cap: accepted
    assert ok.status_code == 201, ok.text


def test_documents_listing_reports_files_that_were_not_ingested(small_limits, live_server) -> None:
    settings, assistant = small_limits
    base = live_server(create_app(settings=settings, assistant=assistant))
    make_scanned_pdf(settings.corpus_dir / "scan.pdf", ["NOTICE"], pages=1)
    (settings.corpus_dir / "dump.txt").write_bytes(bytes(range(256)) * 8)
    assistant.ingest()  # what `assistant ingest` does when an office drops files into the folder
    body = httpx.get(f"{base}/v1/documents").json()
    assert body["count"] == 2 and {d["source"] for d in body["documents"]} == {PLAN, REPLY}
    skipped = {s["source"]: s for s in body["skipped"]}
    assert set(skipped) == {"scan.pdf", "dump.txt"}
    assert "扫描件" in skipped["scan.pdf"]["reason"] and "OCR" in skipped["scan.pdf"]["reason"]
    assert "二进制" in skipped["dump.txt"]["reason"] and skipped["dump.txt"]["kept_previous"] is False

    # a bad upload answers 422 with the reason and is taken back out of the folder (so it is not listed)
    r = upload(base, "scan2.pdf", (settings.corpus_dir / "scan.pdf").read_bytes())
    assert r.status_code == 422 and "扫描件" in r.json()["detail"] and "OCR" in r.json()["detail"]
    assert not (settings.corpus_dir / "scan2.pdf").exists()
    assert {s["source"] for s in httpx.get(f"{base}/v1/documents").json()["skipped"]} == {"scan.pdf", "dump.txt"}
    (settings.corpus_dir / "scan.pdf").unlink()
    assert {s["source"] for s in httpx.get(f"{base}/v1/documents").json()["skipped"]} == {"dump.txt"}


def test_writes_are_refused_when_the_index_came_from_another_corpus(small_limits, live_server, tmp_path) -> None:
    settings, assistant = small_limits
    other = tmp_path / "other-corpus"
    other.mkdir()
    wrong = settings.model_copy(update={"corpus_dir": other})
    base = live_server(create_app(settings=wrong, assistant=Assistant(wrong, embeddings=assistant.embeddings)))
    r = upload(base, NEW_DOC, NEW_TEXT.encode())
    assert r.status_code == 409 and str(settings.corpus_dir) in r.json()["detail"] and "--corpus" in r.json()["detail"]
    assert not any(other.iterdir()) and httpx.get(f"{base}/v1/documents").json()["count"] == 2


def test_upload_dir_outside_the_corpus_is_a_clear_error(small_limits, live_server, tmp_path) -> None:
    settings, assistant = small_limits
    bad = settings.model_copy(update={"upload_dir": str(tmp_path / "outside")})
    bot = Assistant(bad, embeddings=assistant.embeddings)
    bot.warm_up()
    base = live_server(create_app(settings=bad, assistant=bot))
    ready = httpx.get(f"{base}/readyz").json()
    assert "配置错误" in ready["upload_dir"] and "不在语料目录" in ready["upload_dir"], ready
    r = upload(base, NEW_DOC, NEW_TEXT.encode())
    assert r.status_code == 500 and "ASSISTANT_UPLOAD_DIR" in r.json()["detail"]
    assert not (tmp_path / "outside").exists()


def test_relative_upload_dir_is_under_the_corpus_not_the_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(tmp_path / "data", corpus_dir=tmp_path / "c", upload_dir="incoming/2026")
    assert settings.upload_folder() == (tmp_path / "c" / "incoming" / "2026").resolve()
    assert make_settings(tmp_path / "data", corpus_dir=tmp_path / "c").upload_folder() == (tmp_path / "c").resolve()
    os.chdir(REPO)
    assert settings.upload_folder() == (tmp_path / "c" / "incoming" / "2026").resolve()
