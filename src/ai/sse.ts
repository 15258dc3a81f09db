/**
 * A reader of server-sent events (the `text/event-stream` format) for the streaming APIs the hub
 * calls: Dify (`data: {json}` blocks, `event: ping` keep-alives), OpenAI-compatible chat
 * completions (`data: {json}` … `data: [DONE]`) and Coze (`event:name` / `data:json`, no space).
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

/** One dispatched event. `event` is `message` when the block had no `event:` line. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Events of a response body, in order. A block without `data:` lines (a bare ping) is skipped. */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const flush = (): SseEvent | undefined => {
    const out =
      data.length > 0
        ? { event: event || 'message', data: data.join('\n'), ...(id ? { id } : {}) }
        : undefined;
    event = '';
    data = [];
    return out;
  };
  const feed = function* (line: string): Generator<SseEvent> {
    if (line === '') {
      const out = flush();
      if (out) yield out;
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.search(/\r\n|\r|\n/);
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      const width = buffer.startsWith('\r\n', nl) ? 2 : 1;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (width === 1 && buffer[nl] === '\r' && nl === buffer.length - 1) break;
      buffer = buffer.slice(nl + width);
      yield* feed(line);
      nl = buffer.search(/\r\n|\r|\n/);
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield* feed(buffer);
  const last = flush();
  if (last) yield last;
}
