import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { profileNote } from "../../simulator/bmc/profile-note";
import { ALL_BMC_PROFILES, type BmcProfileName } from "../../simulator/contracts";
import type { ScpImageServer } from "../../simulator/images";
import { unavailable } from "../capabilities";
import { type ProviderChildren, providerChildren } from "../faults/provider-child";
import { EXPECTED } from "./expected";
import { type InspectReport, inspectBmc, inspectCell } from "./inspect-cell";
import { COLUMN_ORDER, COLUMNS, type Row, readmeTable, renderTable, writeReadmeTable } from "./matrix";
import { BUNDLE_IMAGES, runProfile } from "./run-profile";
import { startScpImages } from "./scp-images";

/**
 * Issue 13, item 5: the conformance matrix. Every BMC profile the simulator offers × {inspect, create by each
 * method, create without ready.ssh, read, drift, re-image, delete, kill -9 mid-create and re-run}, driven
 * through the public runtime (`dpuHost`) and the CLI's inspect, against small labs (several profiles each).
 * Every cell must be ✅ or the named refusal `expected.ts` gives for that profile. The observed table is printed
 * and must be the one README.md keeps ("Vendor compatibility"); `npm run conformance:readme` rewrites it.
 */
const reason = unavailable("conformance matrix", "lab", "mockups", "dist");

/** Profiles per lab: small labs, each DPU behind a BMC of its own profile. */
const LAB_SIZE = 6;

describe.skipIf(reason !== undefined)(
  `conformance matrix: every profile × every operation${reason ? ` (skipped: ${reason})` : ""}`,
  () => {
    const labs: { lab: Lab; profiles: readonly BmcProfileName[] }[] = [];
    let children: ProviderChildren;
    let scp: ScpImageServer | undefined;
    let restoreLog: () => void;
    let observed: string | undefined;

    beforeAll(async () => {
      restoreLog = setLogSink(() => undefined);
      children = providerChildren();
      for (let i = 0; i < ALL_BMC_PROFILES.length; i += LAB_SIZE) {
        const profiles = ALL_BMC_PROFILES.slice(i, i + LAB_SIZE);
        const lab = await startLab({
          count: profiles.length,
          profile: profiles,
          bootTimeMs: 300,
          quirkTiming: { powerDelayMs: 300, staleBootProgressMs: 500 },
        });
        labs.push({ lab, profiles });
      }
      const first = labs[0]?.lab;
      if (first) scp = await startScpImages(first.endpoints, BUNDLE_IMAGES);
    }, 180_000);

    afterAll(async () => {
      children?.close();
      await scp?.close();
      await sshPool.closeAll();
      await closeAllPools();
      for (const { lab } of labs) await lab.stop();
      restoreLog?.();
    }, 120_000);

    it("every cell is ✅ or the refusal expected for its profile", async () => {
      const started = Date.now();
      const targets = labs.flatMap(({ lab, profiles }) =>
        profiles.map((profile, index) => ({ lab, profile, index })),
      );
      // inspect closes every Redfish pool when it ends: all of them first, one at a time.
      const reports = new Map<BmcProfileName, InspectReport>();
      for (const t of targets) {
        const d = t.lab.endpoints.dpus[t.index];
        if (!d) throw new Error(`no DPU for ${t.profile}`);
        reports.set(t.profile, await inspectBmc(d));
      }
      const rows = await Promise.all(
        targets.map(async (t) => {
          const report = reports.get(t.profile) as InspectReport;
          const cells = await runProfile({
            lab: t.lab,
            index: t.index,
            profile: t.profile,
            caps: report.ok ? report.caps : undefined,
            children,
            ...(scp ? { scp } : {}),
          });
          const row: Row = { inspect: inspectCell(report, cells), ...cells };
          return { profile: t.profile, row, note: profileNote(t.profile) };
        }),
      );
      observed = renderTable(rows);
      console.log(`conformance matrix (${((Date.now() - started) / 1000).toFixed(1)} s):\n${observed}`);
      const mismatches = rows.flatMap(({ profile, row }) =>
        COLUMN_ORDER.filter((c) => row[c] !== EXPECTED[profile][c]).map(
          (c) => `${profile} / ${COLUMNS[c]}: observed ${row[c]}, expected ${EXPECTED[profile][c]}`,
        ),
      );
      expect(mismatches).toEqual([]);
    }, 600_000);

    it("README.md's vendor compatibility table is the observed matrix", () => {
      if (observed === undefined) throw new Error("the matrix did not run");
      if (process.env.UPDATE_README === "1") writeReadmeTable(observed);
      expect(readmeTable(), "run `npm run conformance:readme` to rewrite it from an observed run").toBe(
        observed,
      );
    });
  },
);
