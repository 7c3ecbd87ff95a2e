// The rows of a migration file (SPEC §10 `import`): `accountId,balance[,reference]` as CSV with a
// header line (csv-parse), or one JSON object a line. Streamed: a million rows in flat memory.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { isValidAccountId, REFERENCE_MAX_LENGTH } from '../domain/events.js';
import { MoneyError, parseTokenAmount } from '../domain/money.js';

export type ImportFormat = 'csv' | 'ndjson';

export interface ImportRow {
  line: number;
  accountId: string;
  balanceUnits: bigint;
  reference: string | undefined;
}

/** A row or the reason its line is bad. */
export type RowResult = { ok: true; row: ImportRow } | { ok: false; line: number; reason: string };

/** The file cannot be read as its format at all (unclosed quote, bad header): nothing after it counts. */
export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

const CSV_HEADERS = [['accountId', 'balance'], ['accountId', 'balance', 'reference']];

function checkRow(line: number, accountId: unknown, balance: unknown, reference: unknown): RowResult {
  if (typeof accountId !== 'string' || accountId === '') return { ok: false, line, reason: 'accountId is missing' };
  if (!isValidAccountId(accountId)) return { ok: false, line, reason: `accountId "${String(accountId).slice(0, 140)}" is not a valid account id` };
  if (typeof balance !== 'string' || balance === '') return { ok: false, line, reason: 'balance is missing (a string of tokens, e.g. "12.5")' };
  let balanceUnits: bigint;
  try {
    balanceUnits = parseTokenAmount(balance);
  } catch (error) {
    if (error instanceof MoneyError) return { ok: false, line, reason: `balance: ${error.message}` };
    throw error;
  }
  if (reference !== undefined && reference !== null && reference !== '') {
    if (typeof reference !== 'string') return { ok: false, line, reason: 'reference must be a string' };
    if (reference.length > REFERENCE_MAX_LENGTH) return { ok: false, line, reason: `reference is longer than ${REFERENCE_MAX_LENGTH} characters` };
    return { ok: true, row: { line, accountId, balanceUnits, reference } };
  }
  return { ok: true, row: { line, accountId, balanceUnits, reference: undefined } };
}

async function* csvRows(path: string): AsyncGenerator<RowResult> {
  const parser = createReadStream(path).pipe(parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }));
  let header = true;
  let columns = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (header) {
        header = false;
        if (!CSV_HEADERS.some((h) => h.length === record.length && h.every((name, i) => record[i]?.trim() === name))) {
          throw new ImportFileError(line, `the header must be "accountId,balance" or "accountId,balance,reference", got "${record.join(',').slice(0, 200)}"`);
        }
        columns = record.length;
        continue;
      }
      if (record.length !== columns) {
        yield { ok: false, line, reason: `expected ${columns} fields, got ${record.length}` };
        continue;
      }
      yield checkRow(line, record[0], record[1], record[2]);
    }
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    const e = error as { code?: string; lines?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) throw new ImportFileError(e.lines ?? 0, `not valid CSV: ${e.message}`);
    throw error;
  }
  if (header) throw new ImportFileError(1, 'the file is empty (a CSV import needs the header "accountId,balance[,reference]")');
}

async function* ndjsonRows(path: string): AsyncGenerator<RowResult> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      yield { ok: false, line, reason: 'not valid JSON' };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { ok: false, line, reason: 'expected an object {"accountId", "balance", "reference"?}' };
      continue;
    }
    const unknown = Object.keys(value).filter((key) => key !== 'accountId' && key !== 'balance' && key !== 'reference');
    if (unknown.length > 0) {
      yield { ok: false, line, reason: `unknown field ${JSON.stringify(unknown[0]).slice(0, 100)}` };
      continue;
    }
    const { accountId, balance, reference } = value as Record<string, unknown>;
    if (typeof balance === 'number') {
      yield { ok: false, line, reason: 'balance must be a string of tokens such as "12.5", not a JSON number' };
      continue;
    }
    yield checkRow(line, accountId, balance, reference === undefined ? undefined : reference);
  }
}

export function readRows(path: string, format: ImportFormat): AsyncGenerator<RowResult> {
  return format === 'csv' ? csvRows(path) : ndjsonRows(path);
}

export function formatOf(path: string, given: string | undefined): ImportFormat | undefined {
  if (given !== undefined) return given === 'csv' || given === 'ndjson' ? given : undefined;
  return /\.(ndjson|jsonl)$/i.test(path) ? 'ndjson' : 'csv';
}
