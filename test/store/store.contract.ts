/**
 * The contract every store driver passes (src/store/types.ts). A driver's test file calls
 * `storeContract(name, makeStore)` with a factory of stores on fresh, empty databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.ts';
import type { Executor } from '../../src/store/executor.ts';
import { migrate } from '../../src/store/migrate.ts';
import { migrations } from '../../src/store/migrations.ts';
import type { Store } from '../../src/store/types.ts';
import { ISO, inbound, newChat, outbound, run, uniq } from './fixtures.ts';

export interface ContractStore {
  /** Not migrated yet. */
  store: Store;
  /** The executor under `store`, to look at the schema directly. */
  db: Executor;
  /** Closes the store and removes its database. */
  dispose(): Promise<void>;
}

export function storeContract(name: string, makeStore: () => Promise<ContractStore>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const disposers: Array<() => Promise<void>> = [];
    const fresh = async (): Promise<ContractStore> => {
      const made = await makeStore();
      disposers.push(made.dispose);
      return made;
    };

    beforeAll(async () => {
      store = (await fresh()).store;
      await store.migrate();
    });
    afterAll(async () => {
      await Promise.all(disposers.map((d) => d()));
    });

    describe('migrations', () => {
      it('applies every migration once; a second migrate() is a no-op that keeps data', async () => {
        const { store: s, db } = await fresh();
        expect(s.driver).toBe(name);
        expect((await migrate(db, migrations)).applied).toEqual(migrations.map((m) => m.version));
        const chat = newChat();
        await s.ensureConversation({ id: chat.conversationId, channel: 'web', channelId: 'site' });
        const before = await db.query(
          'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
        );

        expect((await migrate(db, migrations)).applied).toEqual([]);
        await s.migrate();
        expect(
          await db.query(
            'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
          ),
        ).toEqual(before);
        expect(await s.getConversation(chat.conversationId)).not.toBeNull();
      });

      it('concurrent migrate() calls on one store both succeed and apply each version once', async () => {
        const { store: s, db } = await fresh();
        await Promise.all([s.migrate(), s.migrate()]);
        const rows = await db.query<{ version: number }>(
          'SELECT version FROM schema_migrations ORDER BY version',
        );
        expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      });

      it('applies a migration appended later, and rolls a failing one back whole', async () => {
        const { db } = await fresh();
        await migrate(db, migrations);
        const next = migrations.length + 1;
        const added = [
          ...migrations,
          {
            version: next,
            name: 'extra',
            sql: 'CREATE TABLE extra_a (x int); CREATE TABLE extra_b (y int);',
          },
        ];
        expect((await migrate(db, added)).applied).toEqual([next]);
        await db.query('INSERT INTO extra_b (y) VALUES (1)');

        const broken = [
          ...added,
          { version: next + 1, name: 'broken', sql: 'CREATE TABLE extra_c (x int); SELECT 1/0;' },
        ];
        await expect(migrate(db, broken)).rejects.toThrow(/division by zero/);
        const tables = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'extra_c'");
        expect(tables).toEqual([]);
        const versions = await db.query<{ version: number }>(
          'SELECT version FROM schema_migrations ORDER BY version',
        );
        expect(versions.map((r) => r.version)).toEqual(added.map((m) => m.version));
      });
    });

    describe('conversations', () => {
      it('ensureConversation inserts once and then returns the stored row unchanged', async () => {
        const chat = newChat();
        const created = await store.ensureConversation({
          id: chat.conversationId,
          channel: 'web',
          channelId: 'site',
          meta: { visitor: { name: '小王' } },
        });
        expect(created).toMatchObject({
          id: chat.conversationId,
          channel: 'web',
          channelId: 'site',
          state: 'bot',
          assignee: null,
          handoffQueue: null,
          meta: { visitor: { name: '小王' } },
          closedAt: null,
        });
        expect(created.createdAt).toMatch(ISO);
        expect(created.updatedAt).toMatch(ISO);

        const again = await store.ensureConversation({
          id: chat.conversationId,
          channel: 'x',
          channelId: 'y',
          meta: { other: 1 },
        });
        expect(again).toEqual(created);
        expect(await store.getConversation(chat.conversationId)).toEqual(created);
        expect(await store.getConversation(uniq('missing'))).toBeNull();
      });

      it('concurrent ensureConversation calls all return the one row', async () => {
        const chat = newChat();
        const rows = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.ensureConversation({
              id: chat.conversationId,
              channel: 'web',
              channelId: 'site',
              meta: { i },
            }),
          ),
        );
        expect(new Set(rows.map((r) => JSON.stringify(r))).size).toBe(1);
      });

      it('transitionConversation is a compare-and-set with an optional patch', async () => {
        const chat = newChat();
        await store.ensureConversation({ id: chat.conversationId, channel: 'web', channelId: 'site' });

        expect(await store.transitionConversation(chat.conversationId, ['agent'], 'closed')).toBeNull();
        expect((await store.getConversation(chat.conversationId))?.state).toBe('bot');
        expect(await store.transitionConversation(uniq('missing'), ['bot'], 'queued')).toBeNull();

        const queued = await store.transitionConversation(chat.conversationId, ['bot'], 'queued', {
          handoffQueue: 'after-sales',
        });
        expect(queued).toMatchObject({
          state: 'queued',
          handoffQueue: 'after-sales',
          assignee: null,
          closedAt: null,
        });

        const taken = await store.transitionConversation(chat.conversationId, ['queued'], 'agent', {
          assignee: 'alice',
        });
        expect(taken).toMatchObject({ state: 'agent', assignee: 'alice', handoffQueue: 'after-sales' });

        const back = await store.transitionConversation(chat.conversationId, ['agent'], 'bot', {
          assignee: null,
          handoffQueue: null,
        });
        expect(back).toMatchObject({ state: 'bot', assignee: null, handoffQueue: null });
        expect(await store.getConversation(chat.conversationId)).toEqual(back);
      });

      it('two concurrent claims queued → agent: exactly one wins', async () => {
        const chat = newChat();
        await store.ensureConversation({ id: chat.conversationId, channel: 'web', channelId: 'site' });
        await store.transitionConversation(chat.conversationId, ['bot'], 'queued', { handoffQueue: 'vip' });

        const claims = await Promise.all(
          ['alice', 'bob', 'carol'].map((agent) =>
            store.transitionConversation(chat.conversationId, ['queued'], 'agent', { assignee: agent }),
          ),
        );
        const winners = claims.filter((c) => c !== null);
        expect(winners).toHaveLength(1);
        expect((await store.getConversation(chat.conversationId))?.assignee).toBe(winners[0]?.assignee);
      });

      it('closing sets closedAt (kept when closed again), reopening clears it', async () => {
        const chat = newChat();
        await store.ensureConversation({ id: chat.conversationId, channel: 'web', channelId: 'site' });
        const closed = await store.transitionConversation(
          chat.conversationId,
          ['bot', 'queued', 'agent'],
          'closed',
        );
        expect(closed?.closedAt).toMatch(ISO);
        const closedAgain = await store.transitionConversation(chat.conversationId, ['closed'], 'closed');
        expect(closedAgain?.closedAt).toBe(closed?.closedAt);
        const reopened = await store.transitionConversation(chat.conversationId, ['closed'], 'bot');
        expect(reopened).toMatchObject({ state: 'bot', closedAt: null });
      });

      it('updateConversationMeta merges shallowly and bumps updatedAt', async () => {
        const chat = newChat();
        const created = await store.ensureConversation({
          id: chat.conversationId,
          channel: 'web',
          channelId: 'site',
          meta: { a: 1, nested: { x: 1 }, keep: '保留' },
        });
        await store.updateConversationMeta(chat.conversationId, { b: 2, nested: { y: 2 }, a: null });
        const updated = await store.getConversation(chat.conversationId);
        expect(updated?.meta).toEqual({ a: null, b: 2, nested: { y: 2 }, keep: '保留' });
        expect(Date.parse(updated?.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
        await expect(store.updateConversationMeta(uniq('missing'), { a: 1 })).rejects.toBeInstanceOf(
          NotFoundError,
        );
      });
    });

    describe('messages', () => {
      it('recordInbound stores the message once (a redelivery returns false)', async () => {
        const chat = newChat();
        const m = inbound(chat, '你好，我想退货');
        expect(await store.recordInbound(m)).toBe(true);
        expect(await store.recordInbound(m)).toBe(false);

        const stored = await store.getMessage(m.id);
        expect(stored).toMatchObject({
          id: m.id,
          conversationId: chat.conversationId,
          direction: 'in',
          kind: 'text',
          text: '你好，我想退货',
          inReplyTo: null,
          author: 'visitor',
          traceId: m.traceId,
        });
        // toEqual, not toMatchObject: JSON has no `undefined`, absent optional fields stay absent.
        expect(stored?.payload).toEqual(m);
        expect(typeof stored?.seq).toBe('number');
        expect(stored?.createdAt).toMatch(ISO);
        expect(await store.listMessages(chat.conversationId)).toHaveLength(1);
        expect(await store.getMessage(uniq('missing'))).toBeNull();
      });

      it('recordOutbound stores the message and a queued delivery once per idempotency key', async () => {
        const chat = newChat();
        const question = inbound(chat, 'where is my order?');
        await store.recordInbound(question);
        const reply = outbound(chat, 'It ships today.', { inReplyTo: question.id, author: 'agent' });

        expect(await store.recordOutbound(reply)).toBe(true);
        expect(await store.recordOutbound(reply)).toBe(false);
        // A re-run workflow builds the same key again with a fresh createdAt: still the same reply.
        expect(
          await store.recordOutbound({ ...reply, createdAt: new Date(Date.now() + 1000).toISOString() }),
        ).toBe(false);

        expect(await store.getMessage(reply.id)).toMatchObject({
          direction: 'out',
          author: 'agent',
          inReplyTo: question.id,
          text: 'It ships today.',
          traceId: reply.traceId,
        });
        expect((await store.getMessage(reply.id))?.payload).toEqual(reply);
        const delivery = await store.getDelivery(reply.idempotencyKey);
        expect(delivery).toEqual({
          idempotencyKey: reply.idempotencyKey,
          messageId: reply.id,
          conversationId: chat.conversationId,
          channel: 'web',
          channelId: 'site',
          status: 'queued',
          attempts: 0,
          lastError: null,
          platformMessageId: null,
          updatedAt: expect.stringMatching(ISO),
          sentAt: null,
        });
        expect(await store.listReplies(question.id)).toHaveLength(1);
      });

      it('concurrent recordInbound / recordOutbound of one message: exactly one true', async () => {
        const chat = newChat();
        const m = inbound(chat, 'hi');
        const r = outbound(chat, 'hello');
        const results = await Promise.all([
          ...Array.from({ length: 4 }, () => store.recordInbound(m)),
          ...Array.from({ length: 4 }, () => store.recordOutbound(r)),
        ]);
        expect(results.slice(0, 4).filter(Boolean)).toHaveLength(1);
        expect(results.slice(4).filter(Boolean)).toHaveLength(1);
        expect(await store.listMessages(chat.conversationId)).toHaveLength(2);
      });

      it('listMessages returns one conversation in recorded order, after afterSeq, at most limit', async () => {
        const chat = newChat();
        const other = newChat();
        const q1 = inbound(chat, 'q1');
        const a1 = outbound(chat, 'a1', { inReplyTo: q1.id });
        const q2 = inbound(chat, 'q2');
        const a2 = outbound(chat, 'a2', { inReplyTo: q2.id, author: 'system' });
        await store.recordInbound(q1);
        await store.recordOutbound(a1);
        await store.recordInbound(inbound(other, 'elsewhere'));
        await store.recordInbound(q2);
        await store.recordOutbound(a2);

        const all = await store.listMessages(chat.conversationId);
        expect(all.map((m) => m.text)).toEqual(['q1', 'a1', 'q2', 'a2']);
        expect(all.map((m) => m.author)).toEqual(['visitor', 'bot', 'visitor', 'system']);
        const seqs = all.map((m) => m.seq);
        expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(4);

        const after = await store.listMessages(chat.conversationId, { afterSeq: seqs[1] });
        expect(after.map((m) => m.text)).toEqual(['q2', 'a2']);
        expect((await store.listMessages(chat.conversationId, { limit: 1 })).map((m) => m.text)).toEqual([
          'q1',
        ]);
        expect(
          (await store.listMessages(chat.conversationId, { afterSeq: seqs[0], limit: 2 })).map((m) => m.text),
        ).toEqual(['a1', 'q2']);
        expect(await store.listMessages(chat.conversationId, { afterSeq: seqs[3] })).toEqual([]);
      });

      it('listReplies returns the outbound answers of one inbound message in order', async () => {
        const chat = newChat();
        const q = inbound(chat, 'q');
        await store.recordInbound(q);
        await store.recordOutbound(outbound(chat, 'first', { inReplyTo: q.id }));
        await store.recordOutbound(outbound(chat, 'unrelated'));
        await store.recordOutbound(outbound(chat, 'second', { inReplyTo: q.id }));

        const replies = await store.listReplies(q.id);
        expect(replies.map((m) => m.text)).toEqual(['first', 'second']);
        expect(replies.every((m) => m.direction === 'out')).toBe(true);
        expect(await store.listReplies(uniq('missing'))).toEqual([]);
      });

      it('round-trips payload JSON exactly: 64-bit id strings, Chinese, emoji, nesting', async () => {
        const chat = newChat();
        const raw = {
          MsgId: '7234567890123456789',
          FromUserName: 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M',
          Content: '请问这个订单什么时候发货？🚚',
          list: [1, 2.5, null, true, { 嵌套: ['数组', ''] }],
          escaped: 'line1\nline2\t"quoted" \\ back',
        };
        const m = inbound(chat, raw.Content, { raw });
        await store.recordInbound(m);
        const stored = await store.getMessage(m.id);
        expect(stored?.payload).toEqual(m);
        expect((stored?.payload as typeof m | undefined)?.raw).toEqual(raw);
        expect(stored?.text).toBe('请问这个订单什么时候发货？🚚');
      });

      it('records text and payloads holding characters PostgreSQL rejects (NUL, lone surrogate)', async () => {
        const chat = newChat();
        const m = inbound(chat, 'nul\u0000here', { raw: { bad: 'x\u0000y', half: 'a\uD800b' } });
        expect(await store.recordInbound(m)).toBe(true);
        const stored = await store.getMessage(m.id);
        expect(stored?.text).toBe('nulhere');
        expect((stored?.payload as typeof m | undefined)?.raw).toEqual({ bad: 'xy', half: 'a\uFFFDb' });
      });
    });

    describe('deliveries', () => {
      it('follows queued → sending → failed → sending → sent, counting attempts', async () => {
        const chat = newChat();
        const reply = outbound(chat, 'hello');
        await store.recordOutbound(reply);
        const key = reply.idempotencyKey;

        await store.updateDelivery(key, 'sending');
        expect(await store.getDelivery(key)).toMatchObject({ status: 'sending', attempts: 1, sentAt: null });

        await store.updateDelivery(key, 'failed', { lastError: 'HTTP 502 from platform' });
        expect(await store.getDelivery(key)).toMatchObject({
          status: 'failed',
          attempts: 1,
          lastError: 'HTTP 502 from platform',
        });

        await store.updateDelivery(key, 'sending');
        expect(await store.getDelivery(key)).toMatchObject({
          status: 'sending',
          attempts: 2,
          lastError: 'HTTP 502 from platform',
        });

        await store.updateDelivery(key, 'sent', {
          platformMessageId: '9223372036854775807',
          lastError: null,
        });
        const sent = await store.getDelivery(key);
        expect(sent).toMatchObject({
          status: 'sent',
          attempts: 2,
          lastError: null,
          platformMessageId: '9223372036854775807',
        });
        expect(sent?.sentAt).toMatch(ISO);
        expect(sent?.updatedAt).toMatch(ISO);
      });

      it('counts concurrent sending updates without losing one', async () => {
        const reply = outbound(newChat(), 'hello');
        await store.recordOutbound(reply);
        await Promise.all(
          Array.from({ length: 5 }, () => store.updateDelivery(reply.idempotencyKey, 'sending')),
        );
        expect((await store.getDelivery(reply.idempotencyKey))?.attempts).toBe(5);
      });

      it('startDelivery marks sending, or held behind an earlier waiting reply of the conversation', async () => {
        const chat = newChat();
        const [first, second, third] = ['one', 'two', 'three'].map((text) => outbound(chat, text));
        for (const reply of [first!, second!, third!]) await store.recordOutbound(reply);
        const other = outbound(newChat(), 'elsewhere');
        await store.recordOutbound(other);
        const ref = (m: typeof other) => ({
          idempotencyKey: m.idempotencyKey,
          conversationId: m.conversationId,
          messageId: m.id,
        });
        const start = (m: typeof other, windowMs = 60_000) => store.startDelivery(ref(m), windowMs);

        expect(await start(first!)).toBe('sending'); // nothing earlier
        expect(await store.getDelivery(first!.idempotencyKey)).toMatchObject({
          status: 'sending',
          attempts: 1,
        });
        await store.updateDelivery(first!.idempotencyKey, 'failed', { lastError: 'HTTP 502' });

        expect(await start(second!, 0)).toBe('sending'); // window 0: ordering off
        await store.updateDelivery(second!.idempotencyKey, 'queued');
        expect(await start(second!)).toBe('held');
        expect(await store.getDelivery(second!.idempotencyKey)).toMatchObject({
          status: 'held',
          attempts: 1, // a hold is not an attempt
          lastError: expect.stringMatching(/earlier reply/),
        });
        expect(await start(other)).toBe('sending'); // other conversations do not wait
        expect(await start(third!)).toBe('held');
        expect(await store.firstHeldReply(chat.conversationId)).toBe(second!.id); // lowest seq first
        expect(await store.firstHeldReply(other.conversationId)).toBeNull();

        expect(await start(first!)).toBe('sending'); // the retry of the earliest never waits
        await store.updateDelivery(first!.idempotencyKey, 'sent');
        expect(await start(first!)).toBe('sent'); // left as it is
        expect((await store.getDelivery(first!.idempotencyKey))?.attempts).toBe(2);
        expect(await start(third!)).toBe('held'); // still behind the held `second`
        expect(await start(second!)).toBe('sending');
        await store.updateDelivery(second!.idempotencyKey, 'dead');
        expect(await start(third!)).toBe('sending'); // a dead-lettered reply holds nothing
        expect(await store.startDelivery({ ...ref(other), idempotencyKey: uniq('missing') }, 0)).toBeNull();
      });

      it('startDelivery takes a waiting reply untouched for longer than the window as abandoned', async () => {
        const chat = newChat();
        const [first, second] = ['one', 'two'].map((text) => outbound(chat, text));
        for (const reply of [first!, second!]) await store.recordOutbound(reply);
        await store.updateDelivery(first!.idempotencyKey, 'failed');
        const ref = {
          idempotencyKey: second!.idempotencyKey,
          conversationId: chat.conversationId,
          messageId: second!.id,
        };
        expect(await store.startDelivery(ref, 60_000)).toBe('held');
        await new Promise((r) => setTimeout(r, 30));
        expect(await store.startDelivery(ref, 5)).toBe('sending');
      });

      it('rejects an unknown key and returns null for it', async () => {
        await expect(store.updateDelivery(uniq('missing'), 'sent')).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.getDelivery(uniq('missing'))).toBeNull();
      });
    });

    describe('workflow runs', () => {
      it('saveRun upserts by id and round-trips the steps', async () => {
        const chat = newChat();
        const first = run(chat, uniq('m'), { status: 'failed', error: 'llm timed out' });
        await store.saveRun(first);
        expect(await store.listRuns({ conversationId: chat.conversationId })).toEqual([first]);

        const retried = { ...first, status: 'ok' as const, error: null, durationMs: 1234.5, steps: [] };
        await store.saveRun(retried);
        expect(await store.listRuns({ conversationId: chat.conversationId })).toEqual([retried]);
      });

      it('listRuns filters by conversation and inbound message, newest first, up to limit', async () => {
        const chat = newChat();
        const other = newChat();
        const t = Date.now();
        const at = (s: number) => new Date(t + s * 1000).toISOString();
        const [in1, in2] = [uniq('m'), uniq('m')];
        const r1 = run(chat, in1, { startedAt: at(1) });
        const r2 = run(chat, in2, { startedAt: at(2) });
        const r3 = run(chat, in2, { startedAt: at(3), status: 'handoff' });
        const elsewhere = run(other, in2, { startedAt: at(4) });
        for (const r of [r2, elsewhere, r1, r3]) await store.saveRun(r);

        const ids = (runs: Array<{ id: string }>) => runs.map((r) => r.id);
        expect(ids(await store.listRuns({ conversationId: chat.conversationId }))).toEqual([
          r3.id,
          r2.id,
          r1.id,
        ]);
        expect(
          ids(await store.listRuns({ conversationId: chat.conversationId, inboundMessageId: in2 })),
        ).toEqual([r3.id, r2.id]);
        expect(ids(await store.listRuns({ conversationId: chat.conversationId, limit: 1 }))).toEqual([r3.id]);
        expect(ids(await store.listRuns({ inboundMessageId: in2 }))).toEqual([elsewhere.id, r3.id, r2.id]);
        expect((await store.listRuns({ limit: 2 })).length).toBeLessThanOrEqual(2);
      });
    });

    it('ping answers while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
