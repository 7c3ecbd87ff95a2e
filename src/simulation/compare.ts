// The end of a simulation: every account's projected balance, credited time and session count
// against the oracle's truth.
import type { Writable } from 'node:stream';
import { replayStream } from '../projections/ledger/ledger.js';
import { BufferedOutput } from '../projections/ledger/ledger-format.js';
import { tablePrinter } from '../cli/ledger-table.js';
import type { ReadModel } from '../projections/read-model/read-model.js';
import { verifyAll } from '../projections/ledger/verify.js';
import type { AccountTruth } from './oracle.js';
import type { World } from './world.js';

export interface Mismatch {
  account: string;
  what: string;
}

function countSessions(readModel: ReadModel, account: string): number {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = readModel.sessions(account, { limit: 100, cursor });
    count += page.sessions.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return count;
}

export async function compareWithTruth(world: World, truth: Map<string, AccountTruth>): Promise<Mismatch[]> {
  const head = await world.store.headPosition();
  const { readModel } = world.projector;
  if (head !== 'start' && !(await readModel.waitForPosition(head, 60_000))) {
    return [{ account: '*', what: `projection did not reach position ${head}` }];
  }
  const mismatches: Mismatch[] = [];
  for (const [account, expected] of truth) {
    const view = readModel.account(account);
    const balanceUnits = view?.balanceUnits ?? 0n;
    const creditedMs = view?.creditedMs ?? 0;
    const sessions = countSessions(readModel, account);
    if (balanceUnits !== expected.balanceUnits) {
      mismatches.push({ account, what: `balance ${balanceUnits} units, truth ${expected.balanceUnits}` });
    }
    if (creditedMs !== expected.creditedMs) mismatches.push({ account, what: `credited ${creditedMs} ms, truth ${expected.creditedMs}` });
    if (sessions !== expected.sessions) mismatches.push({ account, what: `${sessions} sessions, truth ${expected.sessions}` });
  }
  // And the auditor's check: every stream replayed against the projection.
  await verifyAll({
    store: world.store, readModel, readModelPath: world.readModelPath,
    onMismatch: (m) => mismatches.push({ account: m.accountId, what: `verify: ${m.differences.join('; ')}` }),
  });
  return mismatches;
}

/** The auditor's ledger of an account, as `replay` prints it. */
export async function printLedger(world: World, account: string, stream: Writable): Promise<void> {
  const out = new BufferedOutput(stream);
  const printer = tablePrinter(out, account);
  const totals = await replayStream(world.store, account, printer);
  await printer.finish(totals, world.projector.readModel.account(account), []);
  await out.flush();
}
