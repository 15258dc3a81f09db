/** The conversation store area: open it with `openStore`; everything else depends on `Store` only. */

export type { Executor, Queryable } from './executor.ts';
export { type Migration, migrations } from './migrations.ts';
export { type OpenStoreOptions, openStore } from './open-store.ts';
export { SqlStore } from './sql-store.ts';
export type * from './types.ts';
