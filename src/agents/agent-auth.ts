/**
 * Who is using the console. Two ways in, both ending in a console session (a random bearer token
 * whose SHA-256 is stored, never the token):
 *   - per-agent credentials (agents table, scrypt hashes), roles `agent` and `admin`;
 *   - the hub's ADMIN_TOKEN, for the built-in `@admin` identity (role admin) — the bootstrap way
 *     in before any agent exists.
 * The ADMIN_TOKEN itself is also accepted as a bearer token, so scripts can call the console API.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AgentRole, Store } from '../store/types.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password.ts';

export interface AgentIdentity {
  id: string;
  name: string;
  role: AgentRole;
}

/** The identity behind ADMIN_TOKEN. `@` cannot appear in agent ids, so it never collides. */
export const ADMIN_IDENTITY: AgentIdentity = { id: '@admin', name: 'Admin', role: 'admin' };

export const AGENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;

export interface LoginResult {
  token: string;
  agent: AgentIdentity;
  expiresAt: string;
}

export class AgentAuth {
  private readonly adminDigest: Buffer | undefined;

  constructor(
    private readonly store: Store,
    adminToken: string | undefined,
    private readonly sessionTtlMs = 12 * 3_600_000,
  ) {
    this.adminDigest = adminToken ? sha256(adminToken) : undefined;
  }

  /** Exchange credentials for a session; null when they are wrong (or the agent is disabled). */
  async login(
    input: { username: string; password: string } | { adminToken: string },
  ): Promise<LoginResult | null> {
    let agent: AgentIdentity | null = null;
    if ('adminToken' in input) {
      if (this.isAdminToken(input.adminToken)) agent = ADMIN_IDENTITY;
    } else {
      const id = input.username.trim().toLowerCase();
      const [stored, hash] = AGENT_ID.test(id)
        ? await Promise.all([this.store.getAgent(id), this.store.getAgentPasswordHash(id)])
        : [null, null];
      // Always pay for one scrypt, so an unknown name answers as slowly as a wrong password.
      const ok = await verifyPassword(input.password, hash ?? DUMMY_HASH);
      if (ok && stored && !stored.disabled) agent = { id: stored.id, name: stored.name, role: stored.role };
    }
    if (!agent) return null;
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.sessionTtlMs).toISOString();
    await this.store.createAgentSession(sha256(token).toString('hex'), {
      agentId: agent.id,
      name: agent.name,
      role: agent.role,
      expiresAt,
    });
    return { token, agent, expiresAt };
  }

  /** The identity behind a bearer token (session token or ADMIN_TOKEN), or null. */
  async authenticate(token: string): Promise<AgentIdentity | null> {
    if (!token) return null;
    if (this.isAdminToken(token)) return ADMIN_IDENTITY;
    const session = await this.store.getAgentSession(sha256(token).toString('hex'));
    if (!session) return null;
    return { id: session.agentId, name: session.name, role: session.role };
  }

  async logout(token: string): Promise<void> {
    await this.store.deleteAgentSession(sha256(token).toString('hex'));
  }

  /** Create an agent; false when the id is taken. Validates id and password length. */
  async createAgent(input: {
    id: string;
    name?: string;
    role?: AgentRole;
    password: string;
  }): Promise<boolean> {
    const id = input.id.trim().toLowerCase();
    if (!AGENT_ID.test(id))
      throw new RangeError('agent id: use 1–64 of a-z 0-9 . _ - (starting with a letter or digit)');
    if (input.password.length < MIN_PASSWORD_LENGTH)
      throw new RangeError(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
    return this.store.createAgent({
      id,
      name: input.name?.trim() || id,
      role: input.role ?? 'agent',
      passwordHash: await hashPassword(input.password),
    });
  }

  /** Change an agent; a new password or disabling also ends their open sessions. */
  async updateAgent(
    id: string,
    patch: { name?: string; role?: AgentRole; password?: string; disabled?: boolean },
  ): Promise<boolean> {
    if (patch.password !== undefined && patch.password.length < MIN_PASSWORD_LENGTH) {
      throw new RangeError(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const found = await this.store.updateAgent(id, {
      name: patch.name,
      role: patch.role,
      disabled: patch.disabled,
      passwordHash: patch.password !== undefined ? await hashPassword(patch.password) : undefined,
    });
    if (found && (patch.password !== undefined || patch.disabled || patch.role !== undefined)) {
      await this.store.deleteAgentSessions(id);
    }
    return found;
  }

  private isAdminToken(token: string): boolean {
    // Hash both sides so the comparison is constant-time whatever the lengths.
    return this.adminDigest !== undefined && timingSafeEqual(sha256(token), this.adminDigest);
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
