/**
 * Point the `dingtalk-stream` SDK's gateway request somewhere else (a test fake, an egress proxy).
 *
 * The SDK POSTs to a hard-coded `GATEWAY_URL` with its own `axios` import and offers no option to
 * change it. The one seam is an axios request interceptor — on the very axios module instance the
 * SDK loaded: an interceptor on another copy (a CJS `require` while the SDK runs as ESM, a
 * differently hoisted version) silently does nothing. So axios is resolved *from the SDK's own
 * directory* and imported through its ESM entry, which is what the SDK's `import axios` gets.
 * The interceptor only rewrites requests to `GATEWAY_URL` whose body names a registered clientId,
 * so several adapters (and other axios users) in one process are unaffected.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GATEWAY_URL } from 'dingtalk-stream';

/** The slice of axios this module touches (axios types are not a direct dependency). */
interface AxiosLike {
  interceptors: { request: { use(onFulfilled: (config: AxiosRequestLike) => AxiosRequestLike): number } };
}
interface AxiosRequestLike {
  url?: string;
  data?: unknown;
}

const overrides = new Map<string, string>();
let installed: Promise<void> | undefined;

/** Send the SDK's `connections/open` request for `clientId` to `url` instead of DingTalk. */
export async function redirectGateway(clientId: string, url: string): Promise<void> {
  if (url === GATEWAY_URL) {
    overrides.delete(clientId);
    return;
  }
  overrides.set(clientId, url);
  installed ??= install().catch((err: unknown) => {
    installed = undefined;
    throw err;
  });
  await installed;
}

async function install(): Promise<void> {
  const axios = await loadSdkAxios();
  axios.interceptors.request.use((config) => {
    if (config.url !== GATEWAY_URL) return config;
    const clientId = (config.data as { clientId?: unknown } | undefined)?.clientId;
    const target = typeof clientId === 'string' ? overrides.get(clientId) : undefined;
    if (target) config.url = target;
    return config;
  });
}

async function loadSdkAxios(): Promise<AxiosLike> {
  const here = createRequire(import.meta.url);
  const fromSdk = createRequire(here.resolve('dingtalk-stream'));
  const pkgPath = fromSdk.resolve('axios/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports?: unknown;
    module?: string;
    main?: string;
  };
  const entry = esmEntry(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js';
  const mod = (await import(pathToFileURL(join(dirname(pkgPath), entry)).href)) as {
    default?: AxiosLike;
  } & AxiosLike;
  const axios = mod.default ?? mod;
  if (!axios?.interceptors?.request)
    throw new Error('dingtalk: could not load the axios instance of dingtalk-stream');
  return axios;
}

/**
 * Follow `exports["."]` as Node's ESM loader does for an `import`: the first key, in object order,
 * that is one of the active conditions.
 */
function esmEntry(exports: unknown): string | undefined {
  let node: unknown =
    typeof exports === 'object' && exports !== null && '.' in exports
      ? (exports as Record<string, unknown>)['.']
      : exports;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof node === 'string') return node;
    if (typeof node !== 'object' || node === null) return undefined;
    const conditions = node as Record<string, unknown>;
    const key = Object.keys(conditions).find((k) => k === 'node' || k === 'import' || k === 'default');
    if (!key) return undefined;
    node = conditions[key];
  }
  return undefined;
}
