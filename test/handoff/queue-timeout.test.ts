/**
 * A hand-off nobody picks up does not leave the visitor waiting in silence for ever: after
 * `handoff.queueTimeout` the conversation returns to the bot, the visitor is told (once, whatever
 * the number of sweeping processes), and the bot answers again. A claimed conversation is not
 * touched, and the default (0) keeps a conversation queued however long it takes.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/event-bus.ts';
import { HandoffService } from '../../src/handoff/handoff-service.ts';
import { sweepQueueTimeouts } from '../../src/handoff/queue-timeout.ts';
import { ReplyDispatcher } from '../../src/queue/reply-dispatch.ts';
import { ADMIN_TOKEN, type ConsoleClient, conversationPath, createAgent } from '../helpers/console.ts';
import { eventually, FAST_QUEUE_YAML, REDIS_URL, startTestHub, type TestHub } from '../helpers/hub.ts';
import { openSse } from '../helpers/sse.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

const WAIT_MS = 3000;

const hubYaml = (queueTimeout: string) => `channels:
  - { id: web, type: web }
${FAST_QUEUE_YAML}
handoff:
  keywords: [human]
  queueTimeout: ${queueTimeout}
  idleCheckEvery: 200ms
  messages:
    noAgentOnline: "NOBODY-ONLINE"
    queueTimeout: "NOBODY-CAME"
`;

describe('queued too long', () => {
  let t: TestHub;
  let alice: ConsoleClient;
  beforeAll(async () => {
    t = await startTestHub({
      hubYaml: hubYaml(`${WAIT_MS}ms`),
      workflows: { 'echo.yaml': ECHO_WORKFLOW },
      env: { ADMIN_TOKEN },
    });
    alice = await createAgent(t, 'alice');
  });
  afterAll(async () => t?.stop());

  const queuedSession = async () => {
    const sessionId = (await t.post('/v1/chat/create', {})).body.session_id as string;
    // Listening before asking: nothing the hub says afterwards can be missed.
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${sessionId}`);
    const askedAt = Date.now(); // the wait cannot start before this
    const asked = await t.post('/v1/chat/send', { session_id: sessionId, text: 'human please', wait: true });
    expect(asked.body.replies.map((r: { text: string }) => r.text)).toContain('NOBODY-ONLINE');
    const conversationId = `web:web:${sessionId}`;
    return { sessionId, conversationId, sse, askedAt };
  };

  it('returns to the bot after queueTimeout, tells the visitor once, and the bot answers again', async () => {
    const { sessionId, conversationId, sse, askedAt } = await queuedSession();
    try {
      const [notice] = await sse.waitFor(
        1,
        (e) => e.event === 'message' && e.data.role === 'system' && e.data.text === 'NOBODY-CAME',
        WAIT_MS + 10_000,
      );
      expect(notice).toBeDefined();
      expect(Date.now() - askedAt).toBeGreaterThanOrEqual(WAIT_MS);
      const [back] = await sse.waitFor(1, (e) => e.event === 'state' && e.data.state === 'bot');
      expect(back).toBeDefined();
    } finally {
      sse.close();
    }
    expect((await t.hub.store.getConversation(conversationId))?.state).toBe('bot');
    const events = await t.hub.store.listHandoffEvents(conversationId);
    expect(events.map((e) => e.type)).toEqual(['queued', 'timed_out']);
    expect(events[1]).toMatchObject({ actor: 'system', data: { queue: 'default', waitMs: WAIT_MS } });

    // More sweeps (another process, a later pass) neither move it again nor repeat the notice.
    const redis = new Redis(REDIS_URL);
    try {
      const logger = pino({ level: 'silent' });
      const bus = new EventBus(redis, undefined, t.prefix, logger);
      const deps = {
        store: t.hub.store,
        service: new HandoffService({ store: t.hub.store, bus, logger }),
        dispatcher: new ReplyDispatcher(t.hub.store, t.hub.queues),
        bus,
        waitMs: WAIT_MS,
        notice: 'NOBODY-CAME',
      };
      expect(await sweepQueueTimeouts(deps, Date.now() + 60_000)).toBe(0);
    } finally {
      redis.disconnect();
    }
    const history = await t.hub.store.listMessages(conversationId);
    expect(history.filter((m) => m.text === 'NOBODY-CAME')).toHaveLength(1);

    const answered = await t.post('/v1/chat/send', {
      session_id: sessionId,
      text: 'still there?',
      wait: true,
    });
    expect(answered.body.replies.map((r: { text: string }) => r.text)).toEqual(['echo: still there?']);
  });

  it('leaves a claimed conversation with its agent', async () => {
    const { conversationId, sse } = await queuedSession();
    sse.close();
    expect((await alice.call('POST', conversationPath(conversationId, 'claim'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, WAIT_MS + 800)); // several sweeps later
    expect((await t.hub.store.getConversation(conversationId))?.state).toBe('agent');
    const events = await t.hub.store.listHandoffEvents(conversationId);
    expect(events.map((e) => e.type)).toEqual(['queued', 'claimed']);
  });

  it('with the default (0) a conversation stays queued', async () => {
    const other = await startTestHub({ hubYaml: hubYaml('0'), workflows: { 'echo.yaml': ECHO_WORKFLOW } });
    try {
      const sessionId = (await other.post('/v1/chat/create', {})).body.session_id as string;
      await other.post('/v1/chat/send', { session_id: sessionId, text: 'human', wait: true });
      const conversationId = `web:web:${sessionId}`;
      await eventually(
        async () => (await other.hub.store.getConversation(conversationId))?.state === 'queued',
        'queued',
      );
      await new Promise((r) => setTimeout(r, 800));
      expect((await other.hub.store.getConversation(conversationId))?.state).toBe('queued');
    } finally {
      await other.stop();
    }
  });
});
