/**
 * The `sources` block of hub.yaml: everything workflow steps call outside the hub. Each source
 * has its own schema file; this one puts them together. A source that is absent is simply not
 * there: its steps fail at once, naming the missing block, so their `fallback` answers.
 */
import { z } from 'zod';
import { callPolicyFields } from '../resilience/config.ts';
import { cozeSourceSchema } from './coze/config.ts';
import { difySourceSchema } from './dify/config.ts';
import { kbSourceSchema } from './kb-config.ts';
import { llmSourceSchema } from './llm/config.ts';
import { ordersSourceSchema } from './orders/config.ts';

/**
 * `sources.http`: settings of the generic `http` step. `secrets` are `${ENV}` values that http
 * step templates may use as `{{ secrets.name }}` (URLs, headers, bodies), so API keys stay out of
 * workflow files.
 */
export const httpSourceSchema = z
  .strictObject({
    secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    ...callPolicyFields,
  })
  .prefault({});
export type HttpSourceConfig = z.output<typeof httpSourceSchema>;

export const sourcesConfigSchema = z
  .strictObject({
    kb: kbSourceSchema,
    dify: difySourceSchema.optional(),
    llm: llmSourceSchema.optional(),
    coze: cozeSourceSchema.optional(),
    orders: ordersSourceSchema.optional(),
    http: httpSourceSchema,
  })
  .prefault({});
export type SourcesConfig = z.output<typeof sourcesConfigSchema>;
