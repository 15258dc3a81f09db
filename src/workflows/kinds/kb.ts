/**
 * `kb`: search the local knowledge base. `kb: after-sales` (a collection) or
 * `kb: { collection, top, minScore, query }`.
 *
 * Output: `{ top, results, count, query, collection }`. `top` is the best result, or — when
 * nothing matched — an empty one with `score: 0`, so `when: "steps.kb.top.score < 0.3"` holds
 * for "found nothing" too.
 */
import { z } from 'zod';
import { aiRuntimeOf } from '../../ai/runtime.ts';
import { SourceError } from '../../resilience/errors.ts';
import type { CompiledTemplate } from '../liquid.ts';
import { issueParams, parseNested, templateSchema } from '../schema-helpers.ts';
import type { StepKind } from '../types.ts';

export interface KbInput {
  collection?: string;
  top: number;
  minScore: number;
  /** Default: the message text. */
  query?: CompiledTemplate;
}

export interface KbHit {
  id: string | null;
  score: number;
  question: string;
  answer: string;
  source: string;
}

export interface KbOutput {
  source: 'kb';
  query: string;
  collection: string | null;
  top: KbHit;
  results: (KbHit & { via: string[] })[];
  count: number;
  /** Set when vectors were unavailable and the search ran on BM25 and the intent model only. */
  degraded?: string;
}

const kbObject = z.strictObject({
  collection: z.string().min(1).optional(),
  top: z.number().int().min(1).max(50).default(3),
  minScore: z.number().min(0).max(1).default(0),
  query: templateSchema.optional(),
});

const input = z.unknown().transform((raw, ctx): KbInput => {
  if (raw === null || raw === undefined) return { top: 3, minScore: 0 };
  if (typeof raw === 'string') return { collection: raw, top: 3, minScore: 0 };
  if (typeof raw === 'object' && !Array.isArray(raw)) return parseNested(ctx, kbObject, raw, []) ?? z.NEVER;
  ctx.addIssue({
    code: 'custom',
    message: 'kb is a collection name, or a map with collection, top, minScore, query',
    params: issueParams(),
  });
  return z.NEVER;
});

const NOTHING: KbHit = { id: null, score: 0, question: '', answer: '', source: '' };

export const kbKind: StepKind<KbInput, KbOutput> = {
  kind: 'kb',
  description: 'search the local knowledge base (BM25 + intent model + optional vectors)',
  input,
  async run(ctx, input, signal) {
    const rt = aiRuntimeOf(ctx);
    const query = (input.query ? ctx.render(input.query) : (ctx.message.text ?? '')).trim();
    const kb = await rt.knowledgeBase();
    signal.throwIfAborted();
    const options = { top: input.top, ...(input.collection ? { collection: input.collection } : {}) };
    let degraded: string | undefined;
    let results: Awaited<ReturnType<typeof kb.search>>;
    try {
      results = await kb.search(query, options);
    } catch (err) {
      // The only remote part of a search is the query embedding: answer from the local retrievers.
      if (!(err instanceof SourceError)) throw err;
      degraded = err.message;
      ctx.logger.warn({ err: err.message }, 'kb: vectors unavailable, searching without them');
      results = await kb.search(query, { ...options, retrievers: ['bm25', 'intent'] });
    }
    const hits = results
      .filter((r) => r.score >= input.minScore)
      .map((r) => ({
        id: r.id,
        score: Math.round(r.score * 10_000) / 10_000,
        question: r.question,
        answer: r.answer,
        source: r.source,
        via: r.via,
      }));
    const first = hits[0];
    return {
      source: 'kb',
      query,
      collection: input.collection ?? null,
      top: first
        ? {
            id: first.id,
            score: first.score,
            question: first.question,
            answer: first.answer,
            source: first.source,
          }
        : NOTHING,
      results: hits,
      count: hits.length,
      ...(degraded ? { degraded } : {}),
    };
  },
};
