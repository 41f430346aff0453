import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateHostKey } from "../../provider/host/host-key";
import { BFB_SEED_DIR, renderBfCfg } from "../../provider/host/seed/bf-cfg";
import { renderNoCloud } from "../../provider/host/seed/nocloud";
import { unavailable } from "../capabilities";
import { identity } from "./fixtures";

const dir = mkdtempSync(join(tmpdir(), "pulumi-dpu-bfcfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const marker = join(dir, "pwned");
const hostile = [
  "line one",
  "EOF",
  `'; touch ${marker}; echo '`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  "\\' \" $HOME $" + "{PATH} %s %n",
  "",
].join("\n");

function render() {
  const id = identity({
    hostKey: "generate",
    password: { user: "ubuntu", hash: "$6$saltsalt$Zx9./abcdefghijklmnop" },
    files: [{ path: "/etc/pulumi-dpu/hostile", content: hostile, secret: true }],
  });
  const seed = renderNoCloud(id, generateHostKey());
  const cfg = renderBfCfg(id, seed);
  const file = join(dir, "bf.cfg");
  writeFileSync(file, cfg);
  return { id, seed, cfg, file };
}

describe.skipIf(unavailable("bf.cfg shell checks", "sshd", "dpu-shells", "shellcheck") !== undefined)(
  "bf.cfg appended to a BFB",
  () => {
    it("parses in dash and bash and passes shellcheck", () => {
      const { file } = render();
      execFileSync("dash", ["-n", file]);
      execFileSync("bash", ["-n", file]);
      const sc = spawnSync("shellcheck", ["-s", "sh", file], { encoding: "utf8" });
      expect(sc.stdout + sc.stderr).toBe("");
      expect(sc.status).toBe(0);
    });

    it("sourced by bash like the installer, bfb_modify_os writes the NoCloud seed verbatim and runs nothing of it", () => {
      const { seed, file, id } = render();
      // A private mount namespace with a scratch /mnt: the installer's target root, as install.sh mounts it.
      const script = [
        "set -e",
        "mount -t tmpfs scratch /mnt",
        `. ${file}`,
        "declare -f -F bfb_modify_os >/dev/null",
        "bfb_modify_os",
        `printf '%s' "$ubuntu_PASSWORD" > ${dir}/password`,
        `for f in meta-data user-data network-config; do cp ${BFB_SEED_DIR}/$f ${dir}/$f; stat -c '%a' ${BFB_SEED_DIR}/$f >> ${dir}/modes; done`,
      ].join("\n");
      execFileSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", script], {
        stdio: "pipe",
      });
      const read = (n: string) => execFileSync("cat", [join(dir, n)], { encoding: "utf8" });
      expect(read("meta-data")).toBe(seed.metaData);
      expect(read("user-data")).toBe(seed.userData);
      expect(read("network-config")).toBe(seed.networkConfig);
      expect(read("modes").trim().split("\n")).toEqual(["600", "600", "600"]);
      expect(read("password")).toBe(id.password?.hash);
      expect(existsSync(marker)).toBe(false);
    });

    it("sets ubuntu_PASSWORD only for the ubuntu user (the documented parameter) and never names other users there", () => {
      const root = identity({ password: { hash: "$6$saltsalt$abcdefghijk" } });
      expect(renderBfCfg(root, renderNoCloud(root))).not.toMatch(/PASSWORD=/);
      const none = identity();
      const cfg = renderBfCfg(none, renderNoCloud(none));
      expect(cfg).not.toMatch(/PASSWORD=/);
      expect(cfg).toMatch(/^bfb_modify_os\(\)$/m);
    });
  },
);
