/**
 * Admin and console routes need `Authorization: Bearer <ADMIN_TOKEN>`. Without ADMIN_TOKEN set
 * they are closed, not open: a hub never exposes its dead letters by accident.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendError } from './http-errors.ts';

export function requireAdmin(adminToken: string | undefined): RequestHandler {
  const expected = adminToken ? digest(adminToken) : undefined;
  return (req, res, next) => {
    if (!expected) return sendError(res, 403, 'admin_disabled', 'admin routes are disabled: set ADMIN_TOKEN to enable them');
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Hash both sides so the comparison is constant-time whatever the lengths.
    if (!token || !timingSafeEqual(digest(token), expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', 'a valid admin token is required');
    }
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
