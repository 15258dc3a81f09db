/**
 * An exclusive lock on the embedded store's data directory. PGlite has no such guard of its own:
 * two processes opening one directory each run their own PostgreSQL over the same files, silently
 * losing each other's writes (checked with PGlite 0.4.6). Several hub processes need DATABASE_URL.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SwitchboardError } from '../errors.ts';

/** Directories locked by this process (a second open in-process is the same mistake). */
const heldHere = new Set<string>();

export interface DataDirLock {
  release(): void;
}

/**
 * Takes `<dir>/switchboard.lock` (holding the owner's pid) or throws a `store_locked` error naming
 * the owner. A lock left by a process that no longer runs is taken over.
 */
export function lockDataDir(dir: string): DataDirLock {
  const file = join(dir, 'switchboard.lock');
  if (heldHere.has(file)) throw locked(dir, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = Number.parseInt(readText(file), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) throw locked(dir, owner);
      // Stale (crashed owner, or a pid this process inherited): remove it and try once more.
      rmSync(file, { force: true });
    }
  }
  heldHere.add(file);
  return {
    release() {
      if (!heldHere.delete(file)) return;
      rmSync(file, { force: true });
    },
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function locked(dir: string, pid: number): SwitchboardError {
  return new SwitchboardError(
    'store_locked',
    `embedded store ${dir} is in use by process ${pid}; stop it, or set DATABASE_URL so several processes share PostgreSQL`,
  );
}
