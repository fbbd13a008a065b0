// Where an event webhook may go. https only (http with --allow-http); never a loopback, private,
// link-local or otherwise internal address unless WA_REPORT_WEBHOOKS_ALLOW_PRIVATE=1, checked on
// the address actually connected to (a name that resolves differently later is checked again).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { UsageError } from '../errors.js';

const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  internal.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  internal.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local, reserved or multicast. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return internal.check(mapped[1] as string, 'ipv4');
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hexMapped) {
    const n = (parseInt(hexMapped[1] as string, 16) << 16) | parseInt(hexMapped[2] as string, 16);
    return internal.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
  }
  return internal.check(address, 'ipv6');
}

export class DestinationError extends Error {
  readonly code = 'EDESTINATION';
}

/** Checks an endpoint URL as typed; returns it normalised. Throws a UsageError that says how to fix it. */
export function checkEndpointUrl(text: string, options: { allowHttp: boolean }): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`--url: "${text}" is not a URL; give the full address, e.g. https://example.com/hooks/wa.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowHttp)) {
    throw new UsageError(
      url.protocol === 'http:'
        ? `--url: ${url.origin} is plain http; events carry customer data, so use https:// (or --allow-http on a network you trust).`
        : `--url: ${url.protocol} is not supported; use https://.`,
    );
  }
  if (url.username || url.password) {
    throw new UsageError(
      '--url: credentials in the URL would be shown in every listing; receivers verify the signature instead.',
    );
  }
  if (url.hash) throw new UsageError('--url: a #fragment is never sent to a server; remove it.');
  return url.toString();
}

/** The host of a URL as an address or name (IPv6 without brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Refuses an IP literal that is internal (names are checked when resolved, by `guardedLookup`). */
export function checkLiteralHost(url: URL, allowPrivate: boolean): void {
  const host = hostOf(url);
  if (!allowPrivate && isIP(host) && isInternalAddress(host)) {
    throw new DestinationError(
      `${host} is a loopback, private or link-local address; webhooks go to public addresses only ` +
        '(WA_REPORT_WEBHOOKS_ALLOW_PRIVATE=1 allows them)',
    );
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A dns.lookup for http.request that refuses internal addresses (unless allowed). */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses;
      const bad = allowPrivate ? undefined : list.find((a) => isInternalAddress(a.address));
      if (bad) {
        return callback(
          new DestinationError(
            `${hostname} resolves to ${bad.address}, a loopback, private or link-local address; webhooks go to ` +
              'public addresses only (WA_REPORT_WEBHOOKS_ALLOW_PRIVATE=1 allows them)',
          ),
          [],
        );
      }
      if (options.all) return callback(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

/** Resolves a URL's host now and refuses internal addresses (at `webhooks add`, for an early answer). */
export async function checkDestination(text: string, allowPrivate: boolean): Promise<void> {
  const url = new URL(text);
  checkLiteralHost(url, allowPrivate);
  const host = hostOf(url);
  if (isIP(host)) return;
  await new Promise<void>((resolve, reject) => {
    guardedLookup(allowPrivate)(host, { all: true }, (error) => (error ? reject(error) : resolve()));
  });
}
