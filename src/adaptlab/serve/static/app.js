// The adaptlab page: search (/search) and ask (/rag, streamed as Server-Sent Events). No build step.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function basename(path) {
  return String(path || "").split(/[\\/]/).pop();
}

function where(hit) {
  const parts = [basename(hit.source)];
  if (hit.section || hit.title) parts.push(hit.section || hit.title);
  if (hit.page) parts.push("S. " + hit.page);
  return parts.join(" · ") + (hit.lang ? " [" + hit.lang + "]" : "");
}

function request() {
  const lang = $("lang").value;
  return {
    query: $("query").value.trim(),
    mode: $("mode").value,
    k: Math.max(1, Math.min(100, parseInt($("k").value, 10) || 5)),
    filter: lang ? 'lang == "' + lang + '"' : null,
  };
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function failure(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (_) {
    return response.status + " " + response.statusText;
  }
}

function renderResults(hits) {
  const list = $("results");
  list.replaceChildren();
  for (const hit of hits) {
    const item = el("li");
    const meta = el("div", "meta");
    meta.append(el("span", "score", hit.score.toFixed(3)), document.createTextNode(where(hit)));
    item.append(meta, el("p", "text", hit.text));
    list.append(item);
  }
  if (!hits.length) list.append(el("li", "muted", "Keine Treffer."));
  $("results-section").hidden = false;
}

async function search(event) {
  if (event) event.preventDefault();
  const req = request();
  if (!req.query) return;
  showError("");
  const response = await fetch("/search", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(req),
  });
  if (!response.ok) return showError(await failure(response));
  const body = await response.json();
  renderResults(body.hits);
}

function renderSources(sources) {
  const list = $("answer-sources");
  list.replaceChildren();
  for (const source of sources) {
    const item = el("li");
    item.id = "source-" + source.n;
    item.value = source.n;
    item.append(el("strong", "", where(source)), el("div", "meta", source.text.slice(0, 240) + (source.text.length > 240 ? " …" : "")));
    list.append(item);
  }
}

function focusSource(n) {
  document.querySelectorAll(".sources li.target").forEach((li) => li.classList.remove("target"));
  const item = $("source-" + n);
  if (!item) return;
  item.classList.add("target");
  item.scrollIntoView({ behavior: "smooth", block: "center" });
}

// The answer text with each valid [n] turned into a link to source n.
function renderAnswer(text, nSources) {
  const target = $("answer-text");
  target.replaceChildren();
  let last = 0;
  for (const match of text.matchAll(/\[(\d{1,3})\]/g)) {
    const n = parseInt(match[1], 10);
    if (n < 1 || n > nSources) continue;
    target.append(document.createTextNode(text.slice(last, match.index)));
    const link = el("a", "cite", "[" + n + "]");
    link.href = "#source-" + n;
    link.dataset.source = String(n);
    link.addEventListener("click", (e) => { e.preventDefault(); focusSource(n); });
    target.append(link);
    last = match.index + match[0].length;
  }
  target.append(document.createTextNode(text.slice(last)));
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trim());
  }
  return { name, data: data.length ? JSON.parse(data.join("\n")) : null };
}

async function ask() {
  const req = request();
  if (!req.query) return;
  showError("");
  $("ask-btn").disabled = true;
  $("answer").hidden = false;
  $("answer-kind").textContent = "…";
  $("answer-text").textContent = "";
  $("answer-sources").replaceChildren();
  try {
    const response = await fetch("/rag", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: req.query, mode: req.mode, filter: req.filter, k: Math.min(req.k, 20), stream: true }),
    });
    if (!response.ok) { $("answer").hidden = true; return showError(await failure(response)); }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.name === "sources") renderSources(event.data);
        else if (event.name === "token") { text += event.data.text; $("answer-text").textContent = text; }
        else if (event.name === "done") {
          $("answer-kind").textContent = event.data.extractive
            ? "extraktiv: zitierte Sätze aus den Quellen" : "generiert von " + event.data.generator;
          renderAnswer(event.data.answer, event.data.sources.length);
        }
      }
    }
  } catch (error) {
    showError(String(error));
  } finally {
    $("ask-btn").disabled = false;
  }
}

async function status() {
  try {
    const response = await fetch("/health");
    const body = await response.json();
    const ready = body.models.filter((m) => m.ready).map((m) => m.name);
    $("status").textContent = body.corpus.documents + " Dokumente, " + body.corpus.chunks + " Abschnitte · Modell: "
      + (ready.join(", ") || "keine Vektoren (nur bm25)") + " · Antworten: " + body.generator.name;
  } catch (_) {
    $("status").textContent = "Server nicht erreichbar";
  }
}

$("search-form").addEventListener("submit", search);
$("ask-btn").addEventListener("click", ask);
status();
