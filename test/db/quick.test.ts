// The driver-level fast path for `--list` must return exactly what the store returns.
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store.js';
import { quickListClients } from '../../src/db/quick.js';
import { databaseKinds } from '../helpers/databases.js';

describe.each(databaseKinds)('quickListClients on $name', (kind) => {
  it('matches Store.listClients, active only and all', async () => {
    const db = await kind.create();
    try {
      const store = await openStore(db.target);
      await store.createClient({ name: 'A', phoneNumber: '+15550000001', phoneNumberId: '1', assistantEnabled: true, assistantModel: 'm', systemPrompt: 'p' });
      const b = await store.createClient({ name: 'B', phoneNumber: '+15550000002', phoneNumberId: '2', wabaId: '99' });
      await store.createClient({ name: 'C', phoneNumber: '+15550000003', phoneNumberId: '3' });
      await store.updateClient(b.id, { active: false });
      const expectedActive = await store.listClients();
      const expectedAll = await store.listClients({ includeInactive: true });
      await store.close();
      expect(await quickListClients(db.target)).toEqual(expectedActive);
      expect(await quickListClients(db.target, { includeInactive: true })).toEqual(expectedAll);
      expect(expectedActive.map((c) => c.name)).toEqual(['A', 'C']);
    } finally {
      await db.drop();
    }
  });
});
