/**
 * The state of one workflow run and the `StepContext` its steps see. The runner (runner.ts)
 * drives execution; this file holds what steps read and write.
 */
import type { Logger } from 'pino';
import type { InboundMessage } from '../messages.ts';
import type { Conversation, StepRecord } from '../store/types.ts';
import { type CompiledExpression, CompiledTemplate, type TemplateScope } from './liquid.ts';
import { StepSkipped } from './run-errors.ts';
import type { CompiledStep, HandoffRequest, ReplyDraft, StepContext, StepList } from './types.ts';
import type { Workflow } from './workflow.ts';

/** Told to the visitor on hand-off when neither the step nor `services.handoffReply` says otherwise. */
export const DEFAULT_HANDOFF_REPLY =
  '正在为您转接人工客服，请稍候。Connecting you to a human agent, please wait.';

/** Where a finished record sits, for live progress output. */
export interface StepProgress {
  /** 0 for top-level steps. */
  depth: number;
  /** Id of the step whose child this is. */
  parentId?: string;
}

export interface KindSource {
  get(
    kind: string,
  ): { run(ctx: StepContext, input: never, signal: AbortSignal): Promise<unknown> } | undefined;
}

export interface RunOptions {
  kinds: KindSource;
  services?: Record<string, unknown>;
  logger: Logger;
  /** Aborts the run (e.g. worker shutdown). */
  signal?: AbortSignal;
  stepTimeoutMs: number;
  runTimeoutMs: number;
  dryRun?: boolean;
  /** Called as each step record completes (children before their parent). */
  onStep?: (record: StepRecord, progress: StepProgress) => void;
}

/** Runs a step list into `sink` (the engine's runner). */
export type RunList = (
  state: RunState,
  list: StepList,
  signal: AbortSignal,
  sink: StepRecord[],
  depth: number,
  parentId?: string,
) => Promise<StepRecord[]>;

/** Mutable state of one run, shared by all its steps. */
export class RunState {
  readonly vars: Record<string, unknown> = {};
  readonly steps: Record<string, unknown> = {};
  readonly replies: ReplyDraft[] = [];
  handoff?: { queue: string; reason?: string; reply?: string };
  /** Set by a hand-off: no further step starts. */
  stopped = false;
  #logger?: Logger;

  constructor(
    readonly workflow: Workflow,
    readonly message: InboundMessage,
    readonly conversation: Conversation,
    readonly opts: RunOptions,
    readonly services: Record<string, unknown>,
    /** The engine's list runner, for `ctx.runSteps` (injected to keep this file free of the runner). */
    readonly runList: RunList,
  ) {}

  get logger(): Logger {
    this.#logger ??= this.opts.logger.child({ workflow: this.workflow.name });
    return this.#logger;
  }

  requestHandoff(req: HandoffRequest): void {
    if (this.handoff) return;
    const configured = () =>
      typeof this.services.handoffReply === 'string' ? this.services.handoffReply : undefined;
    const text = req.reply === false ? undefined : (req.reply ?? configured() ?? DEFAULT_HANDOFF_REPLY);
    this.handoff = {
      queue: req.queue,
      ...(req.reason ? { reason: req.reason } : {}),
      ...(text ? { reply: text } : {}),
    };
    if (text) this.replies.push({ kind: 'text', text });
    this.stopped = true;
  }
}

/** The `StepContext` of one step execution. */
export class RunStepContext implements StepContext {
  readonly step: { id: string; kind: string };
  #scope?: TemplateScope;
  #logger?: Logger;

  constructor(
    readonly state: RunState,
    readonly compiled: CompiledStep,
    readonly depth: number,
    readonly children: StepRecord[][],
  ) {
    this.step = { id: compiled.id, kind: compiled.kind };
  }

  get message() {
    return this.state.message;
  }
  get conversation() {
    return this.state.conversation;
  }
  get vars() {
    return this.state.vars;
  }
  get steps() {
    return this.state.steps;
  }
  get workflow() {
    return { name: this.state.workflow.name, file: this.state.workflow.file };
  }
  get dryRun() {
    return this.state.opts.dryRun === true;
  }
  get services() {
    return this.state.services;
  }
  get config() {
    return { stepTimeoutMs: this.state.opts.stepTimeoutMs };
  }
  get logger(): Logger {
    this.#logger ??= this.state.logger.child({ step: this.step.id, kind: this.step.kind });
    return this.#logger;
  }

  scope(): TemplateScope {
    // vars and steps are live references; `now` is fixed per step.
    this.#scope ??= {
      message: this.state.message,
      conversation: this.state.conversation,
      vars: this.state.vars,
      steps: this.state.steps,
      now: new Date().toISOString(),
    };
    return this.#scope;
  }

  render(template: CompiledTemplate): string {
    return template.render(this.scope());
  }

  value(template: CompiledTemplate | CompiledExpression): unknown {
    return template instanceof CompiledTemplate
      ? template.evaluate(this.scope())
      : template.value(this.scope());
  }

  evaluate(expr: CompiledExpression): boolean {
    return expr.test(this.scope());
  }

  reply(draft: ReplyDraft): void {
    this.state.replies.push(draft);
  }

  handoff(request: HandoffRequest): void {
    this.state.requestHandoff(request);
  }

  runSteps(steps: StepList, signal: AbortSignal): Promise<StepRecord[]> {
    const group: StepRecord[] = [];
    this.children.push(group);
    return this.state.runList(this.state, steps, signal, group, this.depth + 1, this.step.id);
  }

  skip(reason?: string): never {
    throw new StepSkipped(reason);
  }
}
