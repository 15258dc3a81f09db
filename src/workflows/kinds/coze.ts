/**
 * `coze`: ask a Coze bot (agent) declared under `sources.coze.bots` in hub.yaml — the agent
 * counterpart of `llm`, with Coze running the prompt, plugins and knowledge.
 *
 * ```yaml
 * - id: agent
 *   coze: { bot: after-sales, query: "{{ message.text }}", timeout: 20s }
 *   fallback: { reply: "{{ steps.kb.top.answer }}" }
 * ```
 *
 * `coze: after-sales` is short for `{ bot: after-sales }`. Coze's `conversation_id` is kept in the
 * conversation's meta (`coze:<bot>`), so the bot sees one conversation per customer. Like `llm`,
 * the answer streams to channels that can show it (the web chat) as `delta` events and is then
 * sent as one reply (`reply: false` only stores it). An empty answer is a failure, so the
 * `fallback` answers instead. Output: `{ source, bot, text, conversationId, chatId, usage?, streamed }`.
 */
import { z } from 'zod';
import { type CozeEndpoint, type CozeUsage, streamChat } from '../../ai/coze/client.ts';
import { checkName } from '../../ai/kind-checks.ts';
import { aiRuntimeOf, openDeltaStream } from '../../ai/runtime.ts';
import { durationSchema } from '../../config/duration.ts';
import { resolveCallSettings } from '../../resilience/config.ts';
import { SourceError } from '../../resilience/errors.ts';
import type { CompiledTemplate } from '../liquid.ts';
import { issueParams, parseNested, templateSchema } from '../schema-helpers.ts';
import type { StepKind } from '../types.ts';

export interface CozeInput {
  bot: string;
  query?: CompiledTemplate;
  user?: CompiledTemplate;
  /** Per-attempt timeout in ms (over `sources.coze` and the bot's); the step's `timeout:` caps all. */
  timeout?: number;
  stream: boolean;
  reply: boolean;
  format: 'text' | 'markdown';
}

export interface CozeOutput {
  source: 'coze';
  bot: string;
  text: string;
  conversationId: string;
  chatId: string;
  usage?: CozeUsage;
  streamed: boolean;
}

const cozeObject = z.strictObject({
  bot: z.string().min(1),
  query: templateSchema.optional(),
  user: templateSchema.optional(),
  timeout: durationSchema.optional(),
  stream: z.boolean().default(true),
  reply: z.boolean().default(true),
  format: z.enum(['text', 'markdown']).default('text'),
});

/** Conversation meta key holding a bot's Coze conversation id. */
export const cozeMetaKey = (bot: string) => `coze:${bot}`;

/** The `coze` kind; with `bots` (the names under sources.coze.bots), unknown bots are load errors. */
export function createCozeKind(bots?: readonly string[]): StepKind<CozeInput, CozeOutput> {
  const input = z.unknown().transform((raw, ctx): CozeInput => {
    let v: CozeInput | undefined;
    if (typeof raw === 'string') v = { bot: raw, stream: true, reply: true, format: 'text' };
    else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw))
      v = parseNested(ctx, cozeObject, raw, []);
    else
      ctx.addIssue({
        code: 'custom',
        message: 'coze is a bot name, or a map with bot, query, user, timeout, stream, reply, format',
        params: issueParams(),
      });
    if (!v) return z.NEVER;
    const path = typeof raw === 'string' ? [] : ['bot'];
    return checkName(ctx, v.bot, bots, 'coze bot', 'sources.coze.bots', path) ? v : z.NEVER;
  });

  return {
    kind: 'coze',
    description: 'ask a Coze bot (sources.coze.bots), streaming its answer',
    input,
    async run(ctx, input, signal) {
      const rt = aiRuntimeOf(ctx);
      const cfg = rt.sources.coze;
      const target = `coze:${input.bot}`;
      if (!cfg) throw new SourceError(target, 'disabled', 'no sources.coze block in hub.yaml');
      if (!cfg.enabled)
        throw new SourceError(target, 'disabled', 'switched off in hub.yaml (sources.coze.enabled: false)');
      const bot = cfg.bots[input.bot];
      if (!bot) throw new SourceError(target, 'disabled', `no bot "${input.bot}" under sources.coze.bots`);

      const queryTemplate = input.query ?? bot.query;
      const query = queryTemplate ? ctx.render(queryTemplate) : (ctx.message.text ?? '');
      if (query.trim() === '') throw new Error(`${target}: nothing to ask, the query is empty`);
      const userTemplate = input.user ?? bot.user;
      const userId = userTemplate
        ? ctx.render(userTemplate)
        : `${ctx.message.channel}:${ctx.message.sender.id}`;
      const key = cozeMetaKey(input.bot);
      const known =
        typeof ctx.conversation.meta[key] === 'string' ? (ctx.conversation.meta[key] as string) : undefined;
      const ep: CozeEndpoint = {
        target,
        baseURL: bot.baseURL ?? cfg.baseURL,
        token: bot.token ?? cfg.token,
        botId: bot.botId,
      };

      const deltas = openDeltaStream(rt, ctx, input.stream);
      // Sending a message twice would ask the bot twice (and save both turns): never retried.
      const settings = resolveCallSettings(
        { timeoutMs: 30_000, retries: 0, backoffMs: 500, concurrency: 8, queue: 64 },
        cfg,
        bot,
        { timeout: input.timeout, retries: 0 },
      );
      let chat: Awaited<ReturnType<typeof streamChat>>;
      try {
        chat = await rt.resilience.call(
          target,
          settings,
          (s) => streamChat(ep, { query, userId, conversationId: known, onDelta: deltas.push }, s),
          signal,
        );
      } finally {
        deltas.end();
      }
      if (chat.conversationId !== known && !ctx.dryRun)
        await rt.store?.updateConversationMeta(ctx.conversation.id, { [key]: chat.conversationId });
      const text = chat.text.trim();
      if (!text)
        throw new SourceError(target, 'empty', 'the bot returned no text', { countsForBreaker: false });
      if (input.reply) ctx.reply({ kind: input.format, text });
      return {
        source: 'coze',
        bot: input.bot,
        text,
        conversationId: chat.conversationId,
        chatId: chat.chatId,
        ...(chat.usage ? { usage: chat.usage } : {}),
        streamed: deltas.started,
      };
    },
  };
}
