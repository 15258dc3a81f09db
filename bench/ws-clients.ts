/**
 * Child process of bench/ws-sessions.ts: opens N web chat sessions over WebSocket against the hub
 * at argv[2], each confirmed live by a ping/pong (the server answers once its subscription is in
 * place), prints `READY <n> <ms>`, then holds them until its stdin closes.
 */
import WebSocket from 'ws';

const [origin = '', countArg = '10000'] = process.argv.slice(2);
const COUNT = Number(countArg);
const CONCURRENCY = 64;

async function createSession(): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${origin}/v1/chat/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    if (res.status === 201) return ((await res.json()) as { session_id: string }).session_id;
    if (attempt > 5) throw new Error(`create answered ${res.status}`);
  }
}

function open(sessionId: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/v1/chat/ws?session_id=${sessionId}`, {
      perMessageDeflate: false,
    });
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'ping' })));
    ws.on('message', (data) => {
      if (JSON.parse(data.toString()).type === 'pong') resolve(ws);
    });
  });
}

async function pool<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}

const started = performance.now();
const sessions = await pool(COUNT, () => createSession());
const sockets = await pool(COUNT, (i) => open(sessions[i] as string));
process.stdout.write(`READY ${sockets.length} ${Math.round(performance.now() - started)}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
