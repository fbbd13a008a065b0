// Tokens of the reporting HTTP API. A token is shown once, at creation; the database keeps only its
// SHA-256 (tokens are 256 random bits, so a plain hash cannot be reversed by guessing) and its first
// characters, to recognise it in lists.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../db/store.js';
import { NotFoundError, UsageError } from '../errors.js';

export const SCOPES = ['read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiTokenRecord {
  id: number;
  name: string;
  scope: Scope;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const TOKEN_PREFIX = 'war_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function parseScope(raw: string | undefined): Scope {
  const scope = (raw ?? 'read').trim().toLowerCase();
  if (!(SCOPES as readonly string[]).includes(scope))
    throw new UsageError(
      `scope: "${raw}" is not one of ${SCOPES.join(', ')} (read: reports; admin: also contact export and erase).`,
    );
  return scope as Scope;
}

function parseName(raw: string | undefined): string {
  const name = (raw ?? '').trim();
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,63}$/u.test(name) || /^\d+$/.test(name)) {
    throw new UsageError(
      `name: "${raw ?? ''}" is not a token name; use 1 to 64 letters, digits, spaces, dots, dashes, underscores or @, not only digits (those are ids), e.g. "grafana" or "ana@example.com".`,
    );
  }
  return name;
}

function toRecord(r: Record<string, unknown>): ApiTokenRecord {
  const date = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(Number(v)));
  return {
    id: Number(r.id),
    name: String(r.name),
    scope: String(r.scope) as Scope,
    prefix: String(r.prefix),
    createdAt: date(r.created_at) as Date,
    lastUsedAt: date(r.last_used_at),
    revokedAt: date(r.revoked_at),
  };
}

const COLUMNS = 'id, name, scope, prefix, created_at, last_used_at, revoked_at';

/** Creates a token; the returned `token` is the only time it exists in clear. */
export async function createToken(
  store: Store,
  input: { name?: string; scope?: string },
  now = new Date(),
): Promise<{ token: string; record: ApiTokenRecord }> {
  const name = parseName(input.name);
  const scope = parseScope(input.scope);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const existing = await store.select<{ id: unknown; revoked_at: unknown }>(
    'SELECT id, revoked_at FROM api_tokens WHERE name = ?',
    [name],
  );
  if (existing[0]) {
    throw new UsageError(
      `name: a token named "${name}" already exists${existing[0].revoked_at !== null ? ' (revoked; names stay taken so the record of it stays clear)' : ''}. Choose another name, or revoke it first with \`wa-report tokens revoke "${name}"\`.`,
    );
  }
  const rows = await store.transaction((tx) =>
    tx.all<Record<string, unknown>>(
      `INSERT INTO api_tokens (name, scope, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [name, scope, hashToken(token), token.slice(0, TOKEN_PREFIX.length + 6), now],
    ),
  );
  if (!rows[0]) throw new UsageError(`name: a token named "${name}" was created meanwhile. Choose another name.`);
  return { token, record: toRecord(rows[0] as Record<string, unknown>) };
}

export async function listTokens(store: Store, options: { all?: boolean } = {}): Promise<ApiTokenRecord[]> {
  const rows = await store.select<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM api_tokens ${options.all ? '' : 'WHERE revoked_at IS NULL '}ORDER BY id`,
  );
  return rows.map(toRecord);
}

/** Revokes by name or id; revoking a revoked token changes nothing. */
export async function revokeToken(
  store: Store,
  nameOrId: string,
  now = new Date(),
): Promise<{ record: ApiTokenRecord; changed: boolean }> {
  const byId = /^\d+$/.test(nameOrId.trim());
  const rows = await store.select<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM api_tokens WHERE ${byId ? 'id = ?' : 'name = ?'}`,
    [byId ? Number(nameOrId) : nameOrId.trim()],
  );
  if (!rows[0])
    throw new NotFoundError(`No API token named or numbered "${nameOrId}". Run \`wa-report tokens list\` to see them.`);
  const record = toRecord(rows[0]);
  if (record.revokedAt) return { record, changed: false };
  await store.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, record.id]);
  return { record: { ...record, revokedAt: now }, changed: true };
}

/**
 * Checks a presented token: the live record, or null. Marks it used at most once a minute (a
 * write per request would cost more than the request).
 */
export async function authenticateToken(store: Store, token: string, now = new Date()): Promise<ApiTokenRecord | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const rows = await store.select<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`,
    [hashToken(token)],
  );
  if (!rows[0]) return null;
  const record = toRecord(rows[0]);
  if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() > 60_000) {
    await store.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, record.id]).catch(() => {});
  }
  return record;
}
