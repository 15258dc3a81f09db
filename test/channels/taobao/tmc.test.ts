/**
 * The TMC side of the Taobao adapter against a fake TMC server on 127.0.0.1: signed handshake,
 * pushes become `event` drafts, a message is confirmed only after ingest, a failed ingest leaves
 * it unconfirmed so it comes back, reconnect resumes the backlog, one connection per app.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/channels/taobao/tmc-codec.ts';
import { toInboundMessage } from '../../../src/messages.ts';
import { FakeTmcServer } from '../../fakes/taobao-tmc-server.ts';
import { APP_KEY, APP_SECRET, adapter, recordingRuntime, redisEnv, tmcEvents, until } from './helpers.ts';

let env: ReturnType<typeof redisEnv>;
let tmc: FakeTmcServer;
const started: ReturnType<typeof adapter>[] = [];

beforeEach(async () => {
  env = redisEnv();
  tmc = await new FakeTmcServer({ [APP_KEY]: APP_SECRET }).start();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.stop()));
  await tmc.close();
  await env.cleanup();
});

function tmcAdapter(over: Record<string, unknown> = {}, secret = APP_SECRET) {
  const a = adapter(env, {
    appSecret: secret,
    tmc: {
      url: tmc.url,
      reconnectMin: 20,
      reconnectMax: 100,
      pullInterval: 60_000,
      heartbeat: 60_000,
      lockTtl: 600,
      ingestTimeout: 200,
      ...over,
    },
  });
  started.push(a);
  return a;
}

describe('TMC', () => {
  it('connects with a signed handshake, turns a TradeCreate push into an event draft, confirms it after ingest', async () => {
    const runtime = recordingRuntime();
    const a = tmcAdapter();
    await a.start(runtime);
    await until(() => a.tmc?.state === 'connected', 'the connection');
    expect(tmc.connects[0]).toMatchObject({
      app_key: APP_KEY,
      group_name: 'default',
      sdk: 'switchboard-tmc/1',
    });
    expect(tmc.refused).toEqual([]);

    const id = tmc.publish('taobao_trade_TradeCreate', tmcEvents.trade_create!);
    await until(() => tmc.confirms.length === 1, 'the confirm');
    expect(tmc.confirms[0]).toEqual({ id: String(id), format: 'bigint', token: expect.any(String) });
    expect(tmc.pendingIds()).toEqual([]);
    const m = toInboundMessage(runtime.drafts[0]!);
    expect(m).toMatchObject({
      dedupeKey: `taobao:tb:tmc-${id}`,
      kind: 'event',
      event: 'taobao_trade_TradeCreate',
      conversationId: 'taobao:tb:switchboard旗舰店:AAHk5d-EAAeGwJedwSHOtHmG',
      sender: { id: 'AAHk5d-EAAeGwJedwSHOtHmG', name: 't**1' },
      replyTo: {
        sellerNick: 'switchboard旗舰店',
        buyerNick: 't**1',
        buyerOpenUid: 'AAHk5d-EAAeGwJedwSHOtHmG',
        tid: '3982135211234567890',
      },
    });
    expect(m.text).toBe('订单创建 order created · tid 3982135211234567890 · ¥128.00 · WAIT_BUYER_PAY');
    expect((m.raw as { content: { tid: string } }).content.tid).toBe('3982135211234567890'); // 19 digits intact
    expect(a.health()).toEqual({ ok: true, detail: 'connected' });
  });

  it("RefundCreate lands in the same conversation as the buyer's chat", async () => {
    const runtime = recordingRuntime();
    const a = tmcAdapter();
    await a.start(runtime);
    tmc.publish('taobao_refund_RefundCreate', tmcEvents.refund_create!);
    await until(() => runtime.drafts.length === 1, 'the refund draft');
    expect(runtime.drafts[0]).toMatchObject({
      event: 'taobao_refund_RefundCreate',
      platformChatId: 'switchboard旗舰店:AAHk5d-EAAeGwJedwSHOtHmG',
      text: '退款申请 refund requested · tid 3982135211234567890 · refund 168000123456789012 · ¥128.00',
    });
  });

  it('a failed ingest is handed back as failed, pushed again by TMC, and confirmed once queued', async () => {
    const runtime = recordingRuntime();
    runtime.failNext(1_000); // Redis "down" for every attempt within ingestTimeout
    const a = tmcAdapter({ pullInterval: 100 });
    await a.start(runtime);
    await until(() => a.tmc?.state === 'connected', 'the connection');
    const id = tmc.publish('taobao_trade_TradeCreate', tmcEvents.trade_create!);
    await until(() => tmc.failures.length >= 1, 'the failed ack');
    expect(tmc.failures[0]).toEqual({ id: String(id), msg: 'not queued; retry later' });
    expect(tmc.confirms).toEqual([]);
    expect(tmc.pendingIds()).toEqual([String(id)]);

    runtime.failNext(0); // Redis back: the next pull brings the message again
    await until(() => tmc.confirms.length === 1, 'the confirm', 5000);
    expect(a.tmc?.connections).toBe(1);
    expect(runtime.drafts.map((d) => d.platformMessageId)).toEqual([`tmc-${id}`]);
    expect(tmc.pendingIds()).toEqual([]);
  });

  it('a message pushed before a connection drop and never confirmed comes back after the reconnect', async () => {
    const runtime = recordingRuntime();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const a = tmcAdapter();
    const gated = async (d: Parameters<typeof runtime.ingest>[0]) => {
      await gate;
      return runtime.ingest(d);
    };
    await a.start({ ...runtime, ingest: gated });
    await until(() => a.tmc?.state === 'connected', 'the connection');
    const id = tmc.publish('taobao_trade_TradeCreate', tmcEvents.trade_create!);
    await new Promise((r) => setTimeout(r, 50));
    tmc.dropConnections(); // while the hub is still queueing it: no confirm can be sent
    release();
    await until(() => tmc.confirms.length === 1, 'the confirm after the reconnect', 5000);
    expect(a.tmc?.connections).toBe(2);
    expect(runtime.drafts.map((d) => d.platformMessageId)).toEqual([`tmc-${id}`]);
  });

  it('messages published while disconnected are delivered after the reconnect, in order, each once', async () => {
    const runtime = recordingRuntime();
    const a = tmcAdapter();
    await a.start(runtime);
    await until(() => a.tmc?.state === 'connected', 'the connection');
    tmc.dropConnections();
    const ids = [
      tmc.publish('taobao_trade_TradeCreate', tmcEvents.trade_create!),
      tmc.publish('taobao_refund_RefundCreate', tmcEvents.refund_create!),
    ];
    await until(() => tmc.confirms.length === 2, 'both confirms', 5000);
    expect(runtime.drafts.map((d) => d.platformMessageId)).toEqual(ids.map((id) => `tmc-${id}`));
  });

  it('a push arriving right behind the CONNECTACK is not lost', async () => {
    tmc.pushOnConnect = true;
    const id = tmc.publish('taobao_trade_TradeCreate', tmcEvents.trade_create!); // waiting before we connect
    const runtime = recordingRuntime();
    const a = tmcAdapter(); // pulls only once after connecting; the message is in flight by then
    await a.start(runtime);
    await until(() => tmc.confirms.length === 1, 'the confirm');
    expect(runtime.drafts.map((d) => d.platformMessageId)).toEqual([`tmc-${id}`]);
  });

  it('topics outside the configured list are confirmed and dropped', async () => {
    const runtime = recordingRuntime();
    const a = tmcAdapter({ topics: ['taobao_trade_TradeCreate'] });
    await a.start(runtime);
    const id = tmc.publish('taobao_item_ItemUpdate', tmcEvents.item_update!);
    await until(() => tmc.confirms.length === 1, 'the confirm');
    expect(tmc.confirms[0]?.id).toBe(String(id));
    expect(runtime.drafts).toEqual([]);
  });

  it('an unreadable frame is skipped without breaking the connection', async () => {
    const runtime = recordingRuntime();
    const a = tmcAdapter();
    await a.start(runtime);
    await until(() => a.tmc?.state === 'connected', 'the connection');
    tmc.sendRaw(Buffer.from('0202ffff', 'hex'));
    tmc.sendRaw(
      encodeFrame({
        protocolVersion: 2,
        messageType: 2,
        content: { topic: 'taobao_trade_TradeCreate', id: 1n, content: 'not json' },
      }),
    );
    const id = tmc.publish('taobao_trade_TradeCreate', tmcEvents.trade_create!);
    await until(() => runtime.drafts.length === 1, 'the good message');
    expect(runtime.drafts[0]?.platformMessageId).toBe(`tmc-${id}`);
    expect(a.tmc?.connections).toBe(1);
  });

  it('a wrong app secret is refused at the handshake and retried with backoff, unhealthy meanwhile', async () => {
    const a = tmcAdapter({}, 'wrong-secret');
    await a.start(recordingRuntime());
    await until(() => tmc.refused.length >= 2, 'two refused handshakes');
    expect(tmc.refused[0]).toBe('invalid sign');
    expect(a.health()).toMatchObject({ ok: false });
    expect(a.health().detail).toMatch(/refused|closed/);
  });

  it('holds one connection per app and group across processes', async () => {
    const a = tmcAdapter();
    const b = tmcAdapter();
    await a.start(recordingRuntime());
    await until(() => a.tmc?.state === 'connected', 'the first connection');
    await b.start(recordingRuntime());
    await new Promise((r) => setTimeout(r, 300));
    expect(b.tmc?.state).toBe('standby');
    expect(tmc.sessions()).toBe(1);
    await a.stop();
    started.splice(started.indexOf(a), 1);
    await until(() => b.tmc?.state === 'connected', 'the standby to take over', 5000);
  });
});
