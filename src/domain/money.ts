// Money is integer base units end to end: 1 token = 10^8 units. No float ever touches a balance.

export const UNITS_PER_TOKEN = 100_000_000n;
export const FRACTION_DIGITS = 8;
export const MS_PER_HOUR = 3_600_000n;
/** Largest amount we accept anywhere: a signed 64-bit integer of base units, so every store can hold it. */
export const MAX_UNITS = 9_223_372_036_854_775_807n;

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

const TOKEN_AMOUNT = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const UNIT_AMOUNT = /^(0|[1-9][0-9]*)$/;

/** Parses a token amount such as "0.25" or "12.00000001" into base units. */
export function parseTokenAmount(text: string): bigint {
  if (typeof text !== 'string') throw new MoneyError('amount must be a string of digits');
  const match = TOKEN_AMOUNT.exec(text);
  if (!match) {
    if (text.trim().startsWith('-')) throw new MoneyError(`amount "${text}" is negative`);
    throw new MoneyError(`amount "${text}" is not a decimal number (expected e.g. 0.25)`);
  }
  const whole = match[1] as string;
  const fraction = match[2] ?? '';
  if (fraction.length > FRACTION_DIGITS) {
    throw new MoneyError(`amount "${text}" has more than ${FRACTION_DIGITS} fraction digits`);
  }
  const units = BigInt(whole) * UNITS_PER_TOKEN + BigInt(fraction.padEnd(FRACTION_DIGITS, '0'));
  if (units > MAX_UNITS) throw new MoneyError(`amount "${text}" is too large`);
  return units;
}

/** Parses an integer count of base units written as a decimal string. */
export function parseUnits(text: string): bigint {
  if (typeof text !== 'string' || !UNIT_AMOUNT.test(text)) {
    throw new MoneyError(`base-unit amount "${String(text)}" is not a non-negative integer`);
  }
  const units = BigInt(text);
  if (units > MAX_UNITS) throw new MoneyError(`base-unit amount "${text}" is too large`);
  return units;
}

const SIGNED_TOKEN_AMOUNT = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const SIGNED_UNIT_AMOUNT = /^-?[1-9][0-9]*$/;

/**
 * A signed, non-zero token amount ("-7.64", "12.00000001") as base units, for adjustments: no
 * exponent, no sign but a leading minus, at most 8 fraction digits, |units| at most MAX_UNITS.
 */
export function parseAdjustmentAmount(text: string): bigint {
  if (typeof text !== 'string') throw new MoneyError('amount must be a string such as "-7.64"');
  const match = SIGNED_TOKEN_AMOUNT.exec(text);
  if (!match) throw new MoneyError(`amount "${text}" is not a signed decimal token amount (expected e.g. "-7.64" or "12.00000001")`);
  const fraction = match[3] ?? '';
  if (fraction.length > FRACTION_DIGITS) throw new MoneyError(`amount "${text}" has more than ${FRACTION_DIGITS} fraction digits`);
  const magnitude = BigInt(match[2] as string) * UNITS_PER_TOKEN + BigInt(fraction.padEnd(FRACTION_DIGITS, '0'));
  if (magnitude === 0n) throw new MoneyError(`amount "${text}" is zero; an adjustment changes the balance`);
  if (magnitude > MAX_UNITS) throw new MoneyError(`amount "${text}" is beyond ±${formatTokens(MAX_UNITS)}`);
  return match[1] === '-' ? -magnitude : magnitude;
}

/** A signed, non-zero integer of base units ("-764000000"), |units| at most MAX_UNITS. */
export function parseSignedUnits(text: string): bigint {
  if (typeof text !== 'string' || !SIGNED_UNIT_AMOUNT.test(text)) {
    throw new MoneyError(`base-unit amount "${String(text)}" is not a non-zero integer`);
  }
  const units = BigInt(text);
  if (units > MAX_UNITS || -units > MAX_UNITS) throw new MoneyError(`base-unit amount "${text}" is beyond ±${MAX_UNITS}`);
  return units;
}

/** Formats base units as a token amount with exactly 8 fraction digits. */
export function formatTokens(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / UNITS_PER_TOKEN;
  const fraction = (abs % UNITS_PER_TOKEN).toString().padStart(FRACTION_DIGITS, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Earnings of a session: rounded down once, on its cumulative credited time. */
export function earnedUnits(creditedMs: number, rateUnitsPerHour: bigint): bigint {
  return (BigInt(creditedMs) * rateUnitsPerHour) / MS_PER_HOUR;
}
