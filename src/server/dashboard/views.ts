// Renders the dashboard's EJS templates (templates/dashboard/) with the headers every page carries:
// a Content-Security-Policy that allows nothing but this server's own styles, scripts and forms
// (no inline script or style, no other origin), no caching of personal data, no referrer.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Response } from 'express';
import ejs from 'ejs';

export const TEMPLATE_DIR = fileURLToPath(new URL('../../../templates/dashboard/', import.meta.url));

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The conversation's HTML report, shown in a frame of its page: its own inline styles, nothing else. */
export const TRANSCRIPT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

export function securityHeaders(res: Response, csp = PAGE_CSP): void {
  res.set('Content-Security-Policy', csp);
  res.set('Cache-Control', 'no-store');
  res.set('Referrer-Policy', 'no-referrer');
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Cross-Origin-Opener-Policy', 'same-origin');
  res.set('Cross-Origin-Resource-Policy', 'same-origin');
  if (csp === PAGE_CSP) res.set('X-Frame-Options', 'DENY');
}

const compiled = new Map<string, ejs.TemplateFunction>();

function template(name: string): ejs.TemplateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    const filename = `${TEMPLATE_DIR}${name}.ejs`;
    // strict: no `with`; data is reached as `it.…`. cache: the partials it includes are compiled once
    // too (without it EJS compiles every include on every render).
    fn = ejs.compile(readFileSync(filename, 'utf8'), {
      filename,
      strict: true,
      localsName: 'it',
      rmWhitespace: true,
      cache: true,
    });
    compiled.set(name, fn);
  }
  return fn;
}

export function renderPage(res: Response, name: string, data: object, status = 200): void {
  securityHeaders(res);
  res.status(status).type('text/html; charset=utf-8').send(template(name)(data));
}

/** The static files a page links to (served from the package, never a CDN). */
export const ASSETS: Record<string, string> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};

const assetCache = new Map<string, Buffer>();
export function asset(name: string): Buffer {
  let body = assetCache.get(name);
  if (!body) {
    body = readFileSync(`${TEMPLATE_DIR}assets/${name}`);
    assetCache.set(name, body);
  }
  return body;
}
