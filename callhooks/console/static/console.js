// The callhooks console: lists recent calls, shows a call's timeline, follows the server-sent events.
// Every URL is resolved against the page's own path, so the page works wherever the receiver is served. Text from the network is only
// ever put in the page as text (textContent), never as HTML.
"use strict";

const FILTERS = ["call", "number", "tag", "event", "status", "q"];
const $ = (id) => document.getElementById(id);
let openCall = null;
let refreshTimer = null;
let shownCall = null; // the call whose entries the timeline's list holds (kept across refreshes)
let replayInfo = { available: false, detail: "not known yet" };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

// The filter (and the open call) live in the URL's fragment, so a link shows the same view.
function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const state = {};
  for (const name of FILTERS) state[name] = params.get(name) || "";
  state.open = params.get("open") || null;
  return state;
}

function writeHash() {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $("f-" + name).value.trim();
    if (value) params.set(name, value);
  }
  if (openCall) params.set("open", openCall);
  const hash = params.toString();
  history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
}

function filterQuery() {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $("f-" + name).value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

function time(epoch) {
  if (!epoch) return "";
  const d = new Date(epoch * 1000);
  const pad = (n, w) => String(n).padStart(w || 2, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function seconds(value) {
  if (value === null || value === undefined) return "";
  return value < 1 ? `${(value * 1000).toFixed(1)} ms` : `${value.toFixed(2)} s`;
}

// Absolute URLs below the page's own path: a page opened as http://user:password@host/... may not fetch a
// relative URL (the browser refuses to resolve it against a base that carries credentials).
const base = location.origin + location.pathname;
const here = (path) => new URL(path, base).href;

async function getJson(url) {
  const response = await fetch(here(url), { credentials: "same-origin", cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

async function loadCalls() {
  const query = filterQuery();
  let body;
  try {
    body = await getJson("api/calls" + (query ? "?" + query : ""));
  } catch (error) {
    $("call-count").textContent = "(" + error.message + ")";
    return;
  }
  const rows = $("call-rows");
  rows.replaceChildren();
  for (const call of body.calls) rows.append(callRow(call));
  $("call-count").textContent = `(${body.calls.length})`;
  $("no-calls").hidden = body.calls.length > 0;
}

function callRow(call) {
  const row = el("tr");
  row.dataset.callId = call.callId;
  if (call.callId === openCall) row.className = "open";
  const link = el("a", call.callId);
  link.href = "#";
  link.addEventListener("click", (event) => {
    event.preventDefault();
    openTimeline(call.callId, true);
  });
  const first = el("td");
  first.append(link);
  if (call.parentCallId) {
    const leg = el("span", " ↳ transfer leg", "leg-mark");
    leg.title = "a transfer leg of call " + call.parentCallId;
    first.append(leg);
  }
  row.append(first);
  const cells = [
    call.direction || "", call.from || "", call.to || "", call.state || "", call.tag || "", time(call.started),
    seconds(call.duration), call.events, call.lastStatus === null ? "" : call.lastStatus,
  ];
  for (const value of cells) row.append(el("td", value));
  const mark = el("td", call.error ? "✗ error" : "", call.error ? "error-mark" : "");
  if (call.error) mark.title = "a handler failed or an error status was sent";
  row.append(mark);
  return row;
}

function block(label, text, className, open) {
  const details = el("details");
  details.open = Boolean(open);
  details.append(el("summary", label));
  details.append(el("pre", text, className));
  return details;
}

function eventEntry(entry) {
  const item = el("li", null, "entry" + (entry.error || entry.status >= 500 ? " failed" : ""));
  item.dataset.kind = "event";
  item.dataset.eventType = entry.eventType;
  item.dataset.seq = entry.seq;
  const head = el("h3");
  head.append(el("span", "#" + entry.seq, "seq"), el("span", time(entry.at)), el("strong", entry.eventType));
  if (entry.state) head.append(el("span", "state " + entry.state));
  if (entry.tag) head.append(el("span", "tag " + entry.tag));
  head.append(el("span", entry.method));
  head.append(el("span", "→ " + entry.status, entry.status >= 400 ? "status-bad" : ""));
  if (entry.duplicate) head.append(el("span", "duplicate (already handled)"));
  if (entry.replay) {
    head.append(el("span", `replayed from the console: #${entry.replay.of}${entry.replay.edited ? ", edited" : ""}`, "replay-mark"));
  }
  item.append(head);
  const handler = entry.handler
    ? `handler ${entry.handler}` + (entry.handlerSeconds !== null ? ` ran ${seconds(entry.handlerSeconds)}` : "")
    : "no handler ran";
  item.append(el("p", `${handler}; answered in ${seconds(entry.seconds)}`, "note"));
  item.append(block("Wire payload (as received)", entry.payload, "payload", true));
  item.append(block("Typed fields", JSON.stringify(entry.fields, null, 2), "fields"));
  if (entry.context) item.append(block("Context (signed into the URL)", JSON.stringify(entry.context, null, 2)));
  if (entry.response) {
    const label = entry.response.xml ? "Answer (BXML)" : `Answer (${entry.response.mediaType || "body"})`;
    item.append(block(label, entry.response.body, "response", true));
  } else {
    item.append(el("p", "Answer: empty 200", "note"));
  }
  if (entry.error) {
    item.append(block(`Exception: ${entry.error.type}: ${entry.error.message}`, entry.error.traceback, "traceback", true));
  }
  if (replayInfo.available && !entry.truncated) item.append(replayControls(entry));
  return item;
}

function button(text, className) {
  const node = el("button", text, className);
  node.type = "button";
  return node;
}

// "Replay" sends the recorded event to the receiver again; "Edit & replay" an edited copy. Both are re-signed by
// the receiver and go through its normal path, so a plain replay of a handled event is answered as a duplicate.
function replayControls(entry) {
  const box = el("div", null, "replay");
  const again = button("Replay", "replay-plain");
  again.title = "send this event to the receiver again, re-signed (a handled event is answered as a duplicate)";
  const edit = button("Edit & replay", "replay-edit");
  edit.title = "change the payload and send it as a new event";
  const bar = el("p", null, "actions");
  bar.append(again, edit);
  const editor = el("div", null, "editor");
  editor.hidden = true;
  const label = el("label", entry.method === "GET" ? "Query string to send" : "JSON body to send");
  const area = document.createElement("textarea");
  area.className = "payload-editor";
  area.value = entry.payload;
  area.rows = Math.min(16, Math.max(3, entry.payload.split("\n").length + 1));
  area.spellcheck = false;
  label.append(area);
  const send = button("Send edited", "replay-send");
  const cancel = button("Cancel", "replay-cancel");
  const editBar = el("p", null, "actions");
  editBar.append(send, cancel);
  editor.append(label, editBar);
  const result = el("div", null, "replay-result");
  result.setAttribute("role", "status");
  result.setAttribute("aria-live", "polite");
  const buttons = [again, edit, send];
  again.addEventListener("click", () => replay(entry.seq, null, result, buttons));
  edit.addEventListener("click", () => { editor.hidden = false; area.focus(); });
  cancel.addEventListener("click", () => { editor.hidden = true; area.value = entry.payload; });
  send.addEventListener("click", () => replay(entry.seq, area.value, result, buttons));
  box.append(bar, editor, result);
  return box;
}

const OUTCOMES = {
  handled: "Handled", duplicate: "Duplicate", "no-handler": "No handler", failed: "Failed", rejected: "Refused",
  answered: "Answered",
};

async function replay(seq, payload, result, buttons) {
  for (const node of buttons) node.disabled = true;
  result.className = "replay-result";
  result.replaceChildren(el("p", "sending…", "note"));
  const request = payload === null ? { seq } : { seq, payload };
  try {
    const response = await fetch(here("api/replay"), {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    let body = null;
    try { body = await response.json(); } catch (ignored) { /* not JSON: the status says it */ }
    if (!response.ok) {
      result.className = "replay-result outcome-error";
      const why = body && body.detail ? body.detail : response.statusText;
      result.replaceChildren(el("p", `Not sent (${response.status}): ${why}`));
      return;
    }
    result.className = "replay-result outcome-" + body.outcome;
    const head = el("p");
    head.append(el("strong", OUTCOMES[body.outcome] || body.outcome), el("span", `: ${body.detail}`));
    const answer = el("p", `The receiver answered ${body.status}` + (body.mediaType ? ` (${body.mediaType})` : ""), "note");
    result.replaceChildren(head, answer);
    if (body.body) result.append(el("pre", body.body + (body.truncated ? "\n…" : ""), "replay-answer"));
  } catch (error) {
    result.className = "replay-result outcome-error";
    result.replaceChildren(el("p", "Could not send: " + error.message));
  } finally {
    for (const node of buttons) node.disabled = false;
  }
}

function rejectionEntry(entry, unverified) {
  const item = el("li", null, "entry failed");
  item.dataset.kind = "rejection";
  const head = el("h3");
  head.append(el("span", time(entry.at)), el("strong", `${entry.status} ${entry.reason}`), el("span", entry.method));
  if (entry.client) head.append(el("span", "from " + entry.client));
  if (unverified) head.append(el("span", "unverified: claims this call", "unverified"));
  else if (entry.claimedCallId) head.append(el("span", "claims call " + entry.claimedCallId, "unverified"));
  item.append(head);
  item.append(el("p", entry.detail, "note"));
  if (entry.payload) item.append(block("Payload (unverified)", entry.payload, "payload"));
  return item;
}

async function openTimeline(callId, focus) {
  openCall = callId;
  writeHash();
  let body;
  try {
    body = await getJson("api/calls/" + encodeURIComponent(callId));
  } catch (error) {
    $("timeline").hidden = false;
    $("timeline-call").textContent = callId + " (" + error.message + ")";
    $("timeline-entries").replaceChildren();
    shownCall = null;
    return;
  }
  if (openCall !== callId) return;
  $("timeline").hidden = false;
  $("timeline-call").textContent = callId;
  $("export").href = here("api/calls/" + encodeURIComponent(callId) + "/export");
  const summary = $("timeline-summary");
  summary.replaceChildren();
  const call = body.call;
  const facts = [["Direction", call.direction], ["From", call.from], ["To", call.to], ["State", call.state],
    ["Tag", call.tag], ["Started", time(call.started)],
    ["Event span (first to last event)", seconds(call.duration)],
    ["Events", call.events], ["Last status", call.lastStatus]];
  for (const [name, value] of facts) summary.append(el("dt", name), el("dd", value === null ? "" : value));
  if (call.parentCallId) summary.append(el("dt", "Transfer leg of"), callLinks([call.parentCallId]));
  if (call.legs && call.legs.length) summary.append(el("dt", "Transfer legs"), callLinks(call.legs));
  showEntries(callId, body);
  for (const row of $("call-rows").children) row.className = row.dataset.callId === callId ? "open" : "";
  if (focus) $("timeline-title").focus();
}

function callLinks(ids) {
  const dd = el("dd");
  ids.forEach((id, index) => {
    if (index) dd.append(", ");
    const link = el("a", id, "call-link");
    link.href = "#";
    link.addEventListener("click", (event) => { event.preventDefault(); openTimeline(id, true); });
    dd.append(link);
  });
  return dd;
}

// Entries never change once recorded: the ones shown stay (with an open editor or a replay's answer), new ones
// are added in order.
function showEntries(callId, body) {
  const list = $("timeline-entries");
  const kept = new Map();
  if (shownCall === callId) for (const node of list.children) kept.set(node.dataset.key, node);
  shownCall = callId;
  const nodes = [];
  for (const entry of body.entries) {
    const key = "e" + entry.seq;
    const node = kept.get(key) || eventEntry(entry);
    node.dataset.key = key;
    nodes.push(node);
  }
  for (const entry of body.unverifiedRejections) {
    const key = "r" + entry.seq;
    const node = kept.get(key) || rejectionEntry(entry, true);
    node.dataset.key = key;
    nodes.push(node);
  }
  nodes.forEach((node, index) => {
    if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
  });
  while (list.children.length > nodes.length) list.lastElementChild.remove();
}

function closeTimeline() {
  openCall = null;
  $("timeline").hidden = true;
  writeHash();
  for (const row of $("call-rows").children) row.className = "";
}

async function loadRejections() {
  let body;
  try {
    body = await getJson("api/rejections?limit=50");
  } catch (error) {
    return;
  }
  const list = $("rejections");
  list.replaceChildren();
  for (const entry of body.rejections) list.append(rejectionEntry(entry, false));
  // Every refused request is counted; this worker keeps a sample of them (the latest are listed).
  const shown = body.rejections.length;
  const total = body.refused.total;
  $("rejection-count").textContent = total > shown ? `(${total} refused, latest ${shown} shown)` : `(${shown})`;
}

function refreshSoon(what) {
  // Notices come in bursts (one per event): one reload per burst.
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    loadCalls();
    if (what.rejections) loadRejections();
    if (openCall) openTimeline(openCall, false);
  }, 150);
}

function listen() {
  const stream = new EventSource(here("api/stream"));
  const live = $("live");
  let opened = false;
  stream.onopen = () => {
    live.textContent = "live";
    live.className = "live on";
    if (opened) refreshSoon({ rejections: true }); // back after a break: catch up on what was missed
    opened = true;
  };
  stream.onerror = () => { live.textContent = "reconnecting…"; live.className = "live"; };
  stream.onmessage = (message) => {
    const notice = JSON.parse(message.data);
    refreshSoon({ rejections: notice.type !== "event" });
  };
}

function start() {
  const state = readHash();
  for (const name of FILTERS) $("f-" + name).value = state[name];
  let typing = null;
  $("filters").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { writeHash(); loadCalls(); }, 120);
  });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); writeHash(); loadCalls(); });
  $("filters").addEventListener("reset", () => setTimeout(() => { writeHash(); loadCalls(); }, 0));
  $("close-timeline").addEventListener("click", (event) => { event.preventDefault(); closeTimeline(); });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && openCall) closeTimeline();
    if (event.key === "/" && document.activeElement.tagName !== "INPUT") {
      event.preventDefault();
      $("f-q").focus();
    }
  });
  loadInfo().then(() => {
    loadCalls();
    loadRejections();
    if (state.open) openTimeline(state.open, false);
    listen();
  });
}

async function loadInfo() {
  let body;
  try {
    body = await getJson("api/info");
  } catch (error) {
    $("store").textContent = "store: unknown (" + error.message + ")";
    return;
  }
  replayInfo = body.replay;
  const store = body.store;
  if (store) {
    const parts = [store.url || store.backend, store.guarantees ? "exactly-once on" : "exactly-once off (no store)"];
    if (store.guarantees) parts.push(store.journal === "shared" ? "journal shared by its workers" : "journal: " + store.journal);
    $("store").textContent = "store: " + parts.join(" · ");
    $("store").title = store.backend === "memory" ? "memory:// is this process's alone and forgotten at restart" : "";
  }
  $("replay-note").textContent = replayInfo.available ? "" : "Replay is off: " + replayInfo.detail;
}

start();
