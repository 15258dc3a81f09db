/**
 * WeChat Customer Service pull: kf_msg_or_event callbacks → kf/sync_msg paging → ingest.
 * The fake pages at 73 messages (an awkward size on purpose) and can fail a page mid-run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterRuntime, IngestOutcome } from '../../../src/channels/types.ts';
import { createWeComAdapter, syncKfMessages, type WeComAdapter } from '../../../src/channels/wecom/index.ts';
import { cursorKey, kfMessageToDraft } from '../../../src/channels/wecom/kf-sync.ts';
import { type InboundDraft, toInboundMessage } from '../../../src/messages.ts';
import { FakeWeComApi } from '../../fakes/wecom-api.ts';
import { buildWeComPost, kfEventXml, webhookRequest } from '../../fakes/wecom-callback.ts';
import { adapterDeps, redisEnv, silentLogger, wecomConfig } from './helpers.ts';

const env = redisEnv();
const corpId = 'wwkfcorp';
const api = new FakeWeComApi({ corpId, secrets: ['app-secret'], maxSyncPage: 73 });

beforeAll(async () => {
  await api.start();
});
afterAll(async () => {
  await api.close();
  await env.cleanup();
});

/** Stands in for the lead's ingest: records every call and dedupes like the hub does. */
function recordingRuntime() {
  const calls: InboundDraft[][] = [];
  const seen = new Set<string>();
  const runtime: AdapterRuntime = {
    logger: silentLogger,
    signal: new AbortController().signal,
    async ingest(drafts) {
      calls.push(drafts);
      return drafts.map((d): IngestOutcome => {
        const m = toInboundMessage(d);
        const dup = seen.has(m.dedupeKey);
        seen.add(m.dedupeKey);
        return { id: m.id, dedupeKey: m.dedupeKey, status: dup ? 'duplicate' : 'queued' };
      });
    },
  };
  return { runtime, calls, all: () => calls.flat() };
}

function kfAdapter(redis = env.redis): WeComAdapter {
  const config = wecomConfig({
    corpId,
    agentId: 5,
    apiBase: api.baseUrl,
    kf: { enabled: true, pageSize: 1000 },
  });
  return createWeComAdapter('kf', config, adapterDeps(env, redis));
}

const keys = {
  token: 'QDG6eK',
  encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  receiveId: corpId,
};

async function kfCallback(a: WeComAdapter, openKfId: string, token: string) {
  const req = webhookRequest('POST', buildWeComPost(keys, kfEventXml(corpId, openKfId, token)));
  a.verify(req);
  return a.parse(req);
}

describe('kf_msg_or_event → sync_msg → ingest', () => {
  it('a burst of 500 messages, 3 callbacks on two processes: every message once, in order', async () => {
    const open = 'wk_burst';
    const sent = api.addKfTexts(
      open,
      'wm_cust1',
      Array.from({ length: 500 }, (_, i) => `问题 ${i}`),
    );
    const rec = recordingRuntime();
    const a = kfAdapter();
    const b = kfAdapter(env.connect());
    await a.start(rec.runtime);
    await b.start(rec.runtime);

    const results = await Promise.all([
      kfCallback(a, open, 'T1'),
      kfCallback(b, open, 'T2'),
      kfCallback(a, open, 'T3'),
    ]);
    // The callback itself answers at once, with nothing to enqueue.
    for (const r of results) expect(r).toMatchObject({ messages: [], response: { status: 200, body: '' } });
    await Promise.all([a.kf.idle(), b.kf.idle()]);

    const got = rec.all().map((d) => d.platformMessageId);
    expect(got).toEqual(sent.map((id) => `kf:${id}`)); // none lost, none doubled, platform order
    const first = rec.all()[0]!;
    expect(first).toMatchObject({
      kind: 'text',
      text: '问题 0',
      sender: { id: 'wm_cust1' },
      platformChatId: `kf:${open}:wm_cust1`,
      replyTo: { mode: 'kf', open_kfid: open, external_userid: 'wm_cust1' },
    });
    // 500 / 73 → 7 pages for the first run; later runs find nothing new.
    const syncs = api
      .calls('/cgi-bin/kf/sync_msg')
      .filter((r) => (r.body as { open_kfid: string }).open_kfid === open);
    expect(syncs.length).toBeGreaterThanOrEqual(7);
    expect((syncs[0]!.body as { token: string }).token).toMatch(/^T[123]$/);
    expect(await env.redis.get(cursorKey(env.keyPrefix, corpId, open))).toBeTruthy();
    expect(await env.redis.ttl(cursorKey(env.keyPrefix, corpId, open))).toBe(-1); // no TTL, by design

    // New messages later: only those come through.
    const more = api.addKfTexts(open, 'wm_cust2', ['again 1', 'again 2']);
    await kfCallback(b, open, 'T4');
    await b.kf.idle();
    expect(
      rec
        .all()
        .slice(500)
        .map((d) => d.platformMessageId),
    ).toEqual(more.map((id) => `kf:${id}`));
    await a.stop();
    await b.stop();
  });

  it('a page failing mid-run loses nothing and doubles nothing on the next run', async () => {
    const open = 'wk_fail';
    const sent = api.addKfTexts(
      open,
      'wm_c',
      Array.from({ length: 300 }, (_, i) => `m${i}`),
    );
    const rec = recordingRuntime();
    const a = kfAdapter();
    await a.start(rec.runtime);
    api.failSyncCalls(3); // pages 1, 2 ok; page 3 "system busy"
    await kfCallback(a, open, 'F1');
    await a.kf.idle();
    expect(rec.all()).toHaveLength(146); // two pages of 73, cursor saved after each
    await kfCallback(a, open, 'F2');
    await a.kf.idle();
    const ids = rec.all().map((d) => d.platformMessageId);
    expect(ids).toEqual(sent.map((id) => `kf:${id}`));
    expect(new Set(ids).size).toBe(300);
    await a.stop();
  });

  it('an expired pull token does not block the pull', async () => {
    const open = 'wk_stale';
    const sent = api.addKfTexts(open, 'wm_s', ['late']);
    api.staleKfTokens.add('OLD');
    const rec = recordingRuntime();
    const a = kfAdapter();
    await a.start(rec.runtime);
    await kfCallback(a, open, 'OLD');
    await a.kf.idle();
    expect(rec.all().map((d) => d.platformMessageId)).toEqual([`kf:${sent[0]}`]);
    const bodies = api
      .calls('/cgi-bin/kf/sync_msg')
      .map((r) => r.body as { open_kfid: string; token?: string });
    expect(bodies.filter((b) => b.open_kfid === open).map((b) => b.token)).toEqual(['OLD', undefined]);
    await a.stop();
  });

  it('a notice recorded while no process could pull is resumed on start', async () => {
    const open = 'wk_pending';
    const sent = api.addKfTexts(open, 'wm_p', ['hello']);
    const a = kfAdapter();
    await kfCallback(a, open, 'P1'); // no start(): recorded as pending only
    await a.kf.idle();
    const rec = recordingRuntime();
    await a.start(rec.runtime);
    await a.kf.idle();
    expect(rec.all().map((d) => d.platformMessageId)).toEqual([`kf:${sent[0]}`]);
    await a.stop();
  });
});

describe('syncKfMessages (callable from a job)', () => {
  it('returns the drafts it handed to ingest, and the cursor only moves after ingest', async () => {
    const open = 'wk_direct';
    api.addKfTexts(open, 'wm_d', ['a', 'b', 'c']);
    const a = kfAdapter();
    // An ingest that fails: the cursor must stay, so the same messages come again.
    await expect(
      syncKfMessages(a.kfSyncDeps(), { openKfId: open }, async () => {
        throw new Error('redis down');
      }),
    ).rejects.toThrow('redis down');
    expect(await env.redis.get(cursorKey(env.keyPrefix, corpId, open))).toBeNull();
    const seen: InboundDraft[] = [];
    const result = await a.syncKf(open, undefined, async (d) => seen.push(...d));
    expect(result.drafts.map((d) => d.text)).toEqual(['a', 'b', 'c']);
    expect(seen).toEqual(result.drafts);
  });
});

describe('kfMessageToDraft', () => {
  const base = { msgid: 'x1', open_kfid: 'wk', external_userid: 'wm', send_time: 1, origin: 3 };
  it('customer media and locations', () => {
    expect(kfMessageToDraft({ ...base, msgtype: 'image', image: { media_id: 'MI' } }, 'c')).toMatchObject({
      kind: 'image',
      attachments: [{ mediaId: 'MI' }],
    });
    expect(
      kfMessageToDraft(
        {
          ...base,
          msgtype: 'location',
          location: { latitude: 23.1, longitude: 113.3, name: '天河', address: '广州' },
        },
        'c',
      ),
    ).toMatchObject({ kind: 'location', text: '天河 广州', attachments: [{ url: 'geo:23.1,113.3' }] });
  });
  it('enter_session is an event with its welcome_code; other events and servicer messages are ignored', () => {
    const enter = kfMessageToDraft(
      {
        ...base,
        origin: 4,
        external_userid: undefined,
        msgtype: 'event',
        event: { event_type: 'enter_session', open_kfid: 'wk', external_userid: 'wm', welcome_code: 'WC' },
      },
      'c',
    );
    expect(enter).toMatchObject({
      kind: 'event',
      event: 'enter_session',
      replyTo: { welcome_code: 'WC', external_userid: 'wm' },
    });
    expect(
      kfMessageToDraft({ ...base, origin: 4, msgtype: 'event', event: { event_type: 'msg_send_fail' } }, 'c'),
    ).toEqual({
      ignored: 'kf-event:msg_send_fail',
    });
    expect(
      kfMessageToDraft({ ...base, origin: 5, msgtype: 'text', text: { content: 'agent' } }, 'c'),
    ).toEqual({
      ignored: 'kf:servicer-message',
    });
    expect(kfMessageToDraft({ ...base, msgtype: 'channels_shop_product' }, 'c')).toEqual({
      ignored: 'kf:unsupported:channels_shop_product',
    });
  });
});
