"""The staff chat page in a real browser: Playwright driving Debian's Chromium against `assistant serve`.

Needs `apt-get install -y chromium fonts-wqy-microhei fonts-noto-color-emoji` (done by .ci/run); without
Chromium the test is skipped with a message saying so. Takes screenshot-chat.png (desktop), screenshot-citation.png
(a citation opened) and screenshot-chat-phone.png (phone width); with ASSISTANT_SCREENSHOT_DIR=docs they refresh the
README's pictures.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.bench import free_port, stop, wait_ready
from tests.conftest import REPO

pytestmark = pytest.mark.slow

Q = "“虹桥人才荟”是做什么的？"
PLAN_NUMBER = "长科委〔2025〕13号"
# Screenshots go to a temp dir; set ASSISTANT_SCREENSHOT_DIR=docs to refresh the README's pictures.
DOCS = Path(os.environ.get("ASSISTANT_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="screens-"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
INSTALL_HINT = "apt-get update && apt-get install -y chromium fonts-wqy-microhei fonts-noto-color-emoji"


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip(f"!!! 浏览器测试已跳过：未找到 Chromium（请运行 `{INSTALL_HINT}`）。聊天页面没有在真实浏览器中验证。")
    return path


@pytest.fixture(scope="session")
def corpus_settings(embedded_corpus_settings):
    """The browser test drives `assistant serve` on the embedded index only (one Chromium run is enough)."""
    return embedded_corpus_settings


@pytest.fixture(scope="module")
def served(corpus_settings) -> Iterator[str]:
    """`assistant serve` in a subprocess on the session index; waits for /readyz."""
    chromium_path()
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(corpus_settings.corpus_dir),
        "ASSISTANT_ADMIN_KEY": "",
        "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
    }
    log = open(corpus_settings.data_dir / f"serve-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(corpus_settings.data_dir)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, timeout_s=120, log=log.name)
        yield base
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_chat_page_end_to_end(served, browser):
    from playwright.sync_api import expect

    DOCS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(served)
    expect(page).to_have_title("政策问答助手")
    expect(page.locator("#doc-list")).to_contain_text(PLAN_NUMBER)  # document panel

    # the chunk viewer: how a document was parsed, and that nothing of it is outside the index
    page.locator("#doc-list li", has_text=PLAN_NUMBER).locator(".chunks-btn").click()
    expect(page.locator("#chunks-status")).to_contain_text("全部内容都已进入索引")
    expect(page.locator("#chunks-list")).to_contain_text("6、重点发展互联网服务主导产业")
    page.locator("#chunks-dialog button", has_text="关闭").click()
    expect(page.locator("#chunks-dialog")).not_to_be_visible()

    # ask: the answer arrives over the SSE stream and gets citation chips
    with page.expect_response(lambda r: r.url.endswith("/v1/ask/stream")) as streamed:
        page.fill("#question", Q)
        page.press("#question", "Enter")
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    first = page.locator(".msg.bot").nth(0)
    expect(first).to_have_attribute("data-state", "done", timeout=30_000)
    expect(first.locator(".answer")).to_contain_text("虹桥人才荟")
    chip = first.locator(".chip").first
    expect(chip).to_be_visible()

    # open the citation: title, 文号, date, section and the quoted passage
    chip.click()
    dialog = page.locator("#cite-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#cite-docnum")).to_have_text(PLAN_NUMBER)
    expect(page.locator("#cite-date")).to_have_text("2025-07-25")
    expect(page.locator("#cite-section")).to_contain_text("人才")
    expect(page.locator("#cite-title")).to_contain_text("张江高新区长宁园")
    expect(page.locator("#cite-quote")).to_contain_text("虹桥人才荟")
    expect(page.locator("#cite-context mark")).to_have_text(page.locator("#cite-quote").inner_text())
    page.screenshot(path=str(DOCS / "screenshot-citation.png"))
    dialog.locator("button", has_text="关闭").click()
    expect(dialog).to_be_hidden()

    # 👍 on the first answer is stored
    first.locator(".fb-up").click()
    expect(first.locator(".fb-note")).to_have_text("感谢反馈！")

    # follow-up in the same conversation
    page.fill("#question", "它的文号是？")
    page.click("#send")
    second = page.locator(".msg.bot").nth(1)
    expect(second).to_have_attribute("data-state", "done", timeout=30_000)
    expect(second.locator(".standalone")).to_contain_text("虹桥人才荟")
    expect(second.locator(".answer")).to_contain_text(PLAN_NUMBER)
    expect(second.locator(".chip").first).to_contain_text(PLAN_NUMBER)
    page.screenshot(path=str(DOCS / "screenshot-chat.png"))

    # new conversation: a new session, so the same follow-up is no longer rewritten
    old_session = page.evaluate("window.policyChat.sessionId")
    page.click("#new-chat")
    assert page.evaluate("window.policyChat.sessionId") != old_session
    expect(page.locator(".msg")).to_have_count(0)
    assert not errors, errors


def test_phone_width_and_match_tab(served, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page.goto(served)
    page.fill("#question", Q)
    page.click("#send")
    bubble = page.locator(".msg.bot").first
    expect(bubble).to_have_attribute("data-state", "done", timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    expect(page.locator("#docs")).not_to_be_in_viewport()
    page.screenshot(path=str(DOCS / "screenshot-chat-phone.png"))
    page.click("#toggle-docs")
    expect(page.locator("#doc-list")).to_contain_text(PLAN_NUMBER)
    expect(page.locator("#docs")).to_be_in_viewport()
    page.click("#close-docs")

    # 政策匹配 tab: renders result cards, or says the feature is not enabled when /v1/match is absent
    page.click("#tab-match")
    expect(page.locator("#panel-match")).to_be_visible()
    page.fill("#match-description", "我们是一家位于长宁区的人工智能初创企业，希望引进人才并申请办公场地。")
    page.check("input[value='人才引进/培育']")
    page.select_option("#match-stage", "初创")
    page.click("#match-submit")
    results = page.locator("#match-results")
    expect(results.locator(".card, .notice:not(:has-text('正在匹配'))").first).to_be_visible(timeout=30_000)
    if results.locator(".card").count() == 0:
        expect(results).to_contain_text("政策匹配")  # the friendly "not enabled" message, not a raw error
        return
    card = results.locator(".card").first
    expect(card.locator("h3")).not_to_be_empty()
    expect(card.locator(".reasons li").first).to_be_visible()
    card.locator(".chip").first.click()
    expect(page.locator("#cite-dialog")).to_be_visible()
    expect(page.locator("#cite-docnum")).to_have_text(re.compile(r"长科委〔2025〕\d+号"))
    expect(page.locator("#cite-quote")).not_to_be_empty()


def test_documents_panel_shows_files_not_ingested_and_the_upload_folder(browser, tmp_path, corpus_settings, shared_embeddings):
    """The documents panel lists what the last ingest could not read (reason and what to do) and where uploads go."""
    from playwright.sync_api import expect

    from api.main import create_app
    from assistant.service import Assistant
    from tests.api.conftest import make_server, settings_for
    from tests.fixtures.docs import make_scanned_pdf

    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_settings.corpus_dir, corpus)
    make_scanned_pdf(corpus / "scan.pdf", ["NOTICE"], pages=1)
    settings = settings_for(corpus_settings, tmp_path / "data", corpus_dir=corpus, upload_dir="incoming")
    assistant = Assistant(settings, embeddings=shared_embeddings)
    assistant.ingest()
    with make_server(create_app(settings=settings, assistant=assistant)) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page.goto(base)
        expect(page.locator("#doc-list")).to_contain_text(PLAN_NUMBER)
        expect(page.locator("#doc-skipped")).to_contain_text("scan.pdf")
        expect(page.locator("#doc-skipped")).to_contain_text("扫描件")
        expect(page.locator("#doc-skipped")).to_contain_text("OCR")
        expect(page.locator("#upload-dir")).to_contain_text(str(corpus / "incoming"))
        page.close()
