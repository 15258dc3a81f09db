/**
 * End to end through a real hub: a TOP-signed bridge message POSTed to /webhooks/taobao/:id → one
 * InboundMessage job → the reply reaches the fake bridge callback, signed (the fake checks it).
 * Shared contract: bad signature, replayed timestamp, sign-method downgrade, tampered body are 401
 * with nothing queued; a redelivered message yields no second reply. The TMC connection of the
 * same channel runs against a fake TMC server meanwhile (never the real one).
 */
import { expect } from 'vitest';
import { FakeTmcServer } from '../../fakes/taobao-tmc-server.ts';
import { FakeBridge } from '../../fakes/taobao-top.ts';
import { adapterContract, type ContractRequest } from '../adapter-contract.ts';
import { APP_KEY, APP_SECRET, BRIDGE_SECRET, bridgeMessages } from './helpers.ts';

const bridge = new FakeBridge('qn-bridge', BRIDGE_SECRET);

function post(signed: { query: string; body: string }): ContractRequest {
  return {
    method: 'POST',
    query: signed.query,
    headers: { 'content-type': 'application/json' },
    body: signed.body,
  };
}

adapterContract({
  type: 'taobao',
  async startFake() {
    await bridge.start();
    const tmc = await new FakeTmcServer({ [APP_KEY]: APP_SECRET }).start();
    const channelYaml = `id: tb
type: taobao
appKey: "${APP_KEY}"
appSecret: ${APP_SECRET}
tmc:
  url: ${tmc.url}
bridge:
  appKey: qn-bridge
  secret: ${BRIDGE_SECRET}
  callbackUrl: ${bridge.callbackUrl}`;
    return {
      channelId: 'tb',
      channelYaml,
      fake: {
        sent: () => bridge.accepted.map((a) => a.body),
        close: async () => {
          await bridge.close();
          await tmc.close();
        },
      },
    };
  },
  validCallback: () => post(bridge.signedRequest(bridgeMessages.text)),
  expectInbound: {
    text: '退款什么时候到账？',
    kind: 'text',
    dedupeKey: 'taobao:tb:im-qn-7f3a9c',
    sender: { id: 'AAHk5d-EAAeGwJedwSHOtHmG', name: 't**1' },
    conversationId: 'taobao:tb:switchboard旗舰店:AAHk5d-EAAeGwJedwSHOtHmG',
  },
  tampered: () => {
    const good = bridge.signedRequest(bridgeMessages.text);
    return [
      {
        name: 'signed with another secret',
        ...post(bridge.signedRequest(bridgeMessages.text, { secret: 'someone-elses-secret' })),
      },
      {
        name: 'replayed an hour later',
        ...post(bridge.signedRequest(bridgeMessages.text, { now: new Date(Date.now() - 3_600_000) })),
      },
      {
        name: 'md5 instead of hmac-sha256',
        ...post(bridge.signedRequest(bridgeMessages.text, { signMethod: 'md5' })),
      },
      {
        name: 'body changed after signing',
        ...post({ query: good.query, body: good.body.replace('退款', '发货') }),
      },
      { name: 'no signature', ...post({ query: '', body: good.body }) },
    ];
  },
  expectSent(sent, text) {
    expect(bridge.rejected).toEqual([]);
    expect(sent).toEqual([
      {
        type: 'reply',
        seller_nick: 'switchboard旗舰店',
        buyer_nick: 't**1',
        buyer_open_uid: 'AAHk5d-EAAeGwJedwSHOtHmG',
        msg_type: 'text',
        text,
        in_reply_to: 'qn-7f3a9c',
        idempotency_key: expect.any(String),
        sent_at: expect.any(Number),
      },
    ]);
  },
});
