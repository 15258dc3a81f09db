/**
 * SERVER spans for the ingress's HTTP requests (webhooks, the web chat API), mounted first in the
 * express app when tracing is on. A caller's `traceparent` header is continued. The span is the
 * active context for the rest of the request — route handlers, `ingest`, the queue add — so a
 * message's trace starts at the platform's callback.
 *
 * Probes, metrics, the queue dashboard and long-lived streams (SSE) are not traced: they would
 * drown the traces that matter.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import express, { type RequestHandler, type Router } from 'express';
import { tracer } from './spans.ts';

const UNTRACED = [/^\/(healthz|readyz|metrics)$/, /^\/v1\/chat\/events$/, /^\/admin\/queues(\/|$)/];

/** A router to mount first: it only opens the span and passes every request on. */
export function tracingRoutes(): Router {
  return express.Router().use(traceHttpRequests());
}

export function traceHttpRequests(): RequestHandler {
  return (req, res, next) => {
    if (UNTRACED.some((re) => re.test(req.path))) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // Body parsers call `next` from stream events, which run outside this context unless bound.
    context.bind(active, req);
    context.bind(active, res);
    res.once('close', () => {
      // The route template, not the path: ids in span names would make every request unique.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : undefined;
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500)
        span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.statusCode}` });
      span.end();
    });
    context.with(active, next);
  };
}
