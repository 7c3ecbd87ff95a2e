// `token (--sub <accountId> | --role gateway|auditor|admin) [--ttl <seconds>]`: mints a bearer
// token with the secret `serve` uses (JWT_SECRET, or <DATA_DIR>/jwt-secret, created if absent).
import { ROLES, signToken, type Role } from '../api/auth.js';
import { resolveSecret } from '../api/secret.js';
import { systemClock } from '../commands/clock.js';
import { isValidAccountId } from '../domain/events.js';
import { integerFlag, stringFlag, UsageError } from './args.js';
import { EXIT_OK, type CliCommand } from './command.js';

const DEFAULT_TTL_S = 3600;
const MAX_TTL_S = 366 * 24 * 3600;

export const command: CliCommand = {
  name: 'token',
  summary: 'mints a bearer token with the configured secret',
  usage: 'token (--sub <accountId> | --role gateway|auditor|admin) [--ttl <seconds>]',
  flags: {
    sub: { type: 'string', value: '<accountId>', description: 'a token that acts on this account only' },
    role: { type: 'string', value: '<role>', description: 'gateway (any account), auditor (read and audit), admin (everything)' },
    ttl: { type: 'string', value: '<seconds>', description: `lifetime in seconds (default ${DEFAULT_TTL_S}, at most ${MAX_TTL_S})` },
  },
  async run(context) {
    const sub = stringFlag(context.args, 'sub');
    const role = stringFlag(context.args, 'role');
    if ((sub === undefined) === (role === undefined)) throw new UsageError('give exactly one of --sub and --role');
    if (sub !== undefined && !isValidAccountId(sub)) throw new UsageError(`--sub "${sub}" is not a valid account id`);
    if (role !== undefined && !(ROLES as readonly string[]).includes(role)) {
      throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`);
    }
    const ttlSeconds = integerFlag(context.args, 'ttl', DEFAULT_TTL_S, 1, MAX_TTL_S) as number;
    const config = context.config();
    const resolved = resolveSecret({ jwtSecret: config.jwtSecret, dataDir: config.dataDir });
    if (resolved.source === 'created') {
      context.stderr.write(`mining-ledger token: JWT_SECRET is unset; created a new secret in ${resolved.path} (mode 0600)\n`);
    }
    const claims = sub !== undefined ? { sub, ttlSeconds } : { role: role as Role, ttlSeconds };
    context.stdout.write(`${signToken(claims, resolved.secret, systemClock.now())}\n`);
    return EXIT_OK;
  },
};
