/**
 * One contract every `KbRepository` must pass (memory, PostgreSQL, PGlite): atomic apply with a
 * version bump, filters, and a faithful round trip of every field including embeddings.
 */
import { describe, expect, it } from 'vitest';
import type { KbRepository } from '../../../src/ai/kb/repository.ts';
import type { KbEntry } from '../../../src/ai/kb/types.ts';

export function entry(id: string, patch: Partial<KbEntry> = {}): KbEntry {
  return {
    collection: 'c1',
    id,
    kind: 'faq',
    question: `问题 ${id}?`,
    similar: [`similar ${id}`, '第二个说法'],
    answer: `answer ${id}`,
    tags: ['t'],
    source: 'faq.yaml',
    contentHash: `h-${id}`,
    embedding: null,
    embeddingModel: null,
    ...patch,
  };
}

export function kbRepositoryContract(
  name: string,
  open: () => Promise<{ repo: KbRepository; close(): Promise<void> }>,
) {
  describe(`KbRepository contract: ${name}`, () => {
    it('apply upserts, removes, bumps the version, and list round-trips every field', async () => {
      const { repo, close } = await open();
      try {
        const v0 = await repo.version();
        const withVector = entry('b', {
          embedding: [0.5, -0.25, 1],
          embeddingModel: 'm1',
          source: 'docs/p.md',
          kind: 'passage',
        });
        const v1 = await repo.apply({ collection: 'c1', upsert: [entry('a'), withVector], remove: [] });
        expect(v1).toBe(v0 + 1);
        expect(await repo.version()).toBe(v1);
        // Ordered by collection, source, id: docs/p.md sorts before faq.yaml.
        expect(await repo.list({ collection: 'c1' })).toEqual([withVector, entry('a')]);

        const v2 = await repo.apply({
          collection: 'c1',
          upsert: [entry('a', { answer: 'changed', contentHash: 'h2', tags: [] })],
          remove: ['b'],
        });
        expect(v2).toBe(v1 + 1);
        expect(await repo.list()).toEqual([entry('a', { answer: 'changed', contentHash: 'h2', tags: [] })]);
      } finally {
        await close();
      }
    });

    it('keeps collections apart and filters by collection and source', async () => {
      const { repo, close } = await open();
      try {
        await repo.apply({
          collection: 'c1',
          upsert: [entry('x'), entry('y', { source: 'other.csv' })],
          remove: [],
        });
        await repo.apply({ collection: 'c2', upsert: [entry('x', { collection: 'c2' })], remove: [] });
        // Removing "x" from c2 must not touch c1's "x".
        await repo.apply({ collection: 'c2', upsert: [], remove: ['x'] });
        // Ordered by collection, source, id.
        expect((await repo.list({ collection: 'c1' })).map((e) => e.id)).toEqual(['x', 'y']);
        expect((await repo.list({ collection: 'c1', source: 'other.csv' })).map((e) => e.id)).toEqual(['y']);
        expect(await repo.list({ collection: 'c2' })).toEqual([]);
      } finally {
        await close();
      }
    });
  });
}
