/**
 * A software WebAuthn authenticator for tests: what a browser + platform authenticator would
 * hand `@simplewebauthn/browser`'s startRegistration/startAuthentication back, built by hand
 * (ES256 key pair from WebCrypto, "none" attestation), so the server's real verification runs.
 */
import { type CBORType, encodeCBOR } from "@levischuck/tiny-cbor";

type CreationOptions = { challenge: string; rp: { id?: string }; user: { id: string } };
type RequestOptions = { challenge: string; rpId?: string };

export interface RegistrationJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  clientExtensionResults: Record<string, unknown>;
  authenticatorAttachment: "platform";
}

export interface AssertionJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string;
  };
  clientExtensionResults: Record<string, unknown>;
  authenticatorAttachment: "platform";
}

/** What a test may change in the data the authenticator signs, to forge a bad response. */
export interface Overrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  /** The signature counter to report (default: one more than last time). */
  counter?: number;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

export const b64url = (bytes: Uint8Array | ArrayBuffer) =>
  Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString("base64url");

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function uint32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** WebCrypto's ECDSA signature is r‖s; WebAuthn wants ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`. */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v: Uint8Array = bytes.slice(i);
    if (v[0]! & 0x80) v = concat(new Uint8Array([0]), v);
    return concat(new Uint8Array([0x02, v.length]), v);
  };
  const body = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

export class SoftAuthenticator {
  readonly credentialId = crypto.getRandomValues(new Uint8Array(32));
  counter = 0;
  userHandle: string | null = null;

  private constructor(
    private keys: CryptoKeyPair,
    /** A synced passkey: backup eligible and backed up. */
    public synced: boolean,
  ) {}

  static async create(options: { synced?: boolean } = {}): Promise<SoftAuthenticator> {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    return new SoftAuthenticator(keys, options.synced ?? false);
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private flags(extra: number): number {
    return FLAG_UP | FLAG_UV | (this.synced ? FLAG_BE | FLAG_BS : 0) | extra;
  }

  private clientData(type: string, challenge: string, origin: string): Uint8Array {
    return new TextEncoder().encode(
      JSON.stringify({ type, challenge, origin, crossOrigin: false }),
    );
  }

  /** The COSE_Key (EC2, ES256, P-256) of the public key. */
  private async coseKey(): Promise<Uint8Array> {
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", this.keys.publicKey));
    return encodeCBOR(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, raw.slice(1, 33)],
        [-3, raw.slice(33, 65)],
      ]),
    );
  }

  /** navigator.credentials.create() for the server's creation options, as RegistrationResponseJSON. */
  async register(
    options: CreationOptions,
    origin: string,
    o: Overrides = {},
  ): Promise<RegistrationJSON> {
    this.userHandle = options.user.id;
    const rpId = o.rpId ?? options.rp.id ?? new URL(origin).hostname;
    const clientDataJSON = this.clientData(
      o.type ?? "webauthn.create",
      o.challenge ?? options.challenge,
      o.origin ?? origin,
    );
    const attested = concat(
      new Uint8Array(16), // AAGUID: zeros, as "none" attestation may report
      new Uint8Array([0, this.credentialId.length]),
      this.credentialId,
      await this.coseKey(),
    );
    const authData = concat(
      await sha256(new TextEncoder().encode(rpId)),
      new Uint8Array([this.flags(FLAG_AT)]),
      uint32(o.counter ?? this.counter),
      attested,
    );
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ["fmt", "none"],
        ["attStmt", new Map<string, CBORType>()],
        ["authData", authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ["internal", "hybrid"],
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get() for the server's request options, as AuthenticationResponseJSON. */
  async authenticate(
    options: RequestOptions,
    origin: string,
    o: Overrides = {},
  ): Promise<AssertionJSON> {
    const rpId = o.rpId ?? options.rpId ?? new URL(origin).hostname;
    this.counter = o.counter ?? this.counter + 1;
    const clientDataJSON = this.clientData(
      o.type ?? "webauthn.get",
      o.challenge ?? options.challenge,
      o.origin ?? origin,
    );
    const authData = concat(
      await sha256(new TextEncoder().encode(rpId)),
      new Uint8Array([this.flags(0)]),
      uint32(this.counter),
    );
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        this.keys.privateKey,
        new Uint8Array(signed),
      ),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(derSignature(raw)),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}
