/**
 * The store's schema, as an ordered list of versioned migrations. Both drivers run the same SQL.
 *
 * To change the schema, append one object with the next version; never edit or reorder one that
 * has shipped (a changed one is reported at startup, see migrate.ts). Each migration runs in its
 * own transaction, so a script may hold several statements; no parameters.
 *
 * Conventions: snake_case columns, `timestamptz` for times, `jsonb` for free-form data, CHECK
 * constraints for closed vocabularies the core switches on.
 */

import { kbMigration, kbVectorMigration } from '../ai/kb/migration.ts';
import { handoffMigration } from '../handoff/migration.ts';

export interface Migration {
  /** 1, 2, 3 … strictly increasing, no gaps. */
  version: number;
  /** Short kebab-case description, for logs and `schema_migrations`. */
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'conversations-messages-deliveries-runs',
    // Messages and runs carry conversation ids without foreign keys on purpose: jobs run at least
    // once and in parallel across conversations, and recording what happened must never fail on
    // the order in which another job wrote its row. Deliveries are written together with their
    // message (one statement), so that key is enforced.
    sql: `
CREATE TABLE conversations (
  id            text PRIMARY KEY,
  channel       text NOT NULL,
  channel_id    text NOT NULL,
  state         text NOT NULL DEFAULT 'bot' CHECK (state IN ('bot', 'queued', 'agent', 'closed')),
  assignee      text,
  handoff_queue text,
  meta          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  closed_at     timestamptz
);
-- The console's hand-off lists: waiting and taken conversations, oldest first.
CREATE INDEX conversations_handoff_idx ON conversations (state, updated_at) WHERE state IN ('queued', 'agent');

CREATE TABLE messages (
  seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id              text PRIMARY KEY,
  conversation_id text NOT NULL,
  direction       text NOT NULL CHECK (direction IN ('in', 'out')),
  kind            text NOT NULL,
  text            text,
  payload         jsonb NOT NULL,
  in_reply_to     text,
  author          text NOT NULL CHECK (author IN ('visitor', 'bot', 'agent', 'system')),
  trace_id        text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_seq_idx ON messages (conversation_id, seq);
CREATE INDEX messages_in_reply_to_seq_idx ON messages (in_reply_to, seq) WHERE in_reply_to IS NOT NULL;

CREATE TABLE deliveries (
  idempotency_key     text PRIMARY KEY,
  message_id          text NOT NULL REFERENCES messages (id),
  conversation_id     text NOT NULL,
  channel             text NOT NULL,
  channel_id          text NOT NULL,
  status              text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead')),
  attempts            integer NOT NULL DEFAULT 0,
  last_error          text,
  platform_message_id text,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz
);
CREATE INDEX deliveries_message_idx ON deliveries (message_id);
-- Dead letters and stuck sends for the console.
CREATE INDEX deliveries_trouble_idx ON deliveries (status, updated_at) WHERE status IN ('sending', 'failed', 'dead');

CREATE TABLE workflow_runs (
  id                 text PRIMARY KEY,
  inbound_message_id text NOT NULL,
  conversation_id    text NOT NULL,
  workflow           text,
  status             text NOT NULL,
  steps              jsonb NOT NULL DEFAULT '[]'::jsonb,
  error              text,
  trace_id           text NOT NULL,
  started_at         timestamptz NOT NULL,
  duration_ms        double precision NOT NULL
);
CREATE INDEX workflow_runs_conversation_idx ON workflow_runs (conversation_id, started_at DESC);
CREATE INDEX workflow_runs_inbound_idx ON workflow_runs (inbound_message_id, started_at DESC);
CREATE INDEX workflow_runs_started_idx ON workflow_runs (started_at DESC);
`,
  },
  kbMigration,
  handoffMigration,
  kbVectorMigration,
  {
    version: 5,
    name: 'delivery-held-status',
    // A reply waits (`held`) while an earlier reply of its conversation is being retried, so
    // replies leave in order; the partial index finds those earlier rows per conversation.
    sql: `
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'held', 'dead'));
CREATE INDEX deliveries_waiting_idx ON deliveries (conversation_id) WHERE status IN ('failed', 'held');
`,
  },
];
