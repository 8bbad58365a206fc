/** Bitcoin-alphabet base58 (the "z" multibase used by did:key). */
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

const DIGIT_OF: ReadonlyMap<string, number> = new Map(
  [...ALPHABET].map((char, index) => [char, index]),
);

/** Five base-58 digits per limb: a limb × 256 + carry stays an exact integer in a double. */
const LIMB = 58 ** 5;

/** One did:key per new agent in a claim's answer and event: limbs of five digits, 5× fewer steps. */
export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Little-endian base-58⁵ limbs of the big-endian number, grown as needed.
  const limbs: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    for (let j = 0; j < limbs.length; j++) {
      carry += limbs[j]! * 256;
      limbs[j] = carry % LIMB;
      carry = Math.floor(carry / LIMB);
    }
    while (carry > 0) {
      limbs.push(carry % LIMB);
      carry = Math.floor(carry / LIMB);
    }
  }
  const digits: string[] = [];
  for (const limb of limbs) {
    let rest = limb;
    for (let k = 0; k < 5; k++) {
      digits.push(ALPHABET[rest % 58]!);
      rest = Math.floor(rest / 58);
    }
  }
  // The top limb's unused digits are zeros ("1"); leading zero bytes are written as "1" each.
  while (digits.length > 0 && digits[digits.length - 1] === "1") digits.pop();
  return "1".repeat(zeros) + digits.reverse().join("");
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
