/** How a fleet rolls out. */
export interface RolloutPolicy {
  /** Nodes in the first wave, alone, before anything else (default 1; 0 for no canary wave). */
  readonly canary?: number;
  /** Nodes per later wave (default 5). */
  readonly batchSize?: number;
  /**
   * Failed nodes tolerated, over all earlier waves, before later waves are held back (default 0: any failure
   * stops the rollout). Failures can only be counted when the engine keeps going after one, i.e. with
   * `pulumi up --continue-on-error`; without it the engine stops at the first failure anyway.
   */
  readonly failureBudget?: number;
}

/** {@link RolloutPolicy} with defaults applied. */
export interface ResolvedRollout {
  /** Nodes in the first wave, alone, before anything else (0: no canary wave); default 1. */
  readonly canary: number;
  /** Nodes per later wave (at least 1); default 5. */
  readonly batchSize: number;
  /**
   * Failed nodes tolerated over all earlier waves before later waves are held back; default 0 (any failure
   * stops the rollout; counted only with `pulumi up --continue-on-error`).
   */
  readonly failureBudget: number;
}

function count(v: number | undefined, dflt: number, what: string, min: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min)
    throw new Error(`rollout.${what} must be an integer ≥ ${min} (got ${v})`);
  return n;
}

/** Applies defaults and validates. @throws Error naming the bad field. */
export function resolveRollout(p: RolloutPolicy = {}): ResolvedRollout {
  return {
    canary: count(p.canary, 1, "canary", 0),
    batchSize: count(p.batchSize, 5, "batchSize", 1),
    failureBudget: count(p.failureBudget, 0, "failureBudget", 0),
  };
}

/**
 * Splits `n` nodes (by index, inventory order) into waves: the canary wave, then batches.
 * `planWaves(7, {canary: 1, batchSize: 3})` → `[[0], [1, 2, 3], [4, 5, 6]]`.
 */
export function planWaves(n: number, p: RolloutPolicy = {}): number[][] {
  const r = resolveRollout(p);
  const waves: number[][] = [];
  let i = 0;
  const canary = Math.min(r.canary, n);
  if (canary > 0) {
    waves.push(Array.from({ length: canary }, (_, k) => k));
    i = canary;
  }
  while (i < n) {
    const size = Math.min(r.batchSize, n - i);
    waves.push(Array.from({ length: size }, (_, k) => i + k));
    i += size;
  }
  return waves;
}

/**
 * Decides whether the wave after `failedSoFar` failures may start.
 * @returns `undefined` when it may, else the reason it may not.
 */
export function budgetVerdict(failedSoFar: readonly string[], failureBudget: number): string | undefined {
  if (failedSoFar.length <= failureBudget) return undefined;
  return `${failedSoFar.length} node(s) failed (${failedSoFar.join(", ")}), over the failure budget of ${failureBudget}`;
}
