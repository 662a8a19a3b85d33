// daemon/keys: the keyring of signing keys (edge module: files, sqlite, gpg).

export type { KeysErrorKind } from './errors.js';
export { checkKeyName, defaultKeyName } from './names.js';
export { rsaKeyGenerator, type KeyGenerator } from './generate.js';
export { exportFromGnupg, runProgram, type GnupgExport, type RunOptions, type RunProgram } from './gnupg.js';
export { copyGnupgKeyring, gnupgHomeLimits } from './gnupg-home.js';
export { Keyring, checkPassphrase, type KeyEntry, type KeyringOptions, type KeyProgress } from './keyring.js';
export { PassphraseVault } from './passphrases.js';
export { createKeyTask, createKeyTaskKind, parseCreateKeyData, startCreateKey, type CreateKeyData } from './task.js';
