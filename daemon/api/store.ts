// The store endpoints: login/logout/account, key registration, the embedded
// local store (/v1/store/...), and store downloads as changes.
import { encodeAssertion } from '../asserts/index.js';
import { checkPassphrase } from '../keys/index.js';
import { hashPassword } from '../store/local/secrets.js';
import type { StoreRevision } from '../store/local/store.js';
import type { StoreAccountInfo as ClientAccount } from '../store/client/client.js';
import { startStoreDownload } from '../store/download-task.js';
import type { DaemonContext } from './context.js';
import { ApiError } from './errors.js';
import { openInput } from '../caller/files.js';
import { asyncResponse, syncResponse } from './response.js';
import type { ApiRequest, Route } from './routes.js';
import type {
  RegisterKeyResult,
  StoreAccountInfo,
  StoreAccountResult,
  StoreAddResult,
  StoreReleaseResult,
  StoreRevisionInfo,
  StoreSnapInfo,
} from './types.js';

function str(req: ApiRequest, field: string, what: string, required = true): string | undefined {
  const v = req.body[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || (required && v === '')) throw new ApiError('bad-request', `cannot ${what}: "${field}" must be a ${required ? 'non-empty ' : ''}string`);
  return v;
}

const toAccountResult = (a: ClientAccount): StoreAccountResult => ({
  email: a.email,
  username: a.username,
  'account-id': a.accountId,
  'account-keys': a.accountKeys,
});

const toRevisionInfo = (r: StoreRevision): StoreRevisionInfo => ({
  name: r.name,
  'snap-id': r.snapId,
  revision: r.revision,
  'sha3-384': r.sha3_384,
  size: r.size,
  version: r.version,
  type: r.type,
  architectures: r.architectures,
  created: r.created,
});

async function registerKey(req: ApiRequest, ctx: DaemonContext) {
  const name = req.params.name!;
  const entry = await ctx.keyring.get(name);
  const store = ctx.storeFor(req.caller.uid);
  const who = await store.loggedIn();
  if (!who) throw new ApiError('login-required', `cannot register key ${JSON.stringify(name)}: not logged in to the store; run \`coreforge login EMAIL\` first`, 401);
  const passphrase = checkPassphrase(req.body.passphrase, `register key ${JSON.stringify(name)}`);
  const request = await ctx.keyring.accountKeyRequest(name, who.accountId, passphrase);
  const key = await store.registerKey(encodeAssertion(request));
  const prereqs = await store.prerequisites(key, (type, k) => type === 'account-key' && ctx.assertions.trustedRoots().accountKeys.some((r) => r.headers['public-key-sha3-384'] === k));
  await ctx.assertions.add([...prereqs, key].map(encodeAssertion).join('\n'));
  ctx.logger.info('key registered', { name, 'sha3-384': entry.id, account: who.accountId });
  return syncResponse<RegisterKeyResult>({ name, 'sha3-384': entry.id, 'account-id': who.accountId, 'account-key': encodeAssertion(key) });
}

export const storeRoutes: Route[] = [
  {
    path: '/v1/login',
    POST: async (req, ctx) => {
      const email = str(req, 'email', 'log in')!;
      const password = str(req, 'password', `log in as ${JSON.stringify(email)}`)!;
      const otp = str(req, 'otp', `log in as ${JSON.stringify(email)}`, false);
      const account = await ctx.storeFor(req.caller.uid).login(email, password, otp || undefined);
      ctx.logger.info('logged in to the store', { email, account: account.accountId });
      return syncResponse(toAccountResult(account));
    },
  },
  {
    path: '/v1/logout',
    POST: async (req, ctx) => syncResponse({ 'logged-out': await ctx.storeFor(req.caller.uid).logout() }),
  },
  {
    path: '/v1/account',
    GET: async (req, ctx) => syncResponse(toAccountResult(await ctx.storeFor(req.caller.uid).account())),
  },
  { path: '/v1/keys/:name/register', POST: registerKey },
  {
    path: '/v1/store/snaps',
    rootOnly: { methods: ['POST'], what: 'add a snap to the local store', fix: 'publishing to the local store is store administration: run it as root (sudo coreforge store add ...)' },
    GET: async (_req, ctx) =>
      syncResponse<StoreSnapInfo[]>(
        (await ctx.localStore.list()).map((s) => ({ name: s.name, 'snap-id': s.snapId, revisions: s.revisions.map(toRevisionInfo), channels: s.channels })),
      ),
    POST: async (req, ctx) => {
      const path = str(req, 'path', 'add a snap to the local store')!;
      const channel = str(req, 'channel', `add ${path} to the local store`, false);
      // opened as the caller: a regular file it may read (never a FIFO or a device that blocks the daemon)
      const file = openInput(req.caller, path, 'snap file');
      let r;
      try {
        r = await ctx.localStore.add(file.path, channel, path);
      } finally {
        file.close();
      }
      ctx.logger.info('snap added to the local store', { name: r.name, revision: r.revision, added: r.added });
      return syncResponse<StoreAddResult>({ ...toRevisionInfo(r), added: r.added, channels: r.channels }, r.added ? 201 : 200);
    },
  },
  {
    path: '/v1/store/snaps/:name/release',
    rootOnly: { methods: ['POST'], what: 'release a snap in the local store', fix: 'releases are store administration: run it as root (sudo coreforge store release ...)' },
    POST: async (req, ctx) => {
      const name = req.params.name!;
      const revision = req.body.revision;
      if (typeof revision !== 'number' || !Number.isInteger(revision) || revision < 1) {
        throw new ApiError('bad-request', `cannot release snap ${JSON.stringify(name)}: "revision" must be a positive integer`);
      }
      const channel = str(req, 'channel', `release snap ${JSON.stringify(name)}`)!;
      const full = await ctx.localStore.release(name, revision, channel);
      return syncResponse<StoreReleaseResult>({ name, revision, channel: full });
    },
  },
  {
    path: '/v1/store/accounts',
    rootOnly: { methods: ['GET', 'POST'], what: 'administer the local store\'s accounts', fix: 'accounts are store administration: run it as root (sudo coreforge store account ...)' },
    GET: async (_req, ctx) =>
      syncResponse<StoreAccountInfo[]>(
        (await ctx.localStore.listAccounts()).map((a) => ({
          'account-id': a.accountId,
          email: a.email,
          username: a.username,
          'ssh-keys': a.sshKeys,
          'has-password': a.hasPassword,
          'has-otp': a.hasOtp,
          created: a.created,
        })),
      ),
    POST: async (req, ctx) => {
      const email = str(req, 'email', 'add a store account')!;
      const what = `add account ${JSON.stringify(email)}`;
      const username = str(req, 'username', what)!;
      const keys = req.body['ssh-keys'] ?? [];
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new ApiError('bad-request', `cannot ${what}: "ssh-keys" must be a list of strings`);
      const password = str(req, 'password', what, false);
      const otp = str(req, 'otp-secret', what, false);
      const a = await ctx.localStore.addAccount(email, username, keys as string[], password ? hashPassword(password) : undefined, otp || undefined);
      return syncResponse<StoreAccountInfo>(
        { 'account-id': a.accountId, email: a.email, username: a.username, 'ssh-keys': a.sshKeys, 'has-password': a.hasPassword, 'has-otp': a.hasOtp, created: a.created },
        201,
      );
    },
  },
  {
    path: '/v1/store/downloads',
    POST: async (req, ctx) => {
      const name = str(req, 'name', 'download a snap')!;
      const channel = str(req, 'channel', `download snap ${JSON.stringify(name)}`, false) ?? 'stable';
      const architecture = str(req, 'architecture', `download snap ${JSON.stringify(name)}`, false) ?? 'amd64';
      return asyncResponse(await startStoreDownload(ctx.engine, req.caller, { name, channel, architecture }));
    },
  },
];
