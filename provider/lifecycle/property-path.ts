/**
 * Formats a path the way Pulumi prints property paths: `interfaces[0].vlans[1].id`.
 * An empty path (a rule about the whole object) formats as the empty string.
 */
export function formatPropertyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}
