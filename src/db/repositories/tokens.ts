// Tokens of the reporting HTTP API: only their SHA-256 and first characters are stored.
import type { Querier, Row } from '../sql.js';
import { toDate, toDateOrNull } from '../rows.js';

export interface ApiTokenRecord {
  id: number;
  name: string;
  scope: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = 'id, name, scope, prefix, created_at, last_used_at, revoked_at';

function toRecord(r: Row): ApiTokenRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    scope: String(r.scope),
    prefix: String(r.prefix),
    createdAt: toDate(r.created_at),
    lastUsedAt: toDateOrNull(r.last_used_at),
    revokedAt: toDateOrNull(r.revoked_at),
  };
}

export class TokensRepository {
  constructor(private readonly q: Querier) {}

  async byName(name: string): Promise<ApiTokenRecord | null> {
    const [row] = await this.q.all(`SELECT ${COLUMNS} FROM api_tokens WHERE name = ?`, [name]);
    return row ? toRecord(row) : null;
  }

  async byId(id: number): Promise<ApiTokenRecord | null> {
    const [row] = await this.q.all(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`, [id]);
    return row ? toRecord(row) : null;
  }

  /** The live (not revoked) token with this hash. */
  async liveByHash(hash: string): Promise<ApiTokenRecord | null> {
    const [row] = await this.q.all(`SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`, [
      hash,
    ]);
    return row ? toRecord(row) : null;
  }

  /** Creates a token; null when the name was taken meanwhile. */
  async create(input: {
    name: string;
    scope: string;
    hash: string;
    prefix: string;
    at: Date;
  }): Promise<ApiTokenRecord | null> {
    const [row] = await this.q.transaction((tx) =>
      tx.all(
        `INSERT INTO api_tokens (name, scope, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
        [input.name, input.scope, input.hash, input.prefix, input.at],
      ),
    );
    return row ? toRecord(row) : null;
  }

  async list(options: { all?: boolean } = {}): Promise<ApiTokenRecord[]> {
    const rows = await this.q.all(
      `SELECT ${COLUMNS} FROM api_tokens ${options.all ? '' : 'WHERE revoked_at IS NULL '}ORDER BY id`,
    );
    return rows.map(toRecord);
  }

  /** Whether any token can be used (the API answers 503 while none can). */
  async anyLive(): Promise<boolean> {
    return (await this.q.all('SELECT 1 AS x FROM api_tokens WHERE revoked_at IS NULL LIMIT 1')).length > 0;
  }

  async revoke(id: number, at: Date): Promise<void> {
    await this.q.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]);
  }

  async markUsed(id: number, at: Date): Promise<void> {
    await this.q.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [at, id]);
  }
}
