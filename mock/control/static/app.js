// The dashboard of prosper-voice-mock: reads and changes the world only through the
// control API (/__mock/...) and the vendored API (/api/v1/...), as any client would.
// Every value from the mock reaches the page as text (textContent), never as markup.
"use strict";

// Polls every second while something changes, then less often (2 s, then 4 s) while the
// mock is quiet; a change, or anything done on the page, brings it back to every second.
const POLL_MS = 1000;
const POLL_MAX_MS = 4000;
const JOURNAL_KEEP = 500;
const ROWS = 50;
const state = {
  token: "", apiKeyHeader: "X-Api-Key", apiKey: "",
  version: null, selected: null, campaign: null, journalSince: 0, journal: [],
  faultRules: [], faultsText: "", stubsText: null, polling: false, pollDelay: POLL_MS, clockNow: null,
};

const $ = (id) => document.getElementById(id);

// The token and key come from the URL fragment (#token=...&api_key=...), which the browser
// never sends to the server; they are kept for this tab only and removed from the address bar.
function readFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const saved = (name) => { try { return sessionStorage.getItem(name) || ""; } catch { return ""; } };
  state.token = params.get("token") || saved("prosper-mock-token");
  state.apiKey = params.get("api_key") || saved("prosper-mock-api-key");
  state.apiKeyHeader = params.get("api_key_header") || saved("prosper-mock-api-key-header") || "X-Api-Key";
  remember();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  $("token").value = state.token;
  $("api-key").value = state.apiKey;
  $("api-key-header").value = state.apiKeyHeader;
}

function remember() {
  try {
    sessionStorage.setItem("prosper-mock-token", state.token);
    sessionStorage.setItem("prosper-mock-api-key", state.apiKey);
    sessionStorage.setItem("prosper-mock-api-key-header", state.apiKeyHeader);
  } catch { /* storage refused: the values live until the page closes */ }
}

function say(text, bad) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("bad", Boolean(bad));
}

class Refused extends Error {
  constructor(status, detail) {
    super(`${status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    this.status = status;
    this.detail = detail;
  }
}

// One request; the answer's JSON (null for 204). A refusal throws Refused.
async function request(method, path, body, { raw = false } = {}) {
  const headers = {};
  if (path.startsWith("/__mock")) {
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
  } else if (state.apiKey) {
    headers[state.apiKeyHeader] = state.apiKey;
  }
  let data;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    data = raw ? body : JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: data, cache: "no-store" });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  if (!response.ok) throw new Refused(response.status, json && json.detail !== undefined ? json.detail : json);
  return json;
}

const control = (method, path, body, options) => request(method, `/__mock${path}`, body, options);

// What a click does: run it, say what happened, refresh what it changed.
async function act(label, fn) {
  try {
    const done = await fn();
    say(done || `${label}: done`);
    state.pollDelay = POLL_MS;
    await refresh(true);
  } catch (err) {
    say(`${label}: ${err.message}`, true);
  }
}

// --- formatting ---------------------------------------------------------------------

// A time as "2026-01-15 15:00:00 UTC" (with milliseconds: "15:00:00.042").
function utc(value, { ms = false } = {}) {
  if (value === null || value === undefined || value === "") return "–";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const iso = date.toISOString().replace("T", " ").replace(/Z$/, "");
  return (ms ? iso : iso.replace(/\.\d+$/, "")) + " UTC";
}

function text(value) {
  if (value === null || value === undefined) return "null";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function cell(row, content, className) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content); else td.textContent = content;
  if (className) td.className = className;
  row.append(td);
  return td;
}

function button(label, onClick, aria) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (aria) b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

function fill(tbody, rows, build) {
  tbody.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    build(tr, r);
    tbody.append(tr);
  }
}

// --- the world ----------------------------------------------------------------------

// Reads what may have changed; whether anything had (the world, the journal, the faults,
// a virtual clock's time), which sets how soon the next poll comes.
async function refresh(force) {
  const [health, clock, faults, stubs] = await Promise.all([
    control("GET", "/health"), control("GET", "/clock"), control("GET", "/faults"),
    control("GET", "/stubs"),
  ]);
  let changed = force || health.world_version !== state.version
    || JSON.stringify(faults.rules) !== state.faultsText
    || JSON.stringify(stubs.stubs) !== state.stubsText
    || (clock.mode === "virtual" && clock.now !== state.clockNow);
  state.clockNow = clock.now;
  $("count-live").textContent = health.live_calls;
  $("count-logs").textContent = health.call_logs;
  $("simulation").textContent = health.simulation ? "on" : "off";
  $("version").textContent = health.version;
  $("clock-mode").textContent = clock.mode;
  $("clock-now").textContent = utc(clock.now);
  if (JSON.stringify(faults.rules) !== state.faultsText) showFaults(faults.rules);
  if (JSON.stringify(stubs.stubs) !== state.stubsText) showStubs(stubs.stubs);
  const lists = [readJournal().then((added) => { changed = changed || added; })];
  if (force || health.world_version !== state.version) {
    state.version = health.world_version;
    // A load or reset (by anyone) may have replaced the campaigns: read them before targets.
    lists.push(showCalls(), loadCampaigns().then(() => Promise.all([showTargets(), showWebhooks()])), showSelected());
  }
  await Promise.all(lists);
  return changed;
}

async function showCalls() {
  const [live, logs] = await Promise.all([
    control("GET", `/live-calls?limit=${ROWS}`),
    control("GET", `/call-logs?limit=${ROWS}`),
  ]);
  $("live-shown").textContent = `(${live.live_calls.length} of ${live.count})`;
  $("logs-shown").textContent = `(${logs.call_logs.length} of ${logs.count})`;
  fill($("live-table").tBodies[0], live.live_calls, (tr, c) => {
    tr.dataset.id = c.call_log_id;
    selectable(tr, "live", c.call_log_id);
    cell(tr, button(String(c.call_log_id), () => select("live", c.call_log_id), `Show live call ${c.call_log_id}`));
    cell(tr, c.user_phone_number);
    cell(tr, utc(c.started_at));
    cell(tr, c.status);
    cell(tr, (c.flow && c.flow.step) || "–");
  });
  fill($("logs-table").tBodies[0], logs.call_logs, (tr, c) => {
    tr.dataset.id = c.id;
    selectable(tr, "log", c.id);
    cell(tr, button(String(c.id), () => select("log", c.id), `Show call log ${c.id}`));
    cell(tr, c.user_phone_number);
    cell(tr, utc(c.created_at));
    cell(tr, c.call_length, "length");
    cell(tr, c.call_ended_reason);
  });
  markSelected();
}

// A click anywhere on a call's row shows it; its id button is the keyboard's way (Tab, Enter).
function selectable(tr, kind, id) {
  tr.classList.add("selectable");
  tr.dataset.kind = kind;
  tr.addEventListener("click", (event) => {
    if (event.target.closest("button, a, input")) return;  // the button does it itself
    select(kind, id).catch((err) => say(`Show: ${err.message}`, true));
  });
}

// The rows of the call shown carry aria-current, in both lists.
function markSelected() {
  const chosen = state.selected;
  for (const tr of document.querySelectorAll("#live-table tbody tr, #logs-table tbody tr")) {
    const on = chosen !== null && tr.dataset.kind === chosen.kind && tr.dataset.id === String(chosen.id);
    if (on) tr.setAttribute("aria-current", "true"); else tr.removeAttribute("aria-current");
  }
}

async function select(kind, id) {
  state.selected = { kind, id };
  state.pollDelay = POLL_MS;
  await showSelected();
}

async function showSelected() {
  markSelected();
  const chosen = state.selected;
  if (chosen === null) return;
  let answer;
  try {
    answer = await control("GET", `/${chosen.kind === "live" ? "live-calls" : "call-logs"}/${chosen.id}`);
  } catch (err) {
    if (!(err instanceof Refused) || err.status !== 404) throw err;
    if (chosen.kind === "live") {  // ended meanwhile: follow it to the call logs
      state.selected = { kind: "log", id: chosen.id };
      return showSelected();
    }
    $("call-title").textContent = `${chosen.id}: gone`;
    return undefined;
  }
  const row = answer.call || answer.call_log;
  $("call-title").textContent = `${chosen.id} (${answer.snapshot.source})`;
  const snapshot = $("snapshot-table").tBodies[0];
  fill(snapshot, Object.entries(answer.snapshot), (tr, [k, v]) => {
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = k;
    tr.append(th);
    cell(tr, text(v));
  });
  const flow = row.flow || {};
  $("flow-step").textContent = flow.step
    ? `${flow.name || flow.id}: step ${flow.step} (${(flow.step_index ?? 0) + 1} of ${flow.steps_total ?? "?"})`
    : chosen.kind === "live" ? "no flow step" : `ended: ${row.call_ended_reason}, ${row.call_length}`;
  const lines = row.transcript || row.transcripts || [];
  $("transcript").replaceChildren(...lines.map((line) => {
    const li = document.createElement("li");
    const who = document.createElement("strong");
    who.textContent = `${line.role}: `;
    li.append(who, document.createTextNode(line.message ?? text(line)));
    return li;
  }));
  $("map-form").hidden = $("end-form").hidden = chosen.kind !== "live";
  return undefined;
}

// The search asks the vendored lookup itself, so what it finds is what a client gets.
async function search(query) {
  const q = query.trim();
  const params = new URLSearchParams();
  const eq = q.indexOf("=");
  if (eq > 0) { params.set("key", q.slice(0, eq)); params.set("value", q.slice(eq + 1)); }
  else if (/^\d+$/.test(q)) params.set("call_log_id", q);
  else params.set("user_phone_number", q);
  const path = `/api/v1/live-calls?${params}`;
  const result = $("search-result");
  result.replaceChildren();
  const head = document.createElement("p");
  head.className = "query";
  head.textContent = `GET ${path}`;
  result.append(head);
  try {
    const found = await request("GET", path);
    const id = found.call_log_id ?? found.id;
    const line = document.createElement("p");
    line.textContent = `found ${id} in ${found.source} (${found.user_phone_number}) `;
    line.append(button("Show", () => select(found.source === "live_calls" ? "live" : "log", id), `Show call ${id}`));
    result.append(line);
    result.dataset.found = String(id);
    await select(found.source === "live_calls" ? "live" : "log", id);
  } catch (err) {
    const line = document.createElement("p");
    line.className = "bad";
    line.textContent = err.message;
    result.append(line);
    result.dataset.found = "";
  }
}

// --- campaigns ----------------------------------------------------------------------

async function loadCampaigns() {
  const { campaigns } = await control("GET", "/campaigns");
  $("count-campaigns").textContent = campaigns.length;
  const select = $("campaign");
  const keep = state.campaign;
  select.replaceChildren(...campaigns.map((c) => {
    const o = document.createElement("option");
    o.value = c.id;
    o.textContent = `${c.name} (${c.kind})`;
    return o;
  }));
  state.campaign = campaigns.some((c) => c.id === keep) ? keep : campaigns[0] && campaigns[0].id;
  if (state.campaign) select.value = state.campaign;
}

async function showTargets(retried) {
  if (!state.campaign) return;
  let answer;
  try {
    answer = await control("GET", `/campaigns/${encodeURIComponent(state.campaign)}/targets?limit=${ROWS}`);
  } catch (err) {
    // The campaign went with a world loaded or reset meanwhile: show the new world's.
    if (retried === true || !(err instanceof Refused) || err.status !== 404) throw err;
    await loadCampaigns();
    return showTargets(true);
  }
  const { targets, count } = answer;
  fill($("targets-table").tBodies[0], targets, (tr, t) => {
    tr.dataset.id = t.id;
    cell(tr, t.id, "id");
    cell(tr, text(t.phone_number && t.phone_number.value !== undefined ? t.phone_number.value : t.phone_number));
    cell(tr, t.external_id ?? "–");
    cell(tr, t.status, "target-status");
    cell(tr, (t.call_log_ids || []).join(", ") || "–");
    cell(tr, button("Launch", () => launch(t.id), `Launch target ${t.id}`));
  });
  $("targets-table").caption?.remove();
  const caption = $("targets-table").createCaption();
  caption.textContent = `${targets.length} newest of ${count}`;
}

// --- webhooks -----------------------------------------------------------------------

async function showWebhooks() {
  if (!state.campaign) return;
  const campaign = encodeURIComponent(state.campaign);
  const [setting, { events, count }] = await Promise.all([
    control("GET", `/campaigns/${campaign}/webhook`),
    control("GET", `/webhooks?campaign_id=${campaign}&limit=${ROWS}`),
  ]);
  $("webhook-in-force").textContent = setting.url
    ? `(to ${setting.url}${setting.source === "default" ? ", serve's --webhook-url" : ""}; at most ${setting.max_attempts} attempts${setting.faults ? `; faults ${setting.faults}` : ""})`
    : "(none: no URL)";
  fill($("webhooks-table").tBodies[0], [...events].reverse(), (tr, e) => {
    tr.dataset.id = e.id;
    const p = e.payload;
    const last = e.sends[e.sends.length - 1];
    cell(tr, e.id, "id");
    cell(tr, p.target_id, "id");
    cell(tr, p.call_log_id);
    cell(tr, `${p.attempt} of ${p.max_attempts}`);
    cell(tr, p.next_attempt_scheduled ? utc(p.next_attempt_scheduled) : "–");
    cell(tr, utc(e.created_at));
    cell(tr, e.state, "webhook-state");
    cell(tr, last ? (last.ok ? `${last.status}` : last.error) : "–");
    cell(tr, e.state === "failed" ? button("Send again", () => sendAgain(e), `Send webhook event ${e.id} again`) : "–");
  });
  $("webhooks-table").caption?.remove();
  $("webhooks-table").createCaption().textContent = `${events.length} newest of ${count}`;
}

// rerun-failed over the window of this one event's created_at: it alone is sent again
// (with any other failed event of the campaign created at the same moment).
function sendAgain(event) {
  return act("Send again", async () => {
    const window = { from_date: event.created_at, to_date: event.created_at };
    const answer = await request("POST", `/api/v1/campaigns/${encodeURIComponent(event.payload.campaign_id)}/webhooks/rerun-failed`, window);
    return `Sending again: ${answer.rerun} event(s)`;
  });
}

function launch(targetId) {
  return act("Launch", async () => {
    const body = { target_ids: [targetId] };
    const answer = await request("POST", `/api/v1/campaigns/${encodeURIComponent(state.campaign)}/calls`, body);
    const placed = answer.launched.map((l) => l.call_log_id);
    return placed.length ? `Launched ${targetId}: call ${placed.join(", ")}` : `Not launched (skipped): ${targetId}`;
  });
}

// --- faults -------------------------------------------------------------------------

function showFaults(rules) {
  state.faultRules = rules;
  state.faultsText = JSON.stringify(rules);
  const list = $("fault-rules");
  list.replaceChildren(...(rules.length ? rules : [null]).map((rule) => {
    const li = document.createElement("li");
    if (rule === null) { li.textContent = "no fault rules"; li.className = "muted"; return li; }
    const match = Object.entries(rule.match || {}).map(([k, v]) => `${k}=${v}`).join(", ");
    li.textContent = `${rule.faults.join(", ")} with probability ${rule.probability}${match ? ` when ${match}` : ""}`;
    return li;
  }));
}

// A rule as PUT /__mock/faults takes it, from the form (the list answers faults as an array).
function ruleBody(rule) {
  const body = { faults: Array.isArray(rule.faults) ? rule.faults.join(",") : rule.faults };
  if (rule.probability !== undefined) body.probability = rule.probability;
  if (rule.match && Object.keys(rule.match).length) body.match = rule.match;
  return body;
}

// --- stubs --------------------------------------------------------------------------

function showStubs(stubs) {
  state.stubsText = JSON.stringify(stubs);
  const list = $("stubs");
  list.replaceChildren(...(stubs.length ? stubs : [null]).map((stub) => {
    const li = document.createElement("li");
    if (stub === null) { li.textContent = "no stubs"; li.className = "muted"; return li; }
    li.className = "stub";
    li.dataset.id = stub.id;
    const times = stub.times === null ? "until removed" : `${stub.answered} of ${stub.times} times`;
    const after = stub.after ? `, after ${stub.after}` : "";
    const unchecked = stub.unchecked ? ", unchecked" : "";
    const what = document.createElement("span");
    what.textContent = `${stub.method} ${stub.path} → ${stub.status} (${times}${after}${unchecked}) `;
    const remove = button("Remove", () => act("Remove stub", async () => {
      await control("DELETE", `/stubs/${encodeURIComponent(stub.id)}`);
      showStubs((await control("GET", "/stubs")).stubs);
      return `Removed stub ${stub.id}`;
    }), `Remove stub ${stub.id}`);
    li.append(what, remove);
    return li;
  }));
}

// --- journal ------------------------------------------------------------------------

async function readJournal() {
  let more = true;
  let added = false;
  while (more) {
    const page = await control("GET", `/journal?since=${state.journalSince}&limit=500`);
    state.journal.push(...page.entries);
    state.journalSince = page.next_since;
    more = page.more;
    added = added || page.entries.length > 0;
  }
  if (state.journal.length > JOURNAL_KEEP) state.journal.splice(0, state.journal.length - JOURNAL_KEEP);
  if (added) showJournal();
  return added;
}

const quote = (text) => `'${String(text).replace(/'/g, "'\\''")}'`;
// Headers a curl line repeats: those that change the answer (credentials, as placeholders).
const CURL_HEADERS = new Set(["content-type", "x-mock-fault", "content-encoding"]);

function curlOf(entry) {
  const query = new URLSearchParams(entry.query.map(([k, v]) => [k, v])).toString();
  // The path as sent (the journal keeps its escapes): curl must neither expand [] and {} as
  // globs (-g) nor resolve a . or .. segment (--path-as-is), or it sends another request.
  const url = `${location.origin}${entry.path}${query ? `?${query}` : ""}`;
  const glob = /[[\]{}]/.test(entry.path) ? " -g" : "";
  const dots = /\/\.\.?(\/|$)/.test(entry.path) ? " --path-as-is" : "";
  const method = entry.method === "GET" ? "" : ` -X ${entry.method}`;
  const headers = (entry.headers || []).map(([name, value]) => {
    if (value === "[redacted]") return ` -H ${quote(`${name}: `)}"$PROSPER_API_KEY"`;
    return CURL_HEADERS.has(name.toLowerCase()) ? ` -H ${quote(`${name}: ${value}`)}` : "";
  }).join("");
  const key = !entry.headers && state.apiKey ? ` -H '${state.apiKeyHeader}: $PROSPER_API_KEY'` : "";
  let body = "";
  if (entry.body) body = entry.body_truncated ? " --data-raw '...'  # the body was cut short" : ` --data-raw ${quote(entry.body)}`;
  return `curl -s${glob}${dots}${method}${headers}${key} ${quote(url)}${body}`;
}

// An entry's request and answer in full, and what produced the answer.
function detailOf(entry) {
  const details = document.createElement("details");
  details.className = "detail";
  const summary = document.createElement("summary");
  const by = entry.producer === "stub" ? `stub ${entry.stub}${entry.unchecked ? " (unchecked)" : ""}` : entry.producer || "world";
  summary.textContent = `Request and answer (by ${by})`;
  const pre = (title, headers, body, cut) => {
    const h = document.createElement("h3");
    h.textContent = title;
    const p = document.createElement("pre");
    const head = (headers || []).map(([n, v]) => `${n}: ${v}`).join("\n");
    p.textContent = `${head}${body !== null && body !== undefined ? `\n\n${body}${cut ? "\n[cut short]" : ""}` : ""}`;
    return [h, p];
  };
  const answer = entry.answer || { status: entry.status, headers: [], body: null };
  details.append(
    summary,
    ...pre(`${entry.method} ${entry.path}`, entry.headers, entry.body, entry.body_truncated),
    ...pre(`Answer ${answer.status}`, answer.headers, answer.body, answer.body_truncated),
  );
  return details;
}

function wanted(entry) {
  const status = $("journal-status").value;
  if (status === "misses" && entry.status !== 404) return false;
  if (status === "422" && entry.status !== 422) return false;
  if (status === "errors" && entry.status < 400) return false;
  const filter = $("journal-filter").value.trim().toLowerCase();
  if (!filter) return true;
  const haystack = `${entry.method} ${entry.path} ${entry.status} ${entry.query.map(([k, v]) => `${k}=${v}`).join(" ")}`;
  return haystack.toLowerCase().includes(filter);
}

function showJournal() {
  const list = $("journal");
  const shown = state.journal.filter(wanted).slice(-200).reverse();
  list.replaceChildren(...shown.map((entry) => {
    const li = document.createElement("li");
    li.className = `entry s${entry.status}${entry.status === 404 ? " miss" : ""}${entry.status === 422 ? " invalid" : ""}`;
    li.dataset.seq = entry.seq;
    const line = document.createElement("div");
    line.className = "line";
    const status = document.createElement("span");
    status.className = "code";
    status.textContent = entry.status;
    const what = document.createElement("span");
    const query = entry.query.map(([k, v]) => `${k}=${v}`).join("&");
    what.textContent = ` ${entry.method} ${entry.path}${query ? `?${query}` : ""}`;
    line.append(status, what, whenOf(entry));
    const curl = document.createElement("input");
    curl.type = "text";
    curl.readOnly = true;
    curl.className = "curl";
    curl.value = curlOf(entry);
    curl.setAttribute("aria-label", `curl for request ${entry.seq}`);
    const copy = button("Copy", () => copyText(curl), `Copy curl for request ${entry.seq}`);
    li.append(line, curl, copy, detailOf(entry));
    return li;
  }));
}

// When a request was answered: its number in the journal and the machine's time, to the
// millisecond (the order requests came in, on any clock), and the world's clock when it is
// elsewhere (a virtual clock, which may not move between requests).
function whenOf(entry) {
  const when = document.createElement("span");
  when.className = "when";
  const wall = entry.wall_time ?? entry.time;
  const clock = Math.abs(entry.time - wall) >= 1 ? ` (world clock ${utc(entry.time)})` : "";
  when.textContent = `#${entry.seq} at ${utc(wall, { ms: true })}${clock}`;
  when.dataset.wall = String(wall);
  return when;
}

function copyText(input) {
  input.select();
  const done = () => say("curl line copied");
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => say("selected: press Ctrl+C to copy"));
  } else {
    say("selected: press Ctrl+C to copy");
  }
}

// --- forms --------------------------------------------------------------------------

function parseValue(textValue) {
  try { return JSON.parse(textValue); } catch { return textValue; }
}

function on(formId, fn) {
  $(formId).addEventListener("submit", (event) => { event.preventDefault(); fn(); });
}

function wire() {
  const useAccess = () => {
    state.token = $("token").value;
    state.apiKey = $("api-key").value;
    state.apiKeyHeader = $("api-key-header").value || "X-Api-Key";
    remember();
    act("Access", async () => { await loadCampaigns(); return "connected"; });
  };
  on("access-form", useAccess);
  on("key-form", useAccess);
  on("search-form", () => search($("search").value));
  on("start-form", () => act("Start", async () => {
    const phone = $("start-phone").value.trim();
    const answer = await control("POST", "/live-calls", phone ? { user_phone_number: phone } : {});
    state.selected = { kind: "live", id: answer.call.call_log_id };
    return `Started call ${answer.call.call_log_id}`;
  }));
  on("map-form", () => act("Map", async () => {
    const name = $("map-name").value.trim();
    if (!state.selected || !name) throw new Error("pick a live call and name a variable");
    await control("PATCH", `/live-calls/${state.selected.id}/variables`, { variables: { [name]: parseValue($("map-value").value) } });
    return `Mapped ${name} on ${state.selected.id}`;
  }));
  on("end-form", () => act("End", async () => {
    if (!state.selected) throw new Error("pick a live call");
    const answer = await control("POST", `/live-calls/${state.selected.id}/end`);
    state.selected = { kind: "log", id: answer.call_log.id };
    return `Ended ${answer.call_log.id} after ${answer.call_log.call_length}`;
  }));
  on("advance-form", () => act("Advance", async () => {
    const clock = await control("POST", "/clock/advance", { seconds: Number($("advance-seconds").value) });
    return `Clock at ${utc(clock.now)}`;
  }));
  on("set-clock-form", () => act("Set clock", async () => {
    const clock = await control("PUT", "/clock", { now: $("set-clock").value.trim() });
    return `Clock at ${utc(clock.now)}`;
  }));
  on("fault-form", () => act("Fault", async () => {
    const rule = { faults: $("fault-spec").value.trim(), probability: Number($("fault-probability").value) };
    const match = $("fault-match").value.trim();
    if (match) {
      const eq = match.indexOf("=");
      if (eq < 1) throw new Error("Only when: name=value");
      rule.match = { [match.slice(0, eq)]: match.slice(eq + 1) };
    }
    const rules = [...state.faultRules.map(ruleBody), ruleBody(rule)];
    const answer = await control("PUT", "/faults", { rules });
    showFaults(answer.rules);
    return `${answer.rules.length} fault rule(s) in force`;
  }));
  on("clear-stubs-form", () => act("Remove stubs", async () => {
    await control("DELETE", "/stubs");
    showStubs([]);
    return "no stubs";
  }));
  on("clear-faults-form", () => act("Clear faults", async () => {
    await control("DELETE", "/faults");
    showFaults([]);
    return "no fault rules";
  }));
  on("target-form", () => act("Add target", async () => {
    const target = { phone_number: $("target-phone").value.trim() };
    const external = $("target-external").value.trim();
    if (external) target.external_id = external;
    const body = { targets: [target], launch: $("target-launch").checked };
    const answer = await request("POST", `/api/v1/campaigns/${encodeURIComponent(state.campaign)}/targets`, body);
    if (!answer.targets.length) return `Ignored as a duplicate: ${answer.ignored_external_ids.join(", ")}`;
    const calls = answer.call_log_ids.length ? `, call ${answer.call_log_ids.join(", ")}` : "";
    return `Added target ${answer.targets[0].id}${calls}`;
  }));
  on("reset-form", () => act("Reset", async () => {
    await control("POST", "/reset");
    state.journal = [];
    state.selected = null;
    showJournal();
    await loadCampaigns();
    return "World reset; journal cleared";
  }));
  on("load-form", () => act("Load", async () => {
    const file = $("world-file").files[0];
    if (!file) throw new Error("choose a world file");
    const stats = await control("PUT", "/world", await file.text(), { raw: true });
    state.selected = null;
    await loadCampaigns();
    return `Loaded ${file.name}: ${stats.live_calls} live calls, ${stats.call_logs} call logs`;
  }));
  on("webhook-form", () => act("Set webhook", async () => {
    const url = $("webhook-url").value.trim();
    const body = { url: url || null, faults: $("webhook-faults").value.trim() };
    const setting = await control("PUT", `/campaigns/${encodeURIComponent(state.campaign)}/webhook`, body);
    await showWebhooks();
    return setting.url ? `Webhook of this campaign: ${setting.url}` : "No webhook for this campaign";
  }));
  $("campaign").addEventListener("change", () => {
    state.campaign = $("campaign").value;
    Promise.all([showTargets(), showWebhooks()]).catch((err) => say(`Targets: ${err.message}`, true));
  });
  $("journal-filter").addEventListener("input", showJournal);
  $("journal-status").addEventListener("change", showJournal);
}

// Polls the cheap endpoints; lists are read again only when the world's version moves.
async function poll() {
  if (state.polling) return;
  state.polling = true;
  try {
    const changed = await refresh(false);
    state.pollDelay = changed ? POLL_MS : Math.min(state.pollDelay * 2, POLL_MAX_MS);
    if ($("status").dataset.poll) { delete $("status").dataset.poll; say("connected"); }
  } catch (err) {
    say(`Cannot read the mock: ${err.message}`, true);
    $("status").dataset.poll = "1";
  } finally {
    state.polling = false;
  }
}

function pollLater() {
  setTimeout(() => poll().finally(pollLater), state.pollDelay);
}

async function start() {
  readFragment();
  wire();
  try {
    await loadCampaigns();  // the targets shown are the chosen campaign's
    await refresh(true);
    document.body.dataset.ready = "1";
  } catch (err) {
    say(`Cannot read the mock: ${err.message}${err.status === 401 ? " (enter the control token above)" : ""}`, true);
  }
  pollLater();
}

start();
