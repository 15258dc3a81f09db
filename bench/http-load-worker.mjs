// Worker-thread entry of bench/http-load.ts: worker threads do not inherit tsx's loader flags on
// Node 20, so register it here (as bin/switchboard.js does) before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./http-load.ts');
