import type { AppContext } from "../context.ts";

const MINUTE = 60_000;
/** One source gets SIGILUM_RATE_LIMIT_AUTH failures on one account per this window. */
const PAIR_WINDOW_MS = 15 * MINUTE;
/** A source the account signed in from within this long is familiar. */
const FAMILIAR_FOR_MS = 30 * 86_400_000;
const MAX_FAMILIAR = 50_000;

// Every key is under `login:password:`: password failures are their own buckets, so a passkey
// sign-in (which gets buckets of its own) is never blocked by them (quality.md §4). The parts are
// JSON-encoded so no login text can spell another bucket's key.
const ipKey = (ip: string) => `login:password:ip:${JSON.stringify(ip)}`;
const pairKey = (account: string, ip: string) =>
  `login:password:pair:${JSON.stringify([account, ip])}`;
const accountKey = (account: string) => `login:password:account:${JSON.stringify(account)}`;

/**
 * The account a login names, for counting: the owner id when it exists (email and namespace share
 * one budget), else the normalised text, in a separate space so it can never be an owner's.
 */
export function accountOf(owner: { id: string } | null, login: string): string {
  return owner ? `owner:${owner.id}` : `unknown:${login.trim().toLowerCase()}`;
}

export interface FailureReservation {
  /** The password was right: the reserved failures did not happen. */
  succeeded(): void;
}

/**
 * Password sign-in throttling that never locks the real owner out (quality.md §4). Failures count
 * per account *and* source, so an attacker's failures from one address cannot stop the owner at
 * another:
 * - per IP, every attempt on any account: SIGILUM_RATE_LIMIT_AUTH a minute (spraying, Argon2 work);
 * - per (account, IP), failures: SIGILUM_RATE_LIMIT_AUTH per 15 minutes; a success clears them;
 * - per account, failures from all sources together: SIGILUM_RATE_LIMIT_AUTH_ACCOUNT a minute, a
 *   ceiling on distributed guessing that lasts at most the rest of the minute and never applies to
 *   a source the account signed in from in the last 30 days.
 */
export class PasswordThrottle {
  /** `account \n ip` → when the account last signed in from there; oldest first. */
  private familiar = new Map<string, number>();

  constructor(private ctx: Pick<AppContext, "limiter" | "clock" | "config">) {}

  /** Counts an attempt from `ip`, before any lookup or hashing; 429 when over the budget. */
  countAttempt(ip: string): void {
    this.ctx.limiter.hit(ipKey(ip), this.ctx.config.rateLimitAuth);
  }

  /**
   * Before the password is checked: 429 when a failure budget is used up, else one failure is
   * counted in advance (so concurrent guesses cannot overshoot) and taken back on success.
   */
  reserveFailure(account: string, ip: string): FailureReservation {
    const { limiter, config } = this.ctx;
    const familiar = this.isFamiliar(account, ip);
    limiter.check(pairKey(account, ip), config.rateLimitAuth);
    if (!familiar) limiter.check(accountKey(account), config.rateLimitAuthAccount);
    limiter.add(pairKey(account, ip), PAIR_WINDOW_MS);
    limiter.add(accountKey(account));
    return {
      succeeded: () => {
        limiter.reset(pairKey(account, ip));
        limiter.refund(accountKey(account));
        this.signedIn(account, ip);
      },
    };
  }

  /** Remembers `ip` as a familiar source of `account` (sign-up and every successful sign-in). */
  signedIn(account: string, ip: string): void {
    const key = `${account}\n${ip}`;
    this.familiar.delete(key);
    this.familiar.set(key, this.ctx.clock.now());
    if (this.familiar.size > MAX_FAMILIAR) {
      const oldest = this.familiar.keys().next().value;
      if (oldest !== undefined) this.familiar.delete(oldest);
    }
  }

  private isFamiliar(account: string, ip: string): boolean {
    const at = this.familiar.get(`${account}\n${ip}`);
    return at !== undefined && this.ctx.clock.now() - at < FAMILIAR_FOR_MS;
  }
}
