/**
 * Quoting of remote command lines. sshd hands the command string to the login shell (`$SHELL -c`), so every
 * argument is quoted for a POSIX shell (sh, dash, bash, zsh, busybox ash): safe words pass as they are,
 * everything else is wrapped in single quotes, inside which no character is special except `'` itself.
 */

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell. Rejects NUL, which no argv can carry. */
export function quoteArg(arg: string): string {
  if (arg.includes("\u0000")) throw new TypeError("a command argument cannot contain a NUL byte");
  if (arg === "") return "''";
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Builds a shell command line from `argv` so that the remote shell sees exactly these arguments, whatever they
 * contain (spaces, quotes, `$()`, `;`, newlines, globs, leading dashes).
 */
export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError("empty command");
  return argv.map(quoteArg).join(" ");
}

/** The argv actually run: prefixed by `sudo -n --` when privileged execution is asked for. */
export function withSudo(argv: readonly string[], sudo: boolean): readonly string[] {
  return sudo ? ["sudo", "-n", "--", ...argv] : argv;
}
