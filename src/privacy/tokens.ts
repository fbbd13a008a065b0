// Tokens of the reporting HTTP API. A token is shown once, at creation; the database keeps only its
// SHA-256 (tokens are 256 random bits, so a plain hash cannot be reversed by guessing) and its first
// characters, to recognise it in lists.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../db/store.js';
import type { ApiTokenRecord as StoredToken } from '../db/repositories/tokens.js';
import { NotFoundError, UsageError } from '../errors.js';

export const SCOPES = ['read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiTokenRecord extends StoredToken {
  scope: Scope;
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
      `name: "${raw ?? ''}" is not a token name; use 1 to 64 letters, digits, spaces, dots, dashes, underscores ` +
        'or @, not only digits (those are ids), e.g. "grafana" or "ana@example.com".',
    );
  }
  return name;
}

const withScope = (r: StoredToken): ApiTokenRecord => ({ ...r, scope: r.scope as Scope });

/** Creates a token; the returned `token` is the only time it exists in clear. */
export async function createToken(
  store: Store,
  input: { name?: string; scope?: string },
  now = new Date(),
): Promise<{ token: string; record: ApiTokenRecord }> {
  const name = parseName(input.name);
  const scope = parseScope(input.scope);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const existing = await store.tokens.byName(name);
  if (existing) {
    const revoked = existing.revokedAt !== null ? ' (revoked; names stay taken so the record of it stays clear)' : '';
    throw new UsageError(
      `name: a token named "${name}" already exists${revoked}. Choose another name, or revoke it first with ` +
        `\`wa-report tokens revoke "${name}"\`.`,
    );
  }
  const record = await store.tokens.create({
    name,
    scope,
    hash: hashToken(token),
    prefix: token.slice(0, TOKEN_PREFIX.length + 6),
    at: now,
  });
  if (!record) throw new UsageError(`name: a token named "${name}" was created meanwhile. Choose another name.`);
  return { token, record: withScope(record) };
}

export async function listTokens(store: Store, options: { all?: boolean } = {}): Promise<ApiTokenRecord[]> {
  return (await store.tokens.list(options)).map(withScope);
}

/** Revokes by name or id; revoking a revoked token changes nothing. */
export async function revokeToken(
  store: Store,
  nameOrId: string,
  now = new Date(),
): Promise<{ record: ApiTokenRecord; changed: boolean }> {
  const byId = /^\d+$/.test(nameOrId.trim());
  const found = byId ? await store.tokens.byId(Number(nameOrId)) : await store.tokens.byName(nameOrId.trim());
  if (!found) {
    throw new NotFoundError(`No API token named or numbered "${nameOrId}". Run \`wa-report tokens list\` to see them.`);
  }
  const record = withScope(found);
  if (record.revokedAt) return { record, changed: false };
  await store.tokens.revoke(record.id, now);
  return { record: { ...record, revokedAt: now }, changed: true };
}

/**
 * Checks a presented token: the live record, or null. Marks it used at most once a minute (a
 * write per request would cost more than the request).
 */
export async function authenticateToken(store: Store, token: string, now = new Date()): Promise<ApiTokenRecord | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const found = await store.tokens.liveByHash(hashToken(token));
  if (!found) return null;
  if (!found.lastUsedAt || now.getTime() - found.lastUsedAt.getTime() > 60_000) {
    await store.tokens.markUsed(found.id, now).catch(() => {});
  }
  return withScope(found);
}
