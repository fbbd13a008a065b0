// Typed errors; src/cli/main.ts is the one place that maps them to exit codes.
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  cancelled: 130,
} as const;

export class WaReportError extends Error {
  readonly exitCode: number = ExitCode.failure;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags, arguments or configuration: the user can fix the command line. */
export class UsageError extends WaReportError {
  override readonly exitCode: number = ExitCode.usage;
}

export class NotFoundError extends WaReportError {
  override readonly exitCode: number = ExitCode.notFound;
}

export class AuthError extends WaReportError {
  override readonly exitCode: number = ExitCode.auth;
}

/** The database cannot be reached, opened, written or migrated. */
export class DatabaseError extends WaReportError {}

export class CancelledError extends WaReportError {
  override readonly exitCode: number = ExitCode.cancelled;
}

/** A key is missing or wrong, or a value cannot be decrypted: fix the configuration (exit 2). */
export class EncryptionError extends WaReportError {
  override readonly exitCode: number = ExitCode.usage;
}

/** An error for logs: its class, code and first line, never values it may carry (message bodies). */
export function summarizeError(error: unknown): { type: string; code?: string; message: string } {
  const e = error as { name?: string; code?: unknown; message?: string };
  return {
    type: e?.name ?? typeof error,
    code: e?.code === undefined ? undefined : String(e.code),
    message: String(e?.message ?? error)
      .split('\n')[0]!
      .slice(0, 300),
  };
}
