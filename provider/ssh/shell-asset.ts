import { readFileSync } from "node:fs";
import { join } from "node:path";

/** An include line of a shell asset: replaced by the named asset's text when the script is loaded. */
const INCLUDE = /^# @include (\S+)\n/gm;

/**
 * Reads the shell script `assets/<file>` next to the calling module (pass its `__dirname`): the same path from
 * the sources (vitest) and from `dist/` (where `npm run build` copies every `assets/` folder). Each line
 * `# @include <name>` is replaced by `includes[name]`, so a script is sent whole (as the text of `sh -c`) and
 * still lives in real `.sh` files that shellcheck reads. The scripts are static: data reaches them only as
 * positional arguments, files or stdin, never by text substitution.
 */
export function readShellAsset(
  moduleDir: string,
  file: string,
  includes: Readonly<Record<string, string>> = {},
): string {
  const path = join(moduleDir, "assets", file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(
      `pulumi-dpu: cannot read the shell script ${path} that ships with the package ` +
        `(${err instanceof Error ? err.message : String(err)}); reinstall pulumi-dpu or run \`npm run build\``,
    );
  }
  return text.replace(INCLUDE, (_line, name: string) => {
    const part = includes[name];
    if (part === undefined) throw new Error(`pulumi-dpu: ${path} includes ${name}, which was not given`);
    return part;
  });
}
