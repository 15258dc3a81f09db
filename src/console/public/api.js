// The console's HTTP client: bearer token from localStorage (shared by tabs), JSON in and out, and a
// server-sent-events reader over fetch (EventSource cannot send an Authorization header).

const TOKEN_KEY = 'switchboard.console.token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `request failed (${status})`);
    this.status = status;
    this.code = body?.error?.code ?? 'error';
  }
}

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
};

/** Called when the server says the session is gone (401). */
let onUnauthorized = () => {};
export function handleUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/console/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : {};
  if (res.status === 401 && path !== '/login') onUnauthorized();
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

export const conversationPath = (id, action) =>
  `/conversations/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

/** A client message id: unique enough, and available on plain http (no crypto.randomUUID there). */
export function clientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Follow `/console/api/stream`, reconnecting with backoff. `onEvent(name, data)` for each event;
 * `onStatus('live' | 'reconnecting')` so the page can say when it is not live. Returns a stop function.
 */
export function followStream(onEvent, onStatus) {
  let stopped = false;
  let controller;
  let delay = 1000;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch('/console/api/stream', {
          headers: { authorization: `Bearer ${session.token}`, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (res.status === 401) return onUnauthorized();
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            let name = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) name = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (!data) continue;
            if (name === 'ready') {
              delay = 1000;
              onStatus('live');
            }
            onEvent(name, JSON.parse(data));
          }
        }
      } catch (err) {
        if (stopped) return;
        console.warn('console stream interrupted', err);
      }
      if (stopped) return;
      onStatus('reconnecting');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
