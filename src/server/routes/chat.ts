/**
 * The web chat API: `POST /v1/chat/create|send|close`, `GET /v1/chat/history`,
 * `GET /v1/chat/events` (server-sent events). The WebSocket twin is in ../chat-ws.ts.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import type { ChatService } from '../../channels/web/chat-service.ts';
import type { WebChatConfig } from '../../config/hub-schema.ts';
import type { EventBus } from '../../events/event-bus.ts';
import { cors } from '../cors.ts';
import { badRequestFromZod } from '../http-errors.ts';
import { toClientEvent, toClientMessage } from '../chat-wire.ts';

export function chatRoutes(deps: { chat: ChatService; bus: EventBus; config: WebChatConfig; allowedOrigins: string[] }): Router {
  const { chat, config } = deps;
  const router = express.Router();
  router.use('/v1/chat', cors(deps.allowedOrigins), express.json({ limit: '1mb' }));

  const createBody = z.object({
    channel_id: z.string().optional(),
    visitor: z.object({ id: z.string().max(200).optional(), name: z.string().max(200).optional() }).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  });
  router.post('/v1/chat/create', async (req, res) => {
    const body = createBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    const session = await chat.createSession({
      channelId: body.data.channel_id,
      visitor: body.data.visitor,
      meta: body.data.metadata ? { metadata: body.data.metadata } : undefined,
    });
    res.status(201).json({ session_id: session.sessionId, channel_id: session.channelId });
  });

  const sendBody = z.object({
    session_id: z.string().min(1),
    text: z
      .string({ error: 'is required' })
      .trim()
      .min(1, 'must not be empty')
      .max(config.maxTextLength, `must be at most ${config.maxTextLength} characters`),
    client_msg_id: z.string().min(1).max(128).optional(),
    wait: z.boolean().optional(),
    timeout_ms: z.number().int().min(1).max(config.maxWaitTimeout).optional(),
  });
  router.post('/v1/chat/send', async (req, res) => {
    const body = sendBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    const { session_id, text, client_msg_id, wait, timeout_ms } = body.data;
    const outcome = await chat.send({
      sessionId: session_id,
      text,
      clientMsgId: client_msg_id,
      waitMs: wait ? (timeout_ms ?? config.waitTimeout) : undefined,
    });
    const payload = { message_id: outcome.messageId, duplicate: outcome.duplicate };
    if (!outcome.replies) return void res.status(202).json(payload);
    res.json({ ...payload, replies: outcome.replies.map((m) => toClientMessage(m)) });
  });

  const sessionBody = z.object({ session_id: z.string().min(1) });
  router.post('/v1/chat/close', async (req, res) => {
    const body = sessionBody.safeParse(req.body ?? {});
    if (!body.success) return badRequestFromZod(res, body.error);
    await chat.close(body.data.session_id);
    res.json({ closed: true });
  });

  router.get('/v1/chat/history', async (req, res) => {
    const query = z.object({ session_id: z.string().min(1), after: z.string().optional() }).safeParse(req.query);
    if (!query.success) return badRequestFromZod(res, query.error);
    const messages = await chat.history(query.data.session_id, query.data.after);
    res.json({ messages: messages.map((m) => toClientMessage(m.payload, m.direction)) });
  });

  router.get('/v1/chat/events', async (req, res) => {
    const query = z.object({ session_id: z.string().min(1) }).safeParse(req.query);
    if (!query.success) return badRequestFromZod(res, query.error);
    const conversation = await chat.openSession(query.data.session_id);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const sent = new Set<string>();
    const write = (name: string, data: unknown, id?: string) => {
      if (id) {
        if (sent.has(id)) return; // replayed from history and also live: once is enough
        sent.add(id);
      }
      res.write(`${id ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    // Subscribe first, then replay what the client missed, so nothing falls in between.
    const buffered: Parameters<typeof toClientEvent>[0][] = [];
    let live = false;
    const unsubscribe = await deps.bus.subscribe(conversation.id, (event) => {
      if (!live) return void buffered.push(event);
      const out = toClientEvent(event);
      if (out) write(out.name, out.data, out.id);
    });
    const lastEventId = (req.headers['last-event-id'] as string | undefined) ?? (req.query.last_event_id as string | undefined);
    if (lastEventId) {
      for (const m of await chat.history(query.data.session_id, lastEventId)) {
        if (m.direction === 'out') write('message', toClientMessage(m.payload), m.id);
      }
    }
    live = true;
    for (const event of buffered.splice(0)) {
      const out = toClientEvent(event);
      if (out) write(out.name, out.data, out.id);
    }
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      void unsubscribe();
    });
  });

  return router;
}
