import { describe, expect, it } from 'vitest';
import { isPaymentPageUrl, paymentUrlTemplateProblem, renderPaymentUrl } from '../../shared/domain/payment-url.js';

const customer = { id: 'c-0001', name: 'Rahim Uddin & Sons' };
const bill = { id: 'b/1', reference: 'NOV 2026#1', amount: 120_000, currency: 'BDT', dueDate: '2026-12-05' };

describe('the payment page URL', () => {
  it('is the template with every value URL-encoded', () => {
    const template = 'https://portal.example/pay?customer={{customer.id}}&name={{customer.name}}&bill={{bill.reference}}&id={{bill.id}}&amount={{bill.amount}}&cur={{bill.currency}}&due={{bill.dueDate}}';
    expect(renderPaymentUrl(template, customer, bill)).toBe(
      'https://portal.example/pay?customer=c-0001&name=Rahim%20Uddin%20%26%20Sons&bill=NOV%202026%231&id=b%2F1&amount=120000&cur=BDT&due=2026-12-05',
    );
  });

  it('uses the bill id for {{bill.reference}} when the bill has none', () => {
    expect(renderPaymentUrl('https://portal.example/pay/{{bill.reference}}', customer, { ...bill, reference: undefined })).toBe('https://portal.example/pay/b%2F1');
  });

  it('cannot be steered to another host by a value', () => {
    const url = renderPaymentUrl('https://portal.example/pay/{{customer.name}}?x=1', { id: 'c', name: '//evil.example/?a=1&b=@x#' }, bill);
    expect(new URL(url!).hostname).toBe('portal.example');
    expect(new URL(url!).searchParams.get('x')).toBe('1');
    // Written into the host, an encoded value makes no valid URL at all.
    expect(renderPaymentUrl('https://portal.example{{customer.name}}', { id: 'c', name: '@evil.example/' }, bill)).toBeUndefined();
  });

  it('is refused unless https (http only to this machine)', () => {
    expect(isPaymentPageUrl('https://portal.example/pay')).toBe(true);
    expect(isPaymentPageUrl('http://127.0.0.1:8080/pay')).toBe(true);
    expect(isPaymentPageUrl('http://localhost/pay')).toBe(true);
    expect(isPaymentPageUrl('http://portal.example/pay')).toBe(false);
    expect(isPaymentPageUrl('javascript:alert(1)')).toBe(false);
    expect(isPaymentPageUrl('https://user:pw@portal.example/')).toBe(false);
    expect(isPaymentPageUrl('/pay')).toBe(false);
    expect(renderPaymentUrl('{{customer.id}}', customer, bill)).toBeUndefined();
  });

  it('is written in its parsed form, one line whatever the template holds', () => {
    expect(renderPaymentUrl('https://portal.example/pay\n?c={{customer.id}}&note=a b', customer, bill)).toBe('https://portal.example/pay?c=c-0001&note=a%20b');
  });

  it('only reads its variables from their own properties', () => {
    expect(renderPaymentUrl('https://portal.example/{{customer.constructor}}', customer, bill)).toBeUndefined();
  });
});

describe('a payment URL template, when saved', () => {
  it('is accepted when it renders to an https URL with the documented variables', () => {
    expect(paymentUrlTemplateProblem('https://portal.example/pay?customer={{customer.id}}&bill={{bill.reference}}')).toBeUndefined();
    expect(paymentUrlTemplateProblem('https://portal.example/pay')).toBeUndefined();
  });

  it('is refused with an unknown variable, naming it', () => {
    expect(paymentUrlTemplateProblem('https://portal.example/pay?m={{customer.mobile}}')).toMatch(/\{\{customer\.mobile\}\}/);
  });

  it('is refused when it does not render to an https URL', () => {
    expect(paymentUrlTemplateProblem('http://portal.example/pay?c={{customer.id}}')).toMatch(/https URL/);
    expect(paymentUrlTemplateProblem('{{customer.id}}')).toMatch(/https URL/);
  });

  it('is refused when Mustache cannot read it', () => {
    expect(paymentUrlTemplateProblem('https://portal.example/{{#bill.id}}')).toMatch(/cannot be read/);
  });
});
