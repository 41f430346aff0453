import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// Issue 14 item 7: `ResolvedRollout.canary`, `batchSize` and `failureBudget` had no TSDoc, and nothing checked
// the hand-written SDK (the generated types have their own check in sdk-types.test.ts). Every property of an
// exported interface or class of sdk/ is what a user hovers in the editor: each carries TSDoc, which tsc copies
// into dist/sdk/*.d.ts.

const SDK = join(__dirname, "..", "..", "sdk");

function exported(node: ts.Node): boolean {
  return (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Export) !== 0;
}

/** A `/** … *\/` comment right before the member (what tsc keeps in the .d.ts and the editor shows). */
function documented(node: ts.Node, text: string): boolean {
  return (ts.getLeadingCommentRanges(text, node.pos) ?? []).some((c) => text.startsWith("/**", c.pos));
}

/** `file: Type.property` for every undocumented property of an exported interface or class (public members). */
function undocumentedProperties(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const stmt of source.statements) {
    if ((ts.isInterfaceDeclaration(stmt) || ts.isClassDeclaration(stmt)) && exported(stmt) && stmt.name) {
      for (const m of stmt.members) {
        const isProp = ts.isPropertySignature(m) || ts.isPropertyDeclaration(m);
        if (!isProp || !m.name) continue;
        const flags = ts.getCombinedModifierFlags(m as ts.Declaration);
        if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (ts.isPrivateIdentifier(m.name)) continue;
        if (!documented(m, text)) out.push(`${file}: ${stmt.name.text}.${m.name.getText(source)}`);
      }
    }
  }
  return out;
}

describe("TSDoc of the hand-written SDK", () => {
  const files = readdirSync(SDK).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));

  it("finds the properties it checks (the check is real)", () => {
    expect(
      undocumentedProperties(
        "x.ts",
        "export interface A {\n  readonly b: number;\n  /** doc */\n  c: string;\n}",
      ),
    ).toEqual(["x.ts: A.b"]);
    expect(files).toContain("waves.ts");
  });

  it("every property of every exported interface and class in sdk/*.ts has TSDoc", () => {
    const missing = files.flatMap((f) => undocumentedProperties(f, readFileSync(join(SDK, f), "utf8")));
    expect(missing).toEqual([]);
  });
});
