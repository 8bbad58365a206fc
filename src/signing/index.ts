/** Public API of the Sigilum RFC 9421 profile (`sigilum-rfc9421-v1`); see shared/spec/signing.md. */

export type { SignatureBaseInput } from "./base.ts";
export {
  buildSignatureBase,
  expectedComponents,
  isExpectedComponentList,
  SIGNATURE_HEADERS,
} from "./base.ts";
export { base58Decode, base58Encode } from "./base58.ts";
export type { AgentCertificate, CertificateCheck, UnsignedCertificate } from "./certificate.ts";
export {
  asCertificate,
  certificateProofPayload,
  createCertificate,
  decodeCertificate,
  encodeCertificate,
  signCertificate,
  verifyCertificate,
  verifyCertificateHeader,
} from "./certificate.ts";
export { contentDigest, parseContentDigest } from "./digest.ts";
export { publicKeyFromSeed, randomSeed, signEd25519, verifyEd25519 } from "./ed25519.ts";
export type { IdentityFile, IdentityFileOptions, LoadedIdentity } from "./identity.ts";
export { identityFilePath, loadIdentity, saveIdentity, sigilumHome } from "./identity.ts";
export {
  DID_PREFIX,
  didFor,
  ED25519_KEY_PREFIX,
  isValidNamespace,
  keyFingerprint,
  keyIdFor,
  normalizeAgentKey,
  parseAgentKey,
  parseCanonicalKey,
  parseMultibaseKey,
  toCanonicalKey,
  toDidKey,
  toMultibaseKey,
} from "./keys.ts";
export type { ParseResult, SignatureInput, SignatureParams } from "./parse.ts";
export {
  formatSignature,
  formatSignatureInput,
  formatSignatureParams,
  parseSignature,
  parseSignatureInput,
} from "./parse.ts";
export type { GeneratedIdentity, SigningIdentity, SignRequestOptions } from "./sign.ts";
export { generateIdentity, signRequest } from "./sign.ts";
export type { TargetUriSource } from "./targetUri.ts";
export { normalizeTargetUri, rebuildReceivedTargetUri, rebuildTargetUri } from "./targetUri.ts";
export type {
  SignatureErrorCode,
  SignatureFailure,
  VerifiedAgent,
  VerifyRequestInput,
  VerifyResult,
} from "./verify.ts";
export { verifySignedRequest } from "./verify.ts";
