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
