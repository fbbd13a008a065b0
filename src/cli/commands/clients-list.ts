// `wa-report clients list` (and the root `--list`): the clients, in the three shapes of stdout.
import type { ClientRecord } from '../../domain/types.js';
import { clientDocument } from '../../reports/documents.js';
import { bool, defineCommand } from '../command.js';
import type { CommandContext } from '../context.js';
import { json } from '../flags.js';
import { shortDateTime, writeJson, writeRows } from '../output.js';

export interface ClientsListOptions {
  all?: boolean;
  json?: boolean;
}

export const command = defineCommand({
  flags: {
    all: bool('--all', 'include disabled clients'),
    json: json('JSON output: {"clients":[{id, name, phone_number, phone_number_id, …}]}'),
  },
  async run({ options }, ctx) {
    printClients(await listClients(options, ctx), options, ctx);
  },
});

export async function listClients(options: ClientsListOptions, ctx: CommandContext): Promise<ClientRecord[]> {
  const store = await ctx.store();
  return store.clients.list({ includeInactive: options.all });
}

export function printClients(clients: ClientRecord[], options: ClientsListOptions, ctx: CommandContext): void {
  if (options.json) {
    writeJson(ctx, { clients: clients.map(clientDocument) });
    return;
  }
  const out = ctx.out;
  const columns = [
    { header: 'ID', cell: (c: ClientRecord) => String(c.id) },
    { header: 'Name', cell: (c: ClientRecord) => c.name },
    { header: 'Phone number', cell: (c: ClientRecord) => c.phoneNumber },
    { header: 'Phone number ID', cell: (c: ClientRecord) => c.phoneNumberId },
    {
      header: 'Assistant',
      cell: (c: ClientRecord) =>
        c.assistantEnabled ? out.green(c.assistantModel ?? 'on (default model)') : out.dim('off'),
      plain: (c: ClientRecord) => (c.assistantEnabled ? (c.assistantModel ?? 'default') : 'off'),
    },
    ...(options.all
      ? [
          {
            header: 'Active',
            cell: (c: ClientRecord) => (c.active ? 'yes' : out.yellow('no')),
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
      : 'No active clients. Add one with `wa-report clients add`, or see disabled ones with ' +
          '`wa-report clients list --all`.',
  );
}
