// Answers longer than WhatsApp's text limit go out as several numbered messages.

/**
 * WhatsApp's limit for a text body (https://developers.facebook.com/docs/whatsapp/cloud-api/messages/text-messages).
 * Counted here in UTF-16 units, which is never fewer than code points.
 */
export const MAX_TEXT_LENGTH = 4096;

/**
 * Splits a text body into WhatsApp-sized messages, preferring paragraph, line, sentence and word
 * boundaries, never cutting a surrogate pair. Parts are numbered "(1/3)" on their last line,
 * because WhatsApp does not guarantee that several messages arrive in the order they were sent.
 * Beyond `maxParts` the last part is cut and ends with a marker saying the answer was shortened.
 * Returns [] for an empty or whitespace-only body.
 */
export function splitMessageText(body: string, options: { limit?: number; maxParts?: number } = {}): string[] {
  const limit = options.limit ?? MAX_TEXT_LENGTH;
  const maxParts = Math.max(1, options.maxParts ?? 4);
  if (body.trim() === '') return [];
  if (body.length <= limit) return [body];

  const TRUNCATED = '\n… [shortened: the answer was too long for WhatsApp]';
  const numberingRoom = 12; // "\n\n(99/99)" and a margin
  const room = limit - numberingRoom;
  const chunks: string[] = [];
  let rest = body;
  while (rest.length > 0) {
    rest = rest.replace(/^\s+/, '');
    if (!rest) break;
    const isLast = chunks.length === maxParts - 1;
    if (rest.length <= room) {
      chunks.push(rest);
      break;
    }
    if (isLast) {
      chunks.push(rest.slice(0, breakPoint(rest, room - TRUNCATED.length)).trimEnd() + TRUNCATED);
      break;
    }
    const cut = breakPoint(rest, room);
    chunks.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut);
  }
  if (chunks.length === 1) return chunks;
  return chunks.map((c, i) => `${c}\n\n(${i + 1}/${chunks.length})`);
}

/** Where to cut `text` so that the first part has at most `max` UTF-16 units. */
function breakPoint(text: string, max: number): number {
  const window = text.slice(0, max + 1);
  const min = Math.floor(max / 2); // never produce tiny parts just to honour a boundary
  for (const pattern of [/\n\s*\n/g, /\n/g, /[.!?…](?=\s)/g, /\s/g]) {
    let best = -1;
    for (const m of window.matchAll(pattern)) {
      const end = m.index + (pattern.source.startsWith('[') ? 1 : 0);
      if (end <= max && end >= min) best = end;
    }
    if (best > 0) return best;
  }
  // One very long word: hard cut, keeping surrogate pairs together.
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
