/**
 * The `keys` of a state object that are set, and nothing else: outputs carry the inputs plus what was observed
 * (and `__provider`), and code that needs the declared inputs back must not carry the rest along.
 */
export function pickKeys(props: unknown, keys: readonly string[]): Record<string, unknown> {
  const src = (props ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k];
  return out;
}
