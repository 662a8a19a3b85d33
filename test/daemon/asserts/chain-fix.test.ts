import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chainFailureFix } from '../../../daemon/asserts/chain-fix.js';
import { CoreforgeError } from '../../../daemon/errors.js';

const model = { type: 'model', authorityId: 'acme' };
const declaration = { type: 'snap-declaration', authorityId: 'canonical' };

it('gives each chain failure its own fix, naming the brand of a model and the authority of anything else', () => {
  const cases: [CoreforgeError, typeof model, RegExp][] = [
    [new CoreforgeError('invalid-signature', 'failed signature verification'), model, /^the model was changed after it was signed: .*sign it again \("coreforge sign -k KEY model\.json > model\.model"\)$/],
    [new CoreforgeError('invalid-signature', 'failed signature verification'), declaration, /^the snap-declaration was changed after it was signed: .*> snap-declaration\.assert"\)$/],
    [new CoreforgeError('key-expired', 'expired', { since: '2026-01-01T00:00:00Z', time: '2025-06-01T00:00:00Z' }), model, /^the model's timestamp is before its key became valid \(2026-01-01T00:00:00Z\): sign it again with "coreforge sign --update-timestamp"/],
    [new CoreforgeError('key-expired', 'expired', { since: '2020-01-01T00:00:00Z', until: '2021-01-01T00:00:00Z', time: '2025-06-01T00:00:00Z' }), model, /^its signing key is no longer valid at the model's timestamp: sign the model with a current key of the brand/],
    [new CoreforgeError('missing-assertion', 'no account', { type: 'account' }), model, /^"coreforge ack" the account assertion of the brand "acme"/],
    [new CoreforgeError('missing-assertion', 'no key', { type: 'account-key' }), declaration, /^the key that signed it is unknown to coreforged: register it with the authority's store account .*"coreforge register-key KEY"/],
    [new CoreforgeError('untrusted-root', 'no root'), model, /^"coreforge ack" the brand's account and account-key assertions, signed up to a root coreforged trusts/],
  ];
  for (const [err, subject, fix] of cases) assert.match(chainFailureFix(err, subject), fix, `${err.kind} ${JSON.stringify(err.details)}`);
});
