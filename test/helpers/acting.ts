import type { Acting } from '../../src/audit/model.ts';

/** Who a test acts as when it calls a command directly rather than through the API. */
export const TEST_ACTING: Acting = {
  actor: { kind: 'key', keyId: '00000000-0000-4000-8000-0000000000ff', keyName: 'test' },
  via: 'api',
  requestId: 'test-request',
};
