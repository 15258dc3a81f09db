/**
 * Cross-file rules over compiled files: workflow names are unique, at most one is the default.
 *
 * Used by the one-shot loader and by hot reload alike. Files that keep serving what they served
 * claim their names first, so editing or adding a file can never knock a working one out; among
 * the rest, file-name order decides (the later file gets the error). A file whose new version is
 * broken or conflicts keeps serving its last good version when that still fits.
 */
import type { ConfigIssue } from '../errors.ts';
import type { CompiledFile, FilePosition, Workflow } from './workflow.ts';
import { WorkflowSet } from './workflow-set.ts';

export interface FileEntry {
  file: string;
  compiled: CompiledFile;
  /** What this file served before this resolution (hot reload), if anything. */
  serving?: Workflow;
}

export interface Resolution {
  set: WorkflowSet;
  /** All issues, in file order. */
  issues: ConfigIssue[];
  /** Per file: its compiled workflow, or its issues (even when a last good version still serves). */
  perFile: Map<string, Workflow | ConfigIssue[]>;
  /** Per file: the workflow actually serving (possibly a last good version). */
  serving: Map<string, Workflow>;
}

export function resolveWorkflows(entries: readonly FileEntry[]): Resolution {
  const byFile = (a: FileEntry, b: FileEntry) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  const stable = (e: FileEntry) => e.compiled.ok && e.compiled.workflow === e.serving;
  const order = [...entries.filter(stable).sort(byFile), ...entries.filter((e) => !stable(e)).sort(byFile)];

  const names = new Map<string, Workflow>();
  let defaultWf: Workflow | undefined;
  const issuesOf = new Map<string, ConfigIssue[]>();
  const serving = new Map<string, Workflow>();

  const conflicts = (
    w: Workflow,
    pos?: { namePos: FilePosition; defaultPos: FilePosition },
  ): ConfigIssue[] => {
    const out: ConfigIssue[] = [];
    const other = names.get(w.name);
    if (other)
      out.push({
        file: w.file,
        ...(pos?.namePos ?? { line: 1, col: 1 }),
        message: `duplicate workflow name "${w.name}" (already defined in ${other.file})`,
      });
    if (w.isDefault && defaultWf)
      out.push({
        file: w.file,
        ...(pos?.defaultPos ?? { line: 1, col: 1 }),
        message: `only one workflow may be the default ("${defaultWf.name}" in ${defaultWf.file} already is)`,
      });
    return out;
  };
  const claim = (file: string, w: Workflow) => {
    names.set(w.name, w);
    if (w.isDefault) defaultWf = w;
    serving.set(file, w);
  };

  for (const entry of order) {
    const c = entry.compiled;
    let issues: ConfigIssue[] = [];
    if (c.ok) {
      issues = conflicts(c.workflow, c);
      if (issues.length === 0) {
        claim(entry.file, c.workflow);
        continue;
      }
    } else issues = c.issues;
    issuesOf.set(entry.file, issues);
    const last = entry.serving;
    if (last && conflicts(last).length === 0) claim(entry.file, last);
  }

  const perFile = new Map<string, Workflow | ConfigIssue[]>();
  const issues: ConfigIssue[] = [];
  for (const entry of [...entries].sort(byFile)) {
    const own = issuesOf.get(entry.file);
    if (own) {
      perFile.set(entry.file, own);
      issues.push(...own);
    } else if (entry.compiled.ok) perFile.set(entry.file, entry.compiled.workflow);
  }
  return { set: new WorkflowSet(serving.values()), issues, perFile, serving };
}
