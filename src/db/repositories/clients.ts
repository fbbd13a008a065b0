// Clients: the business phone numbers whose conversations are kept. Read through the SQL layer
// (every command and webhook looks clients up); written through Prisma (see prisma.ts).
import { isQuoteReplies } from '../../domain/client-policy.js';
import type { ClientInput, ClientRecord } from '../../domain/types.js';
import { NotFoundError, UsageError } from '../../errors.js';
import type { Prisma } from '../prisma.js';
import { CLIENT_COLUMNS, toClientRecord } from '../rows.js';
import { describeDatabaseError, type Querier } from '../sql.js';
import type { DbTarget } from '../target.js';

/** Prisma's client row as a ClientRecord (its quote_replies is plain text to Prisma). */
function fromPrisma(c: Omit<ClientRecord, 'quoteReplies'> & { quoteReplies: string }): ClientRecord {
  return { ...c, quoteReplies: isQuoteReplies(c.quoteReplies) ? c.quoteReplies : 'auto' };
}

export class ClientsRepository {
  constructor(
    private readonly q: Querier,
    private readonly prisma: () => Promise<Prisma>,
    private readonly target: DbTarget,
  ) {}

  async get(id: number): Promise<ClientRecord> {
    const [row] = await this.q.all(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE id = ?`, [id]);
    if (!row) throw new NotFoundError(`No client with id ${id}. Run \`wa-report --list\` to see clients.`);
    return toClientRecord(row);
  }

  async findByPhoneNumberId(phoneNumberId: string): Promise<ClientRecord | null> {
    const [row] = await this.q.all(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE phone_number_id = ?`, [phoneNumberId]);
    return row ? toClientRecord(row) : null;
  }

  /** Active clients by id; with `includeInactive`, the disabled ones too. */
  async list(options: { includeInactive?: boolean } = {}): Promise<ClientRecord[]> {
    const rows = await this.q.all(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE active = ? OR ? ORDER BY id`, [
      true,
      Boolean(options.includeInactive),
    ]);
    return rows.map(toClientRecord);
  }

  async create(input: ClientInput): Promise<ClientRecord> {
    const existing = await this.findByPhoneNumberId(input.phoneNumberId);
    if (existing) {
      throw new UsageError(
        `phone_number_id: ${input.phoneNumberId} already belongs to client ${existing.id} (${existing.name}). ` +
          `Use \`wa-report clients update ${existing.id}\` to change it.`,
      );
    }
    return this.writing(async (prisma) => {
      try {
        return fromPrisma(await prisma.client.create({ data: { ...input } }));
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') {
          throw new UsageError(`phone_number_id: ${input.phoneNumberId} already belongs to another client.`);
        }
        throw error;
      }
    });
  }

  async update(id: number, patch: Partial<ClientInput>): Promise<ClientRecord> {
    await this.get(id);
    if (patch.phoneNumberId !== undefined) {
      const other = await this.findByPhoneNumberId(patch.phoneNumberId);
      if (other && other.id !== id) {
        throw new UsageError(
          `phone_number_id: ${patch.phoneNumberId} already belongs to client ${other.id} (${other.name}).`,
        );
      }
    }
    return this.writing(async (prisma) =>
      fromPrisma(await prisma.client.update({ where: { id }, data: { ...patch } })),
    );
  }

  private async writing<T>(fn: (prisma: Prisma) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.prisma());
    } catch (error) {
      throw describeDatabaseError(this.target, error);
    }
  }
}
