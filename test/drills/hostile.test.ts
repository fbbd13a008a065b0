// Drill: 1,000 malformed or hostile requests against the REAL daemon (`node bin/wa-report.js ingest`
// in a child process), mixed by a seeded PRNG, while valid signed webhooks keep arriving every few ms.
//
//   * every hostile request gets the status its category calls for (below) and never a 5xx;
//   * the daemon's RSS (/proc/<pid>/status VmRSS) stays under RSS_LIMIT_MB;
//   * every valid webhook is answered 200 and is in the SQLite file afterwards (exact set of wamids);
//   * what was refused left no trace in the database; what was accepted was kept (nothing lost);
//   * /healthz is 200 at the end, the process is alive, and SIGTERM ends it with exit code 0.
//
// Expected answer per category, and why:
//   malformed-json   truncated / broken JSON, correctly signed so it reaches the parser ........ 400
//   wrong-types      a WhatsApp notification with a wrong-typed value at one position, signed .. 200
//                    (by design the parser keeps what it cannot understand as a raw event; a 4xx
//                    would make Meta redeliver it for days). What was inside must be in the DB.
//   not-whatsapp     valid JSON that is not a whatsapp_business_account notification, signed ... 200
//                    (kept verbatim as a `not-whatsapp` raw event).
//   huge             body over the 4 MiB limit (signed or not, Content-Length or chunked, gzip
//                    bomb inflating past it) ....................................................... 413
//                    body of exactly 4 MiB, signed (limit is inclusive) .......................... 200
//                    near the limit with a bad signature ........................................... 401
//                    headers / URL over Node's 16 KiB header limit ................................. 431
//                    over the limit with a non-JSON Content-Type (refused before reading) ......... 415
//                    (with `Connection: close` the 415 is often lost to a TCP RST: 415 or no answer)
//                    1,000 headers: Node drops the Host header past maxHeadersCount .............. 400
//   deep             100k nesting levels: balanced and signed -> 200 (kept; the parser
//                    prunes what it copies at 64 levels), unbalanced -> 400, unsigned -> 401
//   bad-signature    missing / empty / malformed / wrong-secret / other-body signatures ......... 401
//   unknown-fields   extra keys at every level, unknown change fields, message types, statuses .. 200
//   content-type     text/plain, form, multipart, xml, none, empty, ... (signed JSON body) ...... 415
//   invalid-utf8     bad bytes inside JSON strings -> 200 (decoded to U+FFFD, kept); outside
//                    strings, a BOM or UTF-16 -> 400 (not JSON once decoded as UTF-8)
//   empty            signed empty/blank body -> 400; unsigned -> 401; without Content-Type -> 415
//   method           PUT/PATCH/DELETE/OPTIONS/TRACE/... on /webhook -> 404 (Express has no 405);
//                    HEAD and GET without the verify token -> 403; POST to another path -> 404
//   protocol         raw-socket HTTP violations (CL+TE, bad chunks, control chars, TLS hello on
//                    the plain port, ...) -> 400 from Node's parser; CONNECT -> connection closed
//                    without an answer (Node's behaviour when no 'connect' listener exists)
//   aborted          the client disconnects mid-headers/mid-body: no answer possible; the daemon
//                    must simply survive
//   wide             one signed body holding 10,000 malformed items -> 200, every item kept
//   slow-loris       raw sockets that trickle or stall. src/server/main.ts sets headersTimeout
//                    10 s and requestTimeout 30 s and checks them every second
//                    (connectionsCheckingInterval), so stalled headers are cut with 408 after
//                    about 10 s; unsigned bodies are refused with 401 before they are read. The
//                    test checks that they did not block anything and that SIGTERM still ends the
//                    daemon (forced close after 2 s).
//
// Markers: every request that should be kept carries strings `hxa<nnnn><letter>`, every request
// that should be refused `hxr<nnnn>`. Letter `e` marks values at envelope positions the parser
// consumes rather than stores (entry.id, metadata.display_phone_number, contacts, unknown keys of
// the top object / entry / change): their loss is reported, not failed (see the summary line).
//
// HOSTILE_SEED=<n> replays another mix. The test takes ~15 s: it waits for the 10 s header timeout.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN } from '../helpers/cli.js';
import { APP_SECRET, DISPLAY_PHONE, PHONE_NUMBER_ID, WABA_ID, sign, textMessage } from '../helpers/webhooks.js';
import { mulberry32 } from '../../src/domain/random.js';

const SEED = Number(process.env.HOSTILE_SEED ?? 20261125) >>> 0;
const SLOW_LORIS = 12;
const HOSTILE_CONCURRENCY = 8;
const RSS_LIMIT_MB = 400;
const LIMIT = 4 * 1024 * 1024; // WEBHOOK_BODY_LIMIT in src/server/app.ts
const DEEP = 100_000;
// Node's connection checker runs every 30 s from server creation: header stalls are cut at ~T0+30 s.
const HEADER_STALL_DEADLINE_MS = 34_000;

// Unsigned requests are refused with 401 before their body is read (src/server/app.ts), so the
// variants that send no signature accept 401 besides the status a fully read body would get.
// Requests per category; slow-loris sockets come on top (988 + 12 = 1,000).
const COUNTS: Record<string, number> = {
  'malformed-json': 100,
  'wrong-types': 170,
  'not-whatsapp': 50,
  huge: 36,
  deep: 28,
  'bad-signature': 110,
  'unknown-fields': 80,
  'content-type': 90,
  'invalid-utf8': 54,
  empty: 40,
  method: 80,
  protocol: 110,
  aborted: 36,
  wide: 4,
};

// ------------------------------------------------------------------------------------------------
// Seeded randomness

type Rng = () => number;
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T;
const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));

// ------------------------------------------------------------------------------------------------
// Requests

interface HttpReq {
  kind: 'http';
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Send with Transfer-Encoding: chunked in 64 KiB pieces. */
  chunked?: boolean;
}
interface RawReq {
  kind: 'raw';
  data: Buffer;
  /** Destroy the socket this long after writing (aborted clients). */
  abortAfterMs?: number;
  /** Half-close (FIN) after writing instead of destroying. */
  halfClose?: boolean;
}
/** What must be found in the database afterwards when the request was accepted. */
type Keep = { kind: 'markers'; text: string } | { kind: 'verbatim'; text: string } | { kind: 'none' };
interface Spec {
  n: number;
  category: string;
  variant: string;
  /** Allowed statuses; 0 means "connection closed without an answer". */
  expect: number[];
  build: () => { req: HttpReq | RawReq; keep: Keep };
}
interface Outcome {
  status: number;
  error?: string;
  ms: number;
}

const pad = (n: number) => String(n).padStart(4, '0');
const accepted = (n: number) => `hxa${pad(n)}`;
const refused = (n: number) => `hxr${pad(n)}`;
const signHeader = (body: Buffer | string) => sign(body, APP_SECRET);
const json = (headers: Record<string, string | string[]> = {}) => ({ 'content-type': 'application/json', ...headers });
const signedPost = (body: Buffer | string, extra: Record<string, string | string[]> = {}): HttpReq => {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return {
    kind: 'http',
    method: 'POST',
    path: '/webhook',
    headers: json({ 'x-hub-signature-256': signHeader(buf), ...extra }),
    body: buf,
  };
};

/** A WhatsApp notification with one message and one status, all ids and texts marked with `tag`. */
function notification(tag: string): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA_ID,
        time: 1760000000,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: DISPLAY_PHONE, phone_number_id: PHONE_NUMBER_ID },
              contacts: [{ profile: { name: 'Hostile Tester' }, wa_id: '34699000001' }],
              messages: [
                {
                  from: '34699000001',
                  id: `wamid.${tag}m`,
                  timestamp: '1760000000',
                  type: 'text',
                  text: { body: `${tag}b says hi` },
                },
              ],
              statuses: [
                { id: `wamid.${tag}s`, status: 'delivered', timestamp: '1760000000', recipient_id: '34699000001' },
              ],
            },
          },
        ],
      },
    ],
  };
}
const V = ['entry', 0, 'changes', 0, 'value'] as const;
const M = [...V, 'messages', 0] as const;
const S = [...V, 'statuses', 0] as const;

/** Sets `value` at `path`, creating missing objects/arrays on the way (e.g. `errors.0.code`). */
function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  path.slice(0, -1).forEach((key, i) => {
    node[key] ??= typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
  node[path[path.length - 1] as string | number] = value;
}

const PLACEHOLDER = '@@WRONG@@';
/** JSON text of `root` with the placeholder string replaced by a raw JSON fragment. */
function withFragment(root: unknown, fragment: string): string {
  return JSON.stringify(root).replace(`"${PLACEHOLDER}"`, () => fragment);
}

// Positions a wrong-typed value is put in. `envelope`: the parser consumes the value (ids,
// metadata, contacts) instead of storing it, so garbage there may legitimately be dropped.
const POSITIONS: { path: readonly (string | number)[]; envelope?: boolean }[] = [
  { path: ['object'] },
  { path: ['entry'] },
  { path: ['entry', 0] },
  { path: ['entry', 0, 'id'], envelope: true },
  { path: ['entry', 0, 'time'], envelope: true },
  { path: ['entry', 0, 'changes'] },
  { path: ['entry', 0, 'changes', 0] },
  { path: ['entry', 0, 'changes', 0, 'field'] },
  { path: V },
  { path: [...V, 'messaging_product'], envelope: true },
  { path: [...V, 'metadata'] },
  { path: [...V, 'metadata', 'phone_number_id'] },
  { path: [...V, 'metadata', 'display_phone_number'], envelope: true },
  { path: [...V, 'contacts'], envelope: true },
  { path: [...V, 'contacts', 0], envelope: true },
  { path: [...V, 'contacts', 0, 'wa_id'], envelope: true },
  { path: [...V, 'contacts', 0, 'profile'], envelope: true },
  { path: [...V, 'contacts', 0, 'profile', 'name'], envelope: true },
  { path: [...V, 'messages'] },
  { path: M },
  { path: [...M, 'id'] },
  { path: [...M, 'from'] },
  { path: [...M, 'timestamp'] },
  { path: [...M, 'type'] },
  { path: [...M, 'text'] },
  { path: [...M, 'text', 'body'] },
  { path: [...M, 'context'] },
  { path: [...M, 'errors'] },
  { path: [...M, 'errors', 0, 'code'] },
  { path: [...V, 'statuses'] },
  { path: S },
  { path: [...S, 'id'] },
  { path: [...S, 'status'] },
  { path: [...S, 'timestamp'] },
  { path: [...S, 'recipient_id'] },
  { path: [...S, 'errors'] },
  { path: [...S, 'errors', 0, 'code'] },
  { path: [...V, 'errors'] },
];

/** Wrong-typed JSON fragments; `w` is the marker to embed where the type allows it. */
const WRONG_VALUES: ((w: string) => string)[] = [
  () => '42',
  () => '-1',
  () => '0',
  () => '-0',
  () => '1e308',
  () => '-1e400',
  () => '123456789012345678901234567890',
  () => '3.14159',
  () => 'true',
  () => 'false',
  () => 'null',
  () => '""',
  () => '"   "',
  (w) => `"${w}"`,
  () => '[]',
  (w) => `["${w}"]`,
  () => '{}',
  (w) => `{"${w}":1}`,
  (w) => `[[[["${w}"]]]]`,
  (w) => `{"__proto__":{"polluted":"${w}"}}`,
  (w) => `{"constructor":{"prototype":{"polluted":"${w}"}}}`,
  (w) => `"${'A'.repeat(70_000)}${w}"`,
  (w) => `"\\u0000${w}"`,
  (w) => `"${w}\\ud800"`,
  (w) => `{"toString":"${w}","valueOf":1,"length":-1}`,
  () => '"999999999999999"',
  () => '"-99999999999"',
  () => '"1e3"',
  () => '"2026-01-01T00:00:00Z"',
  (w) => `[{"id":"${w}"},{"id":null},7]`,
  (w) => `{"id":{"id":"${w}"}}`,
];

function wrongTypes(n: number, rng: Rng): Spec {
  const position = pick(rng, POSITIONS);
  const valueIndex = Math.floor(rng() * WRONG_VALUES.length);
  return {
    n,
    category: 'wrong-types',
    variant: `${position.path.join('.')}=#${valueIndex}`,
    expect: [200],
    build: () => {
      const tag = accepted(n);
      const root = notification(tag);
      setAt(root, position.path, PLACEHOLDER);
      const text = withFragment(
        root,
        (WRONG_VALUES[valueIndex] as (w: string) => string)(`${tag}${position.envelope ? 'e' : 'w'}`),
      );
      return { req: signedPost(text), keep: keepFor(text) };
    },
  };
}

/** Accepted JSON: a WhatsApp notification keeps its markers; anything else is kept verbatim. */
function keepFor(text: string): Keep {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`generator bug: expected valid JSON for an accepted request: ${text.slice(0, 200)}`);
  }
  const isWhatsApp =
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    (body as Record<string, unknown>).object === 'whatsapp_business_account' &&
    Array.isArray((body as Record<string, unknown>).entry);
  return isWhatsApp ? { kind: 'markers', text } : { kind: 'verbatim', text };
}

function malformedJson(n: number, rng: Rng): Spec {
  const variants: [string, (valid: string) => string][] = [
    ['truncated', (v) => v.slice(0, int(rng, 1, v.length - 1))],
    ['truncated-in-utf8', (v) => v.replace('says hi', 'says ñandú 🙂').slice(0, v.indexOf('says hi') + 11)],
    ['trailing-garbage', (v) => `${v}}`],
    ['two-documents', (v) => `${v}${v}`],
    ['single-quotes', (v) => v.replace(/"/g, "'")],
    ['trailing-comma', (v) => v.replace(/}$/, ',}')],
    ['comment', (v) => `/* hi */${v}`],
    ['nan', (v) => v.replace('1760000000', 'NaN')],
    ['undefined', () => 'undefined'],
    ['unquoted-keys', (v) => v.replace('"object"', 'object')],
    ['raw-control-char', (v) => v.replace('says hi', 'says\u0001\nhi')],
    ['bad-escape', (v) => v.replace('says hi', 'says \\x41 hi')],
    ['lone-bracket', () => '['],
    ['just-garbage', () => `${'x'.repeat(int(rng, 1, 2000))}`],
  ];
  const [variant, mangle] = pick(rng, variants);
  return {
    n,
    category: 'malformed-json',
    variant,
    expect: [400],
    build: () => {
      const text = mangle(JSON.stringify(notification(refused(n))));
      try {
        JSON.parse(text);
        throw new Error(`generator bug: ${variant} produced valid JSON`);
      } catch (error) {
        if ((error as Error).message.startsWith('generator bug')) throw error;
      }
      return { req: signedPost(text), keep: { kind: 'none' } };
    },
  };
}

function notWhatsApp(n: number, rng: Rng): Spec {
  const variants: [string, (tag: string) => string][] = [
    ['null', () => 'null'],
    ['number', () => String(int(rng, -1e6, 1e6))],
    ['true', () => 'true'],
    ['string', (t) => `"${t}k"`],
    ['array', (t) => `[1,"${t}k",{"object":"whatsapp_business_account"}]`],
    ['empty-object', () => '{}'],
    [
      'page-object',
      (t) => JSON.stringify({ ...notification(t), object: 'page' }).replace(/hxa(\d{4})[mbs]/g, 'hxa$1k'),
    ],
    ['instagram', (t) => JSON.stringify({ object: 'instagram', entry: [{ id: `${t}k`, messaging: [] }] })],
    [
      'upper-case-object',
      (t) =>
        JSON.stringify({ ...notification(t), object: 'WHATSAPP_BUSINESS_ACCOUNT' }).replace(
          /hxa(\d{4})[mbs]/g,
          'hxa$1k',
        ),
    ],
    ['no-entry', (t) => JSON.stringify({ object: 'whatsapp_business_account', note: `${t}k` })],
    ['entry-object', (t) => JSON.stringify({ object: 'whatsapp_business_account', entry: { id: `${t}k` } })],
    ['object-number', (t) => JSON.stringify({ object: 42, entry: [{ id: `${t}k` }] })],
    ['unicode', (t) => JSON.stringify({ object: 'whatsapp_business_accountǃ', entry: [`${t}k 𝕙𝕠𝕤𝕥𝕚𝕝𝕖 \u202e`] })],
  ];
  const [variant, make] = pick(rng, variants);
  return {
    n,
    category: 'not-whatsapp',
    variant,
    expect: [200],
    build: () => {
      const text = make(accepted(n));
      return { req: signedPost(text), keep: keepFor(text) };
    },
  };
}

let gzipBombCache: Buffer | null = null;
const gzipBomb = () => (gzipBombCache ??= gzipSync(Buffer.alloc(60 * 1024 * 1024, 0x20)));

/** A signed-able WhatsApp notification of exactly `size` bytes (the text body is padded). */
function sizedNotification(tag: string, size: number): string {
  const root = notification(tag);
  setAt(root, [...M, 'text', 'body'], PLACEHOLDER);
  const shell = withFragment(root, '""');
  return withFragment(root, `"${tag}b ${'y'.repeat(size - shell.length - `${tag}b `.length)}"`);
}

function huge(n: number, rng: Rng): Spec {
  const over = LIMIT + int(rng, 1, 64 * 1024);
  const variants: [string, number[], () => { req: HttpReq | RawReq; keep: Keep }][] = [
    [
      'over-limit-signed',
      [413],
      () => ({ req: signedPost(sizedNotification(refused(n), over)), keep: { kind: 'none' } }),
    ],
    [
      'over-limit-unsigned',
      [413, 401],
      () => ({
        req: {
          kind: 'http',
          method: 'POST',
          path: '/webhook',
          headers: json(),
          body: Buffer.from(sizedNotification(refused(n), over)),
        },
        keep: { kind: 'none' },
      }),
    ],
    [
      'over-limit-chunked',
      [413],
      () => ({ req: { ...signedPost(sizedNotification(refused(n), over)), chunked: true }, keep: { kind: 'none' } }),
    ],
    // Refused by Content-Type before the body is read. On a keep-alive connection (what Meta uses)
    // Node drains the body and the 415 arrives; with `Connection: close` Node closes the socket with
    // the body still arriving, the kernel answers with a RST, and the client often loses the 415
    // (status 0 here, EPIPE/ECONNRESET): reported, not hidden.
    [
      'over-limit-text-plain',
      [415],
      () => ({
        req: {
          ...signedPost(sizedNotification(refused(n), over + LIMIT)),
          headers: { 'content-type': 'text/plain', connection: 'keep-alive' },
        },
        keep: { kind: 'none' },
      }),
    ],
    [
      'over-limit-text-plain-close',
      [415, 0],
      () => ({
        req: { ...signedPost(sizedNotification(refused(n), over + LIMIT)), headers: { 'content-type': 'text/plain' } },
        keep: { kind: 'none' },
      }),
    ],
    [
      'exactly-limit-signed',
      [200],
      () => {
        const text = sizedNotification(accepted(n), LIMIT);
        return { req: signedPost(text), keep: keepFor(text) };
      },
    ],
    [
      'near-limit-bad-signature',
      [401],
      () => {
        const body = Buffer.from(sizedNotification(refused(n), LIMIT - int(rng, 1, 1000)));
        return {
          req: {
            kind: 'http',
            method: 'POST',
            path: '/webhook',
            headers: json({ 'x-hub-signature-256': signHeader('something else') }),
            body,
          },
          keep: { kind: 'none' },
        };
      },
    ],
    [
      'near-limit-not-whatsapp',
      [200],
      () => {
        const text = `"${accepted(n)}k ${'z'.repeat(LIMIT - 2 - `${accepted(n)}k `.length - int(rng, 0, 1000))}"`;
        return { req: signedPost(text), keep: { kind: 'verbatim', text } };
      },
    ],
    [
      'header-over-16k',
      [431],
      () => ({
        req: { ...signedPost('{}'), headers: json({ 'x-hub-signature-256': `sha256=${'a'.repeat(20_000)}` }) },
        keep: { kind: 'none' },
      }),
    ],
    [
      'url-over-16k',
      [431],
      () => ({
        req: {
          kind: 'http',
          method: 'GET',
          path: `/webhook?hub.mode=subscribe&hub.challenge=${'c'.repeat(20_000)}`,
          headers: {},
        },
        keep: { kind: 'none' },
      }),
    ],
    [
      'gzip-bomb',
      [413, 415],
      () => ({ req: signedPost(gzipBomb(), { 'content-encoding': 'gzip' }), keep: { kind: 'none' } }),
    ],
    // Node's client puts Host last; past ~1,000 headers the server drops it (maxHeadersCount 2000
    // counts names and values) and answers 400 "missing Host" before the app sees the request;
    // Node 26 refuses the headers themselves with 431 (Request Header Fields Too Large).
    [
      '1000-headers',
      [400, 431],
      () => {
        const headers: Record<string, string> = json();
        for (let i = 0; i < 1000; i++) headers[`x-h${i}`] = String(i);
        return {
          req: {
            kind: 'http',
            method: 'POST',
            path: '/webhook',
            headers,
            body: Buffer.from(JSON.stringify(notification(refused(n)))),
          },
          keep: { kind: 'none' },
        };
      },
    ],
  ];
  const [variant, expect, build] = variants[n % variants.length] as (typeof variants)[number];
  return { n, category: 'huge', variant, expect, build };
}

function deep(n: number, rng: Rng): Spec {
  const arr = (inner: string, levels = DEEP) => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
  const obj = (inner: string) => `${'{"a":'.repeat(DEEP)}${inner}${'}'.repeat(DEEP)}`;
  const inNotification = (path: readonly (string | number)[], fragment: string) => {
    const root = notification(accepted(n));
    setAt(root, path, PLACEHOLDER);
    return withFragment(root, fragment);
  };
  const variants: [string, number[], () => string, boolean?][] = [
    ['array-top', [200], () => arr(`"${accepted(n)}k"`)],
    ['object-top', [200], () => obj(`"${accepted(n)}k"`)],
    ['in-text-body', [200], () => inNotification([...M, 'text', 'body'], arr('1'))],
    ['unknown-value-key', [200], () => inNotification([...V, 'deep'], obj('1'))],
    [
      'as-entry',
      [200],
      () => {
        const root = notification(accepted(n));
        (root.entry as unknown[]).push(PLACEHOLDER);
        return withFragment(root, arr('0'));
      },
    ],
    [
      'as-message',
      [200],
      () => {
        const root = notification(accepted(n));
        (
          ((root.entry as Record<string, unknown>[])[0]!.changes as Record<string, unknown>[])[0]!.value as Record<
            string,
            unknown[]
          >
        ).messages!.push(PLACEHOLDER);
        return withFragment(root, obj('null'));
      },
    ],
    ['unbalanced', [400], () => `${'['.repeat(DEEP)}"${refused(n)}"${']'.repeat(DEEP - int(rng, 1, 10))}`],
    ['unsigned', [401], () => arr(`"${refused(n)}"`), true],
  ];
  const [variant, expect, make, unsigned] = variants[n % variants.length] as (typeof variants)[number];
  return {
    n,
    category: 'deep',
    variant,
    expect,
    build: () => {
      const text = make();
      if (unsigned)
        return {
          req: { kind: 'http', method: 'POST', path: '/webhook', headers: json(), body: Buffer.from(text) },
          keep: { kind: 'none' },
        };
      return { req: signedPost(text), keep: expect[0] === 200 ? keepFor(text) : { kind: 'none' } };
    },
  };
}

function badSignature(n: number, rng: Rng): Spec {
  const good = (b: Buffer) => signHeader(b);
  const hex = (b: Buffer) => good(b).slice('sha256='.length);
  const variants: [string, (b: Buffer) => string | string[] | null][] = [
    ['missing', () => null],
    ['empty', () => ''],
    ['prefix-only', () => 'sha256='],
    ['wrong-secret', (b) => `sha256=${createHmac('sha256', 'not-the-secret').update(b).digest('hex')}`],
    ['other-body', () => signHeader('{"object":"whatsapp_business_account","entry":[]}')],
    ['sha1', (b) => `sha1=${createHmac('sha1', APP_SECRET).update(b).digest('hex')}`],
    ['upper-prefix', (b) => `SHA256=${hex(b)}`],
    ['short-hex', (b) => good(b).slice(0, -1)],
    ['long-hex', (b) => `${good(b)}0`],
    ['non-hex', () => `sha256=${'g'.repeat(64)}`],
    ['two-in-one', (b) => `${good(b)},${good(b)}`],
    ['duplicate-headers', (b) => [good(b), good(b)]],
    ['space-inside', (b) => `sha256= ${hex(b)}`],
    ['base64', (b) => `sha256=${createHmac('sha256', APP_SECRET).update(b).digest('base64')}`],
    [
      'bit-flip-in-body',
      (b) => {
        const copy = Buffer.from(b);
        copy[int(rng, 0, copy.length - 1)]! ^= 0x01;
        return good(copy);
      },
    ],
    ['empty-secret', (b) => `sha256=${createHmac('sha256', '').update(b).digest('hex')}`],
  ];
  const [variant, header] = pick(rng, variants);
  return {
    n,
    category: 'bad-signature',
    variant,
    expect: [401],
    build: () => {
      const body = Buffer.from(JSON.stringify(notification(refused(n))));
      const value = header(body);
      return {
        req: {
          kind: 'http',
          method: 'POST',
          path: '/webhook',
          headers: json(value === null ? {} : { 'x-hub-signature-256': value }),
          body,
        },
        keep: { kind: 'none' },
      };
    },
  };
}

function unknownFields(n: number, rng: Rng): Spec {
  type Edit = [string, (root: Record<string, unknown>, t: string) => void];
  const at = (root: Record<string, unknown>, path: readonly (string | number)[]) =>
    path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<
      string,
      unknown
    >;
  const edits: Edit[] = [
    [
      'top',
      (r, t) => {
        r.zz_top = `${t}e`;
      },
    ],
    [
      'entry',
      (r, t) => {
        at(r, ['entry', 0]).zz_entry = { note: `${t}e` };
      },
    ],
    [
      'change',
      (r, t) => {
        at(r, ['entry', 0, 'changes', 0]).zz_change = [`${t}e`];
      },
    ],
    [
      'metadata',
      (r, t) => {
        at(r, [...V, 'metadata']).zz_meta = `${t}e`;
      },
    ],
    [
      'contact',
      (r, t) => {
        at(r, [...V, 'contacts', 0]).zz_contact = `${t}e`;
      },
    ],
    [
      'value',
      (r, t) => {
        at(r, V).zz_value = { nested: [`${t}k`] };
      },
    ],
    [
      'message',
      (r, t) => {
        at(r, M).zz_message = `${t}k`;
      },
    ],
    [
      'status',
      (r, t) => {
        at(r, S).zz_status = { pricing: `${t}k` };
      },
    ],
    [
      'many-value-keys',
      (r, t) => {
        const v = at(r, V);
        for (let i = 0; i < 500; i++) v[`k${i}`] = i === 250 ? `${t}k` : i;
      },
    ],
    [
      'unknown-change-field',
      (r, t) => {
        at(r, ['entry', 0, 'changes', 0]).field = `${t}k_field`;
      },
    ],
    [
      'second-unknown-change',
      (r, t) => {
        (at(r, ['entry', 0]).changes as unknown[]).push({ field: 'account_update', value: { event: `${t}k` } });
      },
    ],
    [
      'unknown-message-type',
      (r, t) => {
        const m = at(r, M);
        m.type = 'hologram';
        m.hologram = { frames: [`${t}k`] };
        delete m.text;
      },
    ],
    [
      'unknown-status',
      (r, t) => {
        const s = at(r, S);
        s.status = `teleported_${t}k`;
      },
    ],
    [
      'unknown-object-in-entry-list',
      (r, t) => {
        (r.entry as unknown[]).push({ id: `${t}k`, changes: 'soon' });
      },
    ],
  ];
  const chosen = Array.from({ length: int(rng, 1, 4) }, () => pick(rng, edits));
  return {
    n,
    category: 'unknown-fields',
    variant: [...new Set(chosen.map(([name]) => name))].sort().join('+'),
    expect: [200],
    build: () => {
      const root = notification(accepted(n));
      for (const [, edit] of chosen) edit(root, accepted(n));
      const text = JSON.stringify(root);
      return { req: signedPost(text), keep: keepFor(text) };
    },
  };
}

function contentType(n: number, rng: Rng): Spec {
  const variants: [string, string | null, (b: string) => string][] = [
    ['text-plain', 'text/plain', (b) => b],
    ['text-json', 'text/json', (b) => b],
    ['form', 'application/x-www-form-urlencoded', (b) => `payload=${encodeURIComponent(b)}`],
    [
      'multipart',
      'multipart/form-data; boundary=xyz',
      (b) => `--xyz\r\nContent-Disposition: form-data; name="p"\r\n\r\n${b}\r\n--xyz--\r\n`,
    ],
    ['xml', 'application/xml', () => '<?xml version="1.0"?><object>whatsapp_business_account</object>'],
    ['none', null, (b) => b],
    ['empty', '', (b) => b],
    ['jsonx', 'application/jsonx', (b) => b],
    ['octet-stream', 'application/octet-stream', (b) => b],
    ['star', '*/*', (b) => b],
    ['javascript', 'application/javascript', (b) => b],
    ['space-inside', 'application/ json', (b) => b],
    ['json-as-parameter', 'text/html; type=application/json', (b) => b],
  ];
  const [variant, type, wrap] = pick(rng, variants);
  return {
    n,
    category: 'content-type',
    variant,
    expect: [415],
    build: () => {
      const body = Buffer.from(wrap(JSON.stringify(notification(refused(n)))));
      const headers: Record<string, string> = { 'x-hub-signature-256': signHeader(body) };
      if (type !== null) headers['content-type'] = type;
      return { req: { kind: 'http', method: 'POST', path: '/webhook', headers, body }, keep: { kind: 'none' } };
    },
  };
}

function invalidUtf8(n: number, rng: Rng): Spec {
  const split = (text: string, at: string, bytes: number[]) => {
    const i = text.indexOf(at);
    return Buffer.concat([Buffer.from(text.slice(0, i)), Buffer.from(bytes), Buffer.from(text.slice(i))]);
  };
  const variants: [string, number, (tag: string) => { body: Buffer; keep: boolean }][] = [
    [
      'bytes-in-string',
      200,
      (t) => ({ body: split(JSON.stringify(notification(t)), 'says hi', [0xff, 0xfe, 0xc3]), keep: true }),
    ],
    [
      'overlong-in-string',
      200,
      (t) => ({ body: split(JSON.stringify(notification(t)), 'says hi', [0xc0, 0xaf, 0xe0, 0x80, 0xaf]), keep: true }),
    ],
    [
      'cesu8-surrogate-in-string',
      200,
      (t) => ({ body: split(JSON.stringify(notification(t)), 'says hi', [0xed, 0xa0, 0x80]), keep: true }),
    ],
    [
      'lone-surrogate-escape',
      200,
      (t) => ({
        body: Buffer.from(JSON.stringify(notification(t)).replace('says hi', 'says \\ud800 hi \\udfff')),
        keep: true,
      }),
    ],
    [
      'nul-escape',
      200,
      (t) => ({ body: Buffer.from(JSON.stringify(notification(t)).replace('says hi', 'says \\u0000 hi')), keep: true }),
    ],
    [
      'bytes-in-not-whatsapp',
      200,
      (t) => ({
        body: Buffer.concat([Buffer.from(`["${t}k `), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from('"]')]),
        keep: true,
      }),
    ],
    [
      'bytes-outside-string',
      400,
      () => ({
        body: Buffer.concat([
          Buffer.from('{'),
          Buffer.from([0xff]),
          Buffer.from(JSON.stringify(notification(refused(n))).slice(1)),
        ]),
        keep: false,
      }),
    ],
    [
      'bom',
      400,
      () => ({
        body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(notification(refused(n))))]),
        keep: false,
      }),
    ],
    ['utf16le', 400, () => ({ body: Buffer.from(JSON.stringify(notification(refused(n))), 'utf16le'), keep: false })],
  ];
  const [variant, status, make] = pick(rng, variants);
  return {
    n,
    category: 'invalid-utf8',
    variant,
    expect: [status],
    build: () => {
      const { body, keep } = make(accepted(n));
      return { req: signedPost(body), keep: keep ? keepFor(body.toString('utf8')) : { kind: 'none' } };
    },
  };
}

function empty(n: number, rng: Rng): Spec {
  const variants: [string, number, () => HttpReq][] = [
    ['signed-empty', 400, () => signedPost(Buffer.alloc(0))],
    ['signed-blank', 400, () => signedPost(' \r\n\t ')],
    [
      'unsigned-empty',
      401,
      () => ({ kind: 'http', method: 'POST', path: '/webhook', headers: json(), body: Buffer.alloc(0) }),
    ],
    [
      'no-content-type',
      415,
      () => ({
        kind: 'http',
        method: 'POST',
        path: '/webhook',
        headers: { 'x-hub-signature-256': signHeader('') },
        body: Buffer.alloc(0),
      }),
    ],
    [
      'no-body-at-all',
      400,
      () => ({
        kind: 'http',
        method: 'POST',
        path: '/webhook',
        headers: json({ 'x-hub-signature-256': signHeader('') }),
      }),
    ],
  ];
  const [variant, status, make] = pick(rng, variants);
  return { n, category: 'empty', variant, expect: [status], build: () => ({ req: make(), keep: { kind: 'none' } }) };
}

function method(n: number, rng: Rng): Spec {
  const variants: [string, string, string, number, boolean][] = [
    ['PUT', 'PUT', '/webhook', 404, true],
    ['PATCH', 'PATCH', '/webhook', 404, true],
    ['DELETE', 'DELETE', '/webhook', 404, false],
    ['OPTIONS', 'OPTIONS', '/webhook', 404, false],
    ['TRACE', 'TRACE', '/webhook', 404, false],
    ['PROPFIND', 'PROPFIND', '/webhook', 404, true],
    ['PURGE', 'PURGE', '/webhook', 404, false],
    ['SEARCH', 'SEARCH', '/webhook', 404, true],
    ['LOCK', 'LOCK', '/webhook', 404, false],
    ['HEAD', 'HEAD', '/webhook', 403, false],
    ['GET-no-token', 'GET', '/webhook', 403, false],
    ['GET-wrong-token', 'GET', '/webhook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1', 403, false],
    [
      'GET-array-params',
      'GET',
      '/webhook?hub.mode=subscribe&hub.mode=x&hub.verify_token=a&hub.verify_token=b&hub.challenge=c',
      403,
      false,
    ],
    ['POST-other-path', 'POST', '/webhook-other', 404, true],
    ['POST-dot-path', 'POST', '/webhook/../admin', 404, true],
  ];
  const [variant, verb, path, status, withBody] = pick(rng, variants);
  return {
    n,
    category: 'method',
    variant,
    expect: [status],
    build: () => {
      if (!withBody) return { req: { kind: 'http', method: verb, path, headers: {} }, keep: { kind: 'none' } };
      return {
        req: { ...signedPost(JSON.stringify(notification(refused(n)))), method: verb, path },
        keep: { kind: 'none' },
      };
    },
  };
}

function protocol(n: number, rng: Rng): Spec {
  const post = 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
  const variants: [string, number[], () => string | Buffer][] = [
    ['cl-and-te', [400], () => `${post}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ['bad-chunk-size', [400, 401], () => `${post}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n`],
    ['cl-too-small-then-garbage', [400, 401], () => `${post}Content-Length: 2\r\n\r\n{}garbage ${refused(n)}\r\n\r\n`],
    ['ctl-in-header-name', [400], () => `${post}X-B\u0001ad: 1\r\nContent-Length: 0\r\n\r\n`],
    [
      'tls-client-hello',
      [400],
      () =>
        Buffer.from([
          0x16,
          0x03,
          0x01,
          0x02,
          0x00,
          0x01,
          0x00,
          0x01,
          0xfc,
          0x03,
          0x03,
          ...Array.from({ length: 64 }, () => int(rng, 0, 255)),
          0x0d,
          0x0a,
          0x0d,
          0x0a,
        ]),
    ],
    ['negative-cl', [400], () => `${post}Content-Length: -1\r\n\r\n`],
    ['unknown-method', [400], () => 'FOO /webhook HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['h2-preface', [400], () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['header-without-colon', [400], () => `${post}Bogus header\r\n\r\n`],
    ['obs-fold', [400], () => `${post}X-A: a\r\n  continued\r\nContent-Length: 0\r\n\r\n`],
    ['duplicate-cl', [400], () => `${post}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
    [
      'missing-host',
      [400],
      () => 'POST /webhook HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    ],
    ['nul-in-url', [400], () => 'GET /web\u0000hook HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['lf-only', [400], () => 'POST /webhook HTTP/1.1\nHost: x\nContent-Length: 0\n\n'],
    ['cl-20-digits', [400], () => `${post}Content-Length: 99999999999999999999\r\n\r\n{}`],
    [
      'chunk-extension-bomb',
      [400, 401],
      () => `${post}Transfer-Encoding: chunked\r\n\r\n2;${'a=b;'.repeat(5000)}\r\n{}\r\n0\r\n\r\n`,
    ],
    [
      'binary-noise',
      [400],
      () => Buffer.from([0x01, ...Array.from({ length: int(rng, 16, 4096) }, () => int(rng, 0, 255))]),
    ],
    ['connect', [0], () => 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'],
  ];
  const [variant, expect, make] = pick(rng, variants);
  return {
    n,
    category: 'protocol',
    variant,
    expect,
    build: () => {
      const data = make();
      return {
        req: { kind: 'raw', data: Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1') },
        keep: { kind: 'none' },
      };
    },
  };
}

function aborted(n: number, rng: Rng): Spec {
  const body = () => JSON.stringify(notification(refused(n)));
  const head = (extra: string) =>
    'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    `X-Hub-Signature-256: ${signHeader(body())}\r\n${extra}\r\n`;
  const variants: [string, number[], () => RawReq][] = [
    [
      'mid-headers',
      [0],
      () => ({
        kind: 'raw',
        data: Buffer.from('POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Ty'),
        abortAfterMs: int(rng, 5, 80),
      }),
    ],
    [
      'mid-body',
      [0],
      () => ({
        kind: 'raw',
        data: Buffer.from(head(`Content-Length: ${body().length}\r\n`) + body().slice(0, 60)),
        abortAfterMs: int(rng, 5, 80),
      }),
    ],
    [
      'mid-chunked',
      [0],
      () => ({
        kind: 'raw',
        data: Buffer.from(head('Transfer-Encoding: chunked\r\n') + `40\r\n${body().slice(0, 64)}\r\n`),
        abortAfterMs: int(rng, 5, 80),
      }),
    ],
    [
      'over-limit-then-gone',
      [0],
      () => ({
        kind: 'raw',
        data: Buffer.concat([Buffer.from(head(`Content-Length: ${8 * LIMIT}\r\n`)), Buffer.alloc(LIMIT / 4, 0x20)]),
        abortAfterMs: int(rng, 5, 80),
      }),
    ],
    // The client half-closes after half a body: the daemon may still answer 400 (request aborted).
    [
      'half-close',
      [0, 400],
      () => ({
        kind: 'raw',
        data: Buffer.from(head(`Content-Length: ${body().length}\r\n`) + body().slice(0, 60)),
        halfClose: true,
      }),
    ],
  ];
  const [variant, expect, make] = pick(rng, variants);
  return { n, category: 'aborted', variant, expect, build: () => ({ req: make(), keep: { kind: 'none' } }) };
}

function wide(n: number): Spec {
  const variants: [string, () => string][] = [
    [
      '10k-malformed-entries',
      () =>
        JSON.stringify({
          object: 'whatsapp_business_account',
          entry: [...Array.from({ length: 10_000 }, (_, i) => n * 100_000 + i), `${accepted(n)}k`],
        }),
    ],
    [
      '10k-malformed-messages',
      () => {
        const root = notification(accepted(n));
        setAt(
          root,
          [...V, 'messages'],
          [
            ...Array.from({ length: 10_000 }, (_, i) => ({ id: null, seq: n * 100_000 + i })),
            { note: `${accepted(n)}k` },
          ],
        );
        return JSON.stringify(root);
      },
    ],
  ];
  const [variant, make] = variants[n % variants.length] as (typeof variants)[number];
  return {
    n,
    category: 'wide',
    variant,
    expect: [200],
    build: () => {
      const text = make();
      return { req: signedPost(text), keep: keepFor(text) };
    },
  };
}

const BUILDERS: Record<string, (n: number, rng: Rng) => Spec> = {
  'malformed-json': malformedJson,
  'wrong-types': wrongTypes,
  'not-whatsapp': notWhatsApp,
  huge,
  deep,
  'bad-signature': badSignature,
  'unknown-fields': unknownFields,
  'content-type': contentType,
  'invalid-utf8': invalidUtf8,
  empty,
  method,
  protocol,
  aborted,
  wide,
};

function generate(seed: number): Spec[] {
  const rng = mulberry32(seed);
  const categories = Object.entries(COUNTS).flatMap(([category, count]) =>
    Array.from({ length: count }, () => category),
  );
  for (let i = categories.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [categories[i], categories[j]] = [categories[j] as string, categories[i] as string];
  }
  return categories.map((category, n) =>
    (BUILDERS[category] as (n: number, rng: Rng) => Spec)(n, mulberry32(seed ^ Math.imul(n + 1, 0x9e3779b1))),
  );
}

// ------------------------------------------------------------------------------------------------
// Clients

function sendHttp(port: number, req: HttpReq, timeoutMs = 20_000): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let status = 0;
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, error: status ? undefined : error, ms: performance.now() - started });
    };
    const headers = { ...req.headers, ...(req.chunked ? { 'transfer-encoding': 'chunked' } : {}) };
    const r = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => finish());
        res.on('close', () => finish());
        res.on('error', () => finish());
      },
    );
    const timer = setTimeout(() => {
      r.destroy();
      finish('client-timeout');
    }, timeoutMs);
    // The daemon may answer (413/415/431) and close while the body is still being written: the
    // client then fails with EPIPE/ECONNRESET before parsing the answer, so also read the status
    // line straight off the socket.
    let head = '';
    r.on('socket', (socket) =>
      socket.on('data', (chunk: Buffer) => {
        if (head.length < 64) head += chunk.toString('latin1', 0, 64);
      }),
    );
    r.on('error', (error: NodeJS.ErrnoException) => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!status && m) status = Number(m[1]);
      finish(error.code ?? error.message);
    });
    if (req.chunked && req.body) {
      const body = req.body;
      let offset = 0;
      const pump = () => {
        while (offset < body.length && !r.destroyed) {
          const piece = body.subarray(offset, offset + 65_536);
          offset += piece.length;
          if (!r.write(piece)) return void r.once('drain', pump);
        }
        r.end();
      };
      pump();
    } else {
      r.end(req.body);
    }
  });
}

function sendRaw(port: number, req: RawReq, timeoutMs = 10_000): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve({ status: m ? Number(m[1]) : 0, error: m ? undefined : error, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish('client-timeout'), timeoutMs);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (/^HTTP\/1\.[01] \d{3}/.test(received) && received.includes('\r\n')) finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      socket.write(req.data);
      if (req.halfClose) socket.end();
      if (req.abortAfterMs !== undefined) setTimeout(() => finish('aborted-by-client'), req.abortAfterMs);
    });
  });
}

/** A socket that sends part of a request and then trickles or stalls. */
interface SlowLoris {
  variant: string;
  openedAt: number;
  closedAt: number | null;
  status: number;
  socket: net.Socket;
  timer: NodeJS.Timeout | null;
}
function slowLoris(port: number, variant: string, t0: number): SlowLoris {
  const socket = net.connect(port, '127.0.0.1');
  const s: SlowLoris = { variant, openedAt: performance.now() - t0, closedAt: null, status: 0, socket, timer: null };
  let received = '';
  socket.on('data', (d) => {
    received += d.toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
    if (m) s.status = Number(m[1]);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    s.closedAt = performance.now() - t0;
    if (s.timer) clearInterval(s.timer);
  });
  const head = 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
  const trickle = (byte: string) => {
    s.timer = setInterval(() => socket.writable && socket.write(byte), 300);
  };
  socket.on('connect', () => {
    if (variant === 'header-stall') socket.write(head);
    if (variant === 'header-trickle') {
      socket.write(`${head}X-Slow: `);
      trickle('a');
    }
    if (variant === 'body-stall') socket.write(`${head}Content-Length: 1000\r\n\r\n{"object":`);
    if (variant === 'body-trickle') {
      socket.write(`${head}Content-Length: 100000\r\n\r\n`);
      trickle(' ');
    }
  });
  return s;
}

// ------------------------------------------------------------------------------------------------
// The daemon

interface Spawned {
  child: ChildProcess;
  port: number;
  t0: number;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

async function spawnDaemon(db: string): Promise<Spawned> {
  const child = spawn(process.execPath, [BIN, '--db', db, 'ingest', '--port', '0', '--host', '127.0.0.1'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, WHATSAPP_APP_SECRET: APP_SECRET, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 600; i++) {
    const m = /"port":(\d+)[^\n]*"msg":"wa-report ingest listening"/.exec(stdout);
    if (m)
      return { child, port: Number(m[1]), t0: performance.now(), exited, stdout: () => stdout, stderr: () => stderr };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`the daemon did not start:\n${stdout}\n${stderr}`);
}

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const tally = (values: (string | number)[]) => {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
};
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const MARKER = /hx([ar])(\d{4})([a-z])/g;

// ------------------------------------------------------------------------------------------------

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('drill: 1,000 hostile requests against the real daemon', () => {
  it(
    'answers each with its 4xx (or keeps it, for well-formed garbage), never 5xx, ' +
      'in bounded memory, while valid traffic is stored',
    async () => {
      const specs = generate(SEED);
      expect(specs).toHaveLength(1000 - SLOW_LORIS);
      const dir = mkdtempSync(join(tmpdir(), 'wa-report-hostile-'));
      dirs.push(dir);
      const dbFile = join(dir, 'wa.db');
      const d = await spawnDaemon(dbFile);
      const pid = d.child.pid!;
      const since = () => performance.now() - d.t0;

      // Memory: sampled every 25 ms for the whole drill.
      const baselineRss = rssMb(pid) ?? 0;
      let peakRss = baselineRss;
      let peakAt = 0;
      const rssBySecond: number[] = [];
      const rssTimer = setInterval(() => {
        const v = rssMb(pid);
        if (v === null) return;
        if (v > peakRss) [peakRss, peakAt] = [v, since()];
        const second = Math.floor(since() / 1000);
        rssBySecond[second] = Math.max(rssBySecond[second] ?? 0, v);
      }, 25);

      const loris: SlowLoris[] = [];
      const validSent: string[] = [];
      const validResults: (Outcome & { wamid: string })[] = [];
      let validTimer: NodeJS.Timeout | null = null;
      try {
        for (let i = 0; i < SLOW_LORIS; i++)
          loris.push(
            slowLoris(d.port, ['header-stall', 'header-trickle', 'body-stall', 'body-trickle'][i % 4] as string, d.t0),
          );

        // Valid traffic: a signed webhook with a unique wamid every few ms, all along.
        let validInFlight = 0;
        let validSkipped = 0;
        const validPending = new Set<Promise<void>>();
        const startValid = (everyMs: number) => {
          if (validTimer) clearInterval(validTimer);
          validTimer = setInterval(() => {
            if (validInFlight >= 64) return void validSkipped++;
            const k = validSent.length;
            const wamid = `wamid.valid.${SEED}.${k}`;
            validSent.push(wamid);
            const body = JSON.stringify(
              textMessage({ from: `3461${String(k % 1000).padStart(7, '0')}`, text: `valid ${k}`, id: wamid }),
            );
            validInFlight++;
            const p = sendHttp(d.port, signedPost(body)).then((o) => {
              validInFlight--;
              validResults.push({ ...o, wamid });
            });
            validPending.add(p);
            void p.finally(() => validPending.delete(p));
          }, everyMs);
        };
        startValid(5);

        // Hostile traffic: HOSTILE_CONCURRENCY workers through the shuffled list.
        const outcomes: (Outcome & { spec: Spec; keep: Keep })[] = [];
        let next = 0;
        const worker = async () => {
          while (next < specs.length) {
            const spec = specs[next++] as Spec;
            const { req, keep } = spec.build();
            const o = req.kind === 'http' ? await sendHttp(d.port, req) : await sendRaw(d.port, req);
            outcomes.push({ ...o, spec, keep });
          }
        };
        const hostileStarted = since();
        await Promise.all(Array.from({ length: HOSTILE_CONCURRENCY }, worker));
        const hostileMs = since() - hostileStarted;

        // Slow-loris: wait (valid traffic going on, slower) for Node to cut the stalled headers.
        startValid(20);
        const headerLoris = loris.filter((s) => s.variant.startsWith('header'));
        while (since() < HEADER_STALL_DEADLINE_MS && headerLoris.some((s) => s.closedAt === null))
          await new Promise((r) => setTimeout(r, 100));
        clearInterval(validTimer!);
        validTimer = null;
        await Promise.all([...validPending]);

        const bodyLorisOpen = loris.filter((s) => s.variant.startsWith('body') && s.closedAt === null).length;
        const health = await sendHttp(d.port, { kind: 'http', method: 'GET', path: '/healthz', headers: {} });
        const metrics = await new Promise<string>((resolve) => {
          http
            .get({ host: '127.0.0.1', port: d.port, path: '/metrics', agent: false }, (res) => {
              let text = '';
              res.on('data', (c) => (text += c));
              res.on('end', () => resolve(text));
            })
            .on('error', () => resolve(''));
        });
        const aliveBeforeSigterm = d.child.exitCode === null && d.child.signalCode === null;

        // SIGTERM with the body-stalled sockets still open: the daemon must still stop, exit 0.
        const sigtermAt = since();
        d.child.kill('SIGTERM');
        const exitCode = await Promise.race([
          d.exited,
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000)),
        ]);
        const shutdownMs = since() - sigtermAt;
        clearInterval(rssTimer);
        if (exitCode === 'timeout') d.child.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 50));

        // ---- the database
        const db = new Database(dbFile, { readonly: true });
        const found = new Set<string>();
        const verbatim = new Set<string>();
        const storedValid = new Set<string>();
        let textBytes = 0;
        try {
          for (const row of db
            .prepare(
              'SELECT wamid AS t FROM messages UNION ALL SELECT content FROM messages ' +
                'UNION ALL SELECT raw FROM messages\n' +
                '          UNION ALL SELECT raw FROM message_status_events ' +
                'UNION ALL SELECT wamid FROM message_status_events UNION ALL SELECT payload FROM raw_events\n' +
                '          UNION ALL SELECT name FROM clients UNION ALL SELECT phone_number_id FROM clients ' +
                'UNION ALL SELECT contact_name FROM threads',
            )
            .iterate() as Iterable<{ t: string | null }>) {
            if (!row.t) continue;
            textBytes += row.t.length;
            for (const m of row.t.matchAll(MARKER)) found.add(m[0]);
          }
          for (const row of db
            .prepare(`SELECT payload FROM raw_events WHERE kind = 'not-whatsapp'`)
            .iterate() as Iterable<{ payload: string }>)
            verbatim.add(sha(row.payload));
          for (const row of db.prepare(`SELECT wamid FROM messages WHERE wamid LIKE 'wamid.valid.%'`).all() as {
            wamid: string;
          }[])
            storedValid.add(row.wamid);
        } finally {
          db.close();
        }
        const clients = (() => {
          const c = new Database(dbFile, { readonly: true });
          try {
            return Number((c.prepare('SELECT COUNT(*) AS n FROM clients').get() as { n: number }).n);
          } finally {
            c.close();
          }
        })();

        // ---- verdicts
        const wrongStatus = outcomes
          .filter((o) => !o.spec.expect.includes(o.status))
          .map((o) => ({
            n: o.spec.n,
            category: o.spec.category,
            variant: o.spec.variant,
            expected: o.spec.expect,
            got: o.status,
            error: o.error,
          }));
        const fiveXx = [
          ...outcomes.map((o) => o.status),
          ...validResults.map((o) => o.status),
          ...loris.map((s) => s.status),
        ].filter((s) => s >= 500);
        const lost: { n: number; category: string; variant: string; missing: string[] }[] = [];
        let envelopeSent = 0;
        let envelopeKept = 0;
        const envelopeLostBy = new Map<string, number>();
        for (const o of outcomes) {
          if (o.status !== 200) continue;
          if (o.keep.kind === 'verbatim') {
            if (!verbatim.has(sha(o.keep.text)))
              lost.push({
                n: o.spec.n,
                category: o.spec.category,
                variant: o.spec.variant,
                missing: ['<verbatim body>'],
              });
          } else if (o.keep.kind === 'markers') {
            const markers = [...new Set([...o.keep.text.matchAll(MARKER)].map((m) => m[0]))].filter((m) =>
              m.startsWith('hxa'),
            );
            const missing = markers.filter((m) => !m.endsWith('e') && !found.has(m));
            if (missing.length) lost.push({ n: o.spec.n, category: o.spec.category, variant: o.spec.variant, missing });
            for (const m of markers.filter((x) => x.endsWith('e'))) {
              envelopeSent++;
              if (found.has(m)) envelopeKept++;
              else
                envelopeLostBy.set(
                  `${o.spec.category}:${o.spec.variant}`,
                  (envelopeLostBy.get(`${o.spec.category}:${o.spec.variant}`) ?? 0) + 1,
                );
            }
          }
        }
        const leaked = [...found].filter((m) => m.startsWith('hxr'));
        const validOk = validResults.filter((o) => o.status === 200);
        const validNotOk = validResults
          .filter((o) => o.status !== 200)
          .map((o) => ({ wamid: o.wamid, status: o.status, error: o.error }));
        const validMissing = validSent.filter((w) => !storedValid.has(w));
        const validLatency = validResults.map((o) => o.ms).sort((a, b) => a - b);
        const q = (p: number) =>
          Math.round(validLatency[Math.min(validLatency.length - 1, Math.floor(p * validLatency.length))] ?? 0);
        const logLines = d.stdout().split('\n').filter(Boolean);
        const errorLines = logLines.filter((l) => /"level":(50|60)/.test(l));
        const metric = (name: string) =>
          [...metrics.matchAll(new RegExp(`^${name}\\{outcome="(\\w+)"\\} (\\d+)`, 'gm'))]
            .map((m) => `${m[1]}=${m[2]}`)
            .join(' ');
        const byCategory = tally(outcomes.map((o) => o.spec.category));
        byCategory['slow-loris'] = loris.length;
        const statusByCategory: Record<string, Record<string, number>> = {};
        for (const o of outcomes)
          (statusByCategory[o.spec.category] ??= {})[String(o.status)] =
            (statusByCategory[o.spec.category]?.[String(o.status)] ?? 0) + 1;
        statusByCategory['slow-loris'] = tally(loris.map((s) => s.status));
        const lorisReport = loris.map(
          (s) =>
            `${s.variant}:${s.status || '-'}@${s.closedAt === null ? 'open' : `${(s.closedAt / 1000).toFixed(1)}s`}`,
        );

        const envelopeDropped = Object.fromEntries([...envelopeLostBy].sort((a, b) => b[1] - a[1]).slice(0, 12));
        console.log(
          [
            `hostile drill seed=${SEED}: ${outcomes.length + loris.length} hostile requests ` +
              `in ${(hostileMs / 1000).toFixed(1)} s (+ slow-loris until ${(since() / 1000).toFixed(1)} s)`,
            `  per category: ${JSON.stringify(byCategory)}`,
            `  statuses: ${JSON.stringify(tally([...outcomes.map((o) => o.status), ...loris.map((s) => s.status)]))}`,
            `  statuses per category: ${JSON.stringify(statusByCategory)}`,
            `  wrong status: ${wrongStatus.length}; 5xx: ${fiveXx.length}; accepted-but-lost: ${lost.length}; ` +
              `refused-but-stored markers: ${leaked.length}`,
            ...lost.slice(0, 10).map((l) => `    lost: #${l.n} ${l.category} ${l.variant}: ${l.missing.join(', ')}`),
            `  valid: sent ${validSent.length}, acknowledged 200 ${validOk.length}, stored ${storedValid.size}, ` +
              `skipped ticks ${validSkipped}; latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`,
            `  RSS: baseline ${baselineRss.toFixed(0)} MB, peak ${peakRss.toFixed(0)} MB ` +
              `at ${(peakAt / 1000).toFixed(1)} s (limit ${RSS_LIMIT_MB} MB); per-second max: ` +
              `${Array.from(rssBySecond, (v) => (v ? v.toFixed(0) : '-')).join(' ')}`,
            '  slow-loris (headersTimeout 10 s, requestTimeout 30 s, checked every second): ' +
              `${lorisReport.join(' ')}; body-stalled still open before SIGTERM: ${bodyLorisOpen}`,
            `  envelope-level garbage/unknown keys kept: ${envelopeKept}/${envelopeSent}` +
              `${envelopeLostBy.size ? ` (dropped: ${JSON.stringify(envelopeDropped)})` : ''}`,
            `  healthz ${health.status}; alive ${aliveBeforeSigterm}; SIGTERM -> exit ${exitCode} ` +
              `in ${(shutdownMs / 1000).toFixed(1)} s; clients in DB ${clients}; ` +
              `DB text scanned ${(textBytes / 1024 / 1024).toFixed(1)} MB; error log lines ${errorLines.length}`,
            `  metrics webhooks: ${metric('wa_report_webhooks_total')}`,
          ].join('\n'),
        );

        expect(wrongStatus, 'hostile requests answered with an unexpected status').toEqual([]);
        expect(fiveXx, '5xx answers').toEqual([]);
        expect(validNotOk, 'valid webhooks not acknowledged with 200').toEqual([]);
        expect(validMissing, 'valid webhooks missing from the database').toEqual([]);
        expect(storedValid.size).toBe(validSent.length);
        expect(lost, 'accepted hostile content missing from the database').toEqual([]);
        expect(leaked, 'refused requests that left a trace in the database').toEqual([]);
        expect(peakRss, `peak RSS ${peakRss.toFixed(0)} MB`).toBeLessThan(RSS_LIMIT_MB);
        expect(
          headerLoris.map((s) => s.status),
          'stalled headers are cut with 408',
        ).toEqual(headerLoris.map(() => 408));
        expect(health.status).toBe(200);
        expect(aliveBeforeSigterm).toBe(true);
        expect(exitCode).toBe(0);
        expect(
          loris.every((s) => s.closedAt !== null),
          'every slow-loris socket closed by the end',
        ).toBe(true);
        expect(errorLines, 'error-level log lines').toEqual([]);
      } finally {
        if (validTimer) clearInterval(validTimer);
        clearInterval(rssTimer);
        for (const s of loris) s.socket.destroy();
        if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      }
    },
    58_000,
  );
});
