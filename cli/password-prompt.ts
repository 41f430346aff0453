/**
 * The password prompt of `pulumi-dpu inspect`: read from the terminal without echo, or the first line of piped
 * standard input; an error (never a silent exit) when standard input is closed or ends before a password.
 */

/** The part of a readable TTY stream the prompt uses (process.stdin, or a test double). */
export interface PromptInput extends NodeJS.EventEmitter {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Why no password could be read. */
export class PasswordPromptError extends Error {
  override readonly name = "PasswordPromptError";
}

const CTRL_C = "\u0003";
const CTRL_D = "\u0004";
const BACKSPACES = new Set(["\u007f", "\b"]);

/**
 * Writes `question` to `output` and reads a password from `input`. On a terminal the input is read in raw mode
 * and nothing typed is echoed (Enter ends it, Backspace erases, Ctrl-C / Ctrl-D abort); otherwise the first
 * line of the stream is the password. Rejects with {@link PasswordPromptError} when the input ends first.
 */
export function readPassword(
  question: string,
  input: PromptInput,
  output: { write(chunk: string): unknown },
): Promise<string> {
  output.write(question);
  const tty = input.isTTY === true && typeof input.setRawMode === "function";
  return new Promise<string>((resolve, reject) => {
    let typed = "";
    const finish = (err: Error | undefined): void => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onError);
      if (tty) input.setRawMode?.(false);
      input.pause();
      if (tty) output.write("\n");
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          finish(undefined);
          return;
        }
        if (tty && ch === CTRL_C) {
          finish(new PasswordPromptError("interrupted (Ctrl-C)"));
          return;
        }
        if (tty && ch === CTRL_D) {
          finish(typed === "" ? new PasswordPromptError("no password typed (Ctrl-D)") : undefined);
          return;
        }
        if (tty && BACKSPACES.has(ch)) typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    const onEnd = (): void => {
      finish(typed !== "" && !tty ? undefined : new PasswordPromptError("standard input is closed"));
    };
    const onError = (e: Error): void =>
      finish(new PasswordPromptError(`cannot read standard input: ${e.message}`));
    input.setEncoding("utf8");
    if (tty) input.setRawMode?.(true);
    input.on("data", onData);
    input.on("end", onEnd);
    input.on("error", onError);
    input.resume();
  });
}
