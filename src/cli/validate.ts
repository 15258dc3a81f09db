/**
 * `switchboard validate [paths…]`: check hub.yaml and workflow files without starting anything.
 * Prints `file:line:col message` per problem and exits 1 when there is any.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { aiStepKinds } from '../ai/step-kinds.ts';
import { allChannelTypes } from '../channels/all.ts';
import { ChannelTypeRegistry } from '../channels/registry.ts';
import { readEnv } from '../config/env.ts';
import { checkHubConfig, hubFile } from '../config/load-hub.ts';
import { type ConfigIssue, formatConfigIssue } from '../errors.ts';
import { defaultStepKinds, loadWorkflowFiles } from '../workflows/index.ts';

export async function validatePaths(
  paths: string[],
  configDir: string,
): Promise<{ issues: ConfigIssue[]; files: number; workflows: number }> {
  const registry = new ChannelTypeRegistry(allChannelTypes);
  let hubFiles: string[] = [];
  let workflowFiles: string[] = [];
  const kinds = defaultStepKinds();
  if (paths.length === 0) {
    hubFiles = [hubFile(configDir)].filter((f) => existsSync(f));
    let dir = join(configDir, 'workflows');
    const hub = hubFiles[0] ? await checkHubConfig(hubFiles[0], registry) : undefined;
    if (hub?.config) dir = resolve(configDir, hub.config.workflows.dir);
    // The hub's own kinds, checked against its sources (Dify apps, models, queries, prompt files).
    for (const kind of aiStepKinds({ sources: hub?.config?.sources, configDir })) kinds.register(kind);
    workflowFiles = await yamlFilesIn(dir);
  } else {
    for (const kind of aiStepKinds()) kinds.register(kind);
    for (const p of paths) {
      if (existsSync(p) && statSync(p).isDirectory()) workflowFiles.push(...(await yamlFilesIn(p)));
      else if (basename(p) === 'hub.yaml') hubFiles.push(p);
      else workflowFiles.push(p);
    }
  }
  const issues: ConfigIssue[] = [];
  for (const file of hubFiles) issues.push(...(await checkHubConfig(file, registry)).issues);
  const missing = workflowFiles.filter((f) => !existsSync(f));
  for (const file of missing) issues.push({ file, line: 1, col: 1, message: 'file not found' });
  const loaded = await loadWorkflowFiles(
    workflowFiles.filter((f) => existsSync(f)),
    kinds,
  );
  issues.push(...loaded.issues);
  return { issues, files: hubFiles.length + workflowFiles.length, workflows: loaded.set.list().length };
}

async function yamlFilesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names = await readdir(dir);
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check hub.yaml and workflow files; prints file:line:col message per error')
    .argument('[paths...]', 'files or directories (default: config/hub.yaml and the workflows directory)')
    .action(async (paths: string[]) => {
      const env = readEnv();
      const { issues, files, workflows } = await validatePaths(paths, env.CONFIG_DIR);
      for (const issue of issues) process.stdout.write(`${formatConfigIssue(issue)}\n`);
      if (issues.length > 0) {
        process.stderr.write(`${issues.length} error(s) in ${files} file(s)\n`);
        process.exit(1);
      }
      process.stdout.write(`ok: ${files} file(s), ${workflows} workflow(s)\n`);
    });
}
