// A child process that runs `PRAGMA quick_check(N)` on an event-store file and reports by IPC.
// A separate process so the check can be bounded in time for real: a worker thread cannot be stopped
// inside a native SQLite call, a process can be killed (src/store/sqlite/integrity.ts).
import Database from 'better-sqlite3';

const [path, maxErrors] = process.argv.slice(2);
try {
  const db = new Database(path!, { readonly: true, fileMustExist: true });
  const rows = db.pragma(`quick_check(${Number(maxErrors) || 10})`, { simple: false }) as { quick_check: string }[];
  db.close();
  const errors = rows.map((row) => row.quick_check).filter((text) => text !== 'ok');
  process.send!({ kind: 'checked', errors });
} catch (error) {
  const code = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  process.send!({ kind: 'checked', errors: [typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text] });
}
process.disconnect();
