/**
 * Console API authentication: `Authorization: Bearer <session token or ADMIN_TOKEN>`. The agent
 * is left in `res.locals.agent` for the handlers; `requireRole('admin')` guards admin views.
 */
import type { RequestHandler, Response } from 'express';
import type { AgentAuth, AgentIdentity } from '../../agents/agent-auth.ts';
import { sendError } from '../http-errors.ts';

export function bearerToken(header: string | undefined): string {
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
}

export function requireAgent(auth: AgentAuth): RequestHandler {
  return async (req, res, next) => {
    const agent = await auth.authenticate(bearerToken(req.headers.authorization));
    if (!agent) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', 'log in to the console first');
    }
    res.locals.agent = agent;
    next();
  };
}

export function requireRole(role: 'admin'): RequestHandler {
  return (_req, res, next) => {
    if (currentAgent(res).role !== role)
      return sendError(res, 403, 'forbidden', `this needs the ${role} role`);
    next();
  };
}

export function currentAgent(res: Response): AgentIdentity {
  return res.locals.agent as AgentIdentity;
}
