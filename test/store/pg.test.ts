/**
 * The store on a real PostgreSQL (127.0.0.1:5432 or TEST_DATABASE_URL), one throwaway database per
 * store, plus what only a multi-process server can show.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SwitchboardError } from '../../src/errors.ts';
import { migrations } from '../../src/store/migrations.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createPgExecutor } from '../../src/store/pg-executor.ts';
import { MESSAGE_ORDER_LOCK, SqlStore } from '../../src/store/sql-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { ISO, inbound, newChat, outbound } from './fixtures.ts';
import { storeContract } from './store.contract.ts';

storeContract('pg', async () => {
  const database = await createTestDatabase();
  const executor = createPgExecutor({ url: database.url });
  return {
    store: new SqlStore({ executor }),
    db: executor,
    async dispose() {
      await executor.close();
      await database.drop();
    },
  };
});

describe('pg driver', () => {
  const databases: TestDatabase[] = [];
  const stores: SqlStore[] = [];
  const freshDatabase = async () => {
    const database = await createTestDatabase();
    databases.push(database);
    return database;
  };
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(databases.map((d) => d.drop()));
  });

  it('migrates once when several processes start on one fresh database at the same time', async () => {
    const { url } = await freshDatabase();
    // Separate pools stand in for separate processes: they only meet in the database.
    const many = Array.from(
      { length: 4 },
      () => new SqlStore({ executor: createPgExecutor({ url, maxConnections: 2 }) }),
    );
    stores.push(...many);
    await Promise.all(many.map((s) => s.migrate()));
    const rows = await many[0]!.db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  });

  it('openStore connects through DATABASE_URL, migrates, and reports the pg driver', async () => {
    const { url } = await freshDatabase();
    const store = (await openStore({ databaseUrl: url, dataDir: '/nonexistent' })) as SqlStore;
    stores.push(store);
    expect(store.driver).toBe('pg');
    const tables = await store.db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      'agent_sessions',
      'agents',
      'conversation_events',
      'conversations',
      'deliveries',
      'kb_entries',
      'kb_state',
      'messages',
      'schema_migrations',
      'workflow_runs',
    ]);
  });

  it('returns timestamps as UTC ISO strings whatever the session time zone', async () => {
    const { url } = await freshDatabase();
    const shanghai = new URL(url);
    shanghai.searchParams.set('options', '-c TimeZone=Asia/Shanghai');
    const store = new SqlStore({ executor: createPgExecutor({ url: shanghai.toString() }) });
    stores.push(store);
    await store.migrate();
    const [zone] = await store.db.query<{ tz: string }>('SELECT current_setting($1) AS tz', ['TimeZone']);
    expect(zone?.tz).toBe('Asia/Shanghai');

    const before = Date.now();
    const chat = newChat();
    const c = await store.ensureConversation({ id: chat.conversationId, channel: 'web', channelId: 'site' });
    expect(c.createdAt).toMatch(ISO);
    // A mis-parsed offset would be off by eight hours.
    expect(Math.abs(Date.parse(c.createdAt) - before)).toBeLessThan(60_000);
  });

  it('records a message only after an uncommitted write to the same conversation commits (seq = commit order)', async () => {
    const { url } = await freshDatabase();
    const store = new SqlStore({ executor: createPgExecutor({ url }) });
    stores.push(store);
    await store.migrate();
    const chat = newChat();
    const other = newChat();
    const elsewhere = inbound(other, 'other conversation');

    // Another writer of this conversation, mid-transaction.
    const { settled } = await store.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        MESSAGE_ORDER_LOCK,
        chat.conversationId,
      ]);
      const pending = [
        store.recordInbound(inbound(chat, 'waits')),
        store.recordOutbound(outbound(chat, 'waits too')),
      ];
      const settled = Promise.all(pending).then(() => 'done');
      // Other conversations are not held up.
      expect(await store.recordInbound(elsewhere)).toBe(true);
      expect(await Promise.race([settled, new Promise((r) => setTimeout(r, 150, 'blocked'))])).toBe(
        'blocked',
      );
      return { settled }; // wrapped: awaiting it here would wait for our own commit
    });
    expect(await settled).toBe('done');
    expect((await store.listMessages(chat.conversationId)).map((m) => m.text).sort()).toEqual([
      'waits',
      'waits too',
    ]);
  });

  it('fails with one clear line, without the password, when PostgreSQL is unreachable', async () => {
    const error = await openStore({
      databaseUrl: 'postgres://sb:s3cret@127.0.0.1:1/switchboard',
      dataDir: '/tmp',
    }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SwitchboardError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^cannot reach PostgreSQL at postgres:\/\/sb@127\.0\.0\.1:1\/switchboard: .*ECONNREFUSED/,
    );
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('\n');
  });
});
