// A streamed PDF document of A4 pages: the running header and the page number drawn as each page
// starts, a cursor that moves down the page, and backpressure (pdfkit pushes each finished page into
// its readable side at once; the renderer waits while more than a few pages are waiting to be written).
import { finished } from 'node:stream/promises';
import { describeRange } from '../html.js';
import type { Labels } from '../i18n.js';
import type { ReportContext } from '../types.js';
import { TextSetter, type TextStyle } from './layout.js';
import { PDFDocument, type Doc } from './pdfkit.js';

export const PAGE = { width: 595.28, height: 841.89, margin: 40 };
export const COLORS = {
  text: '#111b21',
  muted: '#54656f',
  rule: '#c9d1d6',
  user: '#eef1f4',
  assistant: '#d9fdd3',
  agent: '#dce8fb',
  quote: '#ffffff',
  accent: '#128c7e',
  agentAccent: '#2f5fb3',
  failure: '#b42318',
  read: '#1d7fd1',
  day: '#e4e9ec',
  bar: '#25a366',
  zebra: '#f4f6f8',
};

export interface PdfMeta {
  title: string;
  subject: string;
  /** BCP 47 language of the document. */
  lang: string;
  createdAt: Date;
}

const WAITING_LIMIT = 1024 * 1024;

export class PdfWriter {
  readonly doc: Doc;
  readonly text: TextSetter;
  /** Where the next block goes, in points from the top of the page. */
  y = 0;
  page = 0;
  /** Shown at the top of every page from the next one on (the conversation being read). */
  runningHeader = '';
  readonly top = PAGE.margin + 22;
  readonly bottom = PAGE.height - PAGE.margin - 16;
  readonly left = PAGE.margin;
  readonly width = PAGE.width - 2 * PAGE.margin;
  private readonly done: Promise<void>;

  constructor(
    out: NodeJS.WritableStream,
    meta: PdfMeta,
    private readonly footer: (page: number) => string,
  ) {
    this.doc = new PDFDocument({
      size: 'A4',
      margin: PAGE.margin,
      autoFirstPage: false,
      // Pages end when their content is deflated (drain, end), not when the next one starts.
      bufferPages: true,
      compress: true,
      lang: meta.lang,
      displayTitle: true,
      info: {
        Title: meta.title,
        Subject: meta.subject,
        Author: 'wa-report',
        Creator: 'wa-report',
        Producer: 'wa-report (pdfkit)',
        CreationDate: meta.createdAt,
        ModDate: meta.createdAt,
      },
    });
    this.text = new TextSetter(this.doc);
    this.doc.pipe(out as NodeJS.WritableStream, { end: false });
    this.done = finished(this.doc);
  }

  /** A report's document: titled, with the client and zone in its subject and on every page. */
  static forReport(out: NodeJS.WritableStream, report: ReportContext, labels: Labels, title: string): PdfWriter {
    const w = new PdfWriter(
      out,
      {
        title: `${title} · ${report.client.name}`,
        subject: `${report.client.name} · ${describeRange(report, labels)} · ${report.timeZone}`,
        lang: labels.locale,
        createdAt: report.generatedAt,
      },
      (page) => `${report.client.name} · ${report.timeZone} · ${labels.figures.page} ${page}`,
    );
    w.runningHeader = `${title} · ${report.client.name}`;
    return w;
  }

  newPage(): void {
    this.pending.push(this.text.ink.flush());
    this.doc.addPage();
    this.page += 1;
    const small: TextStyle = { size: 7.5, weight: 'regular', color: COLORS.muted };
    if (this.runningHeader) {
      this.text.draw(this.text.fit(this.runningHeader, this.width, small), this.left, PAGE.margin - 4, small);
      this.text.ink.line(this.left, PAGE.margin + 10, this.left + this.width, PAGE.margin + 10, 0.5, COLORS.rule);
    }
    const foot = this.text.fit(this.footer(this.page), this.width, small);
    this.text.draw(foot, this.left, PAGE.height - PAGE.margin, small, 'right', this.width);
    this.y = this.top;
    if (this.page % 50 === 0) this.text.trimCaches();
  }

  /** Room left on this page. */
  get room(): number {
    return this.bottom - this.y;
  }

  /** Starts a new page unless `height` more points fit on this one. */
  ensure(height: number): void {
    if (this.page === 0 || this.y + height > this.bottom) this.newPage();
  }

  /**
   * Ends the pages whose content is ready and waits while the output is behind (call between
   * batches). An ended page is written out; the document keeps only its reference (for the page
   * tree), not its dictionary, resources and content: 8,000 pages would otherwise stay in memory.
   */
  async drain(): Promise<void> {
    await this.endPages();
    while (this.doc.readableLength > WAITING_LIMIT) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  private async endPages(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
    const buffered = (this.doc as unknown as { _pageBuffer: { dictionary: { data: object } }[] })._pageBuffer;
    const ended = buffered.slice(0, -1);
    if (ended.length === 0) return;
    // flushPages ends every buffered page; the current one stays open.
    const current = buffered.at(-1);
    (this.doc as unknown as { _pageBuffer: unknown[] })._pageBuffer = ended;
    this.doc.flushPages();
    (this.doc as unknown as { _pageBuffer: unknown[] })._pageBuffer = current ? [current] : [];
    for (const p of ended) p.dictionary.data = {};
  }

  async end(): Promise<void> {
    if (this.page === 0) this.newPage();
    this.pending.push(this.text.ink.flush());
    await Promise.all(this.pending);
    this.pending = [];
    this.doc.end();
    await this.done;
  }

  private pending: Promise<void>[] = [];
}
