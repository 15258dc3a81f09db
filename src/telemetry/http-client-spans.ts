/**
 * CLIENT spans for outgoing HTTP calls — channel send APIs, Dify, LLM endpoints, token refreshes —
 * from Node's diagnostics channels: `undici:*` (global `fetch`) and `http.client.*` (`node:http`,
 * used by SDKs such as telegraf). No library is patched, and only calls made inside one of the
 * hub's spans are traced, so a message's trace shows each external call it caused.
 *
 * Query strings are dropped from the recorded URL: platform APIs put access tokens there.
 * No `traceparent` header is added to outgoing requests: platform APIs get exactly what they expect.
 *
 * Loaded only when tracing is on (see tracing.ts).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { markFailed, tracer } from './spans.ts';

interface UndiciRequest {
  origin: string;
  path: string;
  method: string;
}

export function traceHttpClients(opts: { ignoreOrigin: string }): () => void {
  const spans = new WeakMap<object, Span>();

  const start = (key: object, method: string, origin: string, path: string): Span | undefined => {
    // The exporter's own requests run with tracing suppressed; the origin check is a second guard.
    const active = context.active();
    if (isTracingSuppressed(active) || origin === opts.ignoreOrigin || !trace.getSpan(active))
      return undefined;
    const url = new URL(path, origin);
    const span = tracer.startSpan(method, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': method,
        'server.address': url.hostname,
        'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        'url.full': `${url.origin}${url.pathname}`,
      },
    });
    spans.set(key, span);
    return span;
  };
  const finish = (key: object, status: number | undefined, error?: unknown) => {
    const span = spans.get(key);
    if (!span) return;
    spans.delete(key);
    if (status !== undefined) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
    }
    if (error !== undefined) markFailed(span, error);
    span.end();
  };

  const handlers: [string, (message: unknown) => void][] = [
    [
      'undici:request:create',
      (m) => {
        const { request } = m as { request: UndiciRequest };
        start(request, request.method, request.origin, request.path);
      },
    ],
    [
      'undici:request:headers',
      (m) => {
        const { request, response } = m as { request: object; response: { statusCode: number } };
        finish(request, response.statusCode);
      },
    ],
    [
      'undici:request:error',
      (m) => {
        const { request, error } = m as { request: object; error: unknown };
        finish(request, undefined, error);
      },
    ],
    [
      'http.client.request.start',
      (m) => {
        const { request } = m as { request: ClientRequest };
        const origin = `${request.protocol}//${request.host}`;
        if (!start(request, request.method, origin, request.path)) return;
        request.once('error', (err) => finish(request, undefined, err));
        request.once('close', () => finish(request, undefined));
      },
    ],
    [
      'http.client.response.finish',
      (m) => {
        const { request, response } = m as { request: ClientRequest; response: IncomingMessage };
        finish(request, response.statusCode);
      },
    ],
  ];
  for (const [name, handler] of handlers) diagnosticsChannel.subscribe(name, handler);
  return () => {
    for (const [name, handler] of handlers) diagnosticsChannel.unsubscribe(name, handler);
  };
}
