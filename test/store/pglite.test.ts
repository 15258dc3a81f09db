/** The store on embedded PGlite, each store in its own temporary data directory. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SwitchboardError } from '../../src/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createPgliteExecutor } from '../../src/store/pglite-executor.ts';
import { SqlStore } from '../../src/store/sql-store.ts';
import { newChat } from './fixtures.ts';
import { storeContract } from './store.contract.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-pglite-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// A new PGlite directory costs an initdb (~3 s); a copy of an empty one opens in ~0.5 s.
vi.setConfig({ testTimeout: 15_000, hookTimeout: 30_000 });
let template: Promise<string> | undefined;
/** A fresh, empty (not migrated) PGlite data directory at `dir`. */
async function emptyDataDir(dir = tempDir()): Promise<string> {
  template ??= (async () => {
    const tpl = tempDir();
    await (await createPgliteExecutor({ dataDir: tpl })).close();
    return tpl;
  })();
  cpSync(await template, dir, { recursive: true });
  return dir;
}

storeContract('pglite', async () => {
  const executor = await createPgliteExecutor({ dataDir: await emptyDataDir() });
  return { store: new SqlStore({ executor }), db: executor, dispose: () => executor.close() };
});

describe('pglite driver', () => {
  it('openStore without DATABASE_URL keeps its data in <dataDir>/pglite across restarts', async () => {
    const dataDir = tempDir();
    await emptyDataDir(join(dataDir, 'pglite'));
    const chat = newChat();
    const first = await openStore({ dataDir });
    expect(first.driver).toBe('pglite');
    await first.ensureConversation({
      id: chat.conversationId,
      channel: 'web',
      channelId: 'site',
      meta: { n: 1 },
    });
    await first.close();
    await first.close();

    const second = await openStore({ dataDir });
    try {
      expect((await second.getConversation(chat.conversationId))?.meta).toEqual({ n: 1 });
    } finally {
      await second.close();
    }
  });

  it('refuses a data directory another store holds open, and frees it on close', async () => {
    const dataDir = tempDir();
    await emptyDataDir(join(dataDir, 'pglite'));
    const first = await openStore({ dataDir });
    try {
      const error = await openStore({ dataDir }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(SwitchboardError);
      expect((error as SwitchboardError).code).toBe('store_locked');
      expect((error as Error).message).toContain(`process ${process.pid}`);
    } finally {
      await first.close();
    }
    const again = await openStore({ dataDir });
    await again.close();
  });

  it('serializes concurrent transactions and statements on its single connection', async () => {
    const executor = await createPgliteExecutor({ dataDir: await emptyDataDir() });
    try {
      await executor.exec('CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0);');
      // Read-modify-write with a pause in between: any interleaving loses an increment.
      const bump = () =>
        executor.transaction(async (tx) => {
          const [row] = await tx.query<{ n: number }>('SELECT n FROM counter');
          await new Promise((resolve) => setTimeout(resolve, 2));
          await tx.query('UPDATE counter SET n = $1', [(row?.n ?? 0) + 1]);
        });
      const failing = executor.transaction(async (tx) => {
        await tx.query('UPDATE counter SET n = n + 1000');
        throw new Error('rolled back');
      });
      await Promise.all([
        ...Array.from({ length: 10 }, bump),
        expect(failing).rejects.toThrow('rolled back'),
        ...Array.from({ length: 10 }, () => executor.query('SELECT n FROM counter')),
      ]);
      expect(await executor.query('SELECT n FROM counter')).toEqual([{ n: 10 }]);
    } finally {
      await executor.close();
    }
  });
});
