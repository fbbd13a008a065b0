// Who is asking: API tokens (`wa-report tokens create`, or WA_REPORT_API_TOKEN) with a scope, and a
// limit on failed attempts per address. The reporting API checks bearer tokens with it; the
// dashboard's sign-in form shares the same limit.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Store } from '../db/store.js';
import { constantTimeEqual } from '../domain/hashing.js';
import { authenticateToken, type Scope } from '../privacy/tokens.js';
import { HttpError } from './http-error.js';

export interface Principal {
  name: string;
  scope: Scope;
}

export interface AuthDeps {
  store: Store;
  /**
   * WA_REPORT_API_TOKEN (scope WA_REPORT_API_TOKEN_SCOPE, read by default); tokens made with
   * `wa-report tokens create` are accepted too. With neither, access is refused with 503 (never open
   * by default).
   */
  apiToken: string | null;
  /** What WA_REPORT_API_TOKEN may do (WA_REPORT_API_TOKEN_SCOPE); default read. */
  apiTokenScope?: Scope;
  /** Failed authentications allowed per address and window before 429 (default 10 per 5 minutes). */
  failures?: { limit: number; windowMs: number };
}

/**
 * Failed authentications per client address, in fixed windows. Written here rather than with
 * express-rate-limit: that library counts every request up front and forgives successes afterwards,
 * so a dashboard's burst of valid concurrent requests could lock its own address out.
 */
class FailureLimiter {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();
  private readonly checking = new Map<string, Promise<unknown>>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /**
   * Runs the checks of one address one after another: a failure is counted before the next check
   * from that address starts, so concurrent guesses cannot all pass before the first is counted.
   * Valid requests are never counted (a dashboard's burst does not lock itself out); they only
   * queue behind each other's token lookup.
   */
  serially<T>(address: string, check: () => Promise<T>): Promise<T> {
    const before = this.checking.get(address) ?? Promise.resolve();
    const run = before.then(check, check);
    const tail = run.catch(() => {});
    this.checking.set(address, tail);
    void tail.then(() => {
      if (this.checking.get(address) === tail) this.checking.delete(address);
    });
    return run;
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const e = this.entries.get(address);
    if (!e || e.resetAt <= now) return 0;
    return e.count >= this.limit ? Math.ceil((e.resetAt - now) / 1000) : 0;
  }

  fail(address: string, now = Date.now()): void {
    const e = this.entries.get(address);
    if (!e || e.resetAt <= now) {
      if (this.entries.size >= 100_000) this.prune(now);
      this.entries.set(address, { count: 1, resetAt: now + this.windowMs });
    } else {
      e.count += 1;
    }
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (e.resetAt <= now) this.entries.delete(k);
    // Still full (a wide attack): forget the oldest half rather than grow without bound.
    if (this.entries.size >= 100_000) [...this.entries.keys()].slice(0, 50_000).forEach((k) => this.entries.delete(k));
  }
}

export class Authenticator {
  private readonly limiter: FailureLimiter;

  constructor(private readonly deps: AuthDeps) {
    this.limiter = new FailureLimiter(deps.failures?.limit ?? 10, deps.failures?.windowMs ?? 5 * 60_000);
  }

  /**
   * Who presents `token` from `address`, or an HttpError: 429 after too many failures, 503 while no
   * token exists at all, 401 for a wrong one (counted). `presented` false: no token was sent.
   */
  identify(address: string, token: string | null): Promise<Principal> {
    return this.limiter.serially(address, async () => {
      const wait = this.limiter.blockedFor(address);
      if (wait > 0) {
        throw new HttpError(
          429,
          'too_many_failures',
          `Too many failed authentications from this address; try again in ${wait} s.`,
          { 'Retry-After': String(wait) },
        );
      }
      const principal = token === null ? null : await this.principal(token);
      if (principal) return principal;
      if (!this.deps.apiToken && !(await this.deps.store.tokens.anyLive())) {
        throw new HttpError(
          503,
          'api_token_not_configured',
          'The report API is disabled until a token exists: run `wa-report tokens create --name <who> --scope read` ' +
            '(or set WA_REPORT_API_TOKEN and restart wa-report ingest).',
        );
      }
      this.limiter.fail(address);
      throw new HttpError(
        401,
        'unauthorized',
        token !== null
          ? 'The bearer token is not valid (or was revoked).'
          : 'Send Authorization: Bearer <token> (see `wa-report tokens create`).',
        { 'WWW-Authenticate': 'Bearer realm="wa-report"' },
      );
    });
  }

  /** Express middleware: a bearer token of at least scope `need`; the principal goes to res.locals. */
  bearer(need: Scope): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      try {
        const principal = await this.identify(
          req.ip ?? req.socket.remoteAddress ?? 'unknown',
          m ? (m[1] as string) : null,
        );
        if (need === 'admin' && principal.scope !== 'admin') {
          throw new HttpError(
            403,
            'forbidden',
            `The token "${principal.name}" has scope ${principal.scope}; this endpoint needs an admin token ` +
              '(`wa-report tokens create --scope admin`).',
          );
        }
        res.locals.principal = principal;
        next();
      } catch (error) {
        next(error);
      }
    };
  }

  private async principal(token: string): Promise<Principal | null> {
    if (this.deps.apiToken && constantTimeEqual(token, this.deps.apiToken)) {
      return { name: 'WA_REPORT_API_TOKEN', scope: this.deps.apiTokenScope ?? 'read' };
    }
    const record = await authenticateToken(this.deps.store, token);
    return record ? { name: record.name, scope: record.scope } : null;
  }
}
