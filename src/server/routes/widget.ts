/**
 * The visitor widget: `GET /widget.js` (one script tag embeds the chat bubble on any site) and
 * `GET /chat` (a demo page that embeds it). Both are served by the hub itself; nothing comes from
 * a CDN. The script may be embedded cross-origin, so it is served with CORS and a short cache.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

const WIDGET_DIR = fileURLToPath(new URL('../../widget/', import.meta.url));

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface WidgetRouteOptions {
  /** Title of the demo page and its widget (the default web channel's `title`). */
  title: string;
}

/** widget.js with widget.css inlined, so one request brings everything. */
function buildWidgetScript(): string {
  const css = readFileSync(`${WIDGET_DIR}widget.css`, 'utf8');
  return readFileSync(`${WIDGET_DIR}widget.js`, 'utf8').replace('__WIDGET_CSS__', () => JSON.stringify(css));
}

export function widgetRoutes(opts: WidgetRouteOptions): Router {
  const router = express.Router();
  const script = buildWidgetScript();
  const etag = `"${createHash('sha256').update(script).digest('base64url').slice(0, 16)}"`;
  router.get('/widget.js', (req, res) => {
    res.set({
      'Content-Type': 'text/javascript; charset=utf-8',
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'public, max-age=300',
      'X-Content-Type-Options': 'nosniff',
      ETag: etag,
    });
    if (req.headers['if-none-match'] === etag) return void res.status(304).end();
    res.send(script);
  });
  // Read per request while small: an edited demo page shows up without a restart.
  router.get(['/chat', '/chat/'], (_req, res) => {
    const page = readFileSync(`${WIDGET_DIR}demo.html`, 'utf8').replaceAll(
      '{{title}}',
      escapeHtml(opts.title),
    );
    res.set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache',
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: https: http:; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
    });
    res.send(page);
  });
  return router;
}
