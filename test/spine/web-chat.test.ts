/**
 * The web channel end to end over HTTP, SSE and WebSocket, on real Redis and both store drivers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { openSse } from '../helpers/sse.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

const SLOW_WORKFLOW = `name: slow
priority: 10
match:
  any: [{ keywords: [slow] }]
steps:
  - wait: 1500ms
  - reply: "finally"
`;

const TWO_REPLIES = `name: two
priority: 10
match:
  any: [{ keywords: [twice] }]
steps:
  - reply: "one"
  - reply: "two"
`;

describe.each(['pglite', 'pg'] as const)('web chat over HTTP (%s store)', (database) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({
      database,
      workflows: { 'echo.yaml': ECHO_WORKFLOW, 'slow.yaml': SLOW_WORKFLOW, 'two.yaml': TWO_REPLIES },
    });
  });
  afterAll(async () => t?.stop());

  const session = async () => {
    const res = await t.post('/v1/chat/create', {});
    expect(res.status).toBe(201);
    return res.body.session_id as string;
  };

  it('create → send with wait → the reply', async () => {
    const sessionId = await session();
    const res = await t.post('/v1/chat/send', { session_id: sessionId, text: 'hello there', wait: true });
    expect(res.status).toBe(200);
    expect(res.body.replies).toHaveLength(1);
    expect(res.body.replies[0]).toMatchObject({
      role: 'bot',
      kind: 'text',
      text: 'echo: hello there',
      in_reply_to: res.body.message_id,
    });
  });

  it('answers every reply a workflow produces, in order', async () => {
    const sessionId = await session();
    const res = await t.post('/v1/chat/send', { session_id: sessionId, text: 'say it twice', wait: true });
    expect(res.body.replies.map((r: { text: string }) => r.text)).toEqual(['one', 'two']);
  });

  it('without wait answers 202 and the reply arrives over SSE', async () => {
    const sessionId = await session();
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${sessionId}`);
    try {
      const res = await t.post('/v1/chat/send', { session_id: sessionId, text: 'over sse' });
      expect(res.status).toBe(202);
      const [event] = await sse.waitFor(1, (e) => e.event === 'message');
      expect(event!.data.text).toBe('echo: over sse');
      expect(event!.id).toBe(event!.data.id);
    } finally {
      sse.close();
    }
  });

  it('a resent client_msg_id yields no second reply', async () => {
    const sessionId = await session();
    const first = await t.post('/v1/chat/send', {
      session_id: sessionId,
      text: 'once',
      client_msg_id: 'c-1',
      wait: true,
    });
    const again = await t.post('/v1/chat/send', {
      session_id: sessionId,
      text: 'once',
      client_msg_id: 'c-1',
      wait: true,
    });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(again.body.message_id).toBe(first.body.message_id);
    expect(again.body.replies.map((r: { id: string }) => r.id)).toEqual(
      first.body.replies.map((r: { id: string }) => r.id),
    );
    const third = await t.post('/v1/chat/send', {
      session_id: sessionId,
      text: 'once',
      client_msg_id: 'c-1',
    });
    expect(third.body.duplicate).toBe(true);
    const history = await fetch(`${t.url}/v1/chat/history?session_id=${sessionId}`).then((r) => r.json());
    expect(history.messages.filter((m: { role: string }) => m.role === 'bot')).toHaveLength(1);
    expect(history.messages.filter((m: { role: string }) => m.role === 'visitor')).toHaveLength(1);
  });

  it('a wait past its deadline is a 504 with a clear body, and the reply still arrives', async () => {
    const sessionId = await session();
    const res = await t.post('/v1/chat/send', {
      session_id: sessionId,
      text: 'slow please',
      wait: true,
      timeout_ms: 300,
    });
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('reply_timeout');
    expect(res.body.error.message).toMatch(/no reply within 300 ms/);
    expect(res.body.error.message_id).toMatch(/^m_/);
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${sessionId}`);
    try {
      const [event] = await sse.waitFor(1, (e) => e.event === 'message');
      expect(event!.data.text).toBe('finally');
    } finally {
      sse.close();
    }
  });

  it('rejects bad input with the field named and queues nothing', async () => {
    const sessionId = await session();
    const before = await countJobs(t);
    const missing = await t.post('/v1/chat/send', { session_id: sessionId });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('text');
    const long = await t.post('/v1/chat/send', { session_id: sessionId, text: 'x'.repeat(4001) });
    expect(long.status).toBe(400);
    expect(long.body.error.field).toBe('text');
    expect(long.body.error.message).toMatch(/4000/);
    const unknown = await t.post('/v1/chat/send', { session_id: 'nope', text: 'hi' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const huge = await t.post('/v1/chat/send', { session_id: sessionId, text: 'x'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    const badJson = await t.post('/v1/chat/send', '{"session_id": ');
    expect(badJson.status).toBe(400);
    const history = await fetch(`${t.url}/v1/chat/history?session_id=${sessionId}`).then((r) => r.json());
    expect(history.messages).toEqual([]);
    expect(await countJobs(t)).toBe(before);
  });

  it('a closed session takes no more messages', async () => {
    const sessionId = await session();
    expect((await t.post('/v1/chat/close', { session_id: sessionId })).status).toBe(200);
    const res = await t.post('/v1/chat/send', { session_id: sessionId, text: 'still there?' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('session_closed');
  });

  it('SSE replays what a reconnecting client missed (Last-Event-ID)', async () => {
    const sessionId = await session();
    const first = await t.post('/v1/chat/send', { session_id: sessionId, text: 'a', wait: true });
    await t.post('/v1/chat/send', { session_id: sessionId, text: 'b', wait: true });
    await t.post('/v1/chat/send', { session_id: sessionId, text: 'c', wait: true });
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${sessionId}`, {
      'last-event-id': first.body.replies[0].id,
    });
    try {
      const events = await sse.waitFor(2, (e) => e.event === 'message');
      expect(events.map((e) => e.data.text)).toEqual(['echo: b', 'echo: c']);
    } finally {
      sse.close();
    }
  });
});

/** Every job ever added to this hub's queues and still kept (completed jobs are kept for an hour). */
async function countJobs(t: TestHub): Promise<number> {
  const counts = await Promise.all(
    t.hub.queues.all().map((q) => q.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed')),
  );
  return counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
}

describe('web chat over WebSocket', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ database: 'pglite', workflows: { 'echo.yaml': ECHO_WORKFLOW } });
  });
  afterAll(async () => t?.stop());

  it('carries the conversation both ways, acks each message and rejects bad frames', async () => {
    const { body } = await t.post('/v1/chat/create', {});
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/chat/ws?session_id=${body.session_id}`);
    const frames: any[] = [];
    ws.on('message', (raw) => frames.push(JSON.parse(raw.toString())));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'send', text: 'hi ws', client_msg_id: 'w1' }));
    ws.send(JSON.stringify({ type: 'send', text: 'hi ws', client_msg_id: 'w1' }));
    ws.send(JSON.stringify({ type: 'send' }));
    ws.send('not json');
    const until = async (pred: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`frames: ${JSON.stringify(frames)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => frames.some((f) => f.type === 'message'));
    await new Promise((r) => setTimeout(r, 300));
    const acks = frames.filter((f) => f.type === 'ack');
    expect(acks.map((a) => a.duplicate)).toEqual([false, true]);
    expect(frames.filter((f) => f.type === 'message').map((f) => f.text)).toEqual(['echo: hi ws']);
    const errors = frames.filter((f) => f.type === 'error');
    expect(errors.map((e) => e.code)).toEqual(['bad_request', 'bad_json']);
    expect(errors[0].field).toBe('text');
    ws.close();
  });

  it('refuses an unknown session at the upgrade', async () => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/chat/ws?session_id=nope`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  });
});
