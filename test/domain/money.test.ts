// Money is bigint base units (1 token = 10^8): parsing refuses anything it cannot represent exactly.
import fc from 'fast-check';
import t from 'tap';
import { earnedUnits, formatTokens, MAX_UNITS, MoneyError, parseTokenAmount, parseUnits } from '../../src/domain/money.js';

t.test('token amounts parse exactly into base units', async (t) => {
  t.equal(parseTokenAmount('0.25'), 25_000_000n);
  t.equal(parseTokenAmount('0'), 0n);
  t.equal(parseTokenAmount('1'), 100_000_000n);
  t.equal(parseTokenAmount('12.00000001'), 1_200_000_001n);
  t.equal(parseTokenAmount('0.00000001'), 1n);
  t.equal(parseTokenAmount('92233720368.54775807'), MAX_UNITS, 'the largest amount a signed 64-bit store can hold');
});

t.test('bad amounts are refused with a message that says why', async (t) => {
  const refused = (input: unknown, why: RegExp) =>
    t.throws(() => parseTokenAmount(input as string), { name: 'MoneyError', message: why }, `refuses ${JSON.stringify(input)}`);
  refused('0.123456789', /more than 8 fraction digits/);
  refused('-0.25', /is negative/);
  refused(' -1', /is negative/);
  refused('-0', /is negative/);
  refused('abc', /not a decimal number/);
  refused('', /not a decimal number/);
  refused('1e5', /not a decimal number/);
  refused('.5', /not a decimal number/);
  refused('1.', /not a decimal number/);
  refused('01.5', /not a decimal number/);
  refused(' 1', /not a decimal number/);
  refused('0x10', /not a decimal number/);
  refused('NaN', /not a decimal number/);
  refused('Infinity', /not a decimal number/);
  refused('1,5', /not a decimal number/);
  refused(0.25, /must be a string/);
  refused(null, /must be a string/);
  refused('92233720368.54775808', /too large/);
  refused('1' + '0'.repeat(40), /too large/);
});

t.test('base-unit amounts: non-negative integers within 64 bits', async (t) => {
  t.equal(parseUnits('0'), 0n);
  t.equal(parseUnits('486111'), 486_111n);
  t.equal(parseUnits(MAX_UNITS.toString()), MAX_UNITS);
  for (const bad of ['-1', '1.0', '', '007', 'x', '1e3']) {
    t.throws(() => parseUnits(bad), MoneyError, `refuses "${bad}"`);
  }
  t.throws(() => parseUnits((MAX_UNITS + 1n).toString()), { message: /too large/ });
  t.throws(() => parseUnits(5 as unknown as string), MoneyError);
});

t.test('formatting: exactly 8 fraction digits, also for zero and negatives', async (t) => {
  t.equal(formatTokens(0n), '0.00000000');
  t.equal(formatTokens(1n), '0.00000001');
  t.equal(formatTokens(486_111n), '0.00486111');
  t.equal(formatTokens(25_000_000n), '0.25000000');
  t.equal(formatTokens(100_000_000n), '1.00000000');
  t.equal(formatTokens(-1n), '-0.00000001');
  t.equal(formatTokens(-123_456_789n), '-1.23456789');
  t.equal(formatTokens(MAX_UNITS), '92233720368.54775807');
});

t.test('round trips: format then parse gives the same units, parse then format the canonical text', async (t) => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_UNITS }), (units) => parseTokenAmount(formatTokens(units)) === units));
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 10n }), fc.integer({ min: 0, max: 8 }), (whole, digits) => {
      const fraction = digits === 0 ? '' : `.${'7'.repeat(digits)}`;
      const text = `${whole}${fraction}`;
      return formatTokens(parseTokenAmount(text)) === `${whole}.${'7'.repeat(digits).padEnd(8, '0')}`;
    }),
  );
  t.pass('exact both ways');
});

t.test('earnings: floor(creditedMs × R / 3,600,000), exact beyond 2^53', async (t) => {
  t.equal(earnedUnits(70_000, 25_000_000n), 486_111n);
  t.equal(earnedUnits(3_600_000, 25_000_000n), 25_000_000n);
  t.equal(earnedUnits(0, 25_000_000n), 0n);
  t.equal(earnedUnits(1, 3_599_999n), 0n, 'rounds down, never up');
  // A year at a huge rate: float arithmetic would lose the last units here.
  t.equal(earnedUnits(31_536_000_000, 9_007_199_254_740_993n), 78_903_065_471_531_098_680n);
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 15n }), (a, b, rate) =>
      earnedUnits(a + b, rate) >= earnedUnits(a, rate) + earnedUnits(b, rate)),
  );
  t.pass('rounding once per session never pays less than rounding each gap');
});
