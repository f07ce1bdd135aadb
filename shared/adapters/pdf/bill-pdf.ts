/**
 * A monthly SMS bill (postpaid) or statement (prepaid) as an A4 PDF, drawn with pdfkit.
 *
 * Fonts: only the PDF's built-in Helvetica and Helvetica-Bold are used, so nothing is embedded and
 * the file stays small and byte-for-byte reproducible. Those fonts speak WinAnsi (Latin-1 plus a
 * few typographic marks such as € – — “ ”) and nothing else. Bangla (or any other non-Latin
 * script) needs an embedded Unicode font, e.g. Noto Sans Bengali registered with
 * `doc.registerFont(...)`; none is bundled in node_modules here and none is downloaded, so:
 *   - operator names and every other string are printed as given, untransliterated;
 *   - a character Helvetica cannot draw is printed as "?" (left as is, pdfkit would write the low
 *     byte of its code point and print unrelated Latin letters, a wrong name on a money document);
 *   - the PDF's metadata (Subject) carries the operator name exactly as given, in Unicode.
 * To print Bangla names, bundle a Unicode font, register it and use it for those strings instead
 * of replacing them with printable().
 *
 * Determinism: CreationDate and ModDate come from issuedAt, and pdfkit derives the file ID from
 * the info dictionary, so the same bill renders to the same bytes.
 */
import PDFDocument from 'pdfkit';

export interface BillDocument {
  billId: string;
  operator: { id: string; name: string; country: string };
  platformName: string; // e.g. "ispnotify"
  period: { from: string; to: string }; // ISO dates (YYYY-MM-DD), the bill's month in the operator's time zone
  issuedAt: string; // ISO date-time
  dueDate: string; // YYYY-MM-DD
  status: 'open' | 'paid' | 'void';
  currency: string; // ISO 4217
  kind: 'bill' | 'statement'; // postpaid bill or prepaid statement
  byChannel: Array<{ channel: string; messages: number; segments: number; amount: number }>; // amount in minor units
  byDay: Array<{ day: string; messages: number; amount: number }>;
  total: number; // minor units
  payments?: Array<{ at: string; amount: number; reference: string }>;
}

// ---------------------------------------------------------------------------------------------
// Money

const minorDigitsByCurrency = new Map<string, number>();

/** The currency's minor digits as Intl knows them (ISO 4217): BDT 2, JPY 0, KWD 3. */
function minorDigits(currency: string): number {
  let digits = minorDigitsByCurrency.get(currency);
  if (digits === undefined) {
    const resolved = new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions();
    digits = resolved.maximumFractionDigits ?? 2;
    minorDigitsByCurrency.set(currency, digits);
  }
  return digits;
}

const grouping = new Intl.NumberFormat('en-US', { useGrouping: true, maximumFractionDigits: 0 });

/**
 * Integer minor units to "BDT 1,234.56" / "JPY 1,234" / "-BDT 1.00" (a refund: the sign leads,
 * as Intl's en-US currency format puts it). Exact for every safe integer: the major and minor
 * parts come from BigInt division, never from minor / 100 in floating point; Intl only groups
 * the (BigInt) major part and supplies the currency's number of minor digits.
 */
export function formatMoney(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`amount must be a safe integer of minor units, got ${minor}`);
  const code = currency.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new RangeError(`currency must be an ISO 4217 code, got ${JSON.stringify(currency)}`);
  const digits = minorDigits(code);
  const value = BigInt(minor);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const scale = 10n ** BigInt(digits);
  const major = grouping.format(magnitude / scale);
  const fraction = digits > 0 ? `.${(magnitude % scale).toString().padStart(digits, '0')}` : '';
  return `${negative ? '-' : ''}${code} ${major}${fraction}`;
}

function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`count must be a safe integer, got ${n}`);
  return grouping.format(n);
}

// ---------------------------------------------------------------------------------------------
// Text Helvetica can draw

/** Code points outside Latin-1 that WinAnsi (the built-in fonts' encoding) still has. */
const WIN_ANSI_EXTRA = new Set([
  0x0152, 0x0153, 0x0160, 0x0161, 0x0178, 0x017d, 0x017e, 0x0192, 0x02c6, 0x02dc, 0x2013, 0x2014, 0x2018, 0x2019, 0x201a,
  0x201c, 0x201d, 0x201e, 0x2020, 0x2021, 0x2022, 0x2026, 0x2030, 0x2039, 0x203a, 0x20ac, 0x2122,
]);

/** The string as given, with controls as spaces and what Helvetica cannot draw as "?" (see the file's head). */
function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) out += ' ';
    else if (cp <= 0xff || WIN_ANSI_EXTRA.has(cp)) out += ch;
    else out += '?';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Layout

const MARGIN = { top: 50, bottom: 60, left: 50, right: 50 };
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const BODY_SIZE = 10;
const ROW_HEIGHT = 16;
const CELL_PAD = 4;

type Align = 'left' | 'right';
interface Column {
  header: string;
  width: number; // share of the content width; the widths of a table add up to 1
  align: Align;
}
interface TableSpec {
  title: string;
  columns: Column[];
  rows: string[][];
  summary?: string[]; // a bold last row, e.g. totals
  empty: string; // printed when there are no rows
}

type Doc = PDFKit.PDFDocument;

function contentWidth(doc: Doc): number {
  return doc.page.width - MARGIN.left - MARGIN.right;
}

function contentBottom(doc: Doc): number {
  return doc.page.height - MARGIN.bottom;
}

/** Starts a new page when fewer than `height` points are left above the bottom margin. */
function ensureSpace(doc: Doc, height: number): boolean {
  if (doc.y + height <= contentBottom(doc)) return false;
  doc.addPage();
  return true;
}

function sectionTitle(doc: Doc, title: string): void {
  doc.font(BOLD).fontSize(12).fillColor('black');
  doc.text(printable(title), MARGIN.left, doc.y, { width: contentWidth(doc), lineBreak: false });
  doc.y += 4;
}

function drawRow(doc: Doc, columns: Column[], cells: string[], font: string, shade: boolean): void {
  const width = contentWidth(doc);
  const y = doc.y;
  if (shade) {
    doc.save().rect(MARGIN.left, y, width, ROW_HEIGHT).fill('#f0f0f0').restore();
  }
  doc.font(font).fontSize(BODY_SIZE).fillColor('black');
  let x = MARGIN.left;
  columns.forEach((column, i) => {
    const w = column.width * width;
    doc.text(printable(cells[i] ?? ''), x + CELL_PAD, y + (ROW_HEIGHT - BODY_SIZE) / 2, {
      width: w - 2 * CELL_PAD,
      height: ROW_HEIGHT, // with ellipsis: one line, cut with "…" when too wide
      align: column.align,
      ellipsis: true,
      lineBreak: false,
    });
    x += w;
  });
  doc.x = MARGIN.left;
  doc.y = y + ROW_HEIGHT;
}

function rule(doc: Doc, weight: number): void {
  doc
    .save()
    .moveTo(MARGIN.left, doc.y)
    .lineTo(MARGIN.left + contentWidth(doc), doc.y)
    .lineWidth(weight)
    .strokeColor('#444444')
    .stroke()
    .restore();
}

function drawHeaderRow(doc: Doc, columns: Column[]): void {
  drawRow(
    doc,
    columns,
    columns.map((c) => c.header),
    BOLD,
    false,
  );
  rule(doc, 0.75);
}

/**
 * A table that breaks onto further pages row by row: a row is never split, and each new page
 * starts with "<title> (continued)" and the column headers again.
 */
function drawTable(doc: Doc, spec: TableSpec): void {
  const titleHeight = 20;
  // Keep the title, the header and at least one row together.
  ensureSpace(doc, titleHeight + 2 * ROW_HEIGHT);
  sectionTitle(doc, spec.title);
  drawHeaderRow(doc, spec.columns);
  if (spec.rows.length === 0) {
    doc.font(FONT).fontSize(BODY_SIZE).text(printable(spec.empty), MARGIN.left + CELL_PAD, doc.y + 3, { width: contentWidth(doc) - 2 * CELL_PAD });
    doc.x = MARGIN.left;
    doc.y += 6;
    return;
  }
  spec.rows.forEach((row, i) => {
    if (ensureSpace(doc, ROW_HEIGHT)) {
      sectionTitle(doc, `${spec.title} (continued)`);
      drawHeaderRow(doc, spec.columns);
    }
    drawRow(doc, spec.columns, row, FONT, i % 2 === 1);
  });
  if (spec.summary) {
    ensureSpace(doc, ROW_HEIGHT + 2);
    rule(doc, 0.75);
    drawRow(doc, spec.columns, spec.summary, BOLD, false);
  }
  doc.y += 12;
}

function keyValues(doc: Doc, pairs: Array<[string, string]>, x: number, y: number, width: number): number {
  const labelWidth = 78;
  let cursor = y;
  for (const [label, value] of pairs) {
    doc.font(BOLD).fontSize(BODY_SIZE).fillColor('black');
    doc.text(printable(label), x, cursor, { width: labelWidth, lineBreak: false });
    doc.font(FONT).fontSize(BODY_SIZE);
    const text = printable(value);
    const valueWidth = width - labelWidth;
    doc.text(text, x + labelWidth, cursor, { width: valueWidth });
    cursor += Math.max(doc.heightOfString(text, { width: valueWidth }), BODY_SIZE) + 4;
  }
  return cursor;
}

function drawHeader(doc: Doc, bill: BillDocument, title: string): void {
  const width = contentWidth(doc);
  const top = doc.y;
  doc.font(BOLD).fontSize(20).fillColor('black');
  doc.text(printable(bill.platformName), MARGIN.left, top, { width: width / 2, lineBreak: false, ellipsis: true, height: 26 });
  doc.text(title, MARGIN.left + width / 2, top, { width: width / 2, align: 'right', lineBreak: false });
  doc.font(FONT).fontSize(BODY_SIZE).fillColor('#444444');
  doc.text(bill.kind === 'bill' ? 'Postpaid SMS usage' : 'Prepaid SMS usage', MARGIN.left + width / 2, top + 24, {
    width: width / 2,
    align: 'right',
    lineBreak: false,
  });
  doc.fillColor('black');
  doc.y = top + 44;
  rule(doc, 1);

  const columnWidth = (width - 20) / 2;
  const start = doc.y + 10;
  const left = keyValues(
    doc,
    [
      ['Operator', bill.operator.name],
      ['Operator ID', bill.operator.id],
      ['Country', bill.operator.country],
    ],
    MARGIN.left,
    start,
    columnWidth,
  );
  const right = keyValues(
    doc,
    [
      [`${title} ID`, bill.billId],
      ['Period', `${bill.period.from} to ${bill.period.to}`],
      ['Issued', bill.issuedAt],
      ['Due date', bill.dueDate],
      ['Status', bill.status.toUpperCase()],
      ['Currency', bill.currency.toUpperCase()],
    ],
    MARGIN.left + columnWidth + 20,
    start,
    columnWidth,
  );
  doc.x = MARGIN.left;
  doc.y = Math.max(left, right) + 14;
}

function drawTotal(doc: Doc, label: string, amount: string): void {
  ensureSpace(doc, ROW_HEIGHT + 8);
  const width = contentWidth(doc);
  const y = doc.y;
  doc.font(BOLD).fontSize(12).fillColor('black');
  doc.text(label, MARGIN.left + width / 2, y, { width: width / 4, lineBreak: false });
  doc.text(amount, MARGIN.left + (3 * width) / 4, y, { width: width / 4 - CELL_PAD, align: 'right', lineBreak: false });
  doc.x = MARGIN.left;
  doc.y = y + ROW_HEIGHT + 8;
}

/** One line at the foot of every page; pages are buffered so it can say "Page i of n". */
function drawFooters(doc: Doc, bill: BillDocument, title: string): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0; // writing inside the bottom margin must not start a new page
    const width = contentWidth(doc);
    const y = doc.page.height - 40;
    doc.save().moveTo(MARGIN.left, y - 6).lineTo(MARGIN.left + width, y - 6).lineWidth(0.5).strokeColor('#888888').stroke().restore();
    doc.font(FONT).fontSize(8).fillColor('#444444');
    const line = `${bill.platformName} | ${title} ${bill.billId} | ${bill.period.from} to ${bill.period.to} | Amounts in ${bill.currency.toUpperCase()}`;
    doc.text(printable(line), MARGIN.left, y, { width: width - 80, lineBreak: false, ellipsis: true, height: 12 });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, MARGIN.left + width - 80, y, { width: 80, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}

function sum(values: number[]): number {
  const total = values.reduce((a, b) => a + b, 0);
  if (!Number.isSafeInteger(total)) throw new RangeError('sum exceeds the safe integer range');
  return total;
}

export async function renderBillPdf(bill: BillDocument): Promise<Buffer> {
  const issued = new Date(bill.issuedAt);
  if (Number.isNaN(issued.getTime())) throw new RangeError(`issuedAt is not a date-time: ${JSON.stringify(bill.issuedAt)}`);
  const money = (minor: number): string => formatMoney(minor, bill.currency);
  const title = bill.kind === 'bill' ? 'Bill' : 'Statement';

  // Format every figure before drawing, so a bad amount throws before any output is produced.
  const channelRows = bill.byChannel.map((r) => [r.channel, formatCount(r.messages), formatCount(r.segments), money(r.amount)]);
  const channelSummary = [
    'All channels',
    formatCount(sum(bill.byChannel.map((r) => r.messages))),
    formatCount(sum(bill.byChannel.map((r) => r.segments))),
    money(sum(bill.byChannel.map((r) => r.amount))),
  ];
  const dayRows = bill.byDay.map((r) => [r.day, formatCount(r.messages), money(r.amount)]);
  const daySummary = ['All days', formatCount(sum(bill.byDay.map((r) => r.messages))), money(sum(bill.byDay.map((r) => r.amount)))];
  const payments = bill.payments ?? [];
  const paymentRows = payments.map((p) => [p.at, p.reference, money(p.amount)]);
  const total = money(bill.total);
  const paid = payments.length > 0 ? money(sum(payments.map((p) => p.amount))) : undefined;

  const doc: Doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    font: FONT,
    info: {
      Title: `${title} ${bill.billId}`,
      Author: bill.platformName,
      Creator: bill.platformName,
      Producer: 'PDFKit',
      Subject: `SMS ${title.toLowerCase()} ${bill.period.from} to ${bill.period.to} for ${bill.operator.name} (${bill.operator.id})`,
      CreationDate: issued,
      ModDate: issued,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  drawHeader(doc, bill, title);
  drawTable(doc, {
    title: 'Usage by channel',
    columns: [
      { header: 'Channel', width: 0.34, align: 'left' },
      { header: 'Messages', width: 0.2, align: 'right' },
      { header: 'Segments', width: 0.2, align: 'right' },
      { header: 'Amount', width: 0.26, align: 'right' },
    ],
    rows: channelRows,
    summary: channelRows.length > 0 ? channelSummary : undefined,
    empty: 'No messages in this period.',
  });
  drawTotal(doc, 'Total', total);
  drawTable(doc, {
    title: 'Usage by day',
    columns: [
      { header: 'Day', width: 0.34, align: 'left' },
      { header: 'Messages', width: 0.3, align: 'right' },
      { header: 'Amount', width: 0.36, align: 'right' },
    ],
    rows: dayRows,
    summary: dayRows.length > 0 ? daySummary : undefined,
    empty: 'No messages in this period.',
  });
  if (paymentRows.length > 0 && paid !== undefined) {
    drawTable(doc, {
      title: bill.kind === 'bill' ? 'Payments' : 'Top-ups and payments',
      columns: [
        { header: 'Date', width: 0.34, align: 'left' },
        { header: 'Reference', width: 0.36, align: 'left' },
        { header: 'Amount', width: 0.3, align: 'right' },
      ],
      rows: paymentRows,
      empty: '',
    });
    drawTotal(doc, 'Total paid', paid);
  }
  drawFooters(doc, bill, title);
  doc.end();
  return done;
}
