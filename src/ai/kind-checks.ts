/**
 * Load-time checks the AI step kinds can make when they know the hub's config: a workflow naming
 * a Dify app, model, order query or prompt file that hub.yaml does not have is a
 * `file:line:col` error on save, not a failure while a customer waits.
 */
import type { z } from 'zod';
import { issueParams } from '../workflows/schema-helpers.ts';
import type { PromptFiles } from './llm/prompt-files.ts';
import type { SourcesConfig } from './sources-config.ts';

export interface KindChecks {
  difyApps?: readonly string[];
  llmModels?: readonly string[];
  orderQueries?: readonly string[];
  prompts?: PromptFiles;
}

/** Checks from a parsed `sources` block (names only; nothing is opened). */
export function checksFrom(sources: SourcesConfig | undefined, prompts?: PromptFiles): KindChecks {
  if (!sources) return prompts ? { prompts } : {};
  // A source without a block is "not configured": its steps fail at run time (their fallback
  // answers) rather than the workflow failing to load. A block that exists must name what is used.
  return {
    ...(sources.dify ? { difyApps: Object.keys(sources.dify.apps) } : {}),
    ...(sources.llm ? { llmModels: Object.keys(sources.llm.models) } : {}),
    ...(sources.orders ? { orderQueries: Object.keys(sources.orders.queries) } : {}),
    ...(prompts ? { prompts } : {}),
  };
}

/** Add an issue when `name` is not among `known` (skipped when the hub config is not known). */
export function checkName(
  ctx: z.core.$RefinementCtx,
  name: string,
  known: readonly string[] | undefined,
  what: string,
  where: string,
  path: (string | number)[],
): boolean {
  if (!known || known.includes(name)) return true;
  const list = known.length > 0 ? known.join(', ') : 'none';
  ctx.addIssue({
    code: 'custom',
    message: `unknown ${what} "${name}" (declared under ${where} in hub.yaml: ${list})`,
    path,
    params: issueParams(),
  });
  return false;
}
