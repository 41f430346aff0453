import { createHash } from "node:crypto";

/**
 * Strong ETag (quoted) of a resource body, computed over its JSON without `@odata.etag`. `generation` counts
 * modifications by other (simulated) clients that the body does not show; 0 leaves the tag as it was.
 */
export function etagOf(body: Record<string, unknown>, generation = 0): string {
  const { "@odata.etag": _ignored, ...rest } = body;
  const h = createHash("sha256").update(JSON.stringify(rest));
  if (generation > 0) h.update(`\u0000generation ${generation}`);
  return `"${h.digest("hex").slice(0, 16)}"`;
}

function bare(tag: string): string {
  return tag
    .trim()
    .replace(/^W\//i, "")
    .replace(/^"(.*)"$/, "$1");
}

/**
 * True when an `If-Match` header value matches `current`: `*`, or any listed tag equal to the current one
 * in strong, weak (`W/"x"`) or unquoted form (clients such as sushy retry with altered forms).
 */
export function ifMatchSatisfied(header: string, current: string): boolean {
  const want = bare(current);
  return header
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
    .some((t) => t === "*" || bare(t) === want);
}
