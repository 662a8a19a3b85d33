import {
  assertionType,
  encodeAssertion,
  encodeStream,
  primaryKeyOf,
  signStatementText,
  type AccountKeyInfo,
  type Assertion,
} from '../asserts/index.js';
import { verifyAssertions } from '../asserts-db/verify.js';
import { defaultKeyName } from '../keys/index.js';
import { CoreforgeError } from '../errors.js';
import { requireRoot } from '../caller/caller.js';
import type { DaemonContext } from './context.js';
import { ApiError } from './errors.js';
import { rawResponse, syncResponse } from './response.js';
import type { ApiRequest, Route } from './routes.js';
import type { AddAssertionsResult, AssertionEntry, SignResult } from './types.js';

/** The media type of assertion streams, as snapd serves them. */
export const assertionMediaType = 'application/x.ubuntu.assertion';

function textField(req: ApiRequest, field: string, what: string, required = true): string | undefined {
  const v = req.body[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') throw new ApiError('bad-request', `cannot ${what}: "${field}" must be a string holding assertion text${required ? ' and is required' : ''}`);
  return v;
}

/** `snap sign` through the daemon: the statement text, a key name and its passphrase. */
async function sign(req: ApiRequest, ctx: DaemonContext) {
  const keyName = req.body.key === undefined ? defaultKeyName : String(req.body.key);
  const statement = req.body.statement;
  if (typeof statement !== 'string') {
    throw new ApiError('bad-request', 'cannot sign: "statement" must be a string holding the JSON statement (the text `snap sign` reads)');
  }
  const signer = await ctx.keyring.signer(keyName, req.body.passphrase as string, 'use');
  const accountKey = (await ctx.assertions.findAccountKey(signer.publicKey.id)) as Assertion<AccountKeyInfo> | undefined;
  const signed = signStatementText(statement, signer, {
    time: new Date(),
    updateTimestamp: req.body['update-timestamp'] === true,
    ...(accountKey ? { accountKey } : {}),
  });
  const out: Assertion[] = [signed];
  if (req.body.chain === true) {
    if (!accountKey) {
      throw new CoreforgeError(
        'missing-assertion',
        `cannot create assertion chain: no account-key for key ${JSON.stringify(signer.publicKey.id)} in the assertion database; add it with "coreforge ack FILE"`,
      );
    }
    const account = await ctx.assertions.findAccount(accountKey.info.accountId);
    if (!account) {
      throw new CoreforgeError(
        'missing-assertion',
        `cannot create assertion chain: no account assertion for ${JSON.stringify(accountKey.info.accountId)} in the assertion database; add it with "coreforge ack FILE"`,
      );
    }
    out.push(accountKey, account);
  }
  ctx.logger.info('signed assertion', { type: signed.type, key: keyName, chain: req.body.chain === true });
  const result: SignResult = { assertion: encodeStream(out) };
  if (!accountKey) result.warning = 'WARNING: could not fetch account-key to cross-check signed assertion with key constraints.';
  return syncResponse(result);
}

const entryOf = (a: Assertion, withText: boolean): AssertionEntry => ({
  type: a.type,
  'primary-key': primaryKeyOf(a),
  revision: a.revision,
  headers: a.headers as Record<string, unknown>,
  text: withText ? encodeAssertion(a) : '',
});

export const assertionRoutes: Route[] = [
  { path: '/v1/sign', POST: sign },
  {
    path: '/v1/assertions/verify',
    POST: async (req, ctx) => {
      const text = textField(req, 'assertions', 'verify assertions')!;
      const trusted = textField(req, 'trusted', 'verify assertions', false);
      const lookup = req.body.lookup;
      if (lookup !== undefined && (!Array.isArray(lookup) || lookup.some((t) => typeof t !== 'string'))) {
        throw new ApiError('bad-request', 'cannot verify assertions: "lookup" must be a list of assertion texts');
      }
      return syncResponse(await verifyAssertions(ctx.assertions, text, trusted, (lookup as string[] | undefined) ?? []));
    },
  },
  {
    path: '/v1/assertions',
    POST: async (req, ctx) => {
      const text = textField(req, 'assertions', 'add assertions')!;
      if (req.body.trusted === true) {
        requireRoot(req.caller, 'add a trusted root assertion', 'trusted roots decide whose signatures every user of this daemon accepts: run it as root (sudo coreforge ack --trusted FILE)');
      }
      const added = req.body.trusted === true ? await ctx.assertions.addTrusted(text) : await ctx.assertions.add(text);
      for (const a of added) ctx.logger.info('assertion added', { type: a.type, 'primary-key': primaryKeyOf(a).join('/'), trusted: req.body.trusted === true });
      const result: AddAssertionsResult = { added: added.map((a) => ({ type: a.type, 'primary-key': primaryKeyOf(a), revision: a.revision })) };
      return syncResponse(result);
    },
  },
  {
    path: '/v1/assertions/:type',
    GET: async (req, ctx) => {
      const type = req.params.type!;
      if (!assertionType(type)) {
        throw new CoreforgeError('unknown-assertion-type', `cannot list assertions: unknown assertion type ${JSON.stringify(type)}`);
      }
      const filters: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.query)) if (v !== undefined) filters[k] = v;
      const found = await ctx.assertions.query(type, filters);
      if ((req.headers.accept ?? '').includes(assertionMediaType)) {
        return rawResponse(assertionMediaType, encodeStream(found), { 'X-Ubuntu-Assertions-Count': String(found.length) });
      }
      return syncResponse(found.map((a) => entryOf(a, true)));
    },
  },
];
