// 《title》 with inner book-title marks as 〈〉 (Chinese typesetting).
const bookTitle = (t) => `《${String(t).replace(/《/g, "〈").replace(/》/g, "〉")}》`;

/* 政策问答助手 — staff chat page. Plain browser JavaScript, no build step.
   Talks to: POST /v1/ask/stream (SSE over fetch), POST /v1/feedback, GET /v1/documents, GET /v1/documents/{id}/chunks, POST /v1/match. */
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function newSessionId() {
  // crypto.randomUUID needs a secure context; getRandomValues works everywhere.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const state = { sessionId: newSessionId(), busy: false };

/* ---------- errors ---------- */
async function readError(res) {
  let body = {};
  try { body = await res.json(); } catch (_) { /* not JSON */ }
  let detail = body.detail || `请求失败（HTTP ${res.status}）`;
  if (typeof detail !== "string") detail = JSON.stringify(detail);
  let hint = body.hint || "";
  if (res.status === 429 && res.headers.get("Retry-After")) hint = hint || `请 ${res.headers.get("Retry-After")} 秒后再试。`;
  return { status: res.status, detail, hint };
}

/* ---------- SSE over fetch ---------- */
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let match;
    while ((match = buffer.match(/\r?\n\r?\n/))) {
      const block = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      const event = parseBlock(block);
      if (event) yield event;
    }
  }
  const tail = parseBlock(buffer);
  if (tail) yield tail;
}

function parseBlock(block) {
  let name = "message";
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const raw = data.join("\n");
  try { return { event: name, data: JSON.parse(raw) }; } catch (_) { return { event: name, data: raw }; }
}

/* ---------- chat ---------- */
const messages = $("#messages");
const questionBox = $("#question");
const sendButton = $("#send");

function scrollDown() { messages.scrollTop = messages.scrollHeight; }

function renderAnswerText(target, text, citations) {
  // Plain text with [n] markers turned into small buttons that open the citation.
  target.textContent = "";
  const parts = text.split(/(\[\d+\])/);
  for (const part of parts) {
    const m = part.match(/^\[(\d+)\]$/);
    if (m) {
      const n = Number(m[1]);
      const cite = (citations || []).find((c) => c.n === n);
      target.append(el("button", {
        class: "cite-ref", type: "button", title: cite ? `查看出处 ${n}` : `出处 ${n}`, "data-n": n,
        onclick: () => cite && openCitation(cite, target._contexts),
      }, String(n)));
    } else if (part) {
      target.append(document.createTextNode(part));
    }
  }
}

function citationChip(cite, contexts) {
  return el("button", { class: "chip", type: "button", "data-n": cite.n, onclick: () => openCitation(cite, contexts) },
    el("span", { class: "num" }, `[${cite.n}]`),
    el("span", { class: "ctitle" }, bookTitle(cite.title)),
    cite.doc_number ? el("span", { class: "docnum" }, cite.doc_number) : null);
}

function feedbackRow(answerId) {
  const note = el("span", { class: "fb-note" });
  const buttons = [];
  const send = async (rating, button) => {
    buttons.forEach((b) => (b.disabled = true));
    try {
      const res = await fetch("/v1/feedback", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ answer_id: answerId, rating }),
      });
      if (!res.ok) throw await readError(res);
      button.classList.add("chosen");
      note.textContent = "感谢反馈！";
    } catch (err) {
      buttons.forEach((b) => (b.disabled = false));
      note.textContent = `反馈未提交：${err.detail || err}`;
    }
  };
  const up = el("button", { type: "button", class: "fb-up", title: "有帮助", "aria-label": "有帮助", onclick: () => send("up", up) }, "👍");
  const down = el("button", { type: "button", class: "fb-down", title: "没帮助", "aria-label": "没帮助", onclick: () => send("down", down) }, "👎");
  buttons.push(up, down);
  return el("div", { class: "feedback" }, "这个回答有帮助吗？", up, down, note);
}

function showError(bubble, err) {
  bubble.classList.add("error");
  bubble.replaceChildren(
    el("div", { class: "answer" }, err.detail || String(err)),
    err.hint ? el("div", { class: "status" }, err.hint) : null);
}

async function ask(question) {
  if (state.busy) return;
  question = question.trim();
  if (!question) return;
  state.busy = true;
  sendButton.disabled = true;
  $("#welcome")?.remove();

  messages.append(el("div", { class: "msg user" }, question));
  const standalone = el("div", { class: "standalone", hidden: true });
  const answer = el("div", { class: "answer pending" });
  const status = el("div", { class: "status" }, "正在检索政策文件…");
  const bubble = el("div", { class: "msg bot", "data-state": "streaming" }, standalone, answer, status);
  messages.append(bubble);
  scrollDown();

  let text = "";
  try {
    const res = await fetch("/v1/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question, session_id: state.sessionId }),
    });
    if (!res.ok) throw await readError(res);
    let finished = false;
    for await (const { event, data } of sseEvents(res)) {
      if (event === "meta") {
        if (data.standalone_question) {
          standalone.textContent = `已结合上文理解为：${data.standalone_question}`;
          standalone.hidden = false;
        }
        status.textContent = "正在生成回答…";
      } else if (event === "delta") {
        text += data.text;
        renderAnswerText(answer, text, null);
        scrollDown();
      } else if (event === "done") {
        finished = true;
        finishAnswer(bubble, answer, status, data);
      } else if (event === "error") {
        throw { detail: data.detail, hint: data.hint };
      }
    }
    if (!finished) throw { detail: "连接中断，回答不完整", hint: "请重试。" };
  } catch (err) {
    showError(bubble, err.detail ? err : { detail: `网络错误：${err.message || err}`, hint: "请检查网络后重试。" });
    bubble.dataset.state = "error";
  } finally {
    state.busy = false;
    sendButton.disabled = false;
    scrollDown();
  }
}

function finishAnswer(bubble, answer, status, data) {
  answer.classList.remove("pending");
  answer._contexts = data.contexts || [];
  renderAnswerText(answer, data.answer, data.citations);
  status.remove();
  if (!data.grounded) bubble.append(el("span", { class: "badge" }, "未在文件中找到依据"));
  if (data.citations && data.citations.length) {
    bubble.append(el("div", { class: "citations" },
      el("div", { class: "citations-label" }, "参考来源（点击查看原文）"),
      data.citations.map((c) => citationChip(c, answer._contexts))));
  }
  bubble.append(feedbackRow(data.answer_id));
  bubble.dataset.state = "done";
  bubble.dataset.answerId = data.answer_id;
}

/* ---------- citation dialog ---------- */
const dialog = $("#cite-dialog");

function openCitation(cite, contexts) {
  $("#cite-title").textContent = bookTitle(cite.title);
  $("#cite-docnum").textContent = cite.doc_number || "（无）";
  $("#cite-date").textContent = cite.date || "（无）";
  $("#cite-section").textContent = cite.section || "（文件开头/落款）";
  $("#cite-source").textContent = cite.source || "";
  const also = cite.also_in || [];  // other documents with a near duplicate of this passage
  $("#cite-also").textContent = also.join("、");
  $("#cite-also").hidden = $("#cite-also-label").hidden = also.length === 0;
  $("#cite-quote").textContent = cite.quote;
  const ctx = (contexts || []).find((c) => c.chunk_id === cite.chunk_id);
  const wrap = $("#cite-context-wrap");
  const target = $("#cite-context");
  target.textContent = "";
  const at = ctx && ctx.text ? ctx.text.indexOf(cite.quote) : -1;
  if (at >= 0 && ctx.text !== cite.quote) {
    // the passage the quote comes from, with the quote highlighted
    target.append(ctx.text.slice(0, at), el("mark", {}, cite.quote), ctx.text.slice(at + cite.quote.length));
    wrap.hidden = false;
  } else {
    wrap.hidden = true;
  }
  if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
}
dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });

/* ---------- documents ---------- */
async function loadDocuments() {
  const list = $("#doc-list");
  try {
    const res = await fetch("/v1/documents");
    if (!res.ok) throw await readError(res);
    const body = await res.json();
    list.replaceChildren();
    if (!body.documents.length) list.append(el("li", { class: "muted" }, "尚未导入任何文件。"));
    for (const d of body.documents) {
      const meta = [d.doc_number, d.date, `${d.chunks} 个片段`].filter(Boolean).join(" · ");
      list.append(el("li", { "data-id": d.id },
        el("div", { class: "doc-title" }, d.title || d.source),
        el("div", { class: "doc-meta" }, meta),
        el("div", { class: "doc-meta" }, d.source),
        el("button", { class: "btn ghost small chunks-btn", type: "button", onclick: () => openChunks(d) }, "查看分块")));
    }
    // what the last ingest could not read: the file, the reason and what to do
    const skipped = body.skipped || [];
    $("#doc-skipped-wrap").hidden = !skipped.length;
    $("#doc-skipped").replaceChildren(...skipped.map((s) => el("li", { class: "skipped" },
      el("div", { class: "doc-title" }, s.source + (s.kept_previous ? "（索引保留上一版本）" : "")),
      el("div", { class: "doc-meta skip-reason" }, s.reason))));
    const upload = $("#upload-dir");
    upload.hidden = !body.upload_dir;
    upload.textContent = body.upload_dir ? `上传的文件保存到：${body.upload_dir}` : "";
  } catch (err) {
    list.replaceChildren(el("li", { class: "muted" }, `文件列表加载失败：${err.detail || err}`));
  }
}

/* ---------- chunk viewer: how a document was parsed ---------- */
const chunksDialog = $("#chunks-dialog");

async function openChunks(doc) {
  $("#chunks-title").textContent = bookTitle(doc.title || doc.source);
  const list = $("#chunks-list");
  const status = $("#chunks-status");
  list.replaceChildren();
  status.textContent = "加载中…";
  if (typeof chunksDialog.showModal === "function") chunksDialog.showModal(); else chunksDialog.setAttribute("open", "");
  try {
    const res = await fetch(`/v1/documents/${encodeURIComponent(doc.id)}/chunks`);
    if (!res.ok) throw await readError(res);
    const body = await res.json();
    status.textContent = body.uncovered.length
      ? `有 ${body.uncovered.length} 处内容未进入任何片段（见列表末尾）。`
      : `共 ${body.count} 个片段，全部内容都已进入索引。`;
    status.className = body.uncovered.length ? "chunks-status bad" : "chunks-status ok";
    for (const c of body.chunks) {
      list.append(el("li", { class: "chunk" },
        el("div", { class: "chunk-meta" }, `#${c.ordinal} · ${c.section} · ${c.start}–${c.end} · ${c.chars} 字`),
        el("pre", { class: "chunk-text" }, c.text)));
    }
    for (const g of body.uncovered) {
      list.append(el("li", { class: "chunk lost" },
        el("div", { class: "chunk-meta" }, `未进入索引 · ${g.start}–${g.end}`),
        el("pre", { class: "chunk-text" }, g.text)));
    }
  } catch (err) {
    status.textContent = `片段加载失败：${err.detail || err}`;
    status.className = "chunks-status bad";
  }
}
chunksDialog.addEventListener("click", (e) => { if (e.target === chunksDialog) chunksDialog.close(); });

/* ---------- 政策匹配 ---------- */
const STATUS_CLASSES = {
  满足: "met", 已满足: "met", met: "met", satisfied: "met",
  不满足: "unmet", unmet: "unmet", not_met: "unmet",
};
const PROFILE_LABELS = [
  ["industries", "行业"], ["stage", "阶段"], ["location", "地区"], ["size_class", "规模"], ["employees", "员工数"],
  ["qualifications", "资质"], ["entity_types", "主体类型"], ["groups", "人群"], ["needs", "需求"],
];

function renderProfile(profile) {
  if (!profile || typeof profile !== "object") return null;
  const parts = [];
  for (const [key, label] of PROFILE_LABELS) {
    const v = profile[key];
    if (v == null || v === "" || (Array.isArray(v) && !v.length)) continue;
    parts.push(`${label}：${Array.isArray(v) ? v.join("、") : v}`);
  }
  return parts.length ? el("div", { class: "profile" }, "识别的企业画像 — ", parts.join("；")) : null;
}

function matchCard(r) {
  const score = typeof r.score === "number" ? r.score.toFixed(2) : "";
  const cites = (r.citations || []).map((c, i) => ({ n: c.n || i + 1, ...c }));
  return el("article", { class: "card", "data-measure": r.measure_id },
    el("div", { class: "card-head" }, el("h3", {}, r.title || r.measure_id), score ? el("span", { class: "score" }, `匹配分 ${score}`) : null),
    r.kinds && r.kinds.length ? el("div", { class: "kinds" }, r.kinds.map((k) => el("span", { class: "tag" }, k))) : null,
    r.reasons && r.reasons.length ? el("ul", { class: "reasons" }, r.reasons.map((x) => el("li", {}, x))) : null,
    r.conditions && r.conditions.length ? el("div", { class: "conds-label" }, "申请条件") : null,
    r.conditions && r.conditions.length ? el("ul", { class: "conds" }, r.conditions.map((c) => el("li", { class: "cond" },
      el("span", { class: `st ${STATUS_CLASSES[c.status] || ""}` }, c.status || "需确认"), c.text,
      c.reason ? el("div", { class: "cond-reason" }, c.reason) : null))) : null,
    cites.length ? el("div", { class: "citations" }, el("div", { class: "citations-label" }, "政策依据（点击查看原文）"),
      cites.map((c) => citationChip(c, []))) : null);
}

async function runMatch(event) {
  event.preventDefault();
  const out = $("#match-results");
  const button = $("#match-submit");
  const body = {
    description: $("#match-description").value.trim(),
    needs: Array.from(document.querySelectorAll('input[name="needs"]:checked'), (x) => x.value),
    industry: $("#match-industry").value.trim(),
    stage: $("#match-stage").value,
  };
  if (!body.description) { out.replaceChildren(el("div", { class: "notice" }, "请先填写企业情况描述。")); return; }
  button.disabled = true;
  out.replaceChildren(el("div", { class: "notice" }, "正在匹配政策…"));
  try {
    const res = await fetch("/v1/match", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (res.status === 404 || res.status === 405) {
      out.replaceChildren(el("div", { class: "notice" }, "政策匹配功能尚未开通（服务端未启用 /v1/match），请先使用“政策问答”。"));
      return;
    }
    if (!res.ok) throw await readError(res);
    const data = await res.json();
    const results = data.results || [];
    out.replaceChildren(renderProfile(data.profile) || "",
      results.length ? el("div", { class: "status" }, `找到 ${results.length} 项可能适用的政策措施：`) :
        el("div", { class: "notice" }, "没有找到匹配的政策措施，可以补充企业情况或调整需求后再试。"),
      ...results.map(matchCard));
  } catch (err) {
    out.replaceChildren(el("div", { class: "notice" }, `匹配失败：${err.detail || err.message || err}`, err.hint ? ` ${err.hint}` : ""));
  } finally {
    button.disabled = false;
  }
}

/* ---------- wiring ---------- */
function switchTab(name) {
  for (const tab of document.querySelectorAll(".tab")) {
    const on = tab.dataset.tab === name;
    tab.classList.toggle("active", on);
    tab.setAttribute("aria-selected", String(on));
  }
  $("#panel-chat").hidden = name !== "chat";
  $("#panel-match").hidden = name !== "match";
  $("#new-chat").hidden = name !== "chat";
}

function newConversation() {
  state.sessionId = newSessionId();
  messages.replaceChildren(el("div", { class: "welcome", id: "welcome" },
    el("p", {}, "已开始新对话。请输入问题。")));
  questionBox.focus();
}

$("#ask-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = questionBox.value;
  if (!q.trim() || state.busy) return;
  questionBox.value = "";
  autosize();
  ask(q);
});
questionBox.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $("#ask-form").requestSubmit();
  }
});
function autosize() { questionBox.style.height = "auto"; questionBox.style.height = `${Math.min(questionBox.scrollHeight, 160)}px`; }
questionBox.addEventListener("input", autosize);
for (const b of document.querySelectorAll(".example")) b.addEventListener("click", () => ask(b.textContent));
for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => switchTab(t.dataset.tab));
$("#new-chat").addEventListener("click", newConversation);
$("#toggle-docs").addEventListener("click", () => $("#docs").classList.toggle("open"));
$("#close-docs").addEventListener("click", () => $("#docs").classList.remove("open"));
$("#match-form").addEventListener("submit", runMatch);

window.policyChat = { get sessionId() { return state.sessionId; } };
loadDocuments();
