// The console's live conversation (templates/live.html): posts the message, reads the
// Server-Sent Events and shows each passed sentence, then the hand-off. A file of its own,
// not inline: the Content-Security-Policy runs no inline script. sse.js reads the events.
import {readEvents} from "./sse.js";

const form = document.getElementById("ask");
const list = document.getElementById("transcript");
const status = document.getElementById("status");
const add = (role, text) => {
  const item = document.createElement("li");
  item.className = `msg msg-${role}`;
  item.textContent = text;
  list.appendChild(item);
  return item;
};
const handle = (kind, data, reply) => {
  if (kind === "progress") status.textContent = `… ${data.stage}`;
  if (kind === "sentence") {
    const span = document.createElement("span");
    span.className = "sentence";
    span.dataset.testid = "sentence";
    span.textContent = data.text + " ";
    for (const c of data.citations) {
      const cite = document.createElement("sup");
      cite.textContent = `[${c.article_id}]`;
      cite.title = c.title;
      span.appendChild(cite);
    }
    reply.appendChild(span);
  }
  if (kind === "handoff") {
    const note = document.createElement("p");
    note.className = "handoff";
    note.dataset.testid = "handoff";
    note.textContent = `${data.text.split("\n\n").pop()} (case ${data.escalation_id})`;
    reply.appendChild(note);
  }
  if (kind === "done") status.textContent = data.answered ? "answered" : "handed over";
};
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = form.elements.text.value.trim();
  if (!text) return;
  add("customer", text);
  form.elements.text.value = "";
  const reply = add("assistant", "");
  const response = await fetch(`/console/live/${form.dataset.conversation}/messages`, {
    method: "POST",
    headers: {"accept": "text/event-stream"},
    body: new URLSearchParams({text, csrf_token: form.dataset.csrf}),
  });
  if (!response.ok) {
    const body = await response.text();
    try {
      status.textContent = JSON.parse(body).detail;
    } catch {
      status.textContent = body;
    }
    return;
  }
  await readEvents(response, (kind, data) => handle(kind, data, reply));
});
