/** Helpers for the AI step kinds: parse a `sources` block, build a runtime, run a workflow with it. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ingest, KnowledgeBase, MemoryKbRepository } from '../../src/ai/kb/index.ts';
import type { OrderLookup } from '../../src/ai/orders/lookup.ts';
import { AiRuntime, type AiRuntimeOptions } from '../../src/ai/runtime.ts';
import { type SourcesConfig, sourcesConfigSchema } from '../../src/ai/sources-config.ts';
import { aiStepKinds } from '../../src/ai/step-kinds.ts';
import { parseYamlWithSchema } from '../../src/config/yaml-source.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { BreakerRegistry } from '../../src/resilience/breakers.ts';
import { Resilience } from '../../src/resilience/guard.ts';
import {
  defaultStepKinds,
  type RunResult,
  runWorkflow,
  type StepKindRegistry,
} from '../../src/workflows/index.ts';
import { conversation, message, silent, workflowOf } from '../workflows/helpers.ts';

export const REPO_CONFIG = join(import.meta.dirname, '..', '..', 'config');

/** Parse a `sources:` body (YAML text) as hub.yaml would; throws with file:line:col issues. */
export function sourcesOf(yaml: string, env: Record<string, string> = {}): SourcesConfig {
  const r = parseYamlWithSchema('hub.yaml', yaml, sourcesConfigSchema, { env });
  if (!r.ok) throw new Error(r.issues.map(formatConfigIssue).join('\n'));
  return r.value;
}

/** Issues of a `sources:` body, as printed. */
export function sourceIssues(yaml: string): string[] {
  const r = parseYamlWithSchema('hub.yaml', yaml, sourcesConfigSchema, { env: {} });
  return r.ok ? [] : r.issues.map(formatConfigIssue);
}

/** Registry with the defaults and the AI kinds (name checks on when `sources` is given). */
export function aiKinds(sources?: SourcesConfig, configDir?: string): StepKindRegistry {
  const kinds = defaultStepKinds();
  for (const k of aiStepKinds({ sources, configDir })) kinds.register(k);
  return kinds;
}

/** A knowledge base in memory, ingested from `path` (default: the repo's config/kb). */
export async function memoryKb(
  path = join(REPO_CONFIG, 'kb'),
  collection = 'after-sales',
): Promise<KnowledgeBase> {
  const repository = new MemoryKbRepository();
  await ingest(path, { repository, collection });
  return KnowledgeBase.open({ repository });
}

export interface TestRuntime {
  runtime: AiRuntime;
  breakers: BreakerRegistry;
}

export function testRuntime(
  sources: SourcesConfig,
  opts: Partial<Omit<AiRuntimeOptions, 'knowledgeBase' | 'orders'>> & {
    kb?: KnowledgeBase;
    orders?: OrderLookup;
    breaker?: { consecutiveFailures: number; halfOpenAfter: number };
    logger?: Logger;
  } = {},
): TestRuntime {
  const logger = opts.logger ?? silent;
  const breakers = new BreakerRegistry(
    opts.breaker ?? { consecutiveFailures: 5, halfOpenAfter: 30_000 },
    logger,
  );
  const runtime = new AiRuntime({
    sources,
    configDir: opts.configDir ?? REPO_CONFIG,
    resilience: opts.resilience ?? new Resilience(breakers, logger),
    logger,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.deltas ? { deltas: opts.deltas } : {}),
    knowledgeBase: async () => opts.kb ?? null,
    orders: async () => opts.orders ?? null,
  });
  return { runtime, breakers };
}

/** Compile `yaml` with `kinds` and run it for `text` with `runtime` as services.ai. */
export function runWith(
  runtime: AiRuntime,
  kinds: StepKindRegistry,
  yaml: string,
  text: string,
  opts: {
    dryRun?: boolean;
    stepTimeoutMs?: number;
    sender?: string;
    conversationMeta?: Record<string, unknown>;
    messageId?: string;
  } = {},
): Promise<RunResult> {
  const msg = message(text, {
    ...(opts.sender ? { sender: { id: opts.sender } } : {}),
    ...(opts.messageId ? { id: opts.messageId } : {}),
  });
  return runWorkflow(
    workflowOf(yaml, kinds),
    { message: msg, conversation: conversation({ meta: opts.conversationMeta ?? {} }) },
    {
      kinds,
      services: { ai: runtime },
      logger: silent,
      stepTimeoutMs: opts.stepTimeoutMs ?? 2000,
      runTimeoutMs: 10_000,
      dryRun: opts.dryRun ?? false,
    },
  );
}
