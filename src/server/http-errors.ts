/**
 * Every error leaves the HTTP surface as `{ "error": { "code", "message", "field"? } }` with the
 * status the error carries. Unknown errors are 500 and logged; their details never leak.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { SwitchboardError } from '../errors.ts';

export function sendError(res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error: { code, message, ...extra } });
}

/** A zod failure on a request body: 400 naming the first offending field. */
export function badRequestFromZod(res: Response, error: z.ZodError): void {
  const issue = error.issues[0];
  const field = issue?.path.join('.') || undefined;
  sendError(res, 400, 'bad_request', field ? `${field}: ${issue?.message}` : (issue?.message ?? 'invalid body'), { field });
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof SwitchboardError) {
      if (err.status === 503) res.setHeader('Retry-After', '1');
      sendError(res, err.status, err.code, err.message, { ...err.details });
      return;
    }
    // body-parser errors carry `type` and `status`.
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'request body is larger than 1 MB');
    if (type === 'entity.parse.failed') return sendError(res, 400, 'bad_json', 'request body is not valid JSON');
    logger.error({ err, path: req.path }, 'unhandled error');
    sendError(res, 500, 'internal', 'internal error');
  };
}
