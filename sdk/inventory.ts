import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** A value in an inventory entry (YAML/JSON give typed values, CSV gives strings). */
export type InventoryValue =
  | string
  | number
  | boolean
  | null
  | InventoryValue[]
  | { [key: string]: InventoryValue };

/** One DPU of a fleet inventory: a unique `name` plus whatever fields the fleet's node template reads. */
export interface DpuInventoryEntry {
  /** Unique node name; it prefixes the logical names of the node's resources. */
  readonly name: string;
  readonly [field: string]: InventoryValue;
}

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/**
 * Parses CSV text (RFC 4180: a header row, `,` separators, `"` quoting with `""` escapes, CRLF or LF).
 * Every value is a trimmed string; empty cells are left out of the entry.
 *
 * @throws Error naming the line of a malformed row.
 */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  const lines: number[] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endField = () => {
    row.push(field);
    field = "";
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0]?.trim() === "")) {
      rows.push(row);
      lines.push(rowLine);
    }
    row = [];
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field.trim() === "") {
      quoted = true;
      field = "";
    } else if (c === ",") endField();
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else field += c;
    i++;
  }
  if (quoted) throw new Error(`inventory CSV: unterminated quoted field starting on line ${rowLine}`);
  if (field !== "" || row.length > 0) endRow();
  const [header, ...body] = rows;
  if (!header) return [];
  const keys = header.map((h) => h.trim());
  if (keys.some((k) => k === "")) throw new Error("inventory CSV: the header row has an empty column name");
  return body.map((cells, r) => {
    if (cells.length > keys.length) {
      throw new Error(`inventory CSV line ${lines[r + 1]}: ${cells.length} cells but ${keys.length} columns`);
    }
    const entry: Record<string, string> = {};
    cells.forEach((v, c) => {
      const t = v.trim();
      if (t !== "") entry[keys[c] as string] = t;
    });
    return entry;
  });
}

/** Parses YAML (1.2, with the `yaml` package, a dependency of pulumi-dpu). */
export function parseYaml(text: string): unknown {
  return parse(text);
}

/**
 * Validates a parsed inventory: an array of objects (or `{ dpus: [...] }`), each with a unique `name`.
 *
 * @throws Error naming the entry at fault.
 */
export function validateInventory(data: unknown, source = "inventory"): DpuInventoryEntry[] {
  const list =
    data !== null && typeof data === "object" && !Array.isArray(data) && "dpus" in data
      ? (data as { dpus: unknown }).dpus
      : data;
  if (!Array.isArray(list)) throw new Error(`${source}: expected a list of DPUs (or { dpus: [...] })`);
  const seen = new Set<string>();
  return list.map((e, i) => {
    if (e === null || typeof e !== "object" || Array.isArray(e)) {
      throw new Error(`${source}[${i}]: each DPU must be an object`);
    }
    const name = (e as { name?: unknown }).name;
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new Error(
        `${source}[${i}]: name must be 1-63 letters, digits, '.', '_' or '-' (got ${JSON.stringify(name)})`,
      );
    }
    if (seen.has(name)) throw new Error(`${source}[${i}]: duplicate name ${JSON.stringify(name)}`);
    seen.add(name);
    return e as DpuInventoryEntry;
  });
}

/**
 * Loads an inventory file: `.csv`, `.yaml`/`.yml` or `.json`, relative paths from the program's cwd.
 *
 * @throws Error for an unknown extension, an unreadable file or invalid content.
 */
export function loadInventoryFile(file: string): DpuInventoryEntry[] {
  const text = fs.readFileSync(file, "utf8");
  const ext = path.extname(file).toLowerCase();
  const source = path.basename(file);
  if (ext === ".csv") return validateInventory(parseCsv(text), source);
  if (ext === ".yaml" || ext === ".yml") return validateInventory(parseYaml(text), source);
  if (ext === ".json") return validateInventory(JSON.parse(text), source);
  throw new Error(`${source}: inventory files must be .csv, .yaml, .yml or .json`);
}
