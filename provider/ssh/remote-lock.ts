import { hostname } from "node:os";
import { localProcessAlive } from "../lifecycle/local-process";
import { readShellAsset } from "./shell-asset";

/**
 * The one lock implementation of the DPU side, shared by DpuUnderlay and DpuWorkload: shell functions
 * (`assets/remote-lock.sh`) included in their scripts, and the provider-side proof that a holder is gone.
 *
 * On the DPU a lock is a directory `$RL` (mkdir is atomic) holding `holder`: `token=`, `expires=` (DPU clock,
 * renewed by the holder), `since=` and `who=`. `rl_take TOKEN LEASE WHO STALE_TOKEN` takes it, or takes over a
 * lock whose lease expired, that has had no valid lease for 30 s, or whose token the provider proved stale (one
 * taker at a time, `$RL.steal`); `rl_renew`, `rl_holds` and `rl_release` act only for the holder's token.
 */
export const REMOTE_LOCK_SH = readShellAsset(__dirname, "remote-lock.sh");

/** Includes {@link REMOTE_LOCK_SH} where a shell asset says `# @include remote-lock.sh`. */
export const REMOTE_LOCK_INCLUDE = { "remote-lock.sh": REMOTE_LOCK_SH } as const;

/**
 * Tokens of the locks this process holds now, per kind of lock: a lock of this process with another token was
 * left behind (its release was lost with the connection).
 */
export class HeldTokens {
  private readonly tokens = new Set<string>();
  add(token: string): void {
    this.tokens.add(token);
  }
  delete(token: string): void {
    this.tokens.delete(token);
  }
  /**
   * True when the lock `token` held by process `pid` of machine `host` can no longer be in use: a process of this
   * machine that no longer exists (a provider that was killed), or this very process when it no longer holds
   * that token.
   */
  holderGone(host: string | undefined, pid: number, token: string): boolean {
    if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
    if (pid === process.pid) return !this.tokens.has(token);
    return !localProcessAlive(pid);
  }
}

/** The holder a busy answer names, as the provider parsed it. */
export interface BusyHolder {
  /** The holder's token in its provider's {@link HeldTokens}. */
  readonly token: string;
  /** What to pass as `rl_take`'s STALE_TOKEN to take this holder's lock over. */
  readonly staleToken: string;
  /** The holder's machine and process. */
  readonly host: string | undefined;
  readonly pid: number;
  /** The holder as its lock describes it (`who=`), for messages. */
  readonly who: string;
}

/**
 * Asks for a DPU lock in one round trip (`attempt("")`); when the answer is busy and its holder is proven gone
 * ({@link HeldTokens.holderGone}: a killed provider of this machine, or this process's own leftover), asks once
 * more naming that holder, which the script then takes over. Returns the last answer; the caller reads it (held,
 * busy, or failed). A lock held elsewhere is taken over by the script itself once its lease expired.
 */
export async function takeRemoteLock<R>(o: {
  readonly tokens: HeldTokens;
  /** One round trip asking for the lock; `staleToken`: a holder proven gone, "" for none. */
  attempt(staleToken: string): Promise<R>;
  /** The holder named by a busy answer; undefined when `r` is not busy or names no holder. */
  busy(r: R): BusyHolder | undefined;
  /** Called before the second attempt. */
  onStale?(h: BusyHolder): void;
}): Promise<R> {
  const first = await o.attempt("");
  const h = o.busy(first);
  if (!h || !o.tokens.holderGone(h.host, h.pid, h.token)) return first;
  o.onStale?.(h);
  return o.attempt(h.staleToken);
}
