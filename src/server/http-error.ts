// An answer the HTTP apps give on purpose: status, a stable code, a message that says what to do,
// and headers (Retry-After, WWW-Authenticate). The error handler turns it into
// { "error": { "code", "message" } }.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
