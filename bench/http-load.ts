/**
 * A closed-loop HTTP load generator in a worker thread (its own event loop and, on a multi-core
 * machine, its own core): `concurrency` keep-alive connections each sending the next request as
 * soon as the previous answer arrived, for `durationMs`. Requests are prepared in advance, so the
 * generator costs the server under test as little as possible.
 */
import { Agent, request } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface PreparedRequest {
  /** Path and query. */
  path: string;
  body: string;
  headers: Record<string, string>;
}

export interface LoadSpec {
  /** `http://host:port` */
  origin: string;
  requests: PreparedRequest[];
  concurrency: number;
  durationMs: number;
  /** Requests answered with this status count as successes. */
  okStatus: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  /** Non-ok answers by status, and `error` for no answer. */
  failures: Record<string, number>;
  requestsPerSec: number;
  okPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests prepared but not reached before the time was up. */
  unused: number;
}

/** Run `spec` in a worker thread and resolve with its result. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./http-load-worker.mjs', import.meta.url), { workerData: spec });
    worker.once('message', (result: LoadResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`));
    });
  });
}

async function generate(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const url = new URL(spec.origin);
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  const deadline = performance.now() + spec.durationMs;
  const one = (req: PreparedRequest) =>
    new Promise<number>((resolve) => {
      const r = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: req.path,
          headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      r.on('error', () => resolve(0));
      r.end(req.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < deadline && next < spec.requests.length) {
        const req = spec.requests[next++] as PreparedRequest;
        const t0 = performance.now();
        const status = await one(req);
        latencies.push(performance.now() - t0);
        if (status === spec.okStatus) ok++;
        else {
          const key = status === 0 ? 'error' : String(status);
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? Number.NaN;
  return {
    sent: latencies.length,
    ok,
    failures,
    requestsPerSec: latencies.length / seconds,
    okPerSec: ok / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    unused: spec.requests.length - next,
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  void generate(workerData as LoadSpec).then((result) => port.postMessage(result));
}
