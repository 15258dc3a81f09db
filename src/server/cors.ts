/**
 * CORS for the visitor API, so the widget can be embedded on the business's own site.
 * Origins come from the web channel config (`allowedOrigins`, `*` by default).
 */
import type { RequestHandler } from 'express';

export function cors(allowedOrigins: string[]): RequestHandler {
  const any = allowedOrigins.includes('*');
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && (any || allowedOrigins.includes(origin))) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Last-Event-ID');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  };
}
