import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BmcProfileName } from "../../simulator/contracts";
import { REPO_ROOT } from "../capabilities";

/** The install methods DpuHost offers (`image.method`), in the order the matrix shows them. */
export const METHODS = ["virtualMedia", "uefiHttp", "simpleUpdate"] as const;
/** An install method. */
export type Method = (typeof METHODS)[number];

/** The operations of the conformance matrix, in column order, with their column titles. */
export const COLUMNS = {
  inspect: "inspect",
  virtualMedia: "create: virtualMedia",
  uefiHttp: "create: uefiHttp",
  simpleUpdate: "create: simpleUpdate",
  noSsh: "create without ready.ssh",
  read: "read",
  drift: "drift (power off behind Pulumi)",
  reimage: "re-image",
  repair: "up repairs drift",
  delete: "delete",
  kill: "kill -9 mid-create, re-run",
} as const;
/** One operation (column) of the matrix. */
export type Column = keyof typeof COLUMNS;
/** The columns in order. */
export const COLUMN_ORDER = Object.keys(COLUMNS) as Column[];

/** Success. */
export const OK = "✅";

/** The short names of the refusals DpuHost states (cells show these). */
export const REFUSED = {
  ssh: "needs ready.ssh",
  systemId: "needs bmc.systemId",
  noBoot: "no Boot object",
  noVm: "no virtual media",
  noCd: "no CD slot",
  noUefiTarget: "no UefiHttp target",
  noHttpBootUri: "no HttpBootUri",
  noSimpleUpdate: "no SimpleUpdate",
  noOsItem: "no OS inventory item",
  scpOnly: "SCP only",
} as const;

/**
 * The refusals DpuHost names, by short name: what its error (or check failure) says. The first whose pattern
 * matches the reason wins; a method-specific error is matched on its reason (after "cannot be used:") only, not on
 * the list of usable methods that follows.
 */
const REFUSALS: readonly (readonly [string, RegExp])[] = [
  [REFUSED.ssh, /declare ready\.ssh/],
  [REFUSED.systemId, /set bmc\.systemId/i],
  [REFUSED.noBoot, /has no Boot object/],
  [REFUSED.noVm, /no virtual media slots/],
  [REFUSED.noCd, /no CD\/DVD slot/],
  [REFUSED.noUefiTarget, /boot target UefiHttp not allowed/],
  [REFUSED.noHttpBootUri, /no Boot\.HttpBootUri/],
  [REFUSED.noSimpleUpdate, /no UpdateService\.SimpleUpdate action/],
  [REFUSED.noOsItem, /no FirmwareInventory item names the DPU OS/],
  [REFUSED.scpOnly, /TransferProtocol SCP only/],
];

/** A refusal when no method fits at all (each method's reason follows in the message). */
export const NO_METHOD = "no install method";

/**
 * The short name of the refusal `message` states, or undefined when it is not a named refusal (a failure).
 * "no install method fits" is its own name: every method was refused.
 */
export function refusalName(message: string): string | undefined {
  if (/no install method fits/.test(message)) return NO_METHOD;
  const cut = message.indexOf("cannot be used:");
  const reason = cut >= 0 ? message.slice(cut).replace(/; usable here:.*$/s, "") : message;
  return REFUSALS.find(([, re]) => re.test(reason))?.[0];
}

/** What one cell shows: ✅, a refusal's short name, or `❌ <what went wrong>` for a failure. */
export function cellOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return refusalName(message) ?? `❌ ${message.replace(/\s+/g, " ").slice(0, 300)}`;
}

/** A matrix row: one cell per column. */
export type Row = Readonly<Record<Column, string>>;

/** The markdown table of the matrix: profile rows × operation columns, plus each profile's note. */
export function renderTable(
  rows: readonly { readonly profile: BmcProfileName; readonly row: Row; readonly note: string }[],
): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const head = ["profile", ...COLUMN_ORDER.map((c) => COLUMNS[c]), "reproduces"];
  const lines = [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map(
      (r) => `| \`${r.profile}\` | ${COLUMN_ORDER.map((c) => esc(r.row[c])).join(" | ")} | ${esc(r.note)} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

const README = join(REPO_ROOT, "README.md");
const BEGIN = "<!-- conformance:begin -->";
const END = "<!-- conformance:end -->";

/** The table README.md keeps between its conformance markers (undefined when the markers are missing). */
export function readmeTable(): string | undefined {
  const text = readFileSync(README, "utf8");
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return undefined;
  return text.slice(a + BEGIN.length, b).replace(/^\n/, "");
}

/** Rewrites the table between README.md's conformance markers (the markers must exist). */
export function writeReadmeTable(table: string): void {
  const text = readFileSync(README, "utf8");
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} … ${END} markers`);
  writeFileSync(README, `${text.slice(0, a + BEGIN.length)}\n${table}${text.slice(b)}`);
}
