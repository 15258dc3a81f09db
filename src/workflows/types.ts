/**
 * Shapes shared by the engine and the step kinds. Kinds import from here (never from the engine),
 * so adding a kind cannot create an import cycle.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Attachment, InboundMessage } from '../messages.ts';
import type { Conversation, StepRecord } from '../store/types.ts';
import type { CompiledExpression, CompiledTemplate, TemplateScope } from './liquid.ts';

export type { StepRecord } from '../store/types.ts';
export type { CompiledExpression, CompiledTemplate, TemplateScope } from './liquid.ts';

/** One reply the workflow wants sent; the caller turns drafts into OutboundMessages. */
export interface ReplyDraft {
  kind: 'text' | 'markdown';
  text: string;
  attachments?: Attachment[];
}

/** What a `handoff` step asks for. The engine never writes it anywhere: the caller applies it. */
export interface HandoffRequest {
  queue: string;
  reason?: string;
  /** Text told to the visitor; undefined → `services.handoffReply` or the built-in default; false → none. */
  reply?: string | false;
}

/** A step as compiled at load: immutable, shared by every run. */
export interface CompiledStep<I = unknown> {
  /** Unique within the workflow: explicit `id`, else `<kind>-<index>` (nested: `<parent>/<where>/<kind>-<index>`). */
  readonly id: string;
  readonly kind: string;
  /** The kind's input, as its zod schema produced it (templates already compiled). */
  readonly input: I;
  /** Guard: the step is skipped when this is false. */
  readonly when?: CompiledExpression;
  /** Per-step timeout in ms; undefined → the hub default (`config.stepTimeoutMs`). */
  readonly timeoutMs?: number;
  /** Run instead when the step fails or times out. */
  readonly fallback?: StepList;
  /** YAML path of the step in its file, for error positions. */
  readonly path: readonly (string | number)[];
}

/** A list of compiled steps (a workflow's `steps`, a switch case, a fallback, a parallel branch…). */
export type StepList = readonly CompiledStep[];

/** What a step kind sees while it runs. One instance per step execution. */
export interface StepContext {
  readonly message: InboundMessage;
  readonly conversation: Conversation;
  /** Workflow variables (`vars.x` in templates); mutable, shared by the whole run. */
  readonly vars: Record<string, unknown>;
  /** Outputs of the steps run so far, by step id (`steps.<id>` in templates). */
  readonly steps: Readonly<Record<string, unknown>>;
  /** The step being run. */
  readonly step: { readonly id: string; readonly kind: string };
  readonly workflow: { readonly name: string; readonly file: string };
  /** Template scope at this instant: `{ message, conversation, vars, steps, now }`. */
  scope(): TemplateScope;
  /** Render a compiled template against the current scope. */
  render(template: CompiledTemplate): string;
  /** Like `render`, but a lone `{{ expr }}` keeps its type (numbers, objects). */
  value(template: CompiledTemplate | CompiledExpression): unknown;
  /** Evaluate a compiled condition (Liquid truthiness: only false and nil are false). */
  evaluate(expr: CompiledExpression): boolean;
  /** Queue a reply (in order). */
  reply(draft: ReplyDraft): void;
  /** Hand the conversation to a human: the run ends after this step with status `handoff`. */
  handoff(request: HandoffRequest): void;
  /**
   * Run a nested step list with the engine's runner (guards, timeouts, fallbacks, records). Its
   * records become children of this step's record, in call order, so concurrent calls (parallel
   * branches) stay in declaration order. Rejects with `StepListError` (carrying the records) when a
   * step fails without a fallback; catch it to tolerate a failed branch.
   */
  runSteps(steps: StepList, signal: AbortSignal): Promise<StepRecord[]>;
  /** Mark this step as skipped (e.g. an inner guard is false); ends the step's `run`. */
  skip(reason?: string): never;
  readonly logger: Logger;
  /** True in `switchboard simulate`: kinds with side effects (HTTP POSTs, writes) must not perform them. */
  readonly dryRun: boolean;
  /** Injected by the hub: dify clients, kb, order lookup, `handoffReply` text, … */
  readonly services: Record<string, unknown>;
  readonly config: { readonly stepTimeoutMs: number };
}

/**
 * A step kind: the YAML key, its input schema (checked and compiled at load) and what it does.
 * Register it in a `StepKindRegistry`; see docs/adding-a-step-kind.md.
 */
export interface StepKind<I = unknown, O = unknown> {
  /** The YAML key (`reply`, `http`, …). */
  kind: string;
  /** zod schema of the key's value. Use `templateSchema`, `expressionSchema`, `stepsSchema` inside. */
  input: z.ZodType<I>;
  /** Do the work. The result is stored as `steps.<id>` and in the step record. Honour `signal`. */
  run(ctx: StepContext, input: I, signal: AbortSignal): Promise<O>;
  /** One line for `switchboard validate --kinds` and error messages. */
  description?: string;
}
