import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startLab } from "../../simulator";
import { skipLab } from "./helpers";

// Issue 14 item 5: `pulumi-dpu sim --state-dir D`, D not existing before, removed the whole of D at exit,
// including files the user had put there. The lab removes only what it created: its own entries, then the
// directories it had to create, only if nothing else is left in them.
// Issue 14 item 9: the `<lab>/…` paths examples/fleet tells the user to `cat` exist in a lab's state directory.

const REPO = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "dpu-statedir-"));

describe.skipIf(skipLab())("a lab in a state directory the caller named", () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("keeps the user's own files in a directory the lab created; removes the lab's entries", async () => {
    const dir = join(work, "x", "lab");
    const lab = await startLab({ count: 1, bootTimeMs: 0, stateDir: dir });
    let labEntries: string[] = [];
    try {
      // What the example's header and README tell the user to read from <lab>.
      const docs = ["index.ts", "README.md"].map((f) =>
        readFileSync(join(REPO, "examples", "fleet", f), "utf8"),
      );
      const named = [
        ...new Set(
          docs.flatMap((d) => [...d.matchAll(/(?:<lab>|\/tmp\/lab)\/([\w./-]+)/g)].map((m) => m[1])),
        ),
      ].filter((p): p is string => p !== undefined && p !== "endpoints.json");
      expect(named).toEqual(expect.arrayContaining(["pki/ca.pem", "ssh/id_ed25519"]));
      for (const p of named) expect(existsSync(join(dir, p)), `<lab>/${p}`).toBe(true);
      writeFileSync(join(dir, "f.json"), "{}\n");
      mkdirSync(join(dir, "mine"));
      writeFileSync(join(dir, "mine", "notes.txt"), "keep me\n");
      labEntries = readdirSync(dir).filter((e) => e !== "f.json" && e !== "mine");
      expect(labEntries.length).toBeGreaterThan(0);
    } finally {
      await lab.stop();
    }
    expect(readFileSync(join(dir, "f.json"), "utf8")).toBe("{}\n");
    expect(readFileSync(join(dir, "mine", "notes.txt"), "utf8")).toBe("keep me\n");
    expect(readdirSync(dir).sort()).toEqual(["f.json", "mine"]);
  }, 60_000);

  it("removes a directory it created (and the parents it created) when nothing else is in it", async () => {
    const dir = join(work, "y", "z", "lab");
    const lab = await startLab({ count: 1, bootTimeMs: 0, stateDir: dir });
    await lab.stop();
    expect(existsSync(join(work, "y"))).toBe(false);
    expect(existsSync(work)).toBe(true);
  }, 60_000);
});
