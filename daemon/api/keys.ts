import { isAbsolute } from 'node:path';
import { requireRoot } from '../caller/caller.js';
import { encodeAssertion } from '../asserts/index.js';
import { checkPassphrase, defaultKeyName, startCreateKey, type KeyEntry } from '../keys/index.js';
import type { DaemonContext } from './context.js';
import { ApiError } from './errors.js';
import { asyncResponse, syncResponse } from './response.js';
import type { ApiRequest, Route } from './routes.js';
import type { KeyExport, KeyInfo } from './types.js';

const toInfo = (e: KeyEntry): KeyInfo => ({ name: e.name, 'sha3-384': e.id, created: e.created });

/** A string field of the body, or a bad-request naming it. */
function stringField(req: ApiRequest, field: string, what: string, required = true): string | undefined {
  const v = req.body[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') throw new ApiError('bad-request', `cannot ${what}: "${field}" must be a string${required ? ' and is required' : ''}`);
  return v;
}

async function createKey(req: ApiRequest, ctx: DaemonContext) {
  const name = req.body.name === undefined ? defaultKeyName : req.body.name;
  return asyncResponse(await startCreateKey({ engine: ctx.engine, keyring: ctx.keyring, vault: ctx.passphrases }, req.caller, name, req.body.passphrase));
}

async function importKey(req: ApiRequest, ctx: DaemonContext) {
  const name = req.body.name;
  await ctx.keyring.checkNewName(name);
  const what = `import key ${JSON.stringify(name)}`;
  const passphrase = checkPassphrase(req.body.passphrase, what);
  const armored = stringField(req, 'armored', what, false);
  const home = stringField(req, 'gnupg-home', what, false);
  if (home !== undefined && !isAbsolute(home)) {
    throw new ApiError('bad-request', `cannot ${what}: "gnupg-home" must be an absolute path, not ${JSON.stringify(home)}`);
  }
  if (home !== undefined) {
    // gpg reads much from its home; a home a caller names is the caller's to control.
    requireRoot(req.caller, `${what} from gnupg home ${home}`, `run it as root (sudo coreforge import-key ... --gnupg-home DIR), or export the key yourself (gpg --homedir DIR --export-secret-keys --armor NAME > key.asc) and import it with --file`);
  }
  if ((armored === undefined) === (home === undefined)) {
    throw new ApiError('bad-request', `cannot ${what}: give exactly one source, "armored" (key text) or "gnupg-home" (a gnupg home directory)`);
  }
  const entry =
    armored !== undefined
      ? await ctx.keyring.importArmored(name as string, armored, passphrase)
      : await ctx.keyring.importGnupg(name as string, home!, stringField(req, 'gnupg-name', what, false) ?? (name as string), passphrase);
  ctx.logger.info('key imported', { name: entry.name, 'sha3-384': entry.id, from: armored !== undefined ? 'armored' : 'gnupg' });
  return syncResponse(toInfo(entry), 201);
}

export const keyRoutes: Route[] = [
  {
    path: '/v1/keys',
    GET: async (req, ctx) => {
      // registered: the caller's logged-in account's account-key for this key is in the assertion database
      const who = await ctx.storeFor(req.caller.uid).loggedIn();
      const out: KeyInfo[] = [];
      for (const e of await ctx.keyring.list()) {
        const ak = who ? await ctx.assertions.findAccountKey(e.id) : undefined;
        out.push({ ...toInfo(e), registered: ak !== undefined && ak.headers['account-id'] === who?.accountId });
      }
      return syncResponse(out);
    },
    POST: async (req, ctx) => {
      const action = req.body.action;
      if (action === 'create') return createKey(req, ctx);
      if (action === 'import') return importKey(req, ctx);
      throw new ApiError('bad-request', `cannot act on keys: action ${JSON.stringify(action ?? null)} is not supported; use "create" or "import"`);
    },
  },
  {
    path: '/v1/keys/:name',
    GET: async (req, ctx) => {
      const name = req.params.name!;
      const format = req.query.format ?? 'public-key';
      if (format === 'public-key') {
        const { entry, publicKey } = await ctx.keyring.exportPublicKey(name);
        return syncResponse<KeyExport>({ ...toInfo(entry), format, text: publicKey });
      }
      if (format === 'account-key-request') {
        const entry = await ctx.keyring.get(name, 'export');
        const request = await ctx.keyring.accountKeyRequest(name, req.query['account-id'], req.body.passphrase as string);
        return syncResponse<KeyExport>({ ...toInfo(entry), format, text: encodeAssertion(request) });
      }
      throw new ApiError('bad-request', `cannot export key named ${JSON.stringify(name)}: format=${JSON.stringify(format)} is not one of public-key, account-key-request`);
    },
    DELETE: async (req, ctx) => {
      const entry = await ctx.keyring.delete(req.params.name!, req.body.passphrase as string);
      ctx.logger.info('key deleted', { name: entry.name, 'sha3-384': entry.id });
      return syncResponse(toInfo(entry));
    },
  },
];
