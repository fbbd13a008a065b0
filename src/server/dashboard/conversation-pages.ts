// Models of the conversation list (filters, keyset pages) and of one conversation's page (its
// sessions with their times, handoff, sentiment and CSAT; its failures; the chat view's frame).
import type { Store } from '../../db/store.js';
import { labelOf } from '../../domain/sentiment/index.js';
import { formatWaId } from '../../domain/phone.js';
import type { ClientRecord, ThreadRecord } from '../../domain/types.js';
import { viewQuery, type ListFilters, type View } from './filters.js';
import type { Formatters } from './format.js';

const base = '/dashboard';

export async function listModel(
  store: Store,
  view: View,
  filters: ListFilters,
  clients: ClientRecord[],
  f: Formatters,
) {
  const page = await store.threadSearch.search(filters.search, {
    sort: filters.sort,
    cursor: filters.cursor,
    limit: filters.limit,
  });
  const names = new Map(clients.map((c) => [c.id, c.name]));
  const keep = {
    q: filters.raw.q,
    failed: filters.raw.failed ? 1 : undefined,
    handoff: filters.raw.handoff ? 1 : undefined,
    csat: filters.raw.csat,
    sentiment: filters.raw.sentiment,
    sort: filters.raw.sort === 'recent' ? undefined : filters.raw.sort,
    limit: filters.raw.limit,
  };
  return {
    total: page.total,
    more: page.more,
    totalText: page.more ? `${f.n(page.total)}+` : f.n(page.total),
    rows: page.threads.map((t) => ({
      client: names.get(t.clientId) ?? String(t.clientId),
      contact: t.contactName ?? '',
      phone: formatWaId(t.waId),
      href: `${base}/conversations/${t.clientId}/${t.waId}?${viewQuery(view)}`,
      last: f.at(t.lastMessageAt),
      lastIso: t.lastMessageAt.toISOString(),
      messages: f.n(t.messageCount),
    })),
    next: page.nextCursor ? `${base}/conversations?${viewQuery(view, { ...keep, cursor: page.nextCursor })}` : null,
    first: filters.cursor ? `${base}/conversations?${viewQuery(view, keep)}` : null,
  };
}

export async function conversationModel(store: Store, client: ClientRecord, thread: ThreadRecord, f: Formatters) {
  await store.conversations.sweep();
  const [sessions, surveys, failed] = await Promise.all([
    store.statistics.sessions({ clientId: client.id, waId: thread.waId }),
    store.statistics.csat({ clientId: client.id, waId: thread.waId }),
    store.messages.failed({ threadId: thread.id, limit: 200 }),
  ]);
  const seconds = (from: Date | null, to: Date | null) =>
    from && to ? f.seconds(Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000))) : '–';
  return {
    sessions: sessions
      .filter((s) => s.threadId === thread.id)
      .reverse()
      .map((s) => {
        const mean = s.sentimentCount ? s.sentimentSum / s.sentimentCount : null;
        return {
          started: f.at(s.startedAt),
          ended: s.endedAt ? f.at(s.endedAt) : null,
          reason: s.endReason,
          messages: f.n(s.userMessages + s.assistantMessages + s.agentMessages),
          firstResponse: seconds(s.firstUserAt, s.firstResponseAt),
          handoff: s.handoffAt ? f.at(s.handoffAt) : null,
          sentiment: mean === null ? null : { label: labelOf(mean), mean: mean.toFixed(2) },
        };
      }),
    surveys: surveys
      .filter((s) => s.threadId === thread.id)
      .map((s) => ({
        state: s.state,
        score: s.score === null ? '–' : `${s.score} / ${s.scale}`,
        n: s.n,
        reason: s.reason,
      })),
    failures: failed.map((m) => ({
      at: f.at(m.createdAt),
      role: m.role,
      error: m.errorMessage || (m.errorCode === null ? '–' : String(m.errorCode)),
      content: m.content.length > 140 ? `${m.content.slice(0, 139)}…` : m.content,
    })),
  };
}
