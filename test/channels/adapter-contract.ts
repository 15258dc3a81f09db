/**
 * The contract every webhook channel adapter must pass, run through a real hub (HTTP, Redis,
 * queue, store, workflow, outbound worker). An adapter's test file supplies a kit:
 *
 *   adapterContract({ type: 'wecom', hubChannelYaml, fixtures, tamper, startFake, ... })
 *
 * and gets, for free: a valid callback becomes exactly one InboundMessage job; the same callback
 * delivered again yields no second reply; each tampered variant is a 401 with nothing queued; the
 * reply reaches the fake platform as the exact request it expects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelType } from '../../src/channels/types.ts';
import type { InboundMessage } from '../../src/messages.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';

export interface ContractRequest {
  method: 'GET' | 'POST';
  /** Query string without `?` (already encoded as the platform sends it). */
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface FakePlatformHandle {
  /** Requests the fake received on its send endpoint(s), in order. */
  sent(): unknown[];
  close(): Promise<void>;
}

export interface AdapterContractKit {
  type: string;
  /** Extra channel types to register (when the adapter is not built in yet). */
  channelTypes?: ChannelType<any>[];
  /** Start the fake platform; returns its handle and the hub.yaml channel block pointing at it. */
  startFake(): Promise<{ fake: FakePlatformHandle; channelYaml: string; channelId: string }>;
  /** A valid callback carrying one text message. */
  validCallback(): ContractRequest | Promise<ContractRequest>;
  /** What the InboundMessage made from `validCallback` must contain. */
  expectInbound: Partial<InboundMessage> & { text: string };
  /** Variants with a broken signature/timestamp/token: each must be a 401 with nothing queued. */
  tampered(): (ContractRequest & { name: string })[] | Promise<(ContractRequest & { name: string })[]>;
  /** Check the fake received the reply `text` as the platform documents it. */
  expectSent(sent: unknown[], text: string): void;
}

const REPLY_WORKFLOW = `name: contract
default: true
steps:
  - reply: "contract reply to {{ message.text }}"
`;

export function adapterContract(kit: AdapterContractKit): void {
  describe(`${kit.type} adapter contract`, () => {
    let t: TestHub;
    let fake: FakePlatformHandle;
    let channelId: string;
    beforeAll(async () => {
      const started = await kit.startFake();
      fake = started.fake;
      channelId = started.channelId;
      t = await startTestHub({
        hubYaml: `channels:\n  - { id: web, type: web }\n${indent(started.channelYaml)}\n${FAST_QUEUE_YAML}`,
        workflows: { 'contract.yaml': REPLY_WORKFLOW },
        channelTypes: kit.channelTypes,
      });
    });
    afterAll(async () => {
      await t?.stop();
      await fake?.close();
    });

    const call = async (req: ContractRequest) => {
      const url = `${t.url}/webhooks/${kit.type}/${channelId}${req.query ? `?${req.query}` : ''}`;
      const res = await fetch(url, { method: req.method, headers: req.headers, body: req.body as BodyInit | undefined });
      return { status: res.status, text: await res.text() };
    };
    const inboundJobs = async () => {
      const jobs = await Promise.all(
        Array.from({ length: t.hub.queues.partitions }, (_, p) =>
          t.hub.queues.inboundQueue(p).getJobs(['wait', 'active', 'delayed', 'completed', 'failed']),
        ),
      );
      return jobs.flat().filter((j) => j.data.message.channel === kit.type);
    };

    it('each tampered callback is a 401 and queues nothing', async () => {
      const before = (await inboundJobs()).length;
      for (const req of await kit.tampered()) {
        const res = await call(req);
        expect(res.status, `${req.name}: ${res.text}`).toBe(401);
      }
      expect((await inboundJobs()).length).toBe(before);
    });

    it('a valid callback becomes one InboundMessage job, and its reply reaches the platform as documented', async () => {
      const res = await call(await kit.validCallback());
      expect(res.status).toBe(200);
      const jobs = await eventually(async () => {
        const found = await inboundJobs();
        return found.length > 0 ? found : undefined;
      }, 'the inbound job');
      expect(jobs).toHaveLength(1);
      const message = jobs[0]!.data.message;
      expect(message).toMatchObject({ channel: kit.type, channelId, ...kit.expectInbound });
      expect(message.dedupeKey.startsWith(`${kit.type}:${channelId}:`)).toBe(true);
      expect(message.traceId).toBeTruthy();
      const text = `contract reply to ${kit.expectInbound.text}`;
      await eventually(() => fake.sent().length > 0, 'the reply at the fake platform');
      kit.expectSent(fake.sent(), text);
    });

    it('the same callback delivered again yields no second job and no second reply', async () => {
      const again = await call(await kit.validCallback());
      expect(again.status).toBe(200);
      await new Promise((r) => setTimeout(r, 700));
      expect(await inboundJobs()).toHaveLength(1);
      expect(fake.sent()).toHaveLength(1);
    });
  });
}

function indent(yaml: string): string {
  return yaml
    .trim()
    .split('\n')
    .map((line, i) => (i === 0 ? `  - ${line}` : `    ${line}`))
    .join('\n');
}
