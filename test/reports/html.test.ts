// The HTML report opened in a real headless Chromium (playwright-core, the system's /usr/bin/chromium).
// Without Chromium these tests are skipped with the reason shown, unless CI or
// WA_REPORT_REQUIRE_BROWSER=1 is set: then they fail and say how to install it.
// The pages and screenshots go to test-artifacts/ (report.png, summary.png).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuoteCache, renderHtml, TEMPLATE_DIR } from '../../src/reports/html.js';
import { renderSummaryHtml } from '../../src/reports/summary.js';
import type { DetailedReport } from '../../src/reports/types.js';
import { sampleReport, sampleSummary, StringWritable, XSS } from './sample-report.js';

const CHROMIUM = process.env.WA_REPORT_CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
const ciFlag = process.env.CI;
const mustHaveBrowser =
  (ciFlag !== undefined && ciFlag !== '' && ciFlag !== '0' && ciFlag !== 'false') ||
  process.env.WA_REPORT_REQUIRE_BROWSER === '1';
const MISSING =
  `Chromium not found at ${CHROMIUM}; install it with \`apt-get install -y chromium\` ` +
  '(or set WA_REPORT_CHROMIUM) to run the HTML browser tests';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

// The page.evaluate callbacks run in the browser; this project type-checks without the DOM
// library, so the few browser globals they use are declared here (module scope only).
declare const document: { documentElement: { lang: string }; characterSet: string };
declare const window: { __pwned?: number };
declare function getComputedStyle(el: unknown): {
  whiteSpace: string;
  backgroundColor: string;
  color: string;
  boxShadow: string;
  paddingLeft: string;
};

async function html(report: DetailedReport): Promise<string> {
  const out = new StringWritable();
  await renderHtml(report, out);
  return out.text;
}

describe('renderHtml (markup)', () => {
  it('escapes message text and uses <%- only for our own stylesheet', async () => {
    const page = await html(sampleReport());
    expect(page).toContain(
      '&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;',
    );
    expect(page).not.toContain(XSS);
    // Only tags count (escaped message text has no '<'): nothing that could load anything.
    const tags = page.match(/<[^>]*>/g) ?? [];
    expect(
      tags.filter((t) => /^<\/?(script|link|img|iframe|object|embed|audio|video|source|base|form)\b/i.test(t)),
    ).toEqual([]);
    expect(tags.filter((t) => /\s(src|srcset|poster|action|background)=|\shref="(?!#)/i.test(t))).toEqual([]);
    expect(page).not.toMatch(/url\(|@import/i);
    for (const file of await readdir(TEMPLATE_DIR)) {
      if (!file.endsWith('.ejs')) continue;
      const source = await readFile(new URL(file, TEMPLATE_DIR), 'utf8');
      const raw = [...source.matchAll(/<%-(.*?)%>/gs)].map((m) => m[1]!.trim());
      expect(
        raw.every((expr) => expr === 'it.css'),
        `${file} outputs unescaped ${raw.join(', ')}`,
      ).toBe(true);
    }
  });

  it('is a self-contained HTML5 document in the report language', async () => {
    const es = await html(sampleReport());
    expect(es.startsWith('<!DOCTYPE html>\n<html lang="es">')).toBe(true);
    expect(es).toContain('<meta charset="utf-8">');
    expect(es).toContain("default-src 'none'");
    expect(es).toContain('@media print');
    expect(es).toContain('<a href="#c-1">+34123456789</a>');
    const en = await html(sampleReport({ lang: 'en', single: true }));
    expect(en).toContain('<html lang="en">');
    expect(en).not.toContain('class="toc"');
    // One conversation, one header: the conversation's, carrying the period and generation time.
    expect(en).not.toContain('class="report-header"');
    expect(en.match(/<h1/g)?.length).toBe(1);
    expect(en.match(/CONVERSATION REPORT/g)?.length).toBe(2); // <title> and <h1>
    expect(en).toMatch(/<dt>Period<\/dt><dd>2024-01-01 00:00:00 — 2024-04-01 00:00:00<\/dd>/);
    expect(en).toContain('<dt>Generated</dt>');
    // Emoji are drawn with the reader's own emoji font where the text font has none.
    expect(en).toMatch(/font:[^;]*"Noto Color Emoji"[^;]*"Apple Color Emoji"[^;]*"Segoe UI Emoji"/);
    expect(en).toContain('<div class="who">Agent</div>');
  });

  it('keeps the reply cache bounded, most recent first', () => {
    const cache = new QuoteCache(3);
    const q = (n: number) => ({
      wamid: `w${n}`,
      role: 'user' as const,
      content: 'x'.repeat(1000),
      createdAt: new Date(0),
    });
    for (let i = 0; i < 5; i++) cache.set(`w${i}`, q(i));
    expect(cache.size).toBe(3);
    expect(cache.has('w1')).toBe(false);
    cache.get('w2');
    cache.set('w5', null);
    expect(cache.has('w3')).toBe(false);
    expect(cache.get('w2')?.content.length).toBeLessThanOrEqual(160);
    expect(cache.get('w5')).toBeNull();
  });
});

if (!haveBrowser && mustHaveBrowser) {
  it('has Chromium to open the HTML report in', () => {
    throw new Error(`${MISSING} (required because ${ciFlag ? 'CI' : 'WA_REPORT_REQUIRE_BROWSER=1'} is set).`);
  });
}
if (!haveBrowser && !mustHaveBrowser) console.warn(`[test/reports/html] skipped: ${MISSING}.`);

describe.skipIf(!haveBrowser)(`renderHtml in headless Chromium${haveBrowser ? '' : ` — skipped: ${MISSING}`}`, () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    await mkdir(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Writes the page to test-artifacts/ and opens it, recording every request the page makes. */
  async function open(name: string, content: string): Promise<{ page: Page; requests: string[]; url: string }> {
    const file = new URL(name, ARTIFACTS);
    await writeFile(file, content);
    const url = pathToFileURL(fileURLToPath(file)).href;
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    return { page, requests, url };
  }

  it('draws bubbles (user left, assistant and agent right), escapes scripts and makes no request', async () => {
    // Without the CSP meta tag, so what is tested is the markup itself, not the browser's policy.
    const withoutCsp = (await html(sampleReport())).replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\n/, '');
    expect(withoutCsp).not.toContain('Content-Security-Policy');
    const { page, requests, url } = await open('report-without-csp.html', withoutCsp);
    try {
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('es');
      expect(await page.evaluate(() => document.characterSet)).toBe('UTF-8');
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
      expect(await page.locator('main script, main img').count()).toBe(0);

      const bubbles = await page.$$eval('.bubble', (els) =>
        els.map((el) => {
          const r = el.getBoundingClientRect();
          const chat = el.closest('.chat')!.getBoundingClientRect();
          const pad = parseFloat(getComputedStyle(el.closest('.chat')!).paddingLeft);
          return {
            role: el.dataset.role,
            left: r.left,
            right: r.right,
            chatLeft: chat.left + pad,
            chatRight: chat.right - pad,
            text: el.innerText,
          };
        }),
      );
      expect(bubbles).toHaveLength(13);
      expect(new Set(bubbles.map((b) => b.role))).toEqual(new Set(['user', 'assistant', 'agent']));
      for (const b of bubbles) {
        const center = (b.left + b.right) / 2;
        if (b.role === 'user') {
          expect(Math.abs(b.left - b.chatLeft)).toBeLessThan(1);
          expect(center).toBeLessThan(500);
        } else {
          expect(Math.abs(b.right - b.chatRight)).toBeLessThan(1);
          expect(center).toBeGreaterThan(500);
        }
      }

      const xss = bubbles.find((b) => b.text.includes('__pwned=1'))!;
      expect(xss.text).toContain('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">');
      expect(xss.text).toContain('"comillas"\n\tsegunda línea');
      expect(bubbles.some((b) => b.text.includes('somos 4 😀'))).toBe(true);
      const greeting = page.locator('#m-2 .text');
      expect(await greeting.evaluate((el) => getComputedStyle(el).whiteSpace)).toBe('pre-wrap');
      expect(await greeting.innerText()).toBe(
        '¡Hola! Soy Released, el agente de IA para alquileres vacacionales. \n¿En qué puedo ayudarte?',
      );

      // Agent: right-hand side but its own colour and label.
      const bg = (sel: string) =>
        page
          .locator(sel)
          .first()
          .evaluate((el) => getComputedStyle(el).backgroundColor);
      const [agentBg, assistantBg, userBg] = await Promise.all([
        bg('.bubble.agent'),
        bg('.bubble.assistant'),
        bg('.bubble.user'),
      ]);
      expect(new Set([agentBg, assistantBg, userBg]).size).toBe(3);
      expect(await page.locator('.bubble.agent .who').innerText()).toBe('Agente');

      // Ticks: sent ✓, delivered ✓✓, read ✓✓ in blue, failed ⚠ with the error.
      const color = (sel: string) =>
        page
          .locator(sel)
          .first()
          .evaluate((el) => getComputedStyle(el).color);
      expect(await page.locator('#m-8 .ticks').innerText()).toBe('✓');
      expect(await page.locator('#m-4 .ticks').innerText()).toBe('✓✓');
      expect(await page.locator('#m-2 .ticks').innerText()).toBe('✓✓');
      expect(await color('#m-2 .ticks')).toBe('rgb(29, 143, 225)');
      expect(await color('#m-4 .ticks')).not.toBe('rgb(29, 143, 225)');
      expect(await page.locator('#m-7 .ticks').innerText()).toBe('⚠');
      expect(await page.locator('#m-7 .failure').innerText()).toMatch(
        /^⚠ Fallo: 131047 Re-engagement message: More than 24 hours/,
      );
      expect(await page.locator('.msg.left .ticks').count()).toBe(0);

      // Media placeholder, reply and reaction quotes.
      expect(await page.locator('#m-3 .media-label').innerText()).toBe('Imagen');
      expect(await page.locator('#m-3 .caption').innerText()).toBe('Foto del salón, con "vistas"');
      expect(await page.locator('#m-9 .media-label').innerText()).toBe('Ubicación');
      expect(await page.locator('#m-4 .quote').innerText()).toContain('[image] Foto del salón');
      expect(await page.locator('#m-5 .reaction-emoji').innerText()).toBe('👍');
      expect(await page.locator('#m-5 .quote').innerText()).toContain('¡Qué bonito! ¿Para qué fechas?');
      expect(await page.locator('#m-11 .quote').innerText()).toContain('mensaje no disponible');

      // Days in Madrid time: 31 March starts at 23:00 UTC on the 30th.
      expect(await page.locator('.day').allInnerTexts()).toEqual([
        'sábado, 30 de marzo de 2024',
        'domingo, 31 de marzo de 2024',
        'lunes, 15 de enero de 2024',
      ]);
      expect(await page.locator('#m-6 time').innerText()).toBe('01:59');
      expect(await page.locator('#m-7 time').innerText()).toBe('03:00');

      // Table of contents pointing at the sections.
      expect(await page.locator('nav.toc a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([
        '#c-1',
        '#c-2',
      ]);
      expect(await page.locator('section#c-1 .bubble').count()).toBe(11);
      expect(await page.locator('section#c-2 .bubble').count()).toBe(2);
      const header = await page.locator('#c-1 .conversation-header').innerText();
      for (const s of [
        'Released',
        '+34123456789',
        'María José',
        '2024-03-30 10:30:00',
        '2024-03-31 11:07:30',
        '11',
        'Europe/Madrid',
      ])
        expect(header).toContain(s);

      await page.screenshot({ path: fileURLToPath(new URL('report.png', ARTIFACTS)), fullPage: true });

      // Paper: no shadows, and Chromium prints it.
      await page.emulateMedia({ media: 'print' });
      expect(
        await page
          .locator('.bubble')
          .first()
          .evaluate((el) => getComputedStyle(el).boxShadow),
      ).toBe('none');
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');

      expect(requests).toEqual([url]);
    } finally {
      await page.close();
    }
  });

  it('with its Content-Security-Policy still renders (inline CSS allowed)', async () => {
    const { page, requests, url } = await open('report.en.html', await html(sampleReport({ lang: 'en' })));
    try {
      expect(await page.locator('.bubble').count()).toBe(13);
      expect(
        await page
          .locator('.bubble.assistant')
          .first()
          .evaluate((el) => getComputedStyle(el).backgroundColor),
      ).toBe('rgb(217, 253, 211)');
      expect(await page.locator('#m-7 .failure').innerText()).toMatch(/^⚠ Error: 131047/);
      expect(requests).toEqual([url]);
    } finally {
      await page.close();
    }
  });

  it('draws the summary table and the per-day SVG chart, escaped, without requests', async () => {
    const out = new StringWritable();
    await renderSummaryHtml(sampleSummary(), out);
    const { page, requests, url } = await open('summary.html', out.text);
    try {
      expect(await page.locator('svg.chart rect.bar').count()).toBe(4);
      const heights = await page
        .locator('svg.chart rect.bar')
        .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))));
      expect(heights[0]).toBe(0);
      expect(heights[3]).toBeGreaterThan(heights[2]!);
      expect(await page.locator('table.data tbody tr').first().innerText()).toContain('María <b>José</b>');
      expect(await page.locator('main b').count()).toBe(0);
      await page.screenshot({ path: fileURLToPath(new URL('summary.png', ARTIFACTS)), fullPage: true });
      expect(requests).toEqual([url]);
    } finally {
      await page.close();
    }
  });
});
