/**
 * `/admin/queues`: the bull-board queue dashboard (every inbound, outbound and dead-letter queue),
 * behind the admin token.
 *
 * Scripts send `Authorization: Bearer <ADMIN_TOKEN>` (checked by `requireAdmin`). A browser cannot
 * add that header to page and asset loads, so opening `/admin/queues?token=<ADMIN_TOKEN>` once sets
 * an HttpOnly, SameSite=Strict cookie scoped to this path — an HMAC of the token, never the token —
 * and redirects to the bare URL, which keeps the token out of history and referrers.
 *
 * Everything the page loads is served from the @bull-board/ui package: the Content-Security-Policy
 * allows this origin only, and the one external reference of the package's page (web fonts) is
 * removed from the HTML, so the dashboard works on a machine with no internet access.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { createBullBoard as CreateBullBoard } from '@bull-board/api';
import type { Queue } from 'bullmq';
import express, { type RequestHandler, type Router } from 'express';
import { requireAdmin } from '../admin-auth.ts';

export const QUEUES_DASHBOARD_PATH = '/admin/queues';
const COOKIE = 'sb_queues';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

/** External stylesheets in the package's page template (Google Fonts); system fonts replace them. */
const EXTERNAL_LINK = /<link\b[^>]*href="https?:\/\/[^"]*"[^>]*>\s*/g;

/**
 * The dashboard router. bull-board is loaded here, on demand (a quarter of a second of start-up
 * otherwise paid by every process); the hub mounts it only when ADMIN_TOKEN is set — without it
 * every /admin route answers 403 anyway.
 */
export async function queuesDashboardRoutes(deps: { queues: Queue[]; adminToken?: string }): Promise<Router> {
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/express'),
  ]);
  const board = new ExpressAdapter().setBasePath(QUEUES_DASHBOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue)),
    // @bull-board/express 9.10.1 types against its own copy of @bull-board/api 9.10.1; same interface.
    serverAdapter: board as unknown as Parameters<typeof CreateBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'Switchboard queues' } },
  });
  const app = board.getRouter() as express.Express & { engines: Record<string, RenderEngine> };
  withoutExternalLinks(app);

  const router = express.Router();
  router.use(
    QUEUES_DASHBOARD_PATH,
    securityHeaders,
    cookieLogin(deps.adminToken),
    requireAdmin(deps.adminToken),
    app as unknown as RequestHandler,
  );
  return router;
}

type RenderEngine = (
  path: string,
  options: object,
  callback: (err: Error | null, html?: string) => void,
) => void;

/** Filter the page through the package's own template engine, dropping external links. */
function withoutExternalLinks(app: { engines: Record<string, RenderEngine> }): void {
  const render = app.engines['.ejs'];
  if (!render) throw new Error('bull-board: the dashboard template engine is not registered');
  app.engines['.ejs'] = (path, options, callback) =>
    render(path, options, (err, html) => callback(err, html?.replace(EXTERNAL_LINK, '')));
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  next();
};

/**
 * `?token=` → cookie + redirect; a valid cookie → the bearer header `requireAdmin` checks. An
 * invalid token or cookie passes through untouched, so `requireAdmin` answers 401 as for any request.
 */
function cookieLogin(adminToken: string | undefined): RequestHandler {
  if (!adminToken) return (_req, _res, next) => next();
  const expected = cookieValue(adminToken);
  return (req, res, next) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (token !== undefined && req.method === 'GET' && sameDigest(cookieValue(token), expected)) {
      const secure = req.secure ? '; Secure' : '';
      res.setHeader(
        'Set-Cookie',
        `${COOKIE}=${expected}; Path=${QUEUES_DASHBOARD_PATH}; HttpOnly; SameSite=Strict${secure}`,
      );
      res.setHeader('Cache-Control', 'no-store');
      return res.redirect(303, `${req.baseUrl}${req.path === '/' ? '' : req.path}`);
    }
    const cookie = readCookie(req.headers.cookie, COOKIE);
    if (!req.headers.authorization && cookie && sameDigest(cookie, expected)) {
      req.headers.authorization = `Bearer ${adminToken}`;
    }
    next();
  };
}

function cookieValue(token: string): string {
  return createHmac('sha256', token).update('switchboard queues dashboard').digest('base64url');
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
