/**
 * Stream mode with the real `dingtalk-stream` SDK against a local fake gateway (HTTP
 * connections/open + WebSocket). The SDK's hard-coded gateway request is redirected through the
 * adapter's `gatewayUrl` (an axios interceptor on the SDK's own axios instance).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDingTalkAdapter, type DingTalkAdapter } from '../../../src/channels/dingtalk/index.ts';
import { redisKey } from '../../../src/channels/shared/keys.ts';
import { FakeDingTalk, robotMessage, waitFor } from '../../fakes/dingtalk-server.ts';
import {
  adapterDeps,
  dingtalkConfig,
  recordingIngest,
  recordingLogger,
  redisEnv,
  vectors,
} from './helpers.ts';

const env = redisEnv();
const fakes: FakeDingTalk[] = [];
const adapters: DingTalkAdapter[] = [];

beforeAll(() => {
  // The SDK prints "connect success" / "Disconnecting." / socket errors on the console; the
  // adapter's own structured logs are what these tests look at.
  vi.spyOn(console, 'info').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.stop()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
afterAll(() => env.cleanup());

async function setup(streamOver: Record<string, unknown> = {}) {
  // One app per test: the lease is per clientId, so tests cannot see each other's leases.
  const app = { clientId: `ding${randomBytes(4).toString('hex')}`, clientSecret: 'dingsecret' };
  const fake = await new FakeDingTalk(app).start();
  fakes.push(fake);
  const config = dingtalkConfig({
    ...app,
    mode: 'stream',
    gatewayUrl: fake.gatewayUrl,
    apiBase: fake.baseUrl,
    oapiBase: fake.baseUrl,
    stream: {
      lockTtl: 600,
      reconnectMin: 30,
      reconnectMax: 120,
      ingestTimeout: 2000,
      keepAlive: false,
      ...streamOver,
    },
  });
  const make = (redis = env.redis) => {
    const a = createDingTalkAdapter('dt', config, adapterDeps(env, redis));
    adapters.push(a);
    return a;
  };
  return { fake, config, make, leaseKey: redisKey(env.keyPrefix, 'dingtalk', 'stream-lease', app.clientId) };
}

describe('dingtalk stream through the real SDK', () => {
  it('opens the connection like the SDK does, ingests a robot message, then ACKs it', async () => {
    const { fake, make, config } = await setup();
    const rec = recordingIngest();
    const a = make();
    await a.start(rec.runtime);
    await fake.waitForConnections(1);

    const open = fake.calls.find((c) => c.path === '/v1.0/gateway/connections/open')!;
    expect(open.headers.accept).toBe('application/json');
    expect(open.body).toEqual({
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ua: 'switchboard',
      subscriptions: [{ type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }],
    });
    await waitFor(() => a.health().ok, 2000, 'connected');
    expect(a.health()).toEqual({ ok: true, detail: 'connected' });

    const release = rec.hold();
    const body = robotMessage({}, fake.baseUrl);
    const mid = fake.pushRobotMessage(body);
    await waitFor(() => rec.calls.length === 1, 2000, 'ingest call');
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.acked).toEqual([]); // not before the message is queued
    release();
    await waitFor(() => fake.acked.includes(mid), 2000, 'ack');

    const ack = fake.connections[0]!.received.find((f) => f.headers.messageId === mid);
    expect(ack).toEqual({
      code: 200,
      headers: { contentType: 'application/json', messageId: mid },
      message: 'OK',
      data: '{"response":null}',
    });
    const m = rec.queued[0]!;
    expect(m).toMatchObject({
      dedupeKey: `dingtalk:dt:${body.msgId}`,
      conversationId: 'dingtalk:dt:cidSingle001',
      kind: 'text',
      text: '你好',
      sender: { id: 'staff001', name: '张三' },
      replyTo: {
        conversationType: 'single',
        conversationId: 'cidSingle001',
        senderStaffId: 'staff001',
        robotCode: 'dingrobot',
      },
    });
  });

  it('echoes pings with the same headers and data', async () => {
    const { fake, make } = await setup();
    await make().start(recordingIngest().runtime);
    await fake.waitForConnections(1);
    await waitFor(() => fake.openConnections().length === 1, 2000, 'open');
    fake.ping('ping-1');
    await waitFor(
      () => fake.connections[0]!.received.some((f) => f.headers.messageId === 'ping-1'),
      2000,
      'pong',
    );
    const reply = fake.connections[0]!.received.find((f) => f.headers.messageId === 'ping-1')!;
    const expected = vectors.stream_frames_observed.client_ping_reply!;
    expect(reply).toMatchObject({
      code: expected.code,
      message: 'OK',
      headers: { topic: 'ping', messageId: 'ping-1' },
    });
    expect(reply.data).toBe(JSON.stringify({ opaque: 'ping-1' }));
  });

  it('normalizes a group message with @-mentions', async () => {
    const { fake, make } = await setup();
    const rec = recordingIngest();
    await make().start(rec.runtime);
    await fake.waitForConnections(1);
    const mid = fake.pushRobotMessage(
      robotMessage(
        {
          conversationType: '2',
          conversationId: 'cidGroup9',
          conversationTitle: '售后群',
          isInAtList: true,
          atUsers: [{ dingtalkId: '$:LWCP_v1:$bot' }, { dingtalkId: '$:x', staffId: 'staff002' }],
          text: { content: ' @李四 帮我查订单 123 ' },
        },
        fake.baseUrl,
      ),
    );
    await waitFor(() => fake.acked.includes(mid), 2000, 'ack');
    expect(rec.queued[0]).toMatchObject({
      text: '@李四 帮我查订单 123',
      conversationId: 'dingtalk:dt:cidGroup9',
      replyTo: { conversationType: 'group', conversationId: 'cidGroup9' },
    });
    expect((rec.queued[0]!.raw as { atUsers: unknown[] }).atUsers).toHaveLength(2);
  });

  it('a dropped socket reconnects with backoff; nothing lost, nothing doubled', async () => {
    const { fake, make } = await setup();
    const { logger, lines } = recordingLogger();
    const rec = recordingIngest(logger);
    await make().start(rec.runtime);
    await fake.waitForConnections(1);
    const m1 = fake.pushRobotMessage(robotMessage({ msgId: 'k1' }, fake.baseUrl));
    const m2 = fake.pushRobotMessage(robotMessage({ msgId: 'k2' }, fake.baseUrl));
    await waitFor(() => fake.acked.length === 2, 2000, 'two acks');

    // k3 is being ingested when the network drops: its ACK goes nowhere.
    const release = rec.hold();
    const m3 = fake.pushRobotMessage(robotMessage({ msgId: 'k3' }, fake.baseUrl));
    await waitFor(() => rec.calls.some((d) => d.platformMessageId === 'k3'), 2000, 'k3 ingest');
    fake.dropAll();
    release();
    await fake.waitForConnections(2);
    // The gateway redelivers k3 on the new connection; the adapter ingests it again and ACKs.
    await waitFor(() => fake.acked.includes(m3), 3000, 'k3 ack after reconnect');
    const m4 = fake.pushRobotMessage(robotMessage({ msgId: 'k4' }, fake.baseUrl));
    await waitFor(() => fake.acked.includes(m4), 2000, 'k4 ack');

    expect(rec.queued.map((m) => m.replyTo && m.dedupeKey)).toEqual([
      'dingtalk:dt:k1',
      'dingtalk:dt:k2',
      'dingtalk:dt:k3',
      'dingtalk:dt:k4',
    ]);
    expect(rec.calls.filter((d) => d.platformMessageId === 'k3')).toHaveLength(2); // redelivered once, deduped
    expect(fake.pending.size).toBe(0);
    expect([m1, m2].every((m) => fake.acked.includes(m))).toBe(true);
    const transitions = lines.filter((l) => typeof l.to === 'string').map((l) => l.to);
    expect(transitions).toEqual(['connecting', 'connected', 'backoff', 'connecting', 'connected']);
  });

  it('does not ACK what could not be queued; the redelivery is then ACKed', async () => {
    const { fake, make } = await setup({ ingestTimeout: 300 });
    const rec = recordingIngest();
    await make().start(rec.runtime);
    await fake.waitForConnections(1);
    rec.failNext(1000);
    const mid = fake.pushRobotMessage(robotMessage({ msgId: 'fail1' }, fake.baseUrl));
    await waitFor(() => rec.calls.length >= 3, 2000, 'retries');
    await new Promise((r) => setTimeout(r, 400));
    expect(fake.acked).not.toContain(mid);
    rec.failNext(0);
    fake.dropAll();
    await waitFor(() => fake.acked.includes(mid), 3000, 'ack of redelivery');
    expect(rec.queued.map((m) => m.dedupeKey)).toEqual(['dingtalk:dt:fail1']);
  });

  it('reconnects promptly when the server announces a disconnect', async () => {
    const { fake, make } = await setup();
    await make().start(recordingIngest().runtime);
    await fake.waitForConnections(1);
    await waitFor(() => fake.openConnections().length === 1, 2000, 'open');
    fake.announceDisconnect();
    await fake.waitForConnections(2, 2000);
    await waitFor(() => fake.openConnections().length === 1, 2000, 'one open connection');
  });

  it('retries the gateway with backoff until it answers', async () => {
    const { fake, make } = await setup();
    fake.failOpens = 2;
    const { logger, lines } = recordingLogger();
    const rec = recordingIngest(logger);
    const a = make();
    await a.start(rec.runtime);
    await fake.waitForConnections(1, 5000);
    expect(fake.calls.filter((c) => c.path === '/v1.0/gateway/connections/open')).toHaveLength(3);
    const backoffs = lines.filter((l) => l.to === 'backoff');
    expect(backoffs).toHaveLength(2);
    expect(backoffs.map((l) => l.failures)).toEqual([1, 2]);
  });
});

describe('one stream per app across processes', () => {
  it('two adapters: only the lease holder connects; the other takes over when it stops', async () => {
    const { fake, make } = await setup();
    const a = make();
    const b = make(env.connect());
    await a.start(recordingIngest().runtime);
    await fake.waitForConnections(1);
    await b.start(recordingIngest().runtime);
    await new Promise((r) => setTimeout(r, 700)); // longer than the lease ttl: renewals keep it with a
    expect(fake.connections).toHaveLength(1);
    expect(fake.calls.filter((c) => c.path === '/v1.0/gateway/connections/open')).toHaveLength(1);
    expect(a.health()).toEqual({ ok: true, detail: 'connected' });
    expect(b.health()).toEqual({ ok: true, detail: 'standby' });

    await a.stop();
    await fake.waitForConnections(2, 3000);
    await waitFor(() => b.health().detail === 'connected', 2000, 'b connected');
    expect(fake.openConnections()).toHaveLength(1);
    expect(a.health()).toEqual({ ok: false, detail: 'not started' });
  });

  it('losing the lease closes the connection at once; getting it back reconnects', async () => {
    const { fake, make, leaseKey } = await setup();
    const a = make();
    await a.start(recordingIngest().runtime);
    await fake.waitForConnections(1);
    await waitFor(() => fake.openConnections().length === 1, 2000, 'open');
    await env.redis.set(leaseKey, 'another-process', 'PX', 400);
    await waitFor(() => fake.openConnections().length === 0, 2000, 'disconnect on lost lease');
    await waitFor(() => a.health().detail === 'standby', 2000, 'standby');
    // The other "process" died: its lease expires and this one takes over.
    await fake.waitForConnections(2, 3000);
    await waitFor(() => a.health().detail === 'connected', 2000, 'connected again');
  });

  it('stop() closes the socket and frees the lease', async () => {
    const { fake, make, leaseKey } = await setup();
    const a = make();
    await a.start(recordingIngest().runtime);
    await fake.waitForConnections(1);
    expect(await env.redis.exists(leaseKey)).toBe(1);
    await a.stop();
    await waitFor(() => fake.openConnections().length === 0, 2000, 'closed');
    expect(await env.redis.exists(leaseKey)).toBe(0);
  });
});
