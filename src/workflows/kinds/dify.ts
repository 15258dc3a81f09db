/**
 * `dify`: ask a Dify app declared under `sources.dify.apps` in hub.yaml.
 * `dify: refund-guide` or `dify: { app, inputs: { name: template }, query: template, user: template }`
 * (step values override the app's own).
 *
 * Workflow apps run `/workflows/run`; chat apps send to `/chat-messages` and keep Dify's
 * `conversation_id` in the conversation's meta (`dify:<app>`), so Dify sees one conversation per
 * customer. Output: `{ app, mode, answer, outputs?, conversationId?, runId? }`.
 */
import { z } from 'zod';
import { type DifyEndpoint, runWorkflow, sendChatMessage } from '../../ai/dify/client.ts';
import type { DifyAppConfig } from '../../ai/dify/config.ts';
import { checkName, type KindChecks } from '../../ai/kind-checks.ts';
import { aiRuntimeOf } from '../../ai/runtime.ts';
import { resolveCallSettings } from '../../resilience/config.ts';
import { SourceError } from '../../resilience/errors.ts';
import type { CompiledTemplate } from '../liquid.ts';
import { issueParams, parseNested, templateSchema } from '../schema-helpers.ts';
import type { StepContext, StepKind } from '../types.ts';

export interface DifyInput {
  app: string;
  inputs: Record<string, CompiledTemplate>;
  query?: CompiledTemplate;
  user?: CompiledTemplate;
}

export interface DifyOutput {
  source: 'dify';
  app: string;
  mode: 'workflow' | 'chat';
  answer: string;
  outputs?: Record<string, unknown>;
  conversationId?: string;
  runId?: string;
}

const difyObject = z.strictObject({
  app: z.string().min(1),
  inputs: z.record(z.string(), templateSchema).default({}),
  query: templateSchema.optional(),
  user: templateSchema.optional(),
});

/** Conversation meta key holding a chat app's Dify conversation id. */
export const difyMetaKey = (app: string) => `dify:${app}`;

const ANSWER_KEYS = ['answer', 'text', 'result', 'output'];

/** The `dify` kind; with `checks`, unknown app names are load errors. */
export function createDifyKind(checks: KindChecks = {}): StepKind<DifyInput, DifyOutput> {
  const input = z.unknown().transform((raw, ctx): DifyInput => {
    let v: DifyInput | undefined;
    if (typeof raw === 'string') v = { app: raw, inputs: {} };
    else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw))
      v = parseNested(ctx, difyObject, raw, []);
    else
      ctx.addIssue({
        code: 'custom',
        message: 'dify is an app name, or a map with app, inputs, query, user',
        params: issueParams(),
      });
    if (!v) return z.NEVER;
    const path = typeof raw === 'string' ? [] : ['app'];
    return checkName(ctx, v.app, checks.difyApps, 'dify app', 'sources.dify.apps', path) ? v : z.NEVER;
  });

  return {
    kind: 'dify',
    description: 'ask a Dify workflow or chat app (sources.dify.apps)',
    input,
    async run(ctx, input, signal) {
      const rt = aiRuntimeOf(ctx);
      const cfg = rt.sources.dify;
      const target = `dify:${input.app}`;
      if (!cfg) throw new SourceError(target, 'disabled', 'no sources.dify block in hub.yaml');
      if (!cfg.enabled)
        throw new SourceError(target, 'disabled', 'switched off in hub.yaml (sources.dify.enabled: false)');
      const app = cfg.apps[input.app];
      if (!app) throw new SourceError(target, 'disabled', `no app "${input.app}" under sources.dify.apps`);
      const settings = resolveCallSettings(
        { timeoutMs: 10_000, retries: 0, backoffMs: 200, concurrency: 16, queue: 64 },
        cfg,
        app,
      );
      const ep: DifyEndpoint = {
        target,
        baseURL: app.baseURL ?? cfg.baseURL,
        apiKey: app.apiKey,
        responseMode: app.responseMode,
      };
      const inputs = renderInputs(ctx, { ...app.inputs, ...input.inputs });
      const userTemplate = input.user ?? app.user;
      const user = userTemplate
        ? ctx.render(userTemplate)
        : `${ctx.message.channel}:${ctx.message.sender.id}`;

      if (app.mode === 'workflow') {
        const run = await rt.resilience.call(
          target,
          settings,
          (s) => runWorkflow(ep, { inputs, user }, s),
          signal,
        );
        return {
          source: 'dify',
          app: input.app,
          mode: 'workflow',
          answer: pickAnswer(app, run.outputs, run.streamedText),
          outputs: run.outputs,
          runId: run.runId,
        };
      }

      const queryTemplate = input.query ?? app.query;
      const query = queryTemplate ? ctx.render(queryTemplate) : (ctx.message.text ?? '');
      if (query.trim() === '') throw new Error(`${target}: nothing to ask, the query is empty`);
      const key = difyMetaKey(input.app);
      const known =
        typeof ctx.conversation.meta[key] === 'string' ? (ctx.conversation.meta[key] as string) : undefined;
      const ask = (conversationId: string | undefined) =>
        rt.resilience.call(
          target,
          settings,
          (s) => sendChatMessage(ep, { query, inputs, user, conversationId }, s),
          signal,
        );
      let chat: Awaited<ReturnType<typeof sendChatMessage>>;
      try {
        chat = await ask(known);
      } catch (err) {
        // Dify forgot the conversation (deleted, expired): start a new one rather than failing.
        if (!(known && err instanceof SourceError && err.remoteStatus === 404)) throw err;
        ctx.logger.info({ app: input.app }, 'dify conversation not found; starting a new one');
        chat = await ask(undefined);
      }
      if (chat.conversationId !== known && !ctx.dryRun)
        await rt.store?.updateConversationMeta(ctx.conversation.id, { [key]: chat.conversationId });
      return {
        source: 'dify',
        app: input.app,
        mode: 'chat',
        answer: chat.answer,
        conversationId: chat.conversationId,
      };
    },
  };
}

function renderInputs(
  ctx: StepContext,
  templates: Record<string, CompiledTemplate>,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(templates).map(([k, t]) => [k, ctx.value(t) ?? '']));
}

/** The answer of a workflow run: the configured output, else a usual name, else the streamed text. */
function pickAnswer(app: DifyAppConfig, outputs: Record<string, unknown>, streamed: string): string {
  const keys = app.answer ? [app.answer] : ANSWER_KEYS;
  for (const k of keys) if (typeof outputs[k] === 'string') return outputs[k] as string;
  if (streamed) return streamed;
  const strings = Object.values(outputs).filter((v): v is string => typeof v === 'string');
  return strings.length === 1 ? strings[0]! : '';
}
