/**
 * "Did you mean" for unknown input keys: the valid name closest to what the user typed.
 *
 * A case-only difference (`hostkey` → `hostKey`) always matches; otherwise the edit distance must be small
 * relative to the word (at most a third of its length, and at most 3), so unrelated names suggest nothing.
 */
export function closestName(typed: string, valid: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  const caseOnly = valid.find((v) => v.toLowerCase() === lower);
  if (caseOnly !== undefined) return caseOnly;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const v of valid) {
    const d = editDistance(lower, v.toLowerCase());
    if (d < bestDistance) {
      best = v;
      bestDistance = d;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

/** Damerau-Levenshtein distance (optimal string alignment): a swap of two neighbours counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i < rows; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
    }
  }
  return (d[rows - 1] as number[])[cols - 1] as number;
}

/** The fields of the object one level up from an unknown key (`where`: its path, "" for the resource). */
export interface OuterFields {
  readonly where: string;
  readonly fields: readonly string[];
}

/**
 * The message for one unknown key: `unknown field "hostkey"; did you mean "hostKey"?`, or else, when the key is
 * close to a field one level up (`source: { sha265 }` next to the artifact's `sha256`), that field; else the
 * valid names.
 */
export function unknownKeyMessage(key: string, valid: readonly string[], outer?: OuterFields): string {
  const suggestion = closestName(key, valid);
  if (suggestion !== undefined) return `unknown field "${key}"; did you mean "${suggestion}"?`;
  const names = [...valid].sort();
  const shown = names.length > 12 ? `${names.slice(0, 12).join(", ")}, …` : names.join(", ");
  const up = outer && closestName(key, outer.fields);
  if (outer && up !== undefined) {
    const of = outer.where === "" ? "the resource" : outer.where;
    if (up === key)
      return `unknown field "${key}": it is a field of ${of}, one level up. Valid fields here: ${shown}`;
    return `unknown field "${key}"; did you mean "${up}" (a field of ${of}, one level up)? Valid fields here: ${shown}`;
  }
  return `unknown field "${key}"; valid fields here: ${shown}`;
}
