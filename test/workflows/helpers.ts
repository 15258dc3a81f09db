/** Test helpers for the workflow engine: messages, conversations, temp dirs, loggers, test step kinds. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { z } from 'zod';
import type { InboundMessage } from '../../src/messages.ts';
import type { Conversation } from '../../src/store/types.ts';
import {
  compileWorkflowFile,
  defaultStepKinds,
  type RunOptions,
  type RunResult,
  runWorkflow,
  type StepKind,
  type StepKindRegistry,
  type StepList,
  stepsSchema,
  type Workflow,
} from '../../src/workflows/index.ts';

export const silent: Logger = pino({ level: 'silent' });

export function message(text: string | undefined, over: Partial<InboundMessage> = {}): InboundMessage {
  return {
    v: 1,
    id: 'm_1',
    dedupeKey: 'web:web:1',
    channel: 'web',
    channelId: 'web',
    conversationId: 'web:web:c1',
    sender: { id: 'u1', name: 'Ann' },
    kind: 'text',
    ...(text !== undefined ? { text } : {}),
    attachments: [],
    replyTo: {},
    receivedAt: '2024-01-01T00:00:00.000Z',
    traceId: 't1',
    ...over,
  };
}

export function conversation(over: Partial<Conversation> = {}): Conversation {
  return {
    id: 'web:web:c1',
    channel: 'web',
    channelId: 'web',
    state: 'bot',
    assignee: null,
    handoffQueue: null,
    meta: {},
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    closedAt: null,
    ...over,
  };
}

/** A temp directory with files; `cleanup()` removes it. */
export function tempDir(files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-workflows-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  for (const [name, text] of Object.entries(files)) write(name, text);
  return {
    dir,
    write,
    path: (name: string) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A pino logger that keeps its records in memory. */
export function captureLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

/** Test kinds: `boom` throws, `slow` sleeps (optionally ignoring its signal), `spy` reports ctx, `fanout` runs branches concurrently. */
export function testKinds(): StepKindRegistry {
  const boom: StepKind<string, never> = {
    kind: 'boom',
    input: z.string().default('boom'),
    async run(_ctx, msg) {
      throw new Error(msg);
    },
  };
  const slow: StepKind<{ ms: number; ignoreSignal: boolean; output?: string }, string> = {
    kind: 'slow',
    input: z.object({
      ms: z.number(),
      ignoreSignal: z.boolean().default(false),
      output: z.string().optional(),
    }),
    run(_ctx, { ms, ignoreSignal, output }, signal) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(output ?? `slept ${ms}`), ms);
        if (!ignoreSignal)
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted by signal'));
          });
      });
    },
  };
  const spy: StepKind<Record<string, unknown>, unknown> = {
    kind: 'spy',
    input: z.record(z.string(), z.unknown()).default({}),
    async run(ctx) {
      return {
        dryRun: ctx.dryRun,
        step: ctx.step.id,
        workflow: ctx.workflow.name,
        timeout: ctx.config.stepTimeoutMs,
      };
    },
  };
  // What a `parallel` kind would do: every branch concurrently, tolerating failed branches.
  const fanout: StepKind<StepList, unknown> = {
    kind: 'fanout',
    input: stepsSchema,
    async run(ctx, branches, signal) {
      const results = await Promise.allSettled(branches.map((b) => ctx.runSteps([b], signal)));
      return results.map((r) => r.status);
    },
  };
  return defaultStepKinds().register(boom).register(slow).register(spy).register(fanout);
}

/** Compile a workflow from YAML text, failing the test with its issues when it does not compile. */
export function workflowOf(
  text: string,
  kinds: StepKindRegistry = testKinds(),
  file = 'test.yaml',
): Workflow {
  const r = compileWorkflowFile(file, text, kinds);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.message}`).join('\n'));
  return r.workflow;
}

/** Compile and run a workflow against a text message. */
export async function run(
  yaml: string,
  text: string | undefined = 'hello',
  opts: Partial<RunOptions> & {
    message?: Partial<InboundMessage>;
    conversation?: Partial<Conversation>;
  } = {},
): Promise<RunResult> {
  const kinds = (opts.kinds as StepKindRegistry | undefined) ?? testKinds();
  const wf = workflowOf(yaml, kinds);
  return runWorkflow(
    wf,
    { message: message(text, opts.message), conversation: conversation(opts.conversation) },
    { logger: silent, stepTimeoutMs: 1000, runTimeoutMs: 5000, ...opts, kinds },
  );
}
