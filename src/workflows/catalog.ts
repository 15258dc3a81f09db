/**
 * The live set of workflows of a directory, reloaded when files change.
 *
 * - Any change event in the directory (add, edit, delete, rename, an editor's write-via-rename, a
 *   Kubernetes ConfigMap's `..data` symlink swap) schedules one debounced rescan; the rescan reads
 *   every workflow file and recompiles only those whose text changed.
 * - A file that does not load keeps its last good version serving; its issues are logged as
 *   `file:line:col message` and reported in a `reload` event. A deleted file's workflow is gone.
 * - The new set is built completely, then swapped in with one assignment: `current()` never
 *   returns a half-loaded set. Rescans run one at a time.
 */
import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type ConfigIssue, formatConfigIssue } from '../errors.ts';
import { isWorkflowFileName } from './loader.ts';
import { resolveWorkflows } from './resolve.ts';
import type { KindLookup } from './step-schema.ts';
import { type CompiledFile, compileWorkflowFile, type Workflow } from './workflow.ts';
import { WorkflowSet } from './workflow-set.ts';

export interface CatalogOptions {
  kinds: KindLookup;
  logger: Logger;
  /** Watch the directory for changes (default true). */
  watch?: boolean;
  /** Quiet time after the last change event before reloading (default 100 ms). */
  debounceMs?: number;
}

/** One file's outcome in a reload. `ok: false` means its issues stand (its last good version, if any, serves). */
export interface ReloadInfo {
  file: string;
  ok: boolean;
  issues: ConfigIssue[];
  /** The file is gone (its workflow no longer serves). */
  deleted?: boolean;
  /** Name of the workflow this file now serves (a last good version when `ok` is false), if any. */
  serving?: string;
}

interface FileState {
  text: string;
  compiled: CompiledFile;
}

export class WorkflowCatalog extends EventEmitter<{ reload: [ReloadInfo] }> {
  #set = new WorkflowSet();
  #issues: ConfigIssue[] = [];
  #files = new Map<string, FileState>();
  #serving = new Map<string, Workflow>();
  #watcher?: FSWatcher;
  #timer?: NodeJS.Timeout;
  #pendingSince?: number;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #debounceMs: number;

  private constructor(
    readonly dir: string,
    private readonly opts: CatalogOptions,
  ) {
    super();
    this.#debounceMs = opts.debounceMs ?? 100;
  }

  /** Load `dir` and (unless `watch: false`) keep it loaded. Never throws for bad files or a missing directory. */
  static async open(dir: string, opts: CatalogOptions): Promise<WorkflowCatalog> {
    const catalog = new WorkflowCatalog(dir, opts);
    await catalog.reload();
    if (opts.watch !== false) catalog.#watch();
    return catalog;
  }

  /** The serving set; always usable (possibly empty). */
  current(): WorkflowSet {
    return this.#set;
  }

  /** Current load problems of every file (files serving a last good version included). */
  issues(): ConfigIssue[] {
    return [...this.#issues];
  }

  /** Rescan the directory now (also what a change event triggers). Resolves when this rescan is done. */
  reload(): Promise<void> {
    const next = this.#chain.then(() => this.#rescan());
    this.#chain = next.catch((err) => this.opts.logger.error({ err }, 'workflow reload failed'));
    return this.#chain;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#chain;
  }

  #watch(): void {
    try {
      // persistent: false — the catalog alone must not keep a process (or a test run) alive.
      this.#watcher = watch(this.dir, { persistent: false }, () => this.#schedule());
      this.#watcher.on('error', (err) => {
        this.opts.logger.error(
          { err, dir: this.dir },
          'workflow hot reload stopped: cannot watch the directory',
        );
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (err) {
      this.opts.logger.error(
        { err, dir: this.dir },
        'workflow hot reload is off: cannot watch the directory',
      );
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    const now = Date.now();
    this.#pendingSince ??= now;
    clearTimeout(this.#timer);
    // A steady stream of events (a sync tool copying many files) still reloads every 10 debounce periods.
    const wait = now - this.#pendingSince >= this.#debounceMs * 10 ? 0 : this.#debounceMs;
    this.#timer = setTimeout(() => {
      this.#pendingSince = undefined;
      void this.reload();
    }, wait);
  }

  async #rescan(): Promise<void> {
    if (this.#closed) return;
    const log = this.opts.logger;
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter(isWorkflowFileName).sort();
    } catch (err) {
      const issue = {
        file: this.dir,
        line: 1,
        col: 1,
        message: `cannot read workflow directory: ${(err as Error).message}`,
      };
      log.error({ issues: [issue] }, formatConfigIssue(issue));
      this.#issues = [issue];
      return;
    }
    const next = new Map<string, FileState>();
    const changed = new Set<string>();
    for (const name of names) {
      const file = join(this.dir, name);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue; // vanished between readdir and read: the next event rescans
      }
      const prev = this.#files.get(file);
      if (prev && prev.text === text) next.set(file, prev);
      else {
        next.set(file, { text, compiled: compileWorkflowFile(file, text, this.opts.kinds) });
        changed.add(file);
      }
    }
    for (const file of this.#files.keys()) if (!next.has(file)) changed.add(file);

    const res = resolveWorkflows(
      [...next].map(([file, s]) => ({ file, compiled: s.compiled, serving: this.#serving.get(file) })),
    );
    const before = issuesByFile(this.#issues);
    const after = issuesByFile(res.issues);
    const prevServing = this.#serving;
    // The swap: every reader sees either the old set or the new one.
    this.#files = next;
    this.#serving = res.serving;
    this.#set = res.set;
    this.#issues = res.issues;

    const report = new Set(changed);
    for (const file of new Set([...before.keys(), ...after.keys()]))
      if (JSON.stringify(before.get(file)) !== JSON.stringify(after.get(file))) report.add(file);
    for (const file of [...report].sort())
      this.#report(file, next.has(file), after.get(file) ?? [], prevServing.get(file));
  }

  #report(file: string, exists: boolean, issues: ConfigIssue[], previous: Workflow | undefined): void {
    const serving = this.#serving.get(file);
    const info: ReloadInfo = {
      file,
      ok: issues.length === 0,
      issues,
      ...(exists ? {} : { deleted: true }),
      ...(serving ? { serving: serving.name } : {}),
    };
    const log = this.opts.logger;
    if (!exists) log.info({ file, workflow: previous?.name }, 'workflow file removed');
    else if (issues.length > 0)
      log.error(
        { file, issues, serving: serving?.name ?? null },
        `${issues.map(formatConfigIssue).join('\n')}${serving ? `\n(${file}: the last good version of "${serving.name}" keeps serving)` : ''}`,
      );
    else log.info({ file, workflow: serving?.name }, 'workflow loaded');
    this.emit('reload', info);
  }
}

function issuesByFile(issues: ConfigIssue[]): Map<string, ConfigIssue[]> {
  const map = new Map<string, ConfigIssue[]>();
  for (const i of issues) map.set(i.file, [...(map.get(i.file) ?? []), i]);
  return map;
}
