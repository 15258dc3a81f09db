import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../../src/ai/kb/ingest.ts';
import { KnowledgeBase } from '../../../src/ai/kb/knowledge-base.ts';
import { kbMigration } from '../../../src/ai/kb/migration.ts';
import { SqlKbRepository, sqlExecutorOf } from '../../../src/ai/kb/sql-repository.ts';

let db: PGlite;
let dir: string;
beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(kbMigration.sql);
  dir = await mkdtemp(join(tmpdir(), 'kb-hot-'));
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('hot update through the store', () => {
  it("a running hub's knowledge base picks up another process's ingest by polling the version", async () => {
    // Two repositories on one database stand for the hub and the `kb ingest` CLI process.
    const hubRepo = new SqlKbRepository(sqlExecutorOf(db));
    const cliRepo = new SqlKbRepository(sqlExecutorOf(db));
    const file = join(dir, 'faq.csv');
    await writeFile(
      file,
      'id,question,answer,similar\nrefund,退款多久到账,3 天,钱什么时候退回\nship,多久发货,24 小时,什么时候发货\n',
    );
    await ingest(file, { repository: cliRepo, collection: 'c' });

    const kb = await KnowledgeBase.open({ repository: hubRepo });
    expect((await kb.search('退款多久到账'))[0]?.answer).toBe('3 天');
    const stop = kb.watch(50);
    try {
      await writeFile(
        file,
        'id,question,answer,similar\nrefund,退款多久到账,1 天,钱什么时候退回\nship,多久发货,24 小时,什么时候发货\ninvoice,怎么开发票,订单详情,我要发票\n',
      );
      const report = await ingest(file, { repository: cliRepo, collection: 'c' });
      expect(report).toMatchObject({ added: 1, updated: 1, unchanged: 1 });
      await until(async () => (await kb.search('退款多久到账'))[0]?.answer === '1 天', 3000);
      expect(kb.version).toBe(report.version);
      expect((await kb.search('我要开发票'))[0]?.id).toBe('invoice');
    } finally {
      stop();
    }
  });

  it('refresh is a no-op while the version is unchanged, and unchanged collections keep their index', async () => {
    const repo = new SqlKbRepository(sqlExecutorOf(db));
    const kb = await KnowledgeBase.open({ repository: repo });
    const before = kb.index('c');
    expect(await kb.refresh()).toBe(false);
    await writeFile(join(dir, 'other.csv'), 'question,answer\nQ?,A\n');
    await ingest(join(dir, 'other.csv'), { repository: repo, collection: 'other' });
    expect(await kb.refresh()).toBe(true);
    expect(kb.collections()).toEqual(['c', 'other']);
    expect(kb.index('c')).toBe(before);
  });
});
