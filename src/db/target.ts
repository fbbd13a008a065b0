import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

export type DbTarget =
  | { kind: 'sqlite'; path: string; isDefault: boolean; display: string }
  | { kind: 'postgres'; url: string; host: string; port: number; database: string; display: string };

export const ACCEPTED_DATABASE_FORMS = [
  'a file path (./data/wa-report.db, /var/lib/wa-report/wa-report.db)',
  'file:./data/wa-report.db or file:///var/lib/wa-report/wa-report.db (SQLite)',
  'postgresql://user:password@host:5432/database (or postgres://)',
].join('\n  ');

/** `${XDG_DATA_HOME:-~/.local/share}/wa-report/wa-report.db` */
export function defaultSqlitePath(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome =
    env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(dataHome, 'wa-report', 'wa-report.db');
}

/**
 * Chooses the database from `--db` / `DATABASE_URL`: nothing → the embedded SQLite file;
 * `file:` or a path → SQLite; `postgres://` / `postgresql://` → PostgreSQL. Anything else is a usage error.
 */
export function resolveDbTarget(
  input: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): DbTarget {
  const value = input?.trim();
  if (!value) {
    const path = defaultSqlitePath(env);
    return { kind: 'sqlite', path, isDefault: true, display: path };
  }
  if (/^postgres(ql)?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError(
        `The database URL ${redactUrl(value)} is not a valid URL.\nAccepted forms:\n  ${ACCEPTED_DATABASE_FORMS}`,
      );
    }
    const host = url.hostname || 'localhost';
    const port = url.port ? Number(url.port) : 5432;
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || url.username || 'postgres';
    return { kind: 'postgres', url: value, host, port, database, display: redactUrl(value) };
  }
  if (/^file:/i.test(value)) {
    const path = value.startsWith('file://')
      ? fileURLToPath(value)
      : resolve(cwd, value.slice('file:'.length).replace(/\?.*$/, ''));
    if (!value.slice('file:'.length))
      throw new UsageError(`The database URL "file:" names no file.\nAccepted forms:\n  ${ACCEPTED_DATABASE_FORMS}`);
    return { kind: 'sqlite', path, isDefault: false, display: path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[a-z][a-z0-9+.-]+:(?![\\/])/i.test(value)) {
    const scheme = value.slice(0, value.indexOf(':'));
    throw new UsageError(
      `Unsupported database "${scheme}:" in ${redactUrl(value)}.\nAccepted forms:\n  ${ACCEPTED_DATABASE_FORMS}`,
    );
  }
  const path = resolve(cwd, value);
  return { kind: 'sqlite', path, isDefault: false, display: path };
}

/** Hides the password of a URL so it can be printed. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
