/**
 * Agent management under `/console/api/agents`. Every agent may list colleagues (to transfer a
 * conversation); admins create and change them. Bootstrap: log in with ADMIN_TOKEN, or
 *   curl -X POST -H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
 *     -d '{"id":"alice","name":"Alice","password":"…","role":"agent"}' localhost:3000/console/api/agents
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import type { AgentAuth } from '../../agents/agent-auth.ts';
import type { AgentPresence } from '../../agents/presence.ts';
import { toConsoleAgent } from '../../console/console-wire.ts';
import type { Store } from '../../store/types.ts';
import { badRequestFromZod, sendError } from '../http-errors.ts';
import { requireAgent, requireRole } from './console-auth.ts';

export function agentRoutes(deps: { auth: AgentAuth; store: Store; presence: AgentPresence }): Router {
  const router = express.Router();
  router.use('/console/api/agents', express.json({ limit: '16kb' }), requireAgent(deps.auth));

  router.get('/console/api/agents', async (_req, res) => {
    const [agents, online] = await Promise.all([deps.store.listAgents(), deps.presence.online()]);
    const live = new Set(online);
    res.json({ agents: agents.map((a) => toConsoleAgent(a, live.has(a.id))), online });
  });

  const role = z.enum(['agent', 'admin']);
  const createBody = z.object({
    id: z.string().min(1).max(64),
    name: z.string().trim().max(100).optional(),
    role: role.default('agent'),
    password: z.string().max(1024),
  });
  router.post('/console/api/agents', requireRole('admin'), async (req, res) => {
    const body = createBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    let created: boolean;
    try {
      created = await deps.auth.createAgent(body.data);
    } catch (err) {
      if (err instanceof RangeError)
        return sendError(res, 400, 'bad_request', err.message, { field: err.message.split(':')[0] });
      throw err;
    }
    if (!created) return sendError(res, 409, 'conflict', `agent "${body.data.id}" exists`, { field: 'id' });
    const agent = await deps.store.getAgent(body.data.id.trim().toLowerCase());
    res.status(201).json({ agent: agent ? toConsoleAgent(agent, false) : null });
  });

  const patchBody = z.object({
    name: z.string().trim().min(1).max(100).optional(),
    role: role.optional(),
    password: z.string().max(1024).optional(),
    disabled: z.boolean().optional(),
  });
  router.patch('/console/api/agents/:id', requireRole('admin'), async (req, res) => {
    const body = patchBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    let found: boolean;
    try {
      found = await deps.auth.updateAgent(String(req.params.id), body.data);
    } catch (err) {
      if (err instanceof RangeError)
        return sendError(res, 400, 'bad_request', err.message, { field: 'password' });
      throw err;
    }
    if (!found) return sendError(res, 404, 'not_found', `no agent "${req.params.id}"`);
    const agent = await deps.store.getAgent(String(req.params.id));
    res.json({ agent: agent ? toConsoleAgent(agent, false) : null });
  });

  return router;
}
