/**
 * JSON over HTTP for platform APIs: one timeout, the job's abort signal, and transport failures
 * turned into retryable `ChannelSendError`s. Platform-level error codes are the caller's business.
 */
import { ChannelSendError } from '../../errors.ts';

export interface HttpJsonResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
}

export interface HttpJsonOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  /** A multipart/form-data body instead of JSON (fetch sets the boundary). */
  form?: FormData;
  headers?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Never throws on an HTTP status; throws a retryable ChannelSendError when no answer came back. */
export async function httpJson(url: string, opts: HttpJsonOptions = {}): Promise<HttpJsonResponse> {
  const signals = [AbortSignal.timeout(opts.timeoutMs ?? 10_000)];
  if (opts.signal) signals.push(opts.signal);
  let res: Response;
  try {
    const isJson = opts.body !== undefined;
    res = await fetch(url, {
      method: opts.method ?? (isJson || opts.form ? 'POST' : 'GET'),
      headers: {
        accept: 'application/json',
        ...(isJson ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...opts.headers,
      },
      body: isJson ? JSON.stringify(opts.body) : opts.form,
      signal: AbortSignal.any(signals),
    });
  } catch (err) {
    // The request may or may not have reached the platform; the caller's idempotency decides.
    throw new ChannelSendError(`request to ${redactUrl(url)} failed: ${errText(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  const text = await res.text().catch(() => '');
  let json: unknown;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Seconds from a `Retry-After` header (delta-seconds form), if any. */
export function retryAfterSec(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  if (!v) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.ceil(n) : undefined;
}

/** Hide token-like query values before a URL lands in a log or an error message. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|corpsecret|appsecret|secret|session)=)[^&]*/gi, '$1***');
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
