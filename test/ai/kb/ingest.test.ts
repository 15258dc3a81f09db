import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatIngestReport, ingestPath } from '../../../src/ai/kb/cli.ts';
import { ingest } from '../../../src/ai/kb/ingest.ts';
import { MemoryKbRepository } from '../../../src/ai/kb/repository.ts';
import { formatIngestIssue } from '../../../src/ai/kb/types.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kb-ingest-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FAQ_YAML = `
- id: returns
  question: 如何退货？
  answer: 7 天内可退。
  similar: [我想退货]
- question: How long does delivery take?
  answer: 2-4 days.
`;

describe('ingest', () => {
  it('ingests a directory of FAQ files and documents, keeping file ids and hashing the rest', async () => {
    await writeFile(join(dir, 'faq.yaml'), FAQ_YAML);
    await mkdir(join(dir, 'docs'));
    await writeFile(join(dir, 'docs', 'policy.md'), '# Policy\n## Warranty\nOne year.\n');
    await writeFile(join(dir, 'ignored.pdf'), 'binary');
    const repository = new MemoryKbRepository();
    const report = await ingest(dir, { repository, collection: 'after-sales' });
    expect(report).toMatchObject({
      collection: 'after-sales',
      files: 2,
      added: 3,
      updated: 0,
      removed: 0,
      unchanged: 0,
      errors: [],
      version: 1,
    });
    const entries = await repository.list({ collection: 'after-sales' });
    expect(entries.map((e) => [e.source, e.kind, e.question])).toEqual([
      ['docs/policy.md', 'passage', 'Policy › Warranty'],
      ['faq.yaml', 'faq', 'How long does delivery take?'],
      ['faq.yaml', 'faq', '如何退货？'],
    ]);
    expect(entries.find((e) => e.question === '如何退货？')?.id).toBe('returns');
    // Ids without a file id are stable: the same content in a fresh store gets the same id.
    const again = new MemoryKbRepository();
    await ingest(dir, { repository: again, collection: 'after-sales' });
    expect((await again.list()).map((e) => e.id)).toEqual(entries.map((e) => e.id));
  });

  it('re-ingest reports added/updated/removed/unchanged and writes only the difference', async () => {
    await writeFile(join(dir, 'faq.yaml'), FAQ_YAML);
    await writeFile(
      join(dir, 'more.csv'),
      'question,answer\nInvoice?,In order details.\nWarranty?,One year.\n',
    );
    const repository = new MemoryKbRepository();
    await ingest(dir, { repository });
    const v1 = await repository.version();

    const unchanged = await ingest(dir, { repository });
    expect(unchanged).toMatchObject({ added: 0, updated: 0, removed: 0, unchanged: 4 });
    expect(await repository.version()).toBe(v1); // nothing written, nothing for hubs to reload

    await writeFile(join(dir, 'faq.yaml'), FAQ_YAML.replace('7 天内可退。', '15 天内可退。'));
    await writeFile(join(dir, 'more.csv'), 'question,answer\nInvoice?,In order details.\nPayment?,Alipay.\n');
    const changed = await ingest(dir, { repository });
    expect(changed).toMatchObject({ added: 1, updated: 1, removed: 1, unchanged: 2 });
    expect((await repository.list()).find((e) => e.id === 'returns')?.answer).toBe('15 天内可退。');

    await unlink(join(dir, 'more.csv'));
    expect(await ingest(dir, { repository })).toMatchObject({ removed: 2, unchanged: 2 });
  });

  it('names file and row of a bad row and ingests the rest; an unreadable file keeps its entries', async () => {
    await writeFile(join(dir, 'faq.jsonl'), '{"question":"A?","answer":"a"}\n{"question":"B?"}\n');
    await writeFile(join(dir, 'faq.yaml'), FAQ_YAML);
    const repository = new MemoryKbRepository();
    const first = await ingest(dir, { repository });
    expect(first.added).toBe(3);
    expect(first.errors.map(formatIngestIssue)).toEqual(['faq.jsonl:2 answer is required']);

    await writeFile(join(dir, 'faq.yaml'), 'entries: [\n  broken');
    const second = await ingest(dir, { repository });
    expect(second.errors.map((e) => e.file)).toEqual(['faq.jsonl', 'faq.yaml']);
    expect(second.removed).toBe(0);
    expect((await repository.list()).filter((e) => e.source === 'faq.yaml')).toHaveLength(2);
  });

  it('reports a duplicate id with where it was first seen', async () => {
    await writeFile(join(dir, 'a.csv'), 'id,question,answer\nx1,A?,a\n');
    await writeFile(join(dir, 'b.csv'), 'id,question,answer\nx1,B?,b\n');
    const report = await ingest(dir, { repository: new MemoryKbRepository() });
    expect(report.added).toBe(1);
    expect(report.errors.map(formatIngestIssue)).toEqual(['b.csv:2 duplicate id "x1" (first at a.csv:2)']);
  });

  it('a single file replaces only its own entries in the collection', async () => {
    await writeFile(join(dir, 'a.csv'), 'question,answer\nA?,a\n');
    await writeFile(join(dir, 'b.csv'), 'question,answer\nB?,b\n');
    const repository = new MemoryKbRepository();
    await ingest(dir, { repository });
    await writeFile(join(dir, 'a.csv'), 'question,answer\nA2?,a2\n');
    const report = await ingest(join(dir, 'a.csv'), { repository });
    expect(report).toMatchObject({ files: 1, added: 1, removed: 1, unchanged: 0 });
    expect((await repository.list()).map((e) => e.question).sort()).toEqual(['A2?', 'B?']);
  });
});

describe('ingestPath / formatIngestReport (what `switchboard kb ingest` prints)', () => {
  it('prints a summary line and one file:row line per problem', async () => {
    await writeFile(join(dir, 'faq.csv'), 'question,answer\nA?,a\nB?,\n');
    const report = await ingestPath(dir, { repository: new MemoryKbRepository(), collection: 'c' });
    const text = formatIngestReport({ ...report, ms: 5 });
    expect(text).toBe(
      'kb c: 1 file(s), 1 added, 0 updated, 0 removed, 0 unchanged, 1 error(s) (version 1, 5 ms)\nfaq.csv:3 answer is required',
    );
  });
});

it('a missing path is a not-found error, not a crash with a stack of fs internals', async () => {
  await expect(ingest(join(dir, 'nope'), { repository: new MemoryKbRepository() })).rejects.toMatchObject({
    code: 'not_found',
    message: expect.stringContaining('nope: no such file or directory'),
  });
});
