/**
 * The hand-off state machine on the real store (PostgreSQL and PGlite): every allowed move, every
 * refused one, the event log, and the atomic claim — many agents claiming one conversation at
 * once, exactly one wins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentIdentity } from '../../src/agents/agent-auth.ts';
import type { EventBus } from '../../src/events/event-bus.ts';
import { HandoffService } from '../../src/handoff/handoff-service.ts';
import { sweepIdle } from '../../src/handoff/idle-sweeper.ts';
import { toInboundMessage } from '../../src/messages.ts';
import { createPgExecutor } from '../../src/store/pg-executor.ts';
import { createPgliteExecutor } from '../../src/store/pglite-executor.ts';
import { SqlStore } from '../../src/store/sql-store.ts';
import { createTestDatabase } from '../helpers/pg.ts';

const agent = (id: string, role: 'agent' | 'admin' = 'agent'): AgentIdentity => ({
  id,
  name: id.toUpperCase(),
  role,
});

describe.each(['pg', 'pglite'] as const)('hand-off state machine (%s)', (driver) => {
  let store: SqlStore;
  let dispose: () => Promise<void>;
  const published: { conversationId: string; type: string; state?: string }[] = [];
  const bus = {
    publish: async (conversationId: string, event: { type: string; state?: string }) =>
      void published.push({ conversationId, ...event }),
  } as unknown as EventBus;
  let service: HandoffService;
  let n = 0;
  const conversation = async (state: 'bot' | 'queued' = 'bot') => {
    const id = `test:x:${driver}-${++n}`;
    await store.ensureConversation({ id, channel: 'test', channelId: 'x' });
    if (state === 'queued') await service.enqueue(id, { queue: 'general', actor: 'keyword' });
    return id;
  };

  beforeAll(async () => {
    if (driver === 'pg') {
      const db = await createTestDatabase();
      const executor = createPgExecutor({ url: db.url, maxConnections: 10 });
      store = new SqlStore({ executor });
      dispose = async () => {
        await executor.close();
        await db.drop();
      };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'sb-handoff-'));
      const executor = await createPgliteExecutor({ dataDir: dir });
      store = new SqlStore({ executor });
      dispose = async () => {
        await executor.close();
        rmSync(dir, { recursive: true, force: true });
      };
    }
    await store.migrate();
    service = new HandoffService({ store, bus, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => dispose?.());

  it('two concurrent claims: exactly one wins, one event is logged', async () => {
    const id = await conversation('queued');
    const results = await Promise.allSettled([
      service.claim(id, agent('ann')),
      service.claim(id, agent('ben')),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toMatchObject({ code: 'conflict', status: 409 });
    const owner = (await store.getConversation(id))!.assignee;
    expect(['ann', 'ben']).toContain(owner);
    const claims = (await store.listHandoffEvents(id)).filter((e) => e.type === 'claimed');
    expect(claims).toEqual([
      expect.objectContaining({ actor: owner, fromState: 'queued', toState: 'agent' }),
    ]);
  });

  it('twenty agents racing for one conversation: one owner', async () => {
    const id = await conversation('queued');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => service.claim(id, agent(`a${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await store.listHandoffEvents(id)).filter((e) => e.type === 'claimed')).toHaveLength(1);
  });

  it('walks bot → queued → agent → transfer → release → bot, and refuses moves out of turn', async () => {
    const id = await conversation();
    expect(await service.enqueue(id, { queue: 'vip', reason: 'asked', actor: 'keyword' })).toMatchObject({
      state: 'queued',
      handoffQueue: 'vip',
    });
    expect(await service.enqueue(id, { queue: 'vip', actor: 'keyword' })).toBeNull(); // already queued
    await expect(service.release(id, agent('ann'))).rejects.toMatchObject({ status: 409 });
    await service.claim(id, agent('ann'));
    await expect(service.claim(id, agent('ben'))).rejects.toMatchObject({
      status: 409,
      details: { state: 'agent', assignee: 'ann' },
    });
    await expect(service.release(id, agent('ben'))).rejects.toMatchObject({ status: 409 }); // not ben's
    await expect(service.transfer(id, agent('ben'), { agent: agent('cy') })).rejects.toMatchObject({
      status: 409,
    });
    expect(await service.transfer(id, agent('ann'), { agent: agent('ben') })).toMatchObject({
      state: 'agent',
      assignee: 'ben',
    });
    expect(await service.transfer(id, agent('ben'), { queue: 'billing' })).toMatchObject({
      state: 'queued',
      assignee: null,
      handoffQueue: 'billing',
    });
    await service.claim(id, agent('cy'));
    expect(await service.release(id, agent('admin', 'admin'), { force: true })).toMatchObject({
      state: 'bot',
      assignee: null,
      handoffQueue: null,
    });
    const events = (await store.listHandoffEvents(id)).map((e) => [
      e.type,
      e.actor,
      e.fromState,
      e.toState,
      e.data,
    ]);
    expect(events).toEqual([
      ['queued', 'keyword', 'bot', 'queued', { queue: 'vip', reason: 'asked' }],
      ['claimed', 'ann', 'queued', 'agent', {}],
      ['transferred', 'ann', 'agent', 'agent', { to: 'ben' }],
      ['transferred', 'ben', 'agent', 'queued', { queue: 'billing' }],
      ['claimed', 'cy', 'queued', 'agent', {}],
      ['released', 'admin', 'agent', 'bot', {}],
    ]);
    expect(published.filter((p) => p.conversationId === id).map((p) => p.state)).toEqual([
      'queued',
      'agent',
      'agent',
      'queued',
      'agent',
      'bot',
    ]);
  });

  it('close: queued or own conversations only (admins any); closed stays closed', async () => {
    const id = await conversation('queued');
    await service.claim(id, agent('ann'));
    await expect(service.close(id, agent('ben'))).rejects.toMatchObject({ status: 409 });
    expect(await service.close(id, agent('ann'))).toMatchObject({ state: 'closed', assignee: null });
    await expect(service.close(id, agent('ann'))).rejects.toMatchObject({ status: 409 });
    await expect(service.claim(id, agent('ann'))).rejects.toMatchObject({ status: 409 });
    const other = await conversation('queued');
    expect(await service.close(other, agent('ben'))).toMatchObject({ state: 'closed' });
  });

  it('the console preview of a message without text names its kind', async () => {
    const id = await conversation('queued');
    const chat = id.split(':').pop()!;
    const image = toInboundMessage({
      channel: 'test',
      channelId: 'x',
      platformMessageId: `${chat}-img`,
      platformChatId: chat,
      sender: { id: 'buyer' },
      kind: 'image',
      attachments: [{ mediaId: 'MEDIA-1' }],
      replyTo: {},
    });
    expect(image.conversationId).toBe(id);
    await store.recordInbound(image);
    const [listed] = (await store.listConversations({ states: ['queued'] })).filter((c) => c.id === id);
    expect(listed?.lastMessage?.text).toBe('[image]');
  });

  it('an idle agent conversation returns to the bot once; an active one stays', async () => {
    const idle = await conversation('queued');
    await service.claim(idle, agent('ann'));
    const busy = await conversation('queued');
    await service.claim(busy, agent('ben'));
    const later = Date.now() + 60_000;
    // Both are idle as seen a minute from now, with a 30 s timeout…
    await store.db.query(
      "UPDATE conversations SET updated_at = now() + interval '59 seconds' WHERE id = $1",
      [busy],
    );
    const returned = await Promise.all([
      sweepIdle({ store, service, idleMs: 30_000 }, later),
      sweepIdle({ store, service, idleMs: 30_000 }, later),
    ]);
    expect(returned.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect((await store.getConversation(idle))?.state).toBe('bot');
    expect((await store.getConversation(busy))?.state).toBe('agent');
    expect((await store.listHandoffEvents(idle)).filter((e) => e.type === 'timed_out')).toEqual([
      expect.objectContaining({ actor: 'system', data: { agent: 'ann', idleMs: 30_000 } }),
    ]);
  });
});
