// The customers' chat page (webchat/templates/conversation.html). A file of its own, not
// inline: the Content-Security-Policy runs no inline script. Without it the form still posts
// and the page shows the reply; with it:
// - a message is posted with Accept: text/event-stream and each answer sentence appears as it
//   passes the check, with its citations as links to the articles, then the hand-off if a
//   person takes over;
// - every few seconds the page asks for the conversation's messages and adds those it has not
//   shown: an agent's reply;
// - each reply it adds gets the thumbs up / down form the server writes under the others.
// Everything is written with textContent: no text from the server is read as HTML.
import {readEvents} from "/console/static/sse.js";

const form = document.getElementById("ask");
const list = document.getElementById("transcript");
const status = document.getElementById("status");
const send = form.querySelector("button[type=submit]");
const messages = `/chat/conversations/${encodeURIComponent(form.dataset.conversation)}/messages`;
const STAGES = {
  screen: "Reading your message…",
  condense: "Reading your message…",
  classify: "Reading your message…",
  retrieve: "Looking in the help center…",
  rerank: "Looking in the help center…",
  focus: "Looking in the help center…",
  generate: "Writing an answer…",
  guardrail: "Checking the answer…",
};
let streaming = false;
let sent = 0; // messages sent from this page: a poll that started before one is dropped

const element = (tag, className, text = "") => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = text;
  return node;
};

const articlePath = (citation) => `/chat/articles/${encodeURIComponent(citation.article_id)}`;

const articleLink = (citation) => {
  const link = element("a", "cite", citation.title || citation.article_id);
  link.href = articlePath(citation);
  link.target = "_blank";
  link.rel = "noopener";
  link.dataset.testid = "citation";
  return link;
};

const bubble = (role, who) => {
  document.getElementById("empty")?.remove();
  const item = element("li", `msg msg-${role}`);
  item.dataset.testid = `message-${role}`;
  item.appendChild(element("span", "who", who));
  list.appendChild(item);
  return item;
};

// The thumbs up / down form of a reply, as templates/line.html writes it: a plain form post
// (the page comes back showing the rating).
const ratingForm = (messageId, rating = null) => {
  const rate = element("form", "rate");
  rate.method = "post";
  rate.action = `${messages}/${encodeURIComponent(messageId)}/feedback`;
  rate.dataset.testid = "feedback";
  const token = rate.appendChild(element("input"));
  Object.assign(token, {type: "hidden", name: "csrf_token", value: form.elements.csrf_token.value});
  rate.appendChild(element("span", "muted", "Did this help? "));
  for (const [value, label, name] of [["up", "Yes", "Thumbs up"], ["down", "No", "Thumbs down"]]) {
    const button = rate.appendChild(element("button", "", label));
    Object.assign(button, {type: "submit", name: "rating", value});
    button.setAttribute("aria-label", name);
    button.setAttribute("aria-pressed", String(rating === value));
    button.dataset.testid = `thumbs-${value}`;
    rate.append(" ");
  }
  const more = rate.appendChild(element("details"));
  more.appendChild(element("summary", "", "Add a comment"));
  const comment = more.appendChild(element("input"));
  Object.assign(comment, {name: "comment", maxLength: Number(form.dataset.maxComment) || 1000,
                          placeholder: "What was missing? (optional)"});
  comment.setAttribute("aria-label", "Comment (optional)");
  return rate;
};

// A line of the conversation as the server renders it (templates/line.html, views.ChatLine).
const showLine = (line) => {
  const item = bubble(line.role, line.who);
  item.dataset.messageId = line.id;
  for (const text of line.paragraphs) item.appendChild(element("p", "text", text));
  if (line.handoff) {
    const note = item.appendChild(element("p", "handoff", line.handoff));
    note.dataset.testid = "handoff";
  }
  if (line.citations.length) {
    const sources = item.appendChild(element("p", "sources", "Sources: "));
    for (const citation of line.citations) sources.appendChild(articleLink(citation));
  }
  if (line.rateable) item.appendChild(ratingForm(line.id, line.rating));
};

const detail = async (response) => {
  const body = await response.text();
  try {
    return JSON.parse(body).detail;
  } catch {
    return body || `${response.status} ${response.statusText}`;
  }
};

const stream = async (text) => {
  const mine = bubble("customer", "You");
  mine.appendChild(element("p", "text", text));
  const reply = bubble("assistant", "Assistant");
  const answer = reply.appendChild(element("p", "text"));
  const response = await fetch(messages, {
    method: "POST",
    headers: {accept: "text/event-stream"},
    body: new URLSearchParams({text, csrf_token: form.elements.csrf_token.value}),
  });
  if (!response.ok) {  // refused before anything was stored: the text goes back in the box
    mine.remove();
    reply.remove();
    form.elements.text.value = text;
    status.textContent = `Not sent: ${await detail(response)}`;
    return;
  }
  let finished = false;
  await readEvents(response, (kind, data) => {
    if (kind === "progress") status.textContent = STAGES[data.stage] || "…";
    if (kind === "sentence") {
      const sentence = answer.appendChild(element("span", "sentence", `${data.text} `));
      sentence.dataset.testid = "sentence";
      for (const citation of data.citations) {
        sentence.appendChild(element("sup")).appendChild(articleLink(citation));
        sentence.append(" ");
      }
    }
    if (kind === "handoff") {
      const note = reply.appendChild(element("p", "handoff", data.text.split("\n\n").pop()));
      note.dataset.testid = "handoff";
    }
    if (kind === "done") {
      finished = true;
      mine.dataset.messageId = data.message_id;
      reply.dataset.messageId = data.reply.id;
      if (!answer.textContent) answer.remove();
      // The reply's citations that no sentence linked (a JSON answer cites apart from its text).
      const linked = new Set([...answer.querySelectorAll("a.cite")].map((a) => a.pathname));
      const rest = data.citations.filter((c) => !linked.has(articlePath(c)));
      if (rest.length) {
        const sources = reply.appendChild(element("p", "sources", "Sources: "));
        for (const citation of rest) sources.appendChild(articleLink(citation));
      }
      reply.appendChild(ratingForm(data.reply.id));
      status.textContent = "";
    }
  });
  if (!finished) status.textContent = "The connection dropped: reload the page to see the reply.";
};

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = form.elements.text.value.trim();
  if (!text || streaming) return;
  streaming = true;
  sent += 1;
  send.disabled = true;
  form.elements.text.value = "";
  try {
    await stream(text);
  } catch {
    status.textContent = "Something went wrong: reload the page to see the reply.";
  } finally {
    streaming = false;
    send.disabled = false;
  }
});

const poll = async () => {
  if (streaming || document.hidden) return;
  const before = sent;
  try {
    const response = await fetch(messages, {headers: {accept: "application/json"}});
    if (!response.ok) return;
    const lines = await response.json();
    if (streaming || sent !== before) return;
    const shown = new Set([...list.querySelectorAll("[data-message-id]")].map((n) => n.dataset.messageId));
    for (const line of lines) if (!shown.has(line.id)) showLine(line);
  } catch {
    // offline for a moment: the next poll tries again
  }
};
setInterval(poll, Number(form.dataset.pollMs) || 4000);
