/**
 * `GET /console/api/stream`: server-sent events of every conversation, for live consoles. Each
 * event is a small notice (`conversation` with id, type and state); the console re-reads what
 * changed from the API, so a lost or repeated notice costs a refresh, never a wrong screen.
 * While a stream is open its agent counts as online (src/agents/presence.ts).
 */
import { randomBytes } from 'node:crypto';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { AgentAuth } from '../../agents/agent-auth.ts';
import { type AgentPresence, PRESENCE_HEARTBEAT_MS } from '../../agents/presence.ts';
import type { ConversationEvent, EventBus } from '../../events/event-bus.ts';
import { currentAgent, requireAgent } from './console-auth.ts';

/** The notice a console gets for one bus event. */
function notice(conversationId: string, event: ConversationEvent): Record<string, unknown> | null {
  switch (event.type) {
    case 'state':
      return {
        conversation_id: conversationId,
        type: 'state',
        state: event.state,
        assignee: event.assignee ?? null,
        queue: event.queue ?? null,
      };
    case 'closed':
      return { conversation_id: conversationId, type: 'state', state: 'closed', assignee: null };
    case 'recorded':
      return {
        conversation_id: conversationId,
        type: 'message',
        direction: event.direction,
        role: event.author,
      };
    case 'reply':
      return {
        conversation_id: conversationId,
        type: 'message',
        direction: 'out',
        role: event.message.author,
      };
    case 'run':
      return { conversation_id: conversationId, type: 'run', status: event.status };
    default:
      return null;
  }
}

export function consoleStreamRoutes(deps: {
  auth: AgentAuth;
  bus: EventBus;
  presence: AgentPresence;
  logger: Logger;
}): Router {
  const router = express.Router();
  router.get('/console/api/stream', requireAgent(deps.auth), async (req, res) => {
    const agent = currentAgent(res);
    const connection = randomBytes(6).toString('base64url');
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // The client may leave while we subscribe: listen for that first, clean up whenever it happens.
    let closed = false;
    const cleanups: (() => unknown)[] = [];
    req.on('close', () => {
      closed = true;
      for (const cleanup of cleanups.splice(0)) cleanup();
    });
    const unsubscribe = await deps.bus.subscribeAll((conversationId, event) => {
      const data = notice(conversationId, event);
      if (data) res.write(`event: conversation\ndata: ${JSON.stringify(data)}\n\n`);
    });
    const beat = () =>
      deps.presence
        .beat(agent.id, connection)
        .catch((err: unknown) => deps.logger.debug({ err }, 'presence heartbeat failed'));
    const timer = setInterval(() => {
      res.write(': keep-alive\n\n');
      void beat();
    }, PRESENCE_HEARTBEAT_MS);
    cleanups.push(
      () => clearInterval(timer),
      () => void unsubscribe(),
      () => void deps.presence.leave(agent.id, connection).catch(() => {}),
    );
    if (closed) {
      for (const cleanup of cleanups.splice(0)) cleanup();
      return;
    }
    await beat();
    // Subscribed before `ready`: whatever the console loads after it will not miss a change.
    res.write(`event: ready\ndata: ${JSON.stringify({ agent: agent.id })}\n\n`);
  });
  return router;
}
