/** Console API helpers for tests: log in, call the API with a bearer token. */
import type { TestHub } from './hub.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface ConsoleClient {
  token: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON bodies
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export function consoleClient(t: TestHub, token: string): ConsoleClient {
  return {
    token,
    async call(method, path, body) {
      const res = await fetch(`${t.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed };
    },
  };
}

/** Create an agent with the admin token, log them in, return their client. */
export async function createAgent(
  t: TestHub,
  id: string,
  role: 'agent' | 'admin' = 'agent',
): Promise<ConsoleClient> {
  const admin = consoleClient(t, ADMIN_TOKEN);
  const created = await admin.call('POST', '/console/api/agents', {
    id,
    name: `Agent ${id}`,
    role,
    password: `pw-${id}-secret`,
  });
  if (created.status !== 201)
    throw new Error(`creating agent ${id}: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await t.post('/console/api/login', { username: id, password: `pw-${id}-secret` });
  if (login.status !== 200) throw new Error(`login ${id}: ${login.status} ${JSON.stringify(login.body)}`);
  return consoleClient(t, login.body.token);
}

export const conversationPath = (id: string, action = '') =>
  `/console/api/conversations/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
