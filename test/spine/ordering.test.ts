/**
 * Per-conversation order under concurrency: many messages into one session come back answered in
 * the order they were sent, while many sessions are served in parallel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { openSse } from '../helpers/sse.ts';

const ECHO = `name: echo
default: true
steps:
  - reply: "echo: {{ message.text }}"
`;

describe('ordering', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ workflows: { 'echo.yaml': ECHO } });
  });
  afterAll(async () => t?.stop());

  it('answers 50 messages sent fast into one session in the order they were sent', async () => {
    const { body } = await t.post('/v1/chat/create', {});
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${body.session_id}`);
    try {
      // Fire them back to back without waiting for replies (each send is acknowledged once queued).
      for (let i = 0; i < 50; i++) {
        const res = await t.post('/v1/chat/send', {
          session_id: body.session_id,
          text: `msg #${i}`,
          client_msg_id: `k${i}`,
        });
        expect(res.status).toBe(202);
      }
      const events = await sse.waitFor(50, (e) => e.event === 'message', 30_000);
      expect(events.map((e) => e.data.text)).toEqual(Array.from({ length: 50 }, (_, i) => `echo: msg #${i}`));
    } finally {
      sse.close();
    }
  });

  it('serves 20 sessions in parallel, each in order', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 20 }, async () => (await t.post('/v1/chat/create', {})).body.session_id as string),
    );
    const streams = await Promise.all(
      sessions.map((id) => openSse(`${t.url}/v1/chat/events?session_id=${id}`)),
    );
    try {
      await Promise.all(
        sessions.map(async (id, s) => {
          for (let i = 0; i < 5; i++) {
            const res = await t.post('/v1/chat/send', { session_id: id, text: `s${s} #${i}` });
            expect(res.status).toBe(202);
          }
        }),
      );
      const results = await Promise.all(
        streams.map((sse) => sse.waitFor(5, (e) => e.event === 'message', 30_000)),
      );
      results.forEach((events, s) => {
        expect(events.map((e) => e.data.text)).toEqual(
          Array.from({ length: 5 }, (_, i) => `echo: s${s} #${i}`),
        );
      });
    } finally {
      for (const sse of streams) sse.close();
    }
  });
});
