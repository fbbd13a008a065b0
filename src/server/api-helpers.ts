// What the HTTP API's routers share: reading query and path parameters (a problem is a 400 that
// names the parameter and the value), no-store for personal data, JSON bodies, and turning the
// program's errors into HTTP answers.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { normalizeContactId } from '../domain/phone.js';
import { NotFoundError, UsageError } from '../errors.js';
import { HttpError } from './http-error.js';

export const clientIdText = z
  .string()
  .regex(/^\d{1,12}$/, 'is not a client id')
  .transform(Number)
  .refine((n) => n >= 1, 'is not a client id');

/** A positive id in a path (/webhooks/:id). */
export const idText = z
  .string()
  .regex(/^\d{1,12}$/, 'is not an id (a positive whole number)')
  .transform(Number)
  .refine((n) => n >= 1, 'is not an id (a positive whole number)');

export const limitText = z
  .string()
  .optional()
  .transform((s) => (s === undefined ? 100 : Number(s)))
  .refine((n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'must be a whole number from 1 to 1000');

export function query(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'bad_parameter', `${name}: give it once, as a single value.`);
  return v;
}

/** A path or query value checked by its schema; a problem is a 400 naming the parameter and the value. */
export function param<S extends z.ZodType>(schema: S, value: string | undefined, name: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new HttpError(400, 'bad_parameter', `${name}: "${value}" ${result.error.issues[0]?.message}.`);
}

export const clientId = (req: Request): number => param(clientIdText, String(req.params.clientId ?? ''), 'client_id');

/** The :waId of a path, as a WhatsApp id (digits). */
export function contact(req: Request): string {
  try {
    return normalizeContactId(String(req.params.waId ?? ''), 'wa_id');
  } catch (error) {
    throw new HttpError(400, 'bad_parameter', (error as Error).message);
  }
}

/** Personal data: never kept by a browser or a proxy. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  next();
}

/** A JSON body of at most 64 kB (admin requests are small); anything else is a 400 or 415 that says so. */
export const jsonBody: RequestHandler[] = [
  (req, _res, next) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > 0 && !req.is('application/json')) {
      next(new HttpError(415, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).'));
      return;
    }
    next();
  },
  (req, res, next) => {
    parseJson(req, res, (error?: unknown) => {
      const e = error as { type?: string; message?: string } | undefined;
      if (!e) next();
      else if (e.type === 'entity.too.large')
        next(new HttpError(413, 'payload_too_large', 'The body is larger than 64 kB.'));
      else if (e.type === 'entity.parse.failed')
        next(new HttpError(400, 'bad_json', `The body is not valid JSON (${e.message ?? 'parse error'}).`));
      else next(error);
    });
  },
];

const parseJson = express.json({ limit: '64kb', strict: true });

/** A route handler whose NotFoundError and UsageError become 404 and 400. */
export const wrap =
  (fn: (req: Request, res: Response) => Promise<void>) =>
  async (req: Request, res: Response): Promise<void> => {
    try {
      await fn(req, res);
    } catch (error) {
      if (error instanceof NotFoundError) throw new HttpError(404, 'not_found', error.message);
      if (error instanceof UsageError) throw new HttpError(400, 'bad_parameter', error.message);
      throw error;
    }
  };
