import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingest } from '../../../src/ai/kb/ingest.ts';
import { KnowledgeBase } from '../../../src/ai/kb/knowledge-base.ts';
import { MemoryKbRepository } from '../../../src/ai/kb/repository.ts';
import { fakeEmbedder } from './fake-embedder.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kb-vec-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vector retrieval (optional embeddings)', () => {
  it('embeds at ingest, reuses vectors of unchanged entries, and re-embeds on a model change', async () => {
    await writeFile(
      join(dir, 'faq.csv'),
      'id,question,answer,similar\nt,Where is my package?,Track it in My Orders,track my package|package status\nr,Refund?,3 days,money back\n',
    );
    const repository = new MemoryKbRepository();
    const embedder = fakeEmbedder();
    await ingest(dir, { repository, embedder });
    expect(embedder.texts).toBe(5); // question+answer and every paraphrase, per entry
    expect(
      (await repository.list()).every((e) => e.embedding?.length === 64 && e.embeddingModel === 'fake-1'),
    ).toBe(true);

    expect(await ingest(dir, { repository, embedder })).toMatchObject({ unchanged: 2 });
    expect(embedder.texts).toBe(5);

    const other = fakeEmbedder('fake-2');
    expect(await ingest(dir, { repository, embedder: other })).toMatchObject({ updated: 2 });
    expect(other.texts).toBe(5);
  });

  it('finds by meaning what neither words nor the intent model match, and says so in `via`', async () => {
    await writeFile(
      join(dir, 'faq.csv'),
      'id,question,answer,similar\nt,Where is my package?,Track it in My Orders,track my package\nr,Refund?,3 days,money back\n',
    );
    const repository = new MemoryKbRepository();
    const embedder = fakeEmbedder();
    await ingest(dir, { repository, embedder });
    const kb = await KnowledgeBase.open({ repository, embedder });
    expect(kb.index('default')?.retrievers).toEqual(['bm25', 'intent', 'vector']);
    const results = await kb.search('parcel', { retrievers: ['bm25', 'vector'] });
    expect(results[0]).toMatchObject({ id: 't', via: ['vector'] });

    // Without the embedder (or with another model) stored vectors are not used.
    const local = await KnowledgeBase.open({ repository });
    expect(local.index('default')?.retrievers).toEqual(['bm25', 'intent']);
    expect(await local.search('parcel', { retrievers: ['bm25', 'vector'] })).toEqual([]);
  });
});
