// The event-store contract: every adapter runs these same tests (see docs/store.md).
import type { Test } from 'tap';
import { appendContract } from './contract-append.js';
import type { StoreFactory } from './contract-helpers.js';
import { readContract } from './contract-read.js';
import { subscribeContract } from './contract-subscribe.js';

export type { StoreFactory, StoreUnderTest } from './contract-helpers.js';

export function storeContract(t: Test, name: string, factory: StoreFactory) {
  return t.test(`${name} store contract`, async (t) => {
    appendContract(t, factory);
    readContract(t, factory);
    subscribeContract(t, factory);
  });
}
