import type { ClientRecord } from '../../domain/types.js';
import type { CommandContext } from '../context.js';
import { shortDateTime, writeJson, writeRows } from '../output.js';
import { clientJson } from './clients-shared.js';

export interface ClientsListOptions {
  all?: boolean;
  json?: boolean;
}

export async function runClientsList(options: ClientsListOptions, ctx: CommandContext): Promise<ClientRecord[]> {
  const store = await ctx.store();
  return store.clients.list({ includeInactive: options.all });
}

export function printClients(clients: ClientRecord[], options: ClientsListOptions, ctx: CommandContext): void {
  if (options.json) {
    writeJson(ctx, { clients: clients.map(clientJson) });
    return;
  }
  const columns = [
    { header: 'ID', cell: (c: ClientRecord) => String(c.id) },
    { header: 'Name', cell: (c: ClientRecord) => c.name },
    { header: 'Phone number', cell: (c: ClientRecord) => c.phoneNumber },
    { header: 'Phone number ID', cell: (c: ClientRecord) => c.phoneNumberId },
    {
      header: 'Assistant',
      cell: (c: ClientRecord) =>
        c.assistantEnabled ? ctx.out.green(c.assistantModel ?? 'on (default model)') : ctx.out.dim('off'),
      plain: (c: ClientRecord) => (c.assistantEnabled ? (c.assistantModel ?? 'default') : 'off'),
    },
    ...(options.all
      ? [
          {
            header: 'Active',
            cell: (c: ClientRecord) => (c.active ? 'yes' : ctx.out.yellow('no')),
            plain: (c: ClientRecord) => (c.active ? 'yes' : 'no'),
          },
        ]
      : []),
    {
      header: 'Created',
      cell: (c: ClientRecord) => shortDateTime(c.createdAt),
      plain: (c: ClientRecord) => c.createdAt.toISOString(),
    },
  ];
  writeRows(
    ctx,
    clients,
    columns,
    options.all
      ? 'No clients yet. Add one with `wa-report clients add --name … --phone-number … --phone-number-id …`.'
      : 'No active clients. Add one with `wa-report clients add`, or see disabled ones with `wa-report clients list --all`.',
  );
}
