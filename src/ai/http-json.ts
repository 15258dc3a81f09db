/**
 * JSON over HTTP for the sources (Dify, HTTP APIs): one request, status and body checked, and
 * every way a remote can misbehave turned into a `SourceError` that says what it got — an error
 * status with the API's own message, a body that is not JSON, an event stream that is not one.
 */
import { SourceError } from '../resilience/errors.ts';

export interface JsonRequest {
  /** Breaker/metrics target, also the prefix of error messages (`dify:refund-guide`). */
  target: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  signal: AbortSignal;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Send the request; resolves on 2xx with the parsed body, else throws a `SourceError`. */
export async function requestJson(req: JsonRequest): Promise<JsonResponse> {
  const res = await send(req, 'application/json');
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: parseJsonBody(req.target, text, res.headers.get('content-type')),
  };
}

/** Send the request expecting `text/event-stream`; resolves with the response whose body is the stream. */
export async function requestEventStream(req: JsonRequest): Promise<Response> {
  const res = await send(req, 'text/event-stream');
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) {
    const text = await res.text().catch(() => '');
    throw new SourceError(
      req.target,
      'bad_response',
      `expected an event stream, got ${type || 'no content type'}: ${snippet(text)}`,
      {
        countsForBreaker: true,
      },
    );
  }
  if (!res.body)
    throw new SourceError(req.target, 'bad_response', 'event stream without a body', {
      countsForBreaker: true,
    });
  return res;
}

async function send(req: JsonRequest, accept: string): Promise<Response> {
  const headers: Record<string, string> = { accept, ...req.headers };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(req.url, {
    method: req.method ?? (req.body === undefined ? 'GET' : 'POST'),
    headers,
    body: req.body === undefined ? undefined : JSON.stringify(req.body),
    signal: req.signal,
  });
  if (res.status >= 200 && res.status < 300) return res;
  const text = await res.text().catch(() => '');
  throw statusError(req.target, res.status, text);
}

/** An error status: 5xx, 408 and 429 are the target's trouble (retry, count); other 4xx are ours. */
export function statusError(target: string, status: number, text: string): SourceError {
  const transient = status >= 500 || status === 408 || status === 429;
  return new SourceError(target, 'http_status', `answered HTTP ${status}${remoteMessage(text)}`, {
    retryable: transient,
    countsForBreaker: transient,
    remoteStatus: status,
  });
}

/** Parse a body that must be JSON; anything else is a `bad_response` naming what came instead. */
export function parseJsonBody(target: string, text: string, contentType: string | null): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const what =
      text.trim() === ''
        ? 'an empty body'
        : `non-JSON (${contentType ?? 'no content type'}): ${snippet(text)}`;
    throw new SourceError(target, 'bad_response', `answered with ${what}`, { countsForBreaker: true });
  }
}

/** `: invalid_param: query is required` from Dify's/OpenAI's error bodies, or the start of the text. */
function remoteMessage(text: string): string {
  if (!text.trim()) return '';
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const err = body.error;
    const nested =
      typeof err === 'object' && err !== null ? (err as Record<string, unknown>).message : undefined;
    const message = body.message ?? nested ?? (typeof err === 'string' ? err : undefined);
    const code = typeof body.code === 'string' ? `${body.code}: ` : '';
    if (typeof message === 'string') return `: ${code}${message.slice(0, 300)}`;
  } catch {
    // not JSON: show the text itself
  }
  return `: ${snippet(text)}`;
}

/** The first characters of a body, on one line, for an error message. */
export function snippet(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `"${flat.slice(0, max)}…"` : `"${flat}"`;
}
