// Fast paths for the CLI's quickest reads (`wa-report --list`): the driver directly, without
// loading the Prisma client and compiling its query engine (about 250 ms of a 500 ms start).
// Same migration checks as every other command; results identical to Store (tested).
import type { ClientRecord } from '../domain/types.js';
import { connectPostgres, describePostgresError, describeSqliteError, openSqliteFile, prepareDatabase } from './connect.js';
import type { DbTarget } from './target.js';

const CLIENT_SQL = `SELECT id, name, phone_number, phone_number_id, waba_id, active, assistant_enabled, assistant_model, system_prompt, created_at, updated_at
  FROM clients WHERE active = $1 OR $2 ORDER BY id`;

function toClient(r: Record<string, unknown>): ClientRecord {
  const date = (v: unknown) => (v instanceof Date ? v : new Date(Number(v)));
  return {
    id: Number(r.id),
    name: String(r.name),
    phoneNumber: String(r.phone_number),
    phoneNumberId: String(r.phone_number_id),
    wabaId: (r.waba_id as string | null) ?? null,
    active: Boolean(r.active),
    assistantEnabled: Boolean(r.assistant_enabled),
    assistantModel: (r.assistant_model as string | null) ?? null,
    systemPrompt: (r.system_prompt as string | null) ?? null,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

export async function quickListClients(target: DbTarget, options: { includeInactive?: boolean } = {}): Promise<ClientRecord[]> {
  await prepareDatabase(target, 'apply');
  const all = Boolean(options.includeInactive);
  if (target.kind === 'sqlite') {
    const db = openSqliteFile(target, false);
    try {
      const rows = db.prepare(CLIENT_SQL.replace('$1', '?').replace('$2', '?')).all(1, all ? 1 : 0) as Record<string, unknown>[];
      return rows.map(toClient);
    } catch (error) {
      throw describeSqliteError(target, error) ?? error;
    } finally {
      db.close();
    }
  }
  const client = await connectPostgres(target);
  try {
    const { rows } = await client.query(CLIENT_SQL, [true, all]);
    return rows.map(toClient);
  } catch (error) {
    throw describePostgresError(target, error) ?? error;
  } finally {
    await client.end().catch(() => {});
  }
}
