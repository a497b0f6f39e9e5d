// Server-Sent Events read from a fetch() response: the events of a POST (EventSource can only
// GET). Used by the console's Live page (live.js) and the customers' chat page (chat.js).

// Calls handle(kind, data) for each event, data parsed from JSON, until the stream ends.
// Comments (the keep-alive pings) and events without data are skipped.
export async function readEvents(response, handle) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    const blocks = buffer.split(/\r?\n\r?\n/);
    buffer = blocks.pop();
    for (const block of blocks) {
      let kind = "message", data = "";
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) kind = line.slice(6).trim();
        if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) handle(kind, JSON.parse(data));
    }
  }
}
