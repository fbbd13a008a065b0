// A small, fully known data set for report tests: one client, three conversations in Madrid time,
// every role, a failed answer, media, a reply and a hostile message.
import type { Store } from '../../src/db/store.js';
import { recordMessages } from './store.js';

export const SEED_CLIENT = { name: 'Released', phoneNumber: '+15556383785', phoneNumberId: '106540352242922' };

export async function seedReports(store: Store): Promise<{ clientId: number; otherClientId: number }> {
  const client = await store.clients.create({ ...SEED_CLIENT, assistantEnabled: true });
  const other = await store.clients.create({
    name: 'Other',
    phoneNumber: '+15550000002',
    phoneNumberId: '200000000000002',
  });
  const base = { clientId: client.id, phoneNumberId: SEED_CLIENT.phoneNumberId };
  const at = (iso: string) => new Date(iso);
  await recordMessages(store, [
    // Ana: 2024-01-15 in Madrid (UTC+1); one message right before midnight Madrid time.
    {
      ...base,
      waId: '34123456789',
      contactName: 'Ana',
      role: 'user',
      type: 'text',
      content: 'Hola, quisiera información sobre el alquiler',
      wamid: 'wamid.r1',
      createdAt: at('2024-01-15T09:30:00Z'),
    },
    {
      ...base,
      waId: '34123456789',
      role: 'assistant',
      type: 'text',
      content: '¡Hola! Soy Released, el agente de IA para alquileres vacacionales.\n¿En qué puedo ayudarte?',
      wamid: 'wamid.r2',
      createdAt: at('2024-01-15T09:30:05Z'),
      status: 'read',
      replyToWamid: 'wamid.r1',
    },
    {
      ...base,
      waId: '34123456789',
      role: 'user',
      type: 'image',
      content: '[image] La terraza',
      wamid: 'wamid.r3',
      createdAt: at('2024-01-15T22:59:00Z'),
    },
    {
      ...base,
      waId: '34123456789',
      role: 'assistant',
      type: 'text',
      content: 'No he podido enviar esto',
      wamid: 'wamid.r4',
      createdAt: at('2024-01-15T23:01:00Z'),
      status: 'failed',
      errorCode: 131047,
      errorMessage: '131047 Re-engagement message: more than 24 hours',
    },
    // Bob: a hostile message and an agent.
    {
      ...base,
      waId: '447700900123',
      contactName: 'Bob <b>',
      role: 'user',
      type: 'text',
      content: '<script>window.__pwned=1</script> & "quotes", commas\nnew line =1+1',
      wamid: 'wamid.b1',
      createdAt: at('2024-01-16T10:00:00Z'),
    },
    {
      ...base,
      waId: '447700900123',
      role: 'agent',
      type: 'text',
      content: 'Te atiende Marta 👋',
      wamid: 'wamid.b2',
      createdAt: at('2024-01-16T10:05:00Z'),
      status: 'delivered',
    },
    // Carla: outside January.
    {
      ...base,
      waId: '5215512345678',
      role: 'user',
      type: 'text',
      content: 'Buenos días',
      wamid: 'wamid.c1',
      createdAt: at('2024-02-01T12:00:00Z'),
    },
    {
      clientId: other.id,
      phoneNumberId: '200000000000002',
      waId: '34123456789',
      role: 'user',
      type: 'text',
      content: 'otro cliente',
      wamid: 'wamid.o1',
      createdAt: at('2024-01-15T10:00:00Z'),
    },
  ]);
  return { clientId: client.id, otherClientId: other.id };
}
