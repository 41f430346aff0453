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

/** Log levels, least to most verbose. */
export type LogLevel = "silent" | "info" | "debug";

/** Where log lines go. */
export type LogSink = (level: Exclude<LogLevel, "silent">, line: string) => void;

const secrets = new Set<string>();
const REDACTED = "[secret]";

const defaultSink: LogSink = (_level, line) => {
  process.stdout.write(`${line}\n`);
};
let sink: LogSink = defaultSink;

function currentLevel(): LogLevel {
  const v = process.env.PULUMI_DPU_LOG;
  return v === "silent" || v === "debug" ? v : "info";
}

/**
 * Registers a secret value so that it is replaced by `[secret]` in every log line and error message that passes
 * through {@link redact}. Short values (under 4 characters) are ignored: redacting them would mangle ordinary text.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length < 4) return;
  secrets.add(value);
  // A PEM key is also redacted line by line, so a partial dump of it cannot leak either.
  for (const line of value.split(/\r?\n/)) {
    if (line.length >= 16 && !line.startsWith("-----")) secrets.add(line);
  }
}

/** Replaces every registered secret in `text` by `[secret]`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
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

/** Creates a logger for `scope`. */
export function logger(scope: string): Logger {
  return {
    info: (m) => emit("info", scope, m),
    debug: (m) => emit("debug", scope, m),
    child: (s) => logger(`${scope} ${s}`),
  };
}
