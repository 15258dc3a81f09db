/**
 * `llm`: compose an answer with a chat model from `sources.llm.models`, given a prompt file
 * (`config/prompts/*.md`, Liquid), the passages other steps retrieved (`context: [dify, kb,
 * orders]`, each with a citable id) and the conversation's recent messages.
 *
 * ```yaml
 * - id: answer
 *   llm: { prompt: after-sales.md, context: [dify, kb, orders] }
 *   timeout: 20s
 *   fallback: { reply: "{{ steps.kb.top.answer }}" }
 * ```
 *
 * By default the answer is sent as a reply (`reply: false` only stores it in `steps.<id>.text`),
 * and on channels that can show it (the web chat) it streams token by token as `delta` events
 * while the model writes; the finished answer still goes out as one normal reply. An empty answer
 * is a failure, so the `fallback` answers instead.
 */
import { z } from 'zod';
import { checkName, type KindChecks } from '../../ai/kind-checks.ts';
import { recentTurns } from '../../ai/llm/history.ts';
import type { ChatTurn } from '../../ai/llm/model.ts';
import { collectPassages, DEFAULT_SYSTEM_PROMPT } from '../../ai/llm/passages.ts';
import { aiRuntimeOf, openDeltaStream } from '../../ai/runtime.ts';
import { resolveCallSettings } from '../../resilience/config.ts';
import { SourceError } from '../../resilience/errors.ts';
import { CompiledTemplate } from '../liquid.ts';
import { issueParams, templateSchema } from '../schema-helpers.ts';
import { renderWith } from '../template-value.ts';
import type { StepKind } from '../types.ts';

const llmObject = z.strictObject({
  /** Name under sources.llm.models. */
  model: z.string().min(1).default('default'),
  /** Prompt file under the prompts directory (Liquid); or `system:` inline. */
  prompt: z.string().min(1).optional(),
  system: templateSchema.optional(),
  /** Ids of the steps whose outputs are the model's reference passages. */
  context: z.array(z.string().min(1)).default([]),
  /** What to answer; default: the message text. */
  question: templateSchema.optional(),
  /** Earlier messages given to the model (default sources.llm.history) and their token budget. */
  history: z.number().int().min(0).max(100).optional(),
  historyTokens: z.number().int().min(0).optional(),
  stream: z.boolean().default(true),
  reply: z.boolean().default(true),
  format: z.enum(['text', 'markdown']).default('text'),
});
export type LlmInput = z.output<typeof llmObject>;

export interface LlmOutput {
  source: 'llm';
  text: string;
  model: string;
  /** Ids of the passages the model was given. */
  passages: string[];
  /** Earlier messages the model was given. */
  history: number;
  streamed: boolean;
}

const DEFAULT_PROMPT = new CompiledTemplate(DEFAULT_SYSTEM_PROMPT);

/** The `llm` kind; with `checks`, unknown models and missing prompt files are load errors. */
export function createLlmKind(checks: KindChecks = {}): StepKind<LlmInput, LlmOutput> {
  const input = llmObject.superRefine((v, ctx) => {
    if (v.prompt && v.system)
      ctx.addIssue({
        code: 'custom',
        message: 'use either prompt (a file) or system (inline), not both',
        path: ['system'],
        params: issueParams(),
      });
    checkName(ctx, v.model, checks.llmModels, 'llm model', 'sources.llm.models', ['model']);
    if (v.prompt && checks.prompts) {
      if (!checks.prompts.exists(v.prompt))
        ctx.addIssue({
          code: 'custom',
          message: `prompt file not found: ${safePath(checks.prompts, v.prompt)}`,
          path: ['prompt'],
          params: issueParams(),
        });
    }
  });

  return {
    kind: 'llm',
    description: 'compose an answer with a chat model from a prompt, retrieved passages and recent messages',
    input,
    async run(ctx, input, signal) {
      const rt = aiRuntimeOf(ctx);
      const cfg = rt.sources.llm;
      const target = `llm:${input.model}`;
      if (!cfg) throw new SourceError(target, 'disabled', 'no sources.llm block in hub.yaml');
      if (!cfg.enabled)
        throw new SourceError(target, 'disabled', 'switched off in hub.yaml (sources.llm.enabled: false)');
      const modelCfg = cfg.models[input.model];
      if (!modelCfg)
        throw new SourceError(target, 'disabled', `no model "${input.model}" under sources.llm.models`);
      const client = await rt.llm(input.model);

      const passages = collectPassages(ctx.steps, input.context);
      const history = rt.store
        ? await recentTurns(rt.store, ctx.conversation.id, {
            messages: input.history ?? cfg.history,
            maxTokens: input.historyTokens ?? cfg.historyTokens,
            excludeId: ctx.message.id,
          })
        : [];
      const template = input.system ?? (input.prompt ? await rt.prompts.get(input.prompt) : DEFAULT_PROMPT);
      const system = renderWith(ctx, template, { passages, history });
      const question = input.question ? ctx.render(input.question) : (ctx.message.text ?? '');
      const turns: ChatTurn[] = [
        { role: 'system', text: system },
        ...history,
        { role: 'user', text: question },
      ];

      const deltas = openDeltaStream(rt, ctx, input.stream);
      // A retried stream would repeat text the visitor already saw: streamed calls get one attempt.
      const settings = resolveCallSettings(
        { timeoutMs: 30_000, retries: 1, backoffMs: 500, concurrency: 8, queue: 64 },
        cfg,
        modelCfg,
        {
          retries: deltas.active ? 0 : undefined,
        },
      );
      let text: string;
      try {
        ({ text } = await rt.resilience.call(
          target,
          settings,
          (s) =>
            client.complete(turns, {
              signal: s,
              stream: deltas.active,
              onDelta: (piece) => deltas.push(piece),
            }),
          signal,
        ));
      } finally {
        deltas.end();
      }
      text = text.trim();
      if (!text)
        throw new SourceError(target, 'empty', 'the model returned no text', { countsForBreaker: false });
      if (input.reply) ctx.reply({ kind: input.format, text });
      return {
        source: 'llm',
        text,
        model: modelCfg.model,
        passages: passages.map((p) => p.id),
        history: history.length,
        streamed: deltas.active && deltas.started,
      };
    },
  };
}

function safePath(prompts: { pathOf(name: string): string }, name: string): string {
  try {
    return prompts.pathOf(name);
  } catch (err) {
    return (err as Error).message;
  }
}
