/**
 * Tables of human hand-off (version 3 of the store's schema): agents and their console sessions,
 * and the audit trail of hand-off events (queued, claimed, released, transferred, closed, timed
 * out). Credentials and session tokens are stored as hashes only.
 */
export const handoffMigration = {
  version: 3,
  name: 'agents-sessions-handoff-events',
  sql: `
CREATE TABLE agents (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('agent', 'admin')),
  -- scrypt$N$r$p$salt$hash (base64url), see src/agents/password.ts
  password_hash text NOT NULL,
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Console sessions. The token itself is never stored, only its SHA-256. agent_id carries no
-- foreign key: sessions opened with ADMIN_TOKEN belong to the built-in '@admin' identity.
CREATE TABLE agent_sessions (
  token_hash text PRIMARY KEY,
  agent_id   text NOT NULL,
  name       text NOT NULL,
  role       text NOT NULL CHECK (role IN ('agent', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX agent_sessions_agent_idx ON agent_sessions (agent_id);

CREATE TABLE conversation_events (
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id text NOT NULL,
  type            text NOT NULL CHECK (type IN ('queued', 'claimed', 'released', 'transferred', 'closed', 'timed_out')),
  actor           text NOT NULL,
  from_state      text NOT NULL,
  to_state        text NOT NULL,
  data            jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_events_conversation_idx ON conversation_events (conversation_id, seq);
`,
} as const;
