/**
 * The console's pages: `/console` (one HTML page) and `/console/assets/*` (plain ES modules and
 * CSS, no build step, nothing from a CDN). A strict Content-Security-Policy: the page runs only
 * its own scripts and talks only to this hub.
 */
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

const PUBLIC_DIR = fileURLToPath(new URL('../../console/public/', import.meta.url));

// Images may come from anywhere: attachments live on the business's CDN or the platform's media
// hosts. Everything that can run or send stays 'self'.
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: https: http:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export function consoleStaticRoutes(): Router {
  const router = express.Router();
  router.use(['/console', '/console/assets'], (_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  });
  router.get(['/console', '/console/'], (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile('index.html', { root: PUBLIC_DIR });
  });
  // no-cache still lets the browser revalidate with the ETag: cheap, and never a stale console.
  router.use('/console/assets', express.static(PUBLIC_DIR, { index: false, cacheControl: true, maxAge: 0 }));
  return router;
}
