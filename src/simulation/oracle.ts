// Ground truth for the simulation, written straight from SPEC §2 and sharing no code with src/domain:
// it watches which requests reached the server, in order and at what time, and keeps its own books.
// If the product's decider and this oracle ever disagree, one of them misreads the spec.

export interface OracleSettings {
  timeoutMs: number;
  /** Heartbeats closer than this to the last presence are acknowledged, not recorded. */
  minHeartbeatIntervalMs?: number;
  maxSessionMs: number;
  rateUnitsPerHour: bigint;
}

interface OpenSession {
  /** Learned from the server's answer to the start that opened it (ids are the server's to make). */
  sessionId: string | undefined;
  startedAt: number;
  lastPresence: number;
  creditedMs: number;
}

export interface AccountTruth {
  balanceUnits: bigint;
  creditedMs: number;
  sessions: number;
}

export type Expected =
  | 'created' | 'existing' | 'recorded' | 'NOT_MINING' | 'SESSION_EXPIRED' | 'SESSION_MISMATCH'
  /** a stop of a session already past its deadline: recorded as a timeout stop, or NOT_MINING if swept */
  | 'expired'
  | 'coalesced'
  | 'stopped';

export class Oracle {
  private readonly open = new Map<string, OpenSession>();
  private readonly books = new Map<string, AccountTruth>();

  constructor(private readonly settings: OracleSettings) {}

  private book(account: string): AccountTruth {
    let book = this.books.get(account);
    if (!book) this.books.set(account, (book = { balanceUnits: 0n, creditedMs: 0, sessions: 0 }));
    return book;
  }

  /** The instant a session with these presence facts stops counting on its own. */
  private endOf(session: OpenSession): number {
    const byTimeout = session.lastPresence + this.settings.timeoutMs;
    const byLength = this.settings.maxSessionMs > 0 ? session.startedAt + this.settings.maxSessionMs : Number.POSITIVE_INFINITY;
    return byTimeout < byLength ? byTimeout : byLength;
  }

  private live(account: string, at: number): OpenSession | undefined {
    const session = this.open.get(account);
    if (session && at > this.endOf(session)) {
      this.settle(account, session);
      this.open.delete(account);
      return undefined;
    }
    return session;
  }

  /** Books a session's earnings once, when it is over: floor(ms × rate / 1 h). */
  private settle(account: string, session: OpenSession): void {
    const book = this.book(account);
    book.creditedMs += session.creditedMs;
    book.balanceUnits += (BigInt(session.creditedMs) * this.settings.rateUnitsPerHour) / 3_600_000n;
  }

  private credit(session: OpenSession, at: number): void {
    const cap = this.settings.maxSessionMs > 0 ? session.startedAt + this.settings.maxSessionMs : at;
    const until = at < cap ? at : cap;
    if (until > session.lastPresence) session.creditedMs += until - session.lastPresence;
    session.lastPresence = at;
  }

  start(account: string, at: number): Expected {
    if (this.live(account, at)) return 'existing';
    this.open.set(account, { sessionId: undefined, startedAt: at, lastPresence: at, creditedMs: 0 });
    this.book(account).sessions++;
    return 'created';
  }

  /** The id the server gave the session this account's last start opened. */
  bind(account: string, sessionId: string): void {
    const session = this.open.get(account);
    if (session && session.sessionId === undefined) session.sessionId = sessionId;
  }

  sessionOf(account: string): string | undefined {
    return this.open.get(account)?.sessionId;
  }

  heartbeat(account: string, at: number, sessionId?: string): Expected {
    const had = this.open.has(account);
    const session = this.live(account, at);
    if (!session) return had ? 'SESSION_EXPIRED' : 'NOT_MINING';
    if (sessionId !== undefined && sessionId !== session.sessionId) return 'SESSION_MISMATCH';
    if (at - session.lastPresence < (this.settings.minHeartbeatIntervalMs ?? 0)) return 'coalesced';
    this.credit(session, at);
    return 'recorded';
  }

  stop(account: string, at: number): Expected {
    const had = this.open.has(account);
    const session = this.live(account, at);
    if (!session) return had ? 'expired' : 'NOT_MINING';
    this.credit(session, at);
    this.settle(account, session);
    this.open.delete(account);
    return 'stopped';
  }

  /** Truth for every account, with sessions still open counted up to their last presence. */
  truth(): Map<string, AccountTruth> {
    const result = new Map<string, AccountTruth>();
    for (const [account, book] of this.books) result.set(account, { ...book });
    for (const [account, session] of this.open) {
      const book = result.get(account)!;
      book.creditedMs += session.creditedMs;
      book.balanceUnits += (BigInt(session.creditedMs) * this.settings.rateUnitsPerHour) / 3_600_000n;
    }
    return result;
  }
}
