/**
 * SQL of the agents and their console sessions (passwords are stored hashed; sessions by the hash
 * of their token). `SqlHandoffStore` extends this class, so both drivers share the statements.
 */
import type { Executor } from './executor.ts';
import { SqlDeliveryStore } from './sql-deliveries.ts';
import type { Agent, AgentRole, AgentSession, NewAgent } from './types.ts';

const AGENT_COLUMNS = 'id, name, role, disabled, created_at, updated_at';

interface AgentRow {
  id: string;
  name: string;
  role: AgentRole;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

const toAgent = (r: AgentRow): Agent => ({
  id: r.id,
  name: r.name,
  role: r.role,
  disabled: r.disabled,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export abstract class SqlAgentStore extends SqlDeliveryStore {
  abstract override readonly db: Executor;

  async createAgent(a: NewAgent): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO agents (id, name, role, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING 1 AS created`,
      [a.id, a.name, a.role, a.passwordHash],
    );
    return rows.length > 0;
  }

  async getAgent(id: string): Promise<Agent | null> {
    const [row] = await this.db.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1`, [id]);
    return row ? toAgent(row) : null;
  }

  async getAgentPasswordHash(id: string): Promise<string | null> {
    const [row] = await this.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM agents WHERE id = $1',
      [id],
    );
    return row?.password_hash ?? null;
  }

  async listAgents(): Promise<Agent[]> {
    const rows = await this.db.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY id`);
    return rows.map(toAgent);
  }

  async updateAgent(
    id: string,
    patch: { name?: string; role?: AgentRole; passwordHash?: string; disabled?: boolean },
  ): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE agents SET
         name = coalesce($2::text, name),
         role = coalesce($3::text, role),
         password_hash = coalesce($4::text, password_hash),
         disabled = coalesce($5::boolean, disabled),
         updated_at = now()
       WHERE id = $1 RETURNING 1 AS found`,
      [id, patch.name ?? null, patch.role ?? null, patch.passwordHash ?? null, patch.disabled ?? null],
    );
    return rows.length > 0;
  }

  async createAgentSession(tokenHash: string, s: Omit<AgentSession, 'createdAt'>): Promise<void> {
    await this.db.query(
      `INSERT INTO agent_sessions (token_hash, agent_id, name, role, expires_at)
       VALUES ($1, $2, $3, $4, $5::timestamptz)`,
      [tokenHash, s.agentId, s.name, s.role, s.expiresAt],
    );
  }

  async getAgentSession(tokenHash: string): Promise<AgentSession | null> {
    const [row] = await this.db.query<{
      agent_id: string;
      name: string;
      role: AgentRole;
      created_at: string;
      expires_at: string;
    }>(
      `SELECT agent_id, name, role, created_at, expires_at FROM agent_sessions
       WHERE token_hash = $1 AND expires_at > now()`,
      [tokenHash],
    );
    return row
      ? {
          agentId: row.agent_id,
          name: row.name,
          role: row.role,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
        }
      : null;
  }

  async deleteAgentSession(tokenHash: string): Promise<void> {
    await this.db.query('DELETE FROM agent_sessions WHERE token_hash = $1', [tokenHash]);
  }

  async deleteAgentSessions(agentId: string): Promise<void> {
    // Expired rows of everyone go with it: sessions have no other cleanup.
    await this.db.query('DELETE FROM agent_sessions WHERE agent_id = $1 OR expires_at < now()', [agentId]);
  }
}
