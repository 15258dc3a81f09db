/** One-shot loading of workflow files (boot, `switchboard validate`). Hot reload lives in catalog.ts. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigIssue } from '../errors.ts';
import { resolveWorkflows } from './resolve.ts';
import type { KindLookup } from './step-schema.ts';
import { type CompiledFile, compileWorkflowFile, type Workflow } from './workflow.ts';
import { WorkflowSet } from './workflow-set.ts';

export interface LoadResult {
  /** The workflows that loaded cleanly (a broken file is simply absent). */
  set: WorkflowSet;
  /** Every problem, as `file:line:col message` material, in file order. */
  issues: ConfigIssue[];
  perFile: Map<string, Workflow | ConfigIssue[]>;
}

/** A workflow file name: `*.yaml` / `*.yml`, not hidden (editor lock and swap files are). */
export function isWorkflowFileName(name: string): boolean {
  return !name.startsWith('.') && /\.ya?ml$/i.test(name);
}

/** Read and compile one file; a read error becomes an issue at 1:1. */
export async function compileFile(file: string, kinds: KindLookup): Promise<CompiledFile> {
  try {
    return compileWorkflowFile(file, await readFile(file, 'utf8'), kinds);
  } catch (err) {
    return {
      ok: false,
      issues: [{ file, line: 1, col: 1, message: `cannot read file: ${(err as Error).message}` }],
    };
  }
}

/** Load the given files (cross-file rules apply among them). Never throws for bad content. */
export async function loadWorkflowFiles(files: string[], kinds: KindLookup): Promise<LoadResult> {
  const compiled = await Promise.all(
    files.map(async (file) => ({ file, compiled: await compileFile(file, kinds) })),
  );
  const { set, issues, perFile } = resolveWorkflows(compiled);
  return { set, issues, perFile };
}

/** The workflow files of a directory, sorted by name. */
export async function listWorkflowFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter(isWorkflowFileName)
    .sort()
    .map((n) => join(dir, n));
}

/** Load every `*.yaml` / `*.yml` of `dir` (sorted). A missing directory is an issue, not a throw. */
export async function loadWorkflowDir(dir: string, kinds: KindLookup): Promise<LoadResult> {
  let files: string[];
  try {
    files = await listWorkflowFiles(dir);
  } catch (err) {
    return {
      set: new WorkflowSet(),
      issues: [
        { file: dir, line: 1, col: 1, message: `cannot read workflow directory: ${(err as Error).message}` },
      ],
      perFile: new Map(),
    };
  }
  return loadWorkflowFiles(files, kinds);
}
