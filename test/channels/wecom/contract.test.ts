/**
 * End to end through a real hub (HTTP route, Redis, queue, store, workflow, outbound worker):
 * the official WeCom encrypted message POSTed to /webhooks/wecom/:id → one InboundMessage job →
 * the reply arrives at the fake WeCom API as message/send. Plus the shared adapter contract:
 * tampered callbacks are 401 with nothing queued, a platform retry yields no second reply.
 */
import { encrypt, getSignature } from '@wecom/crypto';
import { expect } from 'vitest';
import { FakeWeComApi } from '../../fakes/wecom-api.ts';
import { adapterContract, type ContractRequest } from '../adapter-contract.ts';
import { vectors } from './helpers.ts';

const M = vectors.decryptMsg_official;

function post(query: Record<string, string>, body: string): ContractRequest {
  return {
    method: 'POST',
    query: new URLSearchParams(query).toString(),
    headers: { 'content-type': 'text/xml' },
    body,
  };
}

const official = { msg_signature: M.msg_signature, timestamp: M.timestamp, nonce: M.nonce };

adapterContract({
  type: 'wecom',
  async startFake() {
    const fake = await new FakeWeComApi({ corpId: M.receiveid, secrets: ['e2e-secret'] }).start();
    // The official vector was signed in 2014: the replay window is switched off for this hub
    // (timestampTolerance: 0) so the real request can be replayed as-is.
    const channelYaml = `id: wc
type: wecom
corpId: ${M.receiveid}
agentId: 218
token: ${M.token}
encodingAESKey: ${M.encodingAESKey}
secret: e2e-secret
apiBase: ${fake.baseUrl}
timestampTolerance: 0`;
    return {
      channelId: 'wc',
      channelYaml,
      fake: { sent: () => fake.delivered.map((d) => d.body), close: () => fake.close() },
    };
  },
  validCallback: () => post(official, M.body_xml),
  expectInbound: {
    text: 'hello',
    kind: 'text',
    dedupeKey: 'wecom:wc:4561255354251345929',
    sender: { id: 'mycreate' },
    conversationId: 'wecom:wc:app:218:mycreate',
  },
  tampered() {
    const otherId = encrypt(M.encodingAESKey, M.expected_plaintext, `${M.receiveid.slice(0, -1)}8`);
    const otherIdBody = M.body_xml.replace(M.encrypt, otherId);
    return [
      {
        name: 'signature',
        ...post({ ...official, msg_signature: `0${M.msg_signature.slice(1)}` }, M.body_xml),
      },
      { name: 'timestamp', ...post({ ...official, timestamp: String(Number(M.timestamp) + 1) }, M.body_xml) },
      { name: 'ciphertext', ...post(official, M.body_xml.replace('RypEv', 'RypEw')) },
      {
        name: 'receive id',
        ...post(
          { ...official, msg_signature: getSignature(M.token, M.timestamp, M.nonce, otherId) },
          otherIdBody,
        ),
      },
      { name: 'no signature', ...post({ timestamp: M.timestamp, nonce: M.nonce }, M.body_xml) },
    ];
  },
  expectSent(sent, text) {
    expect(sent).toEqual([
      { touser: 'mycreate', agentid: 218, safe: 0, msgtype: 'text', text: { content: text } },
    ]);
  },
});
