/** Bitcoin-alphabet base58 (the "z" multibase used by did:key). */
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

const DIGIT_OF: ReadonlyMap<string, number> = new Map(
  [...ALPHABET].map((char, index) => [char, index]),
);

/** Three base-58 digits per limb: a limb × 256 + carry stays a small integer (int32 arithmetic). */
const LIMB = 58 ** 3;

/** The limb's three digits, or fewer for the most significant limb (no leading "1"s). */
function limbDigits(limb: number, top: boolean): string {
  const d0 = ALPHABET[limb % 58]!;
  const rest = (limb / 58) | 0;
  const d1 = ALPHABET[rest % 58]!;
  const d2 = (rest / 58) | 0;
  if (!top || d2 > 0) return ALPHABET[d2]! + d1 + d0;
  return rest > 0 ? d1 + d0 : d0;
}

/** One did:key per new agent in a claim's answer and event: int32 limbs, ~1 µs for a key. */
export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Little-endian base-58³ limbs of the big-endian number (each limb holds > 17 bits).
  const limbs = new Int32Array(Math.ceil(((bytes.length - zeros) * 8) / 17) + 1);
  let used = 0;
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    for (let j = 0; j < used; j++) {
      carry += limbs[j]! * 256;
      limbs[j] = carry % LIMB;
      carry = (carry / LIMB) | 0;
    }
    while (carry > 0) {
      limbs[used++] = carry % LIMB;
      carry = (carry / LIMB) | 0;
    }
  }
  // Leading zero bytes are written as "1" each.
  let out = "1".repeat(zeros);
  for (let j = used - 1; j >= 0; j--) out += limbDigits(limbs[j]!, j === used - 1);
  return out;
}

/** Decodes base58btc; `null` on any character outside the alphabet. */
export function base58Decode(text: string): Uint8Array | null {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  const bytes: number[] = [];
  for (let i = zeros; i < text.length; i++) {
    const digit = DIGIT_OF.get(text[i]!);
    if (digit === undefined) return null;
    let carry = digit;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j]! * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i]!;
  return out;
}
