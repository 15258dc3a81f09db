/**
 * Dedupe outlives the job: a platform retry or replayed webhook that arrives after the first job
 * completed and was removed from Redis still yields no second reply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableId } from '../../src/messages.ts';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

describe('dedupe', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ workflows: { 'echo.yaml': ECHO_WORKFLOW } });
  });
  afterAll(async () => t?.stop());

  const draft = (id: string) => ({
    channel: 'web',
    channelId: 'web',
    platformMessageId: id,
    platformChatId: 'chat-dedupe',
    sender: { id: 'u1' },
    kind: 'text' as const,
    text: `hello ${id}`,
    replyTo: {},
  });

  it('still recognises a message after its job was removed', async () => {
    const [first] = await t.hub.ingest!([draft('p-1')]);
    expect(first?.status).toBe('queued');
    const queue = t.hub.queues.inboundQueue(t.hub.queues.partitionOf('web:web:chat-dedupe'));
    await eventually(
      async () => (await queue.getJobState(first!.id)) === 'completed',
      'the first job to complete',
    );
    await queue.remove(first!.id);
    expect(await queue.getJob(first!.id)).toBeUndefined();

    const [again] = await t.hub.ingest!([draft('p-1'), draft('p-1')]);
    expect(again?.status).toBe('duplicate');
    expect(await queue.getJob(first!.id)).toBeUndefined();
    const replies = await t.hub.store.listReplies(first!.id);
    expect(replies).toHaveLength(1);
  });

  it('concurrent deliveries of one message: exactly one is queued', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => t.hub.ingest!([draft('p-2')])),
    );
    const statuses = outcomes.map((o) => (o.status === 'fulfilled' ? o.value[0]!.status : 'retry'));
    expect(statuses.filter((s) => s === 'queued')).toHaveLength(1);
    // Others are duplicates, or were told to retry (503) while the first was being accepted.
    expect(statuses.every((s) => s === 'queued' || s === 'duplicate' || s === 'retry')).toBe(true);
    const id = stableId('m', 'web:web:p-2');
    await eventually(async () => (await t.hub.store.listReplies(id)).length === 1, 'one reply');
    await new Promise((r) => setTimeout(r, 300));
    expect(await t.hub.store.listReplies(id)).toHaveLength(1);
  });
});
