import * as openpgp from 'openpgp';
import { v1FixedTimestamp } from '../asserts/index.js';

/** Makes a new private key for a key name; injected so tests can use smaller or fixed keys. */
export type KeyGenerator = (name: string) => Promise<openpgp.PrivateKey>;

/**
 * snapd's create-key parameters (asserts/gpgkeypairmgr.go): RSA 4096, user id
 * the key name, creation time 2016-01-01 so the OpenPGP key id matches the
 * one snapd derives, no subkey. openpgp.js generates RSA with node's native
 * generateKeyPair, off the event loop.
 */
export function rsaKeyGenerator(bits = 4096): KeyGenerator {
  return async (name) => {
    const { privateKey } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: bits,
      date: v1FixedTimestamp,
      userIDs: [{ name }],
      subkeys: [],
      format: 'object',
    });
    return privateKey;
  };
}
