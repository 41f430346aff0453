/**
 * Repeated measurements: median and spread of several runs, and the machine's load around a benchmark (a busy
 * machine is reported, never hidden). Every figure the report prints goes through here, so a table cell is
 * always "median (min–max of n runs)" of this run's numbers.
 */
import { cpus, loadavg } from "node:os";

/** Median and spread of a series of runs. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Number of runs. */
  readonly n: number;
  /** Every run, in order. */
  readonly runs: readonly number[];
}

/** Median and min–max of `values` (all zeros for an empty list). */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: 0, min: 0, max: 0, n: 0, runs: [] };
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length, runs: [...values] };
}

/** `median (min–max)` with `digits` decimals and a unit, e.g. `1.23 s (1.10–1.40)`. */
export function fmtSpread(s: Spread, unit = "", digits = 2): string {
  const f = (v: number) => v.toFixed(digits);
  const u = unit ? ` ${unit}` : "";
  return s.n > 1 ? `${f(s.median)}${u} (${f(s.min)}–${f(s.max)})` : `${f(s.median)}${u}`;
}

/** The machine's load at one moment. */
export interface LoadSample {
  /** 1, 5 and 15 minute load averages. */
  readonly load: readonly [number, number, number];
  readonly cores: number;
  /** True when the 1-minute load exceeds the number of cores: the figures were taken on a busy machine. */
  readonly busy: boolean;
}

/** Samples the load average now. */
export function sampleLoad(): LoadSample {
  const [a = 0, b = 0, c = 0] = loadavg();
  const cores = cpus().length;
  return { load: [a, b, c], cores, busy: a > cores };
}

/** The load before and after one benchmark. */
export interface LoadWindow {
  readonly before: LoadSample;
  readonly after: LoadSample;
}

/** Runs `fn`, sampling the load before and after. */
export async function withLoad<T>(fn: () => Promise<T>): Promise<{ result: T; load: LoadWindow }> {
  const before = sampleLoad();
  const result = await fn();
  return { result, load: { before, after: sampleLoad() } };
}

/** One line of Markdown: the load before and after, with a visible warning when the machine was busy. */
export function loadLine(w: LoadWindow): string {
  const f = (s: LoadSample) => s.load.map((l) => l.toFixed(1)).join(" / ");
  const busy = w.before.busy || w.after.busy;
  return `Load average (1 / 5 / 15 min) before ${f(w.before)}, after ${f(w.after)}, ${w.before.cores} cores.${
    busy
      ? ` ⚠️ **Busy machine: the 1-minute load exceeded the ${w.before.cores} cores; wall times and ratios are inflated by other work.**`
      : ""
  }`;
}

/** ✅ or ❌. */
export const mark = (ok: boolean): string => (ok ? "✅" : "❌");

/** `met` or `missed` with its mark, for a target. */
export const verdict = (ok: boolean): string => (ok ? "✅ met" : "❌ missed");

/** Rounds to `digits` decimals. */
export function rnd(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
