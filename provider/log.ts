/**
 * The provider's one logger: progress lines for long waits, debug lines for transports, all redacted.
 *
 * Inside the Pulumi dynamic-provider host, `pulumi.log` is not wired to the engine, but the host forwards the
 * plugin's stdout to the user as info diagnostics. So progress goes to stdout, one line per event, prefixed with
 * the resource. Every line passes through {@link redact}: values registered with {@link registerSecret}
 * (passwords, private keys, secret env values) never reach a log, whatever code path built the message.
 *
 * `PULUMI_DPU_LOG=silent|info|debug` (default `info`) sets the level; tests can install a sink.
 */

import { SECRET_QUERY_KEY, urlHasCredentials } from "./url-credentials";

/** Log levels, least to most verbose. */
export type LogLevel = "silent" | "info" | "debug";

/** Where log lines go. */
export type LogSink = (level: Exclude<LogLevel, "silent">, line: string) => void;

const secrets = new Set<string>();
/** Secrets shorter than {@link MIN_SUBSTRING}: redacted only where they stand as a whole token. */
const shortSecrets = new Set<string>();
let shortPattern: RegExp | undefined;
const REDACTED = "[secret]";
/** Secrets at least this long are redacted wherever they occur, even inside a longer word. */
const MIN_SUBSTRING = 4;

const defaultSink: LogSink = (_level, line) => {
  process.stdout.write(`${line}\n`);
};
let sink: LogSink = defaultSink;

function currentLevel(): LogLevel {
  const v = process.env.PULUMI_DPU_LOG;
  return v === "silent" || v === "debug" ? v : "info";
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `\uXXXX` (lower-case hex) for each character `pick` matches: how other JSON encoders escape. */
function uEscape(json: string, pick: RegExp): string {
  return json.replace(pick, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The forms a secret takes when a message quotes it in JSON (as JavaScript writes it; with non-ASCII escaped,
 * as Python does; with `<`, `>`, `&` escaped, as Go does; or a JSON document inside a JSON string) or in a URL
 * (percent-encoded, or form-encoded with `+` for spaces): a secret holding a quote, a backslash, a newline, a
 * space or a non-ASCII letter appears escaped, not as it is.
 */
function encodedForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const jsonAscii = uEscape(json, /[\u0080-\uffff]/g);
  const jsonHtml = uEscape(json, /[<>&\u2028\u2029]/g);
  const jsonTwice = JSON.stringify(json).slice(1, -1);
  const url = encodeURIComponent(value);
  const form = new URLSearchParams([["", value]]).toString().slice(1);
  const lowerHex = url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
  return [...new Set([json, jsonAscii, jsonHtml, jsonTwice, url, form, lowerHex])].filter((f) => f !== value);
}

/**
 * Registers a secret value so that it is replaced by `[secret]` in every log line and error message that passes
 * through {@link redact}, as it is and in its JSON-escaped and URL-encoded forms. Values of 4 characters or more
 * are redacted wherever they occur. Shorter values (a user may not be able to change a short BMC password) are
 * redacted where they stand as a whole token, i.e. not next to a letter, digit or `_`, so `ab1` is hidden in
 * `password ab1 rejected` or `user:ab1@host` but `table1` stays readable.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length === 0) return;
  addSecret(value);
  for (const form of encodedForms(value)) addSecret(form);
}

function addSecret(value: string): void {
  if (value.length < MIN_SUBSTRING) {
    if (value.trim() === "" || shortSecrets.has(value)) return;
    shortSecrets.add(value);
    const alternatives = [...shortSecrets]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join("|");
    shortPattern = new RegExp(`(?<![A-Za-z0-9_])(?:${alternatives})(?![A-Za-z0-9_])`, "g");
    return;
  }
  secrets.add(value);
  // A PEM key is also redacted line by line, so a partial dump of it cannot leak either.
  for (const line of value.split(/\r?\n/)) {
    if (line.length >= 16 && !line.startsWith("-----")) secrets.add(line);
  }
  longestFirst = undefined;
}

/** The registered secrets, longest first (a secret inside another one's encoded form is replaced after it). */
let longestFirst: string[] | undefined;

/** `scheme://userinfo@`: the credentials part of a URL. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"<>]+@/gi;

/**
 * Replaces every registered secret in `text` by `[secret]`, and the userinfo of every URL in it
 * (`http://user:pass@host/` → `http://[secret]@host/`), registered or not.
 */
export function redact(text: string): string {
  let out = text;
  longestFirst ??= [...secrets].sort((a, b) => b.length - a.length);
  for (const s of longestFirst) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  if (shortPattern) out = out.replace(shortPattern, REDACTED);
  return out.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/**
 * Registers the credentials a URL carries (userinfo, and query parameters named like tokens or signatures)
 * as secrets, so they are redacted like passwords. Not a URL: nothing happens.
 */
export function registerUrlSecrets(url: string | undefined | null): void {
  if (typeof url !== "string") return;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return;
  }
  if (u.password) {
    registerSecret(u.password);
    registerSecret(decodeURIComponent(u.password));
  }
  if (u.username && u.password) registerSecret(`${u.username}:${u.password}`);
  for (const [k, v] of u.searchParams) {
    if (SECRET_QUERY_KEY.test(k) && v) {
      registerSecret(v);
      registerSecret(encodeURIComponent(v));
    }
  }
}

/**
 * The URL as it may appear in a log, an error or plain state: userinfo removed and credential-like query
 * values replaced by `[secret]`. Not a URL: returned redacted.
 */
export function publicUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redact(url);
  }
  if (!urlHasCredentials(u)) return url;
  u.username = "";
  u.password = "";
  for (const k of [...u.searchParams.keys()]) {
    if (SECRET_QUERY_KEY.test(k)) u.searchParams.set(k, REDACTED);
  }
  return u.href;
}

/** Replaces the sink (tests); returns a function restoring the previous one. */
export function setLogSink(next: LogSink): () => void {
  const previous = sink;
  sink = next;
  return () => {
    sink = previous;
  };
}

function emit(level: Exclude<LogLevel, "silent">, scope: string, message: string): void {
  const lvl = currentLevel();
  if (lvl === "silent" || (level === "debug" && lvl !== "debug")) return;
  sink(level, redact(`[dpu] ${scope}: ${message}`));
}

/** A logger bound to one scope, e.g. `DpuHost dpu-0` or `redfish https://127.0.0.1:4431`. */
export interface Logger {
  info(message: string): void;
  debug(message: string): void;
  /** A logger for a sub-scope (`<scope> <child>`). */
  child(scope: string): Logger;
}

/**
 * The log scope of one resource: its type and the name the user gave it, then what it acts on, so that the
 * lines of three DPUs running the same declaration never look alike (`DpuWorkload dpu-2-agent (agent on
 * 198.18.0.12:22)`). The SDK sets the `owner` input to `<project>/<stack>/<resource name>`; its last segment is
 * the resource name. Without an owner (the runtime driven directly) the scope is the type and the target.
 */
export function resourceScope(type: string, owner: string | undefined, target: string): string {
  const name = owner?.split("/").pop();
  return name ? `${type} ${name} (${target})` : `${type} ${target}`;
}

/** Creates a logger for `scope`. */
export function logger(scope: string): Logger {
  return {
    info: (m) => emit("info", scope, m),
    debug: (m) => emit("debug", scope, m),
    child: (s) => logger(`${scope} ${s}`),
  };
}
