/**
 * The console's JSON API under `/console/api`: login, conversation lists and history, hand-off
 * moves (claim, release, transfer, close), agent replies and, for admins, dead letters.
 * Agent management is in agents.ts, the live event stream in console-stream.ts.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import type { AgentAuth, AgentIdentity } from '../../agents/agent-auth.ts';
import { LoginThrottle } from '../../agents/login-throttle.ts';
import type { AgentPresence } from '../../agents/presence.ts';
import {
  toConsoleConversation,
  toConsoleEvent,
  toConsoleIdentity,
  toConsoleMessage,
  toConsoleRun,
} from '../../console/console-wire.ts';
import { NotFoundError } from '../../errors.ts';
import type { EventBus } from '../../events/event-bus.ts';
import { sendAgentReply } from '../../handoff/agent-reply.ts';
import type { HandoffService } from '../../handoff/handoff-service.ts';
import type { DeadLetters } from '../../queue/dead-letters.ts';
import type { ReplyDispatcher } from '../../queue/reply-dispatch.ts';
import type { ConversationState, Store } from '../../store/types.ts';
import { badRequestFromZod, sendError } from '../http-errors.ts';
import { bearerToken, currentAgent, requireAgent, requireRole } from './console-auth.ts';

export interface ConsoleApiDeps {
  auth: AgentAuth;
  store: Store;
  service: HandoffService;
  dispatcher: ReplyDispatcher;
  bus: EventBus;
  deadLetters: DeadLetters;
  presence: AgentPresence;
  maxTextLength: number;
}

const VIEWS: Record<string, ConversationState[] | undefined> = {
  queued: ['queued'],
  mine: ['agent'],
  active: ['queued', 'agent'],
  all: undefined,
};

export function consoleApiRoutes(deps: ConsoleApiDeps): Router {
  const { auth, store, service } = deps;
  const router = express.Router();
  // Per name: slows guessing one password. Per address: looser, since an office shares one.
  const byName = new LoginThrottle(5);
  const byAddress = new LoginThrottle(50);
  router.use('/console/api', express.json({ limit: '64kb' }), (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const loginBody = z.union([
    z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
    z.object({ admin_token: z.string().min(1).max(1024) }),
  ]);
  router.post('/console/api/login', async (req, res) => {
    const body = loginBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    const name = 'username' in body.data ? body.data.username.toLowerCase() : '@admin';
    const nameKey = [name];
    const addressKey = [String(req.ip)];
    const wait = Math.max(byName.retryAfter(nameKey), byAddress.retryAfter(addressKey));
    if (wait > 0) {
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      return sendError(res, 429, 'too_many_attempts', 'too many failed logins; try again later');
    }
    const result = await auth.login(
      'username' in body.data
        ? { username: body.data.username, password: body.data.password }
        : { adminToken: body.data.admin_token },
    );
    if (!result) {
      byName.fail(nameKey);
      byAddress.fail(addressKey);
      return sendError(res, 401, 'bad_credentials', 'wrong name, password or token');
    }
    byName.succeed(nameKey);
    res.json({ token: result.token, agent: toConsoleIdentity(result.agent), expires_at: result.expiresAt });
  });

  // Everything below needs a logged-in agent.
  router.use('/console/api', requireAgent(auth));

  router.post('/console/api/logout', async (req, res) => {
    await auth.logout(bearerToken(req.headers.authorization));
    res.json({ ok: true });
  });
  router.get(
    '/console/api/me',
    (_req, res) => void res.json({ agent: toConsoleIdentity(currentAgent(res)) }),
  );

  const listQuery = z.object({
    view: z.enum(['queued', 'mine', 'active', 'all']).default('active'),
    channel: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  });
  router.get('/console/api/conversations', async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) return badRequestFromZod(res, query.error);
    const { view, channel, limit } = query.data;
    const me = currentAgent(res);
    const [list, queued, mine] = await Promise.all([
      store.listConversations({
        states: VIEWS[view],
        assignee: view === 'mine' ? me.id : undefined,
        channel,
        limit,
      }),
      store.listConversations({ states: ['queued'], limit: 500 }),
      store.listConversations({ states: ['agent'], assignee: me.id, limit: 500 }),
    ]);
    res.json({
      conversations: list.map(toConsoleConversation),
      counts: { queued: queued.length, mine: mine.length },
    });
  });

  router.get('/console/api/conversations/:id', async (req, res) => {
    const conversation = await store.getConversation(req.params.id);
    if (!conversation) throw new NotFoundError(`conversation ${req.params.id} not found`);
    const [messages, events, runs] = await Promise.all([
      store.listMessages(conversation.id, { limit: 1000 }),
      store.listHandoffEvents(conversation.id),
      store.listRuns({ conversationId: conversation.id, limit: 500 }),
    ]);
    res.json({
      conversation: toConsoleConversation(conversation),
      messages: messages.map(toConsoleMessage),
      events: events.map(toConsoleEvent),
      runs: runs.map(toConsoleRun),
    });
  });

  router.get('/console/api/conversations/:id/messages', async (req, res) => {
    const after = z.coerce.number().int().min(0).default(0).safeParse(req.query.after_seq);
    if (!after.success) return badRequestFromZod(res, after.error);
    const [messages, runs] = await Promise.all([
      store.listMessages(req.params.id, { afterSeq: after.data, limit: 1000 }),
      store.listRuns({ conversationId: req.params.id, limit: 50 }),
    ]);
    res.json({ messages: messages.map(toConsoleMessage), runs: runs.map(toConsoleRun) });
  });

  const force = (agent: AgentIdentity, body: unknown) =>
    agent.role === 'admin' && (body as { force?: unknown })?.force === true;
  const moved = (c: Parameters<typeof toConsoleConversation>[0]) => ({
    conversation: toConsoleConversation(c),
  });

  router.post('/console/api/conversations/:id/claim', async (req, res) => {
    res.json(moved(await service.claim(req.params.id, currentAgent(res))));
  });
  router.post('/console/api/conversations/:id/release', async (req, res) => {
    const agent = currentAgent(res);
    res.json(moved(await service.release(req.params.id, agent, { force: force(agent, req.body) })));
  });
  router.post('/console/api/conversations/:id/close', async (req, res) => {
    const agent = currentAgent(res);
    res.json(moved(await service.close(req.params.id, agent, { force: force(agent, req.body) })));
  });

  const transferBody = z.union([
    z.object({ to_agent: z.string().min(1), force: z.boolean().optional() }),
    z.object({ to_queue: z.string().trim().min(1).max(100), force: z.boolean().optional() }),
  ]);
  router.post('/console/api/conversations/:id/transfer', async (req, res) => {
    const body = transferBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    const agent = currentAgent(res);
    let target: { agent: AgentIdentity } | { queue: string };
    if ('to_agent' in body.data) {
      const to = await store.getAgent(body.data.to_agent);
      if (!to || to.disabled)
        return sendError(res, 404, 'not_found', `no active agent "${body.data.to_agent}"`, {
          field: 'to_agent',
        });
      target = { agent: { id: to.id, name: to.name, role: to.role } };
    } else {
      target = { queue: body.data.to_queue };
    }
    res.json(moved(await service.transfer(req.params.id, agent, target, { force: force(agent, req.body) })));
  });

  const replyBody = z.object({
    text: z
      .string({ error: 'is required' })
      .trim()
      .min(1, 'must not be empty')
      .max(deps.maxTextLength, `must be at most ${deps.maxTextLength} characters`),
    client_msg_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1–64 of A-Z a-z 0-9 _ -'),
  });
  router.post('/console/api/conversations/:id/reply', async (req, res) => {
    const body = replyBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    const { message, duplicate } = await sendAgentReply(deps, req.params.id, currentAgent(res), {
      text: body.data.text,
      clientMsgId: body.data.client_msg_id,
    });
    res.status(duplicate ? 200 : 202).json({ message_id: message.id, duplicate });
  });

  router.get('/console/api/dlq', requireRole('admin'), async (req, res) => {
    const limit = z.coerce.number().int().min(1).max(1000).default(100).safeParse(req.query.limit);
    if (!limit.success) return badRequestFromZod(res, limit.error);
    const [entries, total] = await Promise.all([deps.deadLetters.list(limit.data), deps.deadLetters.count()]);
    res.json({ dead_letters: entries, total });
  });
  const replayBody = z.union([
    z.object({ ids: z.array(z.string().min(1)).min(1) }),
    z.object({ all: z.literal(true) }),
  ]);
  router.post('/console/api/dlq/replay', requireRole('admin'), async (req, res) => {
    const body = replayBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    try {
      res.json({ replayed: await deps.deadLetters.replay('ids' in body.data ? body.data.ids : []) });
    } catch (err) {
      // replay() names unknown ids (already replayed by someone else, say).
      sendError(res, 404, 'not_found', err instanceof Error ? err.message : 'no such dead letter');
    }
  });

  return router;
}
