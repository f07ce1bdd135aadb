import fc from 'fast-check';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { describe, expect, it } from 'vitest';
import { formatMoney, renderBillPdf, type BillDocument } from '../../shared/adapters/pdf/bill-pdf.js';

/** One page's text as lines: items on the same baseline, left to right, joined by one space. */
interface PageText {
  width: number;
  height: number;
  lines: Array<{ y: number; text: string }>;
}
interface PdfText {
  pages: PageText[];
  info: Record<string, unknown>;
}

async function extract(pdf: Buffer): Promise<PdfText> {
  const doc = await getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false }).promise;
  try {
    const pages: PageText[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const [, , width, height] = page.view;
      const content = await page.getTextContent();
      const rows = new Map<number, Array<{ x: number; str: string }>>();
      for (const item of content.items) {
        if (!('str' in item) || item.str.trim() === '') continue;
        const y = Math.round(item.transform[5] as number);
        const x = item.transform[4] as number;
        const row = rows.get(y) ?? [];
        row.push({ x, str: item.str.trim() });
        rows.set(y, row);
      }
      const lines = [...rows.entries()]
        .sort(([a], [b]) => b - a) // top of the page first
        .map(([y, items]) => ({ y, text: items.sort((a, b) => a.x - b.x).map((i) => i.str).join(' ') }));
      pages.push({ width: width ?? 0, height: height ?? 0, lines });
    }
    const meta = await doc.getMetadata();
    return { pages, info: meta.info as Record<string, unknown> };
  } finally {
    await doc.destroy();
  }
}

function allLines(text: PdfText): string[] {
  return text.pages.flatMap((p) => p.lines.map((l) => l.text));
}

function may(days: number): BillDocument['byDay'] {
  return Array.from({ length: days }, (_, i) => ({
    day: `2025-05-${String(i + 1).padStart(2, '0')}`,
    messages: 1000 + i * 37,
    amount: 25_000 + i * 1_013,
  }));
}

const bill: BillDocument = {
  billId: 'B-2025-06-0042',
  operator: { id: 'op_dhakafiber', name: 'Dhaka Fiber Net Ltd', country: 'BD' },
  platformName: 'ispnotify',
  period: { from: '2025-06-01', to: '2025-06-30' },
  issuedAt: '2025-07-01T00:05:00.000Z',
  dueDate: '2025-07-15',
  status: 'open',
  currency: 'BDT',
  kind: 'bill',
  byChannel: [
    { channel: 'sms', messages: 12_345, segments: 15_001, amount: 1_234_567 },
    { channel: 'sms-unicode', messages: 678, segments: 2_034, amount: 98_705 },
  ],
  byDay: [
    { day: '2025-06-01', messages: 6_000, amount: 600_000 },
    { day: '2025-06-02', messages: 7_023, amount: 733_272 },
  ],
  total: 1_333_272,
  payments: [{ at: '2025-07-02T10:00:00Z', amount: 50_000, reference: 'bKash TRX-7781' }],
};

describe('renderBillPdf', () => {
  it('renders an A4 PDF whose text carries the header, each channel row, the total, payments and a footer', async () => {
    const pdf = await renderBillPdf(bill);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toContain('%%EOF');

    const text = await extract(pdf);
    expect(text.pages).toHaveLength(1);
    expect(text.pages[0]!.width).toBeCloseTo(595.28, 1);
    expect(text.pages[0]!.height).toBeCloseTo(841.89, 1);

    const lines = allLines(text);
    expect(lines[0]).toBe('ispnotify Bill');
    const joined = lines.join('\n');
    expect(joined).toContain('Operator Dhaka Fiber Net Ltd');
    expect(joined).toContain('Operator ID op_dhakafiber');
    expect(joined).toContain('Country BD');
    expect(joined).toContain('Bill ID B-2025-06-0042');
    expect(joined).toContain('Period 2025-06-01 to 2025-06-30');
    expect(joined).toContain('Issued 2025-07-01T00:05:00.000Z');
    expect(joined).toContain('Due date 2025-07-15');
    expect(joined).toContain('Status OPEN');

    // Each channel row on one line, cells in column order, figures exactly as formatted.
    expect(lines).toContain('Channel Messages Segments Amount');
    expect(lines).toContain('sms 12,345 15,001 BDT 12,345.67');
    expect(lines).toContain('sms-unicode 678 2,034 BDT 987.05');
    expect(lines).toContain('All channels 13,023 17,035 BDT 13,332.72');
    expect(lines).toContain('Total BDT 13,332.72');

    expect(lines).toContain('2025-06-01 6,000 BDT 6,000.00');
    expect(lines).toContain('2025-06-02 7,023 BDT 7,332.72');

    expect(lines).toContain('Payments');
    expect(lines).toContain('2025-07-02T10:00:00Z bKash TRX-7781 BDT 500.00');
    expect(lines).toContain('Total paid BDT 500.00');

    const footer = text.pages[0]!.lines.at(-1)!;
    expect(footer.text).toBe('ispnotify | Bill B-2025-06-0042 | 2025-06-01 to 2025-06-30 | Amounts in BDT Page 1 of 1');
    expect(footer.y).toBeLessThan(60); // inside the bottom margin, below all content
  });

  it('is reproducible: CreationDate comes from issuedAt and the same bill gives the same bytes', async () => {
    const [a, b] = await Promise.all([renderBillPdf(bill), renderBillPdf(structuredClone(bill))]);
    expect(a.equals(b)).toBe(true);
    const { info } = await extract(a);
    expect(info.CreationDate).toBe("D:20250701000500Z");
    expect(info.Title).toBe('Bill B-2025-06-0042');

    const later = await renderBillPdf({ ...bill, issuedAt: '2025-07-01T00:06:00.000Z' });
    expect(later.equals(a)).toBe(false);
  });

  it('puts all 31 days of a long month into the text, breaking onto a second page with repeated headers', async () => {
    const days = may(31);
    const pdf = await renderBillPdf({ ...bill, period: { from: '2025-05-01', to: '2025-05-31' }, byDay: days, payments: undefined });
    const text = await extract(pdf);
    const lines = allLines(text);

    for (const d of days) {
      const row = `${d.day} ${d.messages.toLocaleString('en-US')} ${formatMoney(d.amount, 'BDT')}`;
      expect(lines.filter((l) => l === row), row).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith(`${d.day} `)), d.day).toHaveLength(1); // no row split or repeated
    }
    const totalMessages = days.reduce((s, d) => s + d.messages, 0);
    const totalAmount = days.reduce((s, d) => s + d.amount, 0);
    expect(lines).toContain(`All days ${totalMessages.toLocaleString('en-US')} ${formatMoney(totalAmount, 'BDT')}`);

    // The day table did not fit on page one: it continues on page two under its own header,
    // and no row runs into the footer band of either page.
    expect(text.pages.length).toBe(2);
    const second = text.pages[1]!.lines.map((l) => l.text);
    expect(second[0]).toBe('Usage by day (continued)');
    expect(second[1]).toBe('Day Messages Amount');
    expect(second[2]).toMatch(/^2025-05-\d\d /);
    for (const page of text.pages) {
      const body = page.lines.filter((l) => !l.text.startsWith('ispnotify |'));
      for (const line of body) expect(line.y, line.text).toBeGreaterThan(60);
    }
    expect(text.pages[0]!.lines.at(-1)!.text).toMatch(/Page 1 of 2$/);
    expect(text.pages[1]!.lines.at(-1)!.text).toMatch(/Page 2 of 2$/);
  });

  it('renders a prepaid statement, without a payments section when there are none, and says when there is no usage', async () => {
    const text = await extract(
      await renderBillPdf({ ...bill, kind: 'statement', status: 'paid', byChannel: [], byDay: [], total: 0, payments: undefined }),
    );
    const lines = allLines(text);
    expect(lines[0]).toBe('ispnotify Statement');
    expect(lines.join('\n')).toContain('Statement ID B-2025-06-0042');
    expect(lines.join('\n')).toContain('Status PAID');
    expect(lines.filter((l) => l === 'No messages in this period.')).toHaveLength(2);
    expect(lines).toContain('Total BDT 0.00');
    expect(lines.some((l) => l.startsWith('Payments') || l.startsWith('Total paid'))).toBe(false);
  });

  it('prints what Helvetica cannot draw (Bangla) as "?" rather than wrong Latin letters, and keeps the name as given in the metadata', async () => {
    const name = 'ঢাকা নেট Ltd';
    const text = await extract(await renderBillPdf({ ...bill, operator: { ...bill.operator, name } }));
    expect(allLines(text).join('\n')).toContain('Operator ???? ??? Ltd');
    expect(String(text.info.Subject)).toContain(name);
  });

  it('refuses a fractional amount or an unparseable issue date before producing anything', async () => {
    await expect(renderBillPdf({ ...bill, total: 12.5 })).rejects.toThrow(RangeError);
    await expect(renderBillPdf({ ...bill, byDay: [{ day: '2025-06-01', messages: 1, amount: Number.NaN }] })).rejects.toThrow(/safe integer/);
    await expect(renderBillPdf({ ...bill, issuedAt: 'yesterday' })).rejects.toThrow(/issuedAt/);
  });
});

describe('formatMoney', () => {
  it('formats integer minor units exactly with the currency code and its minor digits', () => {
    expect(formatMoney(0, 'BDT')).toBe('BDT 0.00');
    expect(formatMoney(5, 'BDT')).toBe('BDT 0.05');
    expect(formatMoney(123456, 'BDT')).toBe('BDT 1,234.56');
    expect(formatMoney(100000000000, 'BDT')).toBe('BDT 1,000,000,000.00');
    // 2^53 - 1: minor / 100 in floating point would not give these digits back.
    expect(formatMoney(Number.MAX_SAFE_INTEGER, 'BDT')).toBe('BDT 90,071,992,547,409.91');
    expect(formatMoney(1234, 'JPY')).toBe('JPY 1,234');
    expect(formatMoney(1234, 'KWD')).toBe('KWD 1.234');
    expect(formatMoney(1, 'bdt')).toBe('BDT 0.01');
  });

  it('puts the minus sign before the code for refunds, as Intl does', () => {
    expect(formatMoney(-100, 'BDT')).toBe('-BDT 1.00');
    expect(formatMoney(-5, 'BDT')).toBe('-BDT 0.05');
    expect(formatMoney(-1234, 'JPY')).toBe('-JPY 1,234');
    expect(formatMoney(-0, 'BDT')).toBe('BDT 0.00');
  });

  it('agrees with Intl where floating point is still exact', () => {
    const cases: Array<[string, number]> = [['BDT', 100], ['USD', 100], ['JPY', 1], ['KWD', 1000]];
    fc.assert(
      fc.property(fc.integer({ min: -1e11, max: 1e11 }), fc.constantFrom(...cases), (minor, [currency, scale]) => {
        const intl = new Intl.NumberFormat('en-US', { style: 'currency', currency, currencyDisplay: 'code' })
          .format(minor / scale)
          .replace(/\u00a0/g, ' ');
        expect(formatMoney(minor, currency)).toBe(intl);
      }),
    );
  });

  it('loses no digit for any safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (minor) => {
        const s = formatMoney(minor, 'BDT');
        expect(s).toMatch(/^-?BDT \d{1,3}(,\d{3})*\.\d\d$/);
        expect(BigInt(s.replace(/[^-\d]/g, ''))).toBe(BigInt(minor));
      }),
    );
  });

  it('refuses amounts that are not safe integers and malformed currency codes', () => {
    expect(() => formatMoney(1.5, 'BDT')).toThrow(RangeError);
    expect(() => formatMoney(Number.NaN, 'BDT')).toThrow(RangeError);
    expect(() => formatMoney(2 ** 53, 'BDT')).toThrow(RangeError);
    expect(() => formatMoney(100, 'TAKA')).toThrow(RangeError);
  });
});
