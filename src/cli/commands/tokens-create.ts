// `wa-report tokens create`: a token of the reporting HTTP API, printed once (only its hash is kept).
import { defineCommand, required, text } from '../command.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';

export const command = defineCommand({
  flags: {
    name: required(text('--name <name>', 'who or what uses it, e.g. grafana')),
    scope: text('--scope <scope>', 'read (reports) or admin (also contact export and erase); default read'),
    json: json('print {id, name, scope, token} as JSON'),
  },
  async run({ options }, ctx) {
    const store = await ctx.store();
    const { createToken } = await import('../../privacy/tokens.js');
    const { token, record } = await createToken(store, options);
    if (options.json) writeJson(ctx, { id: record.id, name: record.name, scope: record.scope, token });
    else ctx.io.stdout.write(`${token}\n`);
    ctx.io.stderr.write(
      `Created API token ${record.id} "${record.name}" (scope ${record.scope}). It is shown only now: store it ` +
        'safely. Send it as Authorization: Bearer <token>.\n',
    );
  },
});
