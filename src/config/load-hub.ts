/**
 * Load and validate `config/hub.yaml`: the hub schema, then each channel block against its
 * channel type's own schema — all reported as `file:line:col message`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ChannelTypeRegistry } from '../channels/registry.ts';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { channelInstanceSchema, type HubConfig, hubConfigSchema } from './hub-schema.ts';
import { parseYamlWithSchema } from './yaml-source.ts';

export function hubFile(configDir: string): string {
  return join(configDir, 'hub.yaml');
}

/**
 * The hub schema extended with per-channel-type checks from the registry. The checks sit on each
 * channel element (not on the whole file) so they still run when another section has errors.
 */
export function hubSchemaFor(registry: ChannelTypeRegistry) {
  const channel = channelInstanceSchema.superRefine((instance, ctx) => {
    const type = registry.get(instance.type);
    if (!type) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `unknown channel type "${instance.type}" (known: ${registry.names().join(', ')})`,
      });
      return;
    }
    if (!instance.enabled) return;
    const result = (type.configSchema as z.ZodType).safeParse(instance);
    if (result.success) return;
    for (const issue of result.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      ctx.addIssue({ code: 'custom', path, message: issue.message });
    }
  });
  const channels = z
    .array(channel)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((c, index) => {
        const key = `${c.type}/${c.id}`;
        if (seen.has(key))
          ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate channel ${key}` });
        seen.add(key);
      });
    })
    .default([{ id: 'web', type: 'web', enabled: true }]);
  return hubConfigSchema.extend({ channels });
}

/**
 * Check hub.yaml. Without a registry, channel blocks are checked only for `id`/`type` — enough for
 * tools such as `dlq` that need the queue settings but not the channels.
 */
export async function checkHubConfig(
  file: string,
  registry: ChannelTypeRegistry | null,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config?: HubConfig; issues: ConfigIssue[] }> {
  const text = existsSync(file) ? await readFile(file, 'utf8') : '';
  const schema = registry ? hubSchemaFor(registry) : hubConfigSchema;
  const result = parseYamlWithSchema(file, text, schema, { env });
  return result.ok ? { config: result.value, issues: [] } : { issues: result.issues };
}

/** Load hub.yaml or throw a ConfigError listing every problem. A missing file means all defaults. */
export async function loadHubConfig(
  configDir: string,
  registry: ChannelTypeRegistry | null,
  env = process.env,
): Promise<HubConfig> {
  const { config, issues } = await checkHubConfig(hubFile(configDir), registry, env);
  if (!config) throw new ConfigError(issues);
  return config;
}
