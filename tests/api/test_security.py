"""Security over real HTTP: the admin key on every admin route, body and question caps, WeChat/WeCom forged
signatures, replays and hostile XML, CORS closed by default, secrets masked in logs and error bodies."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from api import limits
from assistant.errors import InputError
from tests.api import test_wechat as wx_helpers
from tests.api import test_wecom as wecom_helpers
from tests.api.conftest import make_server

pytestmark = pytest.mark.slow  # real HTTP servers over the session index

KEY = "sec-admin-key-0123456789"
Q = "“虹桥人才荟”是做什么的？"

# Every route that changes state or reveals what users sent. A new one must be made admin-only or be added to
# PUBLIC_WRITES on purpose: the test below fails until it is.
ADMIN_ROUTES = {("POST", "/v1/documents"), ("DELETE", "/v1/documents/{doc_id}"), ("GET", "/v1/feedback")}
PUBLIC_WRITES = {
    ("POST", "/v1/ask"), ("POST", "/v1/ask/stream"), ("POST", "/v1/chat/completions"), ("POST", "/v1/feedback"),
    ("POST", "/v1/bot/message"), ("POST", "/v1/match"), ("POST", "/wechat"), ("POST", "/wecom"),
}
# one request per admin route: (method, url, request kwargs)
ADMIN_CALLS = {
    ("POST", "/v1/documents"): ("POST", "/v1/documents", {"files": {"file": ("sec-new.txt", "新文件内容。".encode(), "text/plain")}}),
    ("DELETE", "/v1/documents/{doc_id}"): ("DELETE", "/v1/documents/no-such-id", {}),
    ("GET", "/v1/feedback"): ("GET", "/v1/feedback", {}),
}


def route_table(app: Any) -> dict[tuple[str, str], bool]:
    """(METHOD, path) of every documented operation → whether it takes the admin key (the X-Admin-Key header
    that ``require_admin`` declares)."""
    table = {}
    for path, operations in app.openapi()["paths"].items():
        for method, op in operations.items():
            headers = {p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"}
            table[(method.upper(), path)] = "x-admin-key" in headers
    return table


def corpus_files(settings: Any) -> list[str]:
    return sorted(p.name for p in settings.corpus_dir.iterdir())


# ---- admin routes ----------------------------------------------------------------------------------------------
def test_admin_routes_are_known_and_every_write_is_admin_or_public(make_app) -> None:
    table = route_table(make_app(admin_key=KEY))
    admin = {r for r, is_admin in table.items() if is_admin}
    assert admin == ADMIN_ROUTES
    writes = {r for r in table if r[0] not in ("GET", "HEAD")}
    assert ("GET", "/v1/ask") not in table and ("GET", "/healthz") in table  # the table is the real one
    assert writes - admin == PUBLIC_WRITES, "a new write route: protect it with AdminDep or list it in PUBLIC_WRITES"


@pytest.mark.parametrize("route", sorted(ADMIN_ROUTES))
def test_every_admin_route_needs_the_key(route, make_app, live_server, corpus_settings) -> None:
    method, url, kwargs = ADMIN_CALLS[route]
    before = corpus_files(corpus_settings)
    base = live_server(make_app(admin_key=KEY))

    missing = httpx.request(method, base + url, **kwargs)
    assert missing.status_code == 401 and "X-Admin-Key" in missing.json()["detail"], missing.text
    for headers in ({"X-Admin-Key": KEY + "x"}, {"X-Admin-Key": KEY[:-1]}, {"Authorization": "Bearer wrong"},
                    {"Authorization": f"Basic {KEY}"}, {"X-Admin-Key": ""}):
        wrong = httpx.request(method, base + url, headers=headers, **kwargs)
        assert wrong.status_code in (401, 403) and wrong.json()["detail"], (headers, wrong.text)
        assert KEY not in wrong.text
    assert corpus_files(corpus_settings) == before  # nothing was written

    # the right key passes the guard: what follows is the route's own answer, never 401/403
    if route == ("POST", "/v1/documents"):
        kwargs = {}  # no file: a 422 from the route, so that nothing is written to the shared corpus
    for headers in ({"X-Admin-Key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        ok = httpx.request(method, base + url, headers=headers, **kwargs)
        assert ok.status_code not in (401, 403), ok.text
        assert ok.status_code == {"POST": 422, "DELETE": 404, "GET": 200}[method], ok.text

    disabled = live_server(make_app(admin_key=""))
    off = httpx.request(method, disabled + url, headers={"X-Admin-Key": KEY}, **ADMIN_CALLS[route][2])
    assert off.status_code == 403 and "ASSISTANT_ADMIN_KEY" in off.json()["detail"], off.text
    assert corpus_files(corpus_settings) == before


def test_the_key_is_compared_in_constant_time(make_app, live_server, monkeypatch) -> None:
    import hmac

    calls: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return hmac.compare_digest(a, b)

    monkeypatch.setattr(limits, "hmac", SimpleNamespace(compare_digest=spy))
    base = live_server(make_app(admin_key=KEY))
    assert httpx.get(f"{base}/v1/feedback", headers={"X-Admin-Key": "guess"}).status_code == 403
    assert httpx.get(f"{base}/v1/feedback", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert calls == [(b"guess", KEY.encode()), (KEY.encode(), KEY.encode())]


# ---- size caps -------------------------------------------------------------------------------------------------
def post_routes(app: Any) -> list[str]:
    return sorted(path for (method, path) in route_table(app) if method == "POST")


def test_every_post_route_caps_the_body_with_and_without_content_length(make_app, live_server) -> None:
    app = make_app(max_body_bytes=2000, wechat_token=wx_helpers.TOKEN, wecom_corp_id=wecom_helpers.CORP_ID,
                   wecom_token=wecom_helpers.TOKEN, wecom_aes_key=wecom_helpers.AES_KEY, admin_key=KEY)
    base = live_server(app)
    routes = post_routes(app)
    assert len(routes) == len(PUBLIC_WRITES) + 1  # + the upload

    def chunked() -> Iterator[bytes]:  # no Content-Length: the cap holds while the body is read
        yield b'{"question": "'
        for _ in range(50):
            yield "问".encode() * 100  # 15 kB in all
        yield b'"}'

    for path in routes:
        params = {"timestamp": str(int(time.time())), "nonce": "n1"}  # the WeChat routes check the time first
        headers = {"X-Admin-Key": KEY, "content-type": "application/json"}
        declared = httpx.post(base + path, params=params, headers=headers, content=b"x" * 5000)
        assert declared.status_code == 413 and "请求体过大" in declared.json()["detail"], (path, declared.text)
        if path == "/v1/documents":
            continue  # it reads only a multipart body: streamed below
        streamed = httpx.post(base + path, params=params, headers=headers, content=chunked())
        assert streamed.status_code == 413 and "2000" in streamed.json()["detail"], (path, streamed.text)

    def multipart() -> Iterator[bytes]:  # a valid upload of 10 kB, streamed without Content-Length
        yield b'--b0\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
        for _ in range(10):
            yield b"x" * 1000
        yield b"\r\n--b0--\r\n"

    headers = {"X-Admin-Key": KEY, "content-type": "multipart/form-data; boundary=b0"}
    upload = httpx.post(f"{base}/v1/documents", headers=headers, content=multipart())
    assert upload.status_code == 413 and "请求体过大" in upload.json()["detail"], upload.text


def test_question_length_is_capped_on_every_question_route(make_app, live_server) -> None:
    app = make_app(max_question_chars=40, wechat_token=wx_helpers.TOKEN)
    base = live_server(app)
    long_q = "长宁园" * 20  # 60 characters
    for path, body in (
        ("/v1/ask", {"question": long_q}),
        ("/v1/ask/stream", {"question": long_q}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": long_q}]}),
        ("/v1/bot/message", {"user_id": "u1", "text": long_q}),
    ):
        r = httpx.post(base + path, json=body, timeout=30)
        assert r.status_code == 422 and "问题过长" in r.json()["detail"] and "40" in r.json()["detail"], (path, r.text)
        assert r.headers["content-type"].startswith("application/json")
    ok = httpx.post(f"{base}/v1/ask", json={"question": "长宁园管理专班由哪个部门牵头组建？"}, timeout=30)
    assert ok.status_code == 200
    # WeChat shows no HTTP error to the user: the reply says what to do
    wechat = wx_helpers.WeChat(base)
    reply = wechat.reply(wechat.post(wx_helpers.text_xml(9101, long_q)))
    assert "问题过长" in reply["Content"] and "精简" in reply["Content"]


# ---- WeChat / WeCom: signatures, replays, hostile XML ---------------------------------------------------------
@pytest.fixture
def channel_app(make_app, bot) -> Any:
    """WeChat (safe mode available) and WeCom enabled; counts the questions that reach the answerer."""
    app = make_app(wechat_token=wx_helpers.TOKEN, wechat_app_id=wx_helpers.APP_ID, wechat_aes_key=wx_helpers.AES_KEY,
                   wecom_corp_id=wecom_helpers.CORP_ID, wecom_token=wecom_helpers.TOKEN,
                   wecom_aes_key=wecom_helpers.AES_KEY)
    app.state.asked = []

    def answer_fn(question: str, history: list[str]) -> Any:
        app.state.asked.append(question)
        return bot.ask(question, history=history)

    app.state.answer_fn = answer_fn
    return app


def test_forged_signatures_are_403_and_never_reach_the_answerer(channel_app, live_server) -> None:
    base = live_server(channel_app)
    xml = wx_helpers.text_xml(9201, wx_helpers.QUESTION)
    plain, safe = wx_helpers.WeChat(base), wx_helpers.WeChat(base, aes_key=wx_helpers.AES_KEY)
    assert plain.post(xml, token="forged").status_code == 403
    assert safe.post(xml, token="forged").status_code == 403  # URL signature forged, body encrypted correctly
    ts, n = wx_helpers.now(), wx_helpers.nonce()
    unsigned = httpx.post(f"{base}/wechat", params={"timestamp": ts, "nonce": n}, content=xml.encode())
    assert unsigned.status_code == 403 and "签名" in unsigned.json()["detail"]
    # safe mode: a valid URL signature but a msg_signature that does not cover this body
    params = {"signature": wx_helpers.sign(wx_helpers.TOKEN, ts, n), "timestamp": ts, "nonce": n,
              "encrypt_type": "aes", "msg_signature": "0" * 40}
    envelope = f"<xml><Encrypt><![CDATA[{'A' * 64}]]></Encrypt></xml>"
    assert httpx.post(f"{base}/wechat", params=params, content=envelope.encode()).status_code == 403
    forged_wecom = wecom_helpers.WeCom(base, token="forged")
    assert forged_wecom.post(wecom_helpers.text_xml(9202, wecom_helpers.QUESTION)).status_code == 403
    assert forged_wecom.verify("echo").status_code == 403
    assert channel_app.state.asked == []
    good = plain.post(wx_helpers.text_xml(9203, wx_helpers.QUESTION))
    assert good.status_code == 200 and channel_app.state.asked == [wx_helpers.QUESTION]


def test_replays_are_rejected(channel_app, live_server) -> None:
    base = live_server(channel_app)
    wechat = wx_helpers.WeChat(base)
    xml, ts, n = wx_helpers.text_xml(9301, wx_helpers.QUESTION), wx_helpers.now(), wx_helpers.nonce()
    for _ in range(4):  # the first request and WeChat's 3 retries: answered (computed once)
        assert wechat.post(xml, timestamp=ts, nonce_=n).status_code == 200
    fifth = wechat.post(xml, timestamp=ts, nonce_=n)
    assert fifth.status_code == 403 and "重放" in fifth.json()["detail"]
    assert channel_app.state.asked == [wx_helpers.QUESTION]
    other = wechat.post(wx_helpers.text_xml(9302, "数字长宁建设有哪些专项行动？"), timestamp=ts, nonce_=n)
    assert other.status_code == 403 and "重放" in other.json()["detail"]
    for skew in (-301, 301):  # outside the ±300 s window, correctly signed
        stale = wechat.post(wx_helpers.text_xml(9303, wx_helpers.QUESTION), timestamp=str(int(time.time()) + skew))
        assert stale.status_code == 403 and "重放" in stale.json()["detail"]

    wecom = wecom_helpers.WeCom(base)
    wxml, ts, n = wecom_helpers.text_xml(9304, wecom_helpers.QUESTION), wecom_helpers.now(), wecom_helpers.nonce()
    assert [wecom.post(wxml, timestamp=ts, nonce_=n).status_code for _ in range(5)] == [200, 200, 200, 200, 403]
    assert wecom.post(wxml, timestamp=str(int(time.time()) - 301)).status_code == 403
    assert len(channel_app.state.asked) == 2


@pytest.fixture
def secret_file(tmp_path) -> tuple[str, str]:
    marker = "TOP-SECRET-" + wx_helpers.nonce()
    path = tmp_path / "secret.txt"
    path.write_text(marker, encoding="utf-8")
    return path.as_uri(), marker


def hostile_messages(file_uri: str) -> dict[str, str]:
    head = "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
    return {
        "external entity": f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "{file_uri}">]>{head}<Content>&x;</Content><MsgId>1</MsgId></xml>',
        "parameter entity": f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % p SYSTEM "{file_uri}"> %p;]>{head}<Content>hi</Content><MsgId>1</MsgId></xml>',
        "external DTD": f'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "{file_uri}">{head}<Content>hi</Content><MsgId>1</MsgId></xml>',
        "billion laughs": wx_helpers.BILLION_LAUGHS,
        "quadratic blowup": '<!DOCTYPE xml [<!ENTITY a "' + "a" * 50_000 + '">]>' + head + "<Content>" + "&a;" * 1000 + "</Content><MsgId>1</MsgId></xml>",
        "bare doctype": f"<!DOCTYPE xml>{head}<Content>hi</Content><MsgId>1</MsgId></xml>",
    }


def test_xml_with_dtd_or_entities_is_rejected_unexpanded_in_every_mode(channel_app, live_server, secret_file) -> None:
    uri, marker = secret_file
    base = live_server(channel_app)
    plain, safe, wecom = wx_helpers.WeChat(base), wx_helpers.WeChat(base, aes_key=wx_helpers.AES_KEY), wecom_helpers.WeCom(base)
    for name, xml in hostile_messages(uri).items():
        for mode, client in (("plaintext", plain), ("safe", safe), ("wecom", wecom)):
            if mode != "plaintext" and len(xml) > 60_000:
                continue  # encrypted it is over the 64 kB cap: rejected as too large, see below
            started = time.perf_counter()
            r = client.post(xml)  # safe / wecom: the hostile XML is the decrypted payload of a valid envelope
            assert r.status_code == 400, (name, mode, r.text)
            assert "DTD" in r.json()["detail"] or "过大" in r.json()["detail"], (name, mode, r.text)
            assert marker not in r.text and time.perf_counter() - started < 2.0, (name, mode)
        # a hostile envelope (outside the encryption) is rejected before any decryption
        ts, n = wx_helpers.now(), wx_helpers.nonce()
        params = {"signature": wx_helpers.sign(wx_helpers.TOKEN, ts, n), "timestamp": ts, "nonce": n,
                  "encrypt_type": "aes", "msg_signature": "0" * 40}
        r = httpx.post(f"{base}/wechat", params=params, content=xml.encode())
        assert r.status_code == 400 and marker not in r.text, (name, r.text)
    big = safe.post(hostile_messages(uri)["quadratic blowup"])
    assert big.status_code == 400 and "过大" in big.json()["detail"]
    assert channel_app.state.asked == []


# ---- CORS --------------------------------------------------------------------------------------------------------
LISTED = "https://zc.example.gov.cn"
UNKNOWN = "https://evil.example.com"


def preflight(base: str, origin: str, path: str = "/v1/ask") -> httpx.Response:
    return httpx.options(base + path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type,x-admin-key"})


def test_cors_is_closed_by_default(base_url) -> None:
    for origin in (UNKNOWN, LISTED, "null"):
        r = httpx.post(f"{base_url}/v1/ask", json={"question": Q}, headers={"Origin": origin}, timeout=30)
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        p = preflight(base_url, origin)
        assert "access-control-allow-origin" not in p.headers and p.status_code >= 400


def test_cors_allow_list(make_app, live_server) -> None:
    base = live_server(make_app(cors_origins=f"{LISTED}, http://localhost:5173", max_body_bytes=5000))
    p = preflight(base, LISTED)
    assert p.status_code == 200 and p.headers["access-control-allow-origin"] == LISTED
    assert "POST" in p.headers["access-control-allow-methods"]
    assert "x-admin-key" in p.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in p.headers
    r = httpx.post(f"{base}/v1/ask", json={"question": Q}, headers={"Origin": LISTED}, timeout=30)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == LISTED
    local = preflight(base, "http://localhost:5173")
    assert local.headers["access-control-allow-origin"] == "http://localhost:5173"
    # the guards' own answers carry the header too (CORS is the outermost layer), so the page can show them
    too_big = httpx.post(f"{base}/v1/ask", json={"question": "问" * 3000}, headers={"Origin": LISTED})
    assert too_big.status_code == 413 and too_big.headers["access-control-allow-origin"] == LISTED

    bad = preflight(base, UNKNOWN)
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    r = httpx.post(f"{base}/v1/ask", json={"question": Q}, headers={"Origin": UNKNOWN}, timeout=30)
    assert "access-control-allow-origin" not in r.headers
    sub = preflight(base, "https://zc.example.gov.cn.evil.example.com")
    assert "access-control-allow-origin" not in sub.headers


def test_cors_setting_rejects_what_is_not_an_origin() -> None:
    from pydantic import ValidationError

    from assistant.settings import Settings

    with pytest.raises(ValidationError, match="scheme://host"):
        Settings(cors_origins="https://ok.example.gov.cn,https://bad.example.com/path")
    assert Settings(cors_origins=" https://a.example , * ").cors_origin_list() == ["https://a.example", "*"]
    assert Settings().cors_origin_list() == []


# ---- no secrets in logs or error bodies ---------------------------------------------------------------------------
SECRETS = {
    "admin_key": KEY,
    "llm_api_key": "sk-test-4f9c2a7be0d14c8e9a3b",
    "wechat_token": "wechat-token-7731",
    "wechat_app_secret": "wechat-app-secret-5cd0e8f1",
    "wechat_aes_key": wx_helpers.AES_KEY,
    "wecom_secret": "wecom-corp-secret-93ab",
    "wecom_token": "wecom-token-1a2b3c",
    "wecom_aes_key": wecom_helpers.AES_KEY,
}


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_secrets_are_masked_in_every_log_line_and_error_body(make_app) -> None:
    app = make_app(wechat_app_id=wx_helpers.APP_ID, wecom_corp_id=wecom_helpers.CORP_ID,
                   llm_base_url="http://127.0.0.1:9/v1", **SECRETS)
    settings = app.state.settings
    leak = logging.getLogger("tests.leaky")

    @app.get("/test-only/boom")
    def boom() -> None:  # what a careless integration might do: log the key, then fail with it in the message
        leak.warning("calling the LLM with key %s and headers %s", settings.llm_api_key,
                     {"Authorization": f"Bearer {settings.llm_api_key}"})
        leak.info("token=%s aes=%s secret=%s", settings.wechat_token, settings.wechat_aes_key, settings.wecom_secret)
        raise RuntimeError(f"upstream refused key {settings.llm_api_key} (token {settings.wechat_token})")

    @app.get("/test-only/refused")
    def refused() -> None:
        raise InputError(f"密钥 {settings.admin_key} 无效", f"检查 ASSISTANT_WECOM_SECRET={settings.wecom_secret}")

    capture = Capture()
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)
    bodies: list[str] = []
    try:
        with make_server(app, log_level="debug", access_log=True) as base:
            for lg in loggers:  # uvicorn's dictConfig ran when the server was made: attach again, idempotent
                if capture not in lg.handlers:
                    lg.addHandler(capture)
                lg.setLevel(logging.DEBUG)
            with httpx.Client(timeout=30) as client:
                for headers in ({"Authorization": f"Bearer {KEY}"}, {"X-Admin-Key": KEY}):
                    bodies.append(client.get(f"{base}/v1/feedback", headers=headers).text)
                bodies.append(client.get(f"{base}/healthz", params={"access_token": SECRETS["wechat_app_secret"],
                                                                      "secret": SECRETS["wecom_secret"]}).text)
                r = client.get(f"{base}/test-only/boom")
                assert r.status_code == 500
                bodies.append(r.text)
                r = client.get(f"{base}/test-only/refused")
                assert r.status_code == 422 and "***" in r.json()["detail"] and "***" in r.json()["hint"]
                bodies.append(r.text)
            time.sleep(0.2)  # the access log line of the last request
    finally:
        for lg, level in saved:
            lg.removeHandler(capture)
            lg.setLevel(level)
    text = "\n".join(capture.lines)
    # the lines that would have held the secrets were written, masked
    assert "GET /healthz?access_token=***&secret=*** HTTP/1.1" in text, text[-3000:]
    assert "calling the LLM with key *** and headers {'Authorization': 'Bearer ***'}" in text
    assert "token=*** aes=*** secret=***" in text
    assert "Traceback" in text and "RuntimeError: upstream refused key ***" in text
    for name, secret in SECRETS.items():
        assert secret not in text, f"{name} leaked into the log"
        for body in bodies:
            assert secret not in body, f"{name} leaked into a response"
