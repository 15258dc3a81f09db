/**
 * `GET /healthz` (the process is alive), `GET /readyz` (it can do its job: Redis, store, workers,
 * config, channel connections, breakers — 503 with the failing checks otherwise), `GET /metrics`.
 */
import express, { type Router } from 'express';
import { registry } from '../../metrics.ts';

export type ReadinessCheck = () => Promise<{ ok: boolean; detail?: unknown }>;

export function healthRoutes(checks: Record<string, ReadinessCheck>): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  router.get('/readyz', async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          return [name, await withTimeout(check(), 2000)] as const;
        } catch (err) {
          return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }] as const;
        }
      }),
    );
    const ok = entries.every(([, r]) => r.ok);
    res.status(ok ? 200 : 503).json({ ok, checks: Object.fromEntries(entries) });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}
