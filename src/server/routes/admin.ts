/** Admin API (bearer ADMIN_TOKEN): dead letters, for scripts and the console. */
import express, { type Router } from 'express';
import { z } from 'zod';
import type { DeadLetters } from '../../queue/dead-letters.ts';
import { requireAdmin } from '../admin-auth.ts';
import { badRequestFromZod } from '../http-errors.ts';

export function adminRoutes(deps: { deadLetters: DeadLetters; adminToken?: string }): Router {
  const router = express.Router();
  router.use('/admin', requireAdmin(deps.adminToken), express.json({ limit: '1mb' }));
  router.get('/admin/dlq', async (req, res) => {
    const limit = z.coerce.number().int().min(1).max(1000).default(100).safeParse(req.query.limit);
    if (!limit.success) return badRequestFromZod(res, limit.error);
    res.json({ dead_letters: await deps.deadLetters.list(limit.data), total: await deps.deadLetters.count() });
  });
  const replayBody = z.union([z.object({ ids: z.array(z.string().min(1)).min(1) }), z.object({ all: z.literal(true) })]);
  router.post('/admin/dlq/replay', async (req, res) => {
    const body = replayBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    const replayed = await deps.deadLetters.replay('ids' in body.data ? body.data.ids : []);
    res.json({ replayed });
  });
  return router;
}
