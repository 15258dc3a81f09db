/** Hub processes started the way an operator starts them: `switchboard start --role …`. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REDIS_URL, type TestHub } from './hub.ts';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'switchboard.js');

export interface HubProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Start a hub process sharing `t`'s Redis prefix, config directory and database. */
export function spawnHubProcess(
  t: TestHub,
  role: 'worker' | 'ingress' | 'all',
  env: Record<string, string> = {},
): HubProcess {
  const child = spawn(process.execPath, [BIN, 'start', '--role', role], {
    env: {
      ...process.env,
      REDIS_URL,
      CONFIG_DIR: t.configDir,
      QUEUE_PREFIX: t.prefix,
      DATABASE_URL: t.databaseUrl ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Run the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve, reject) => {
      const started = Date.now();
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `switchboard ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`,
          ),
        );
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      });
    },
  );
}
