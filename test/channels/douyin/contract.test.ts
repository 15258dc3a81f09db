/**
 * End to end through a real hub: a signed im_receive_msg POSTed to /webhooks/douyin/:id → one
 * InboundMessage job → the reply reaches the fake Open API as im/send/msg with the pinned body.
 * Shared contract: bad or missing signatures are 401 with nothing queued; a platform retry (same
 * Msg-Id and body) yields no second reply.
 */
import { expect } from 'vitest';
import { buildReplyBody } from '../../../src/channels/douyin/index.ts';
import { FakeDouyinOpenApi, signDouyinEvent } from '../../fakes/douyin-open-api.ts';
import { adapterContract, type ContractRequest } from '../adapter-contract.ts';
import { CLIENT_KEY, CLIENT_SECRET, events } from './helpers.ts';

const body = JSON.stringify(events.text);

function post(signed: { headers: Record<string, string>; body: string }): ContractRequest {
  return { method: 'POST', headers: signed.headers, body: signed.body };
}

adapterContract({
  type: 'douyin',
  async startFake() {
    const api = await new FakeDouyinOpenApi({ clientKey: CLIENT_KEY, clientSecret: CLIENT_SECRET }).start();
    const channelYaml = `id: dy
type: douyin
clientKey: ${CLIENT_KEY}
clientSecret: ${CLIENT_SECRET}
apiBase: ${api.baseUrl}`;
    return { channelId: 'dy', channelYaml, fake: { sent: () => api.delivered, close: () => api.close() } };
  },
  validCallback: () => post(signDouyinEvent(body, CLIENT_SECRET, 'msg-id-1')),
  expectInbound: {
    text: '请问什么时候发货？',
    kind: 'text',
    dedupeKey: 'douyin:dy:7356000000000000101',
    sender: { id: '_000user-open-id-A', name: '小王' },
    conversationId: 'douyin:dy:7356000000000000001',
  },
  tampered: () => {
    const good = signDouyinEvent(body, CLIENT_SECRET, 'msg-id-1');
    const { 'x-douyin-signature': _dropped, ...unsigned } = good.headers;
    return [
      { name: 'signed with another secret', ...post(signDouyinEvent(body, 'not-the-secret')) },
      {
        name: 'body changed after signing',
        ...post({ headers: good.headers, body: body.replace('发货', '退款') }),
      },
      { name: 'no signature', ...post({ headers: unsigned, body }) },
    ];
  },
  expectSent(sent, text) {
    expect(sent).toEqual([
      {
        openId: '_000biz-open-id-B',
        accessToken: expect.stringMatching(/^clt\./),
        body: buildReplyBody(
          {
            openId: '_000biz-open-id-B',
            toUserId: '_000user-open-id-A',
            conversationId: '7356000000000000001',
            msgId: '7356000000000000101',
          },
          text,
          'im_reply_msg',
        ),
      },
    ]);
  },
});
