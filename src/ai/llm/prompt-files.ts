/**
 * Prompt files (`config/prompts/*.md`): Liquid templates, compiled once and recompiled when the
 * file changes, so ops can tune a prompt in a running hub like they edit a workflow.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { CompiledTemplate } from '../../workflows/liquid.ts';

/** A loaded, compiled prompt. */
interface Entry {
  mtimeMs: number;
  size: number;
  template: CompiledTemplate;
}

export class PromptFiles {
  readonly #cache = new Map<string, Entry>();

  constructor(readonly dir: string) {}

  /** Absolute path of `name`, or an Error when it would leave the prompts directory. */
  pathOf(name: string): string {
    const full = resolve(this.dir, name);
    const rel = relative(this.dir, full);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`prompt "${name}" is outside ${this.dir}`);
    return full;
  }

  /** Whether the file is there (checked when a workflow loads). */
  exists(name: string): boolean {
    try {
      return existsSync(this.pathOf(name));
    } catch {
      return false;
    }
  }

  /** The compiled template; re-read when the file's mtime or size changed. */
  async get(name: string): Promise<CompiledTemplate> {
    const path = this.pathOf(name);
    const info = await stat(path).catch(() => {
      throw new Error(`prompt file not found: ${path}`);
    });
    const cached = this.#cache.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.template;
    const text = await readFile(path, 'utf8');
    let template: CompiledTemplate;
    try {
      template = new CompiledTemplate(text);
    } catch (err) {
      throw new Error(`prompt ${path}: ${(err as Error).message}`);
    }
    this.#cache.set(path, { mtimeMs: info.mtimeMs, size: info.size, template });
    return template;
  }
}
