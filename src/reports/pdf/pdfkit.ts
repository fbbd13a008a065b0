// pdfkit, loaded as the CommonJS module it is (its types use `export =`).
import { createRequire } from 'node:module';
import type * as PDFKit from 'pdfkit';

export const PDFDocument = createRequire(import.meta.url)('pdfkit') as typeof PDFKit;
export type Doc = InstanceType<typeof PDFDocument>;
