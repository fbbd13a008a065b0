// Dashboard sessions: a random id in an HttpOnly, SameSite=Strict cookie names a server-side record
// (who signed in, with which scope, the session's CSRF token) that expires after idle time. Kept in
// this process's memory: a restart signs everyone out, and behind a load balancer each daemon has
// its own (pin the dashboard to one instance, or sign in again). One-time sign-in codes (printed by
// `wa-report dashboard`) live here too.
import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { constantTimeEqual } from '../../domain/hashing.js';
import type { Principal } from '../auth.js';

export const SESSION_COOKIE = 'wa_report_session';
/** The sign-in form's CSRF cookie (double submit: before a session exists there is nothing to bind to). */
export const LOGIN_CSRF_COOKIE = 'wa_report_login';
export const LANG_COOKIE = 'wa_report_lang';
export const DASHBOARD_PATH = '/dashboard';

export interface Session {
  principal: Principal;
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

export interface SessionOptions {
  /** Signed out after this long without a request (default 30 minutes). */
  idleMs?: number;
  /** And after this long in any case (default 12 hours). */
  maxAgeMs?: number;
  clock?: () => number;
}

const token = () => randomBytes(32).toString('base64url');
/** Ids are kept hashed: a heap dump does not hand out live sessions. */
const hash = (id: string) => createHash('sha256').update(id).digest('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly codes = new Map<string, { principal: Principal; expiresAt: number }>();
  readonly idleMs: number;
  private readonly maxAgeMs: number;
  private readonly clock: () => number;

  constructor(options: SessionOptions = {}) {
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.maxAgeMs = options.maxAgeMs ?? 12 * 3600_000;
    this.clock = options.clock ?? Date.now;
  }

  create(principal: Principal): { id: string; session: Session } {
    this.prune();
    const id = token();
    const now = this.clock();
    const session = { principal, csrf: token(), createdAt: now, lastSeen: now };
    this.sessions.set(hash(id), session);
    return { id, session };
  }

  /** The live session of an id, its idle time restarted; null when unknown or expired. */
  touch(id: string | undefined): Session | null {
    if (!id) return null;
    const key = hash(id);
    const s = this.sessions.get(key);
    if (!s) return null;
    const now = this.clock();
    if (now - s.lastSeen > this.idleMs || now - s.createdAt > this.maxAgeMs) {
      this.sessions.delete(key);
      return null;
    }
    s.lastSeen = now;
    return s;
  }

  /** Whether an id's session is still live, without restarting its idle time. */
  alive(id: string | undefined): boolean {
    if (!id) return false;
    const s = this.sessions.get(hash(id));
    const now = this.clock();
    return s !== undefined && now - s.lastSeen <= this.idleMs && now - s.createdAt <= this.maxAgeMs;
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(hash(id));
  }

  /** A code that signs in once, within `ttlMs` (the link `wa-report dashboard` prints). */
  issueCode(principal: Principal, ttlMs = 10 * 60_000): string {
    const code = token();
    this.codes.set(hash(code), { principal, expiresAt: this.clock() + ttlMs });
    return code;
  }

  redeemCode(code: string): Principal | null {
    const key = hash(code);
    const c = this.codes.get(key);
    this.codes.delete(key);
    return c && c.expiresAt >= this.clock() ? c.principal : null;
  }

  private prune(): void {
    if (this.sessions.size < 10_000) return;
    const now = this.clock();
    for (const [k, s] of this.sessions) if (now - s.lastSeen > this.idleMs) this.sessions.delete(k);
  }
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Secure when the request came over HTTPS (directly, or through a trusted proxy that says so). */
export function setCookie(
  req: Request,
  res: Response,
  name: string,
  value: string,
  options: { maxAgeSeconds?: number; path?: string } = {},
): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? DASHBOARD_PATH}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (req.secure) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(req: Request, res: Response, name: string): void {
  setCookie(req, res, name, '', { maxAgeSeconds: 0 });
}

export function sameToken(given: unknown, expected: string): boolean {
  return typeof given === 'string' && given.length > 0 && constantTimeEqual(given, expected);
}

export const newToken = token;
