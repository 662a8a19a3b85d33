// daemon/asserts: the assertion codec, signing, verification, per-type rules
// and trust chains. Pure library: plain inputs, plain outputs.

export type { AssertsErrorKind, AssertsError } from './errors.js';
export type { Assertion, AssertionParts } from './assertion.js';
export { headerString } from './assertion.js';
export type { HeaderValue, HeaderList, HeaderMap, Headers } from './headers.js';
export { headerNamePattern } from './headers.js';
export { decodeAssertion, decodeStream, maxBodySize, maxHeadersSize, maxSignatureSize } from './decode.js';
export { buildContent, encodeAssertion, encodeStream, type UnsignedAssertion } from './encode.js';
export {
  assertsPublicKey,
  decodePublicKey,
  encodePublicKey,
  openpgpKeyId,
  publicKeyFromKeyObject,
  publicKeyFromOpenPGP,
  publicKeyId,
  publicKeyPacket,
  v1FixedTimestamp,
  type AssertsPublicKey,
  type RsaPublicKey,
} from './pubkey.js';
export { decodeSignature, type SignaturePacket } from './signature.js';
export {
  signContent,
  signerFromKeyObject,
  signerFromOpenPGP,
  rsaPrivateKeyObject,
  type SignatureFlavour,
  type Signer,
  type SignOptions,
} from './sign.js';
export { verifySignature } from './verify.js';
export { signAssertion } from './sign-assertion.js';
export { signStatement, signStatementText, type SignStatementOptions } from './statement.js';
export { formatRFC3339, parseRFC3339, type ParsedTime } from './rfc3339.js';
export {
  assertionTime,
  checkChain,
  createChainCache,
  verifyAssertionSignature,
  type ChainCache,
  type ChainContext,
  type ChainVerdict,
  type Lookup,
  type TrustedRoots,
} from './chain.js';
export {
  assertionType,
  assertionTypeNames,
  primaryKeyOf,
  type AssertionInfo,
  type AssertionType,
  type AssertionTypeName,
  type GenericInfo,
} from './registry.js';
export type { ModelInfo, ModelSnap, ModelGrade, StorageSafety, ModelValidationSet } from './types/model.js';
export type { AccountInfo } from './types/account.js';
export { validAccountKeyName, type AccountKeyInfo, type AccountKeyRequestInfo } from './types/account-key.js';
export type { SnapDeclarationInfo, SnapRevisionInfo } from './types/snap.js';
export type { SystemUserInfo } from './types/system-user.js';
export type { ValidationSetInfo, ValidationSetSnap } from './types/validation-set.js';
export type { StoreInfo } from './types/store.js';
export { parseChannelVerbatim, wellKnownSnapId } from './types/naming.js';
