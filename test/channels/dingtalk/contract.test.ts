/**
 * End to end through a real hub, both DingTalk receive modes:
 * - HTTP mode through the shared adapter contract (signed POST → one job → reply via the
 *   session webhook at the fake; tampered/old signs are 401; a retry gives no second reply);
 * - Stream mode: the hub starts the adapter, the real SDK connects to the fake gateway, a robot
 *   message becomes one job, is ACKed, and the reply reaches the session webhook.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dingtalkSign } from '../../../src/channels/dingtalk/verify.ts';
import { FakeDingTalk, robotMessage } from '../../fakes/dingtalk-server.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../../helpers/hub.ts';
import { adapterContract, type ContractRequest } from '../adapter-contract.ts';

const app = { clientId: 'dinge2e', clientSecret: 'e2e-app-secret' };
let fakeBase = '';
const body = () =>
  JSON.stringify(robotMessage({ msgId: 'msgE2E1', text: { content: ' 订单到哪了 ' } }, fakeBase));
let fixedBody = '';

function signed(timestamp: number, sign?: string): ContractRequest {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      timestamp: String(timestamp),
      sign: sign ?? dingtalkSign(String(timestamp), app.clientSecret),
    },
    body: fixedBody,
  };
}

adapterContract({
  type: 'dingtalk',
  async startFake() {
    const fake = await new FakeDingTalk(app).start();
    fakeBase = fake.baseUrl;
    fixedBody = body();
    const channelYaml = `id: dt
type: dingtalk
mode: http
clientId: ${app.clientId}
clientSecret: ${app.clientSecret}
apiBase: ${fake.baseUrl}
oapiBase: ${fake.baseUrl}`;
    const sent = () =>
      fake.calls
        .filter((c) => c.path === '/robot/sendBySession' || c.path.startsWith('/v1.0/robot/'))
        .map((c) => c.body);
    return { channelId: 'dt', channelYaml, fake: { sent, close: () => fake.close() } };
  },
  validCallback: () => signed(Date.now()),
  expectInbound: {
    text: '订单到哪了',
    kind: 'text',
    dedupeKey: 'dingtalk:dt:msgE2E1',
    sender: { id: 'staff001', name: '张三' },
  },
  tampered: () => [
    { name: 'bad sign', ...signed(Date.now(), dingtalkSign(String(Date.now()), 'wrong secret')) },
    { name: 'old timestamp', ...signed(Date.now() - 3_600_000 - 60_000) },
    { name: 'no sign', method: 'POST', headers: { timestamp: String(Date.now()) }, body: fixedBody },
  ],
  expectSent(sent, text) {
    expect(sent).toEqual([{ msgtype: 'text', text: { content: text } }]);
  },
});

describe('dingtalk stream mode through a real hub', () => {
  let t: TestHub;
  let fake: FakeDingTalk;
  const streamApp = { clientId: `dingstream${randomBytes(3).toString('hex')}`, clientSecret: 's' };

  beforeAll(async () => {
    vi.spyOn(console, 'info').mockImplementation(() => {}); // the SDK's "connect success"
    fake = await new FakeDingTalk(streamApp).start();
    t = await startTestHub({
      hubYaml: `channels:
  - id: ds
    type: dingtalk
    mode: stream
    clientId: ${streamApp.clientId}
    clientSecret: ${streamApp.clientSecret}
    apiBase: ${fake.baseUrl}
    oapiBase: ${fake.baseUrl}
    gatewayUrl: ${fake.gatewayUrl}
    stream: { keepAlive: false, reconnectMin: 50ms }
${FAST_QUEUE_YAML}`,
      workflows: { 'reply.yaml': 'name: r\ndefault: true\nsteps:\n  - reply: "收到：{{ message.text }}"\n' },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await fake?.close();
  });

  it('robot message → one job → ACK → reply through the session webhook; readiness shows the stream', async () => {
    await fake.waitForConnections(1, 10_000);
    const mid = fake.pushRobotMessage(
      robotMessage({ msgId: 'streamE2E', text: { content: ' 在吗 ' } }, fake.baseUrl),
    );
    await eventually(() => fake.acked.includes(mid), 'the ACK');
    const sent = await eventually(
      () => fake.calls.find((c) => c.path === '/robot/sendBySession'),
      'the reply',
    );
    expect(sent.body).toEqual({ msgtype: 'text', text: { content: '收到：在吗' } });
    const ready = (await fetch(`${t.url}/readyz`).then((r) => r.json())) as {
      checks: Record<string, unknown>;
    };
    expect(ready.checks['channel:dingtalk:ds']).toEqual({ ok: true, detail: 'connected' });
  });
});
