// Who the events of an operator's command-line act name (SPEC §10: "actor: the operator").
import { userInfo } from 'node:os';
import type { Actor } from '../domain/events.js';

export function operatorActor(env: NodeJS.ProcessEnv): Actor {
  let name = env.USER ?? env.LOGNAME;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return { kind: 'operator', id: `cli:${name}`.slice(0, 200) };
}
