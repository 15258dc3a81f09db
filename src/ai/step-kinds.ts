/**
 * The step kinds this package adds to the engine: `parallel`, `dify`, `kb`, `orders`, `http`,
 * `llm`, `coze`. The hub, `validate` and `simulate` all register this one list, so they agree on what a
 * workflow may say. Given the hub's `sources` (and config directory), the kinds also check at
 * load that the Dify apps, Coze bots, models, order queries and prompt files a workflow names exist.
 */
import { resolve } from 'node:path';
import { createCozeKind } from '../workflows/kinds/coze.ts';
import { createDifyKind } from '../workflows/kinds/dify.ts';
import { httpKind } from '../workflows/kinds/http.ts';
import { kbKind } from '../workflows/kinds/kb.ts';
import { createLlmKind } from '../workflows/kinds/llm.ts';
import { createOrdersKind } from '../workflows/kinds/orders.ts';
import { parallelKind } from '../workflows/kinds/parallel.ts';
import type { StepKind } from '../workflows/types.ts';
import { checksFrom } from './kind-checks.ts';
import { PromptFiles } from './llm/prompt-files.ts';
import type { SourcesConfig } from './sources-config.ts';

export interface AiKindOptions {
  /** The hub's parsed `sources`: enables the name checks. */
  sources?: SourcesConfig;
  /** The config directory: enables the prompt-file check. */
  configDir?: string;
}

/** The AI kinds, to register next to `defaultStepKinds()`. */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds kinds of every input/output type
export function aiStepKinds(opts: AiKindOptions = {}): StepKind<any, any>[] {
  const prompts = opts.configDir
    ? new PromptFiles(resolve(opts.configDir, opts.sources?.llm?.promptsDir ?? 'prompts'))
    : undefined;
  const checks = checksFrom(opts.sources, prompts);
  return [
    parallelKind,
    createDifyKind(checks),
    kbKind,
    createOrdersKind(checks),
    httpKind,
    createLlmKind(checks),
    // Checked here: a bot list only when a coze block exists (absent = fails at run time).
    createCozeKind(opts.sources?.coze ? Object.keys(opts.sources.coze.bots) : undefined),
  ];
}
