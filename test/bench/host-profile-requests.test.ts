import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  benchDpuHostRequestsByProfile,
  type DpuHostProfileBench,
  type InstallCount,
  DPU_HOST_REQUEST_TARGETS as T,
} from "../../bench/dpu-host-requests";
import { explainCount } from "../../bench/request-reasons";
import { setLogSink } from "../../provider/log";
import type { BmcProfileName } from "../../simulator";
import { unavailable } from "../capabilities";

const missing = unavailable("DpuHost requests per profile", "lab");

/**
 * Per profile, what may stand over a target: the requests each BMC's shape forces, by label (see
 * bench/request-reasons.ts), in the order sent. A count over its target passes only when the requests over it
 * are exactly these; a count within its target passes as it is. Anything else (a new request, one removed from
 * this list without the target being met) fails, so the counts cannot grow back unseen.
 */
const FORCED: Partial<Record<BmcProfileName, { create: string[]; reimage: string[] }>> = {
  "intel-ipu": { create: [], reimage: ["task poll"] },
  "capture-rackmount1": { create: ["read slot", "eject (PATCH)"], reimage: [] },
  "quirk-xcc": { create: ["read settings object", "read slot", "eject (PATCH)"], reimage: [] },
  "quirk-ilo": { create: ["read manager", "eject"], reimage: [] },
  "quirk-bluefield-new": {
    create: ["read settings object", "read manager", "service root", "firmware inventory", "read ActionInfo"],
    reimage: [],
  },
  "capture-bluefield": {
    create: [
      "read settings object",
      "read manager",
      "service root",
      "firmware inventory",
      "read ActionInfo",
      "SCP key exchange",
    ],
    reimage: [],
  },
};

const PROFILES = Object.keys(FORCED) as BmcProfileName[];

describe.skipIf(missing !== undefined)(
  `DpuHost Redfish requests before the boot wait, per profile${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let r: DpuHostProfileBench;
    let restore: () => void;
    beforeAll(async () => {
      restore = setLogSink(() => undefined);
      r = await benchDpuHostRequestsByProfile({ profiles: PROFILES, reads: 1, bootTimeMs: 100 });
    }, 240_000);
    afterAll(() => restore?.());

    const check = (profile: BmcProfileName, what: "create" | "reimage"): void => {
      const row = r.rows.find((x) => x.profile === profile);
      expect(row?.error).toBeUndefined();
      const c = row?.[what] as InstallCount | undefined;
      expect(c).toBeDefined();
      const target = what === "create" ? T.freshBeforeBootWait : T.reimageBeforeBootWait;
      const seq = (c as InstallCount).sequence;
      expect(seq.length).toBe((c as InstallCount).beforeBootWait);
      const e = explainCount(seq, target);
      if (e.met) return;
      expect(e.unexplained).toBe(0);
      expect(e.forced.map((l) => l.label)).toEqual(FORCED[profile]?.[what]);
    };

    const cases: readonly (readonly [BmcProfileName, string])[] = [
      [
        "intel-ipu",
        "re-image ≤ 3 on intel-ipu once its InsertMedia task is set aside (the IPU BMC answers InsertMedia with a 202 task, awaited before the reset)",
      ],
      [
        "capture-rackmount1",
        "create ≤ 6 on capture-rackmount1 once the slot's GET (PATCH-only slot: its Allow header) and the eject of the DMTF capture's inserted freeOS.1.1.iso are set aside; re-image ≤ 3",
      ],
      [
        "quirk-xcc",
        "create ≤ 6 on quirk-xcc once the Pending settings object read (where boot overrides go), the slot's GET (Allow) and the eject of inserted media are set aside; re-image ≤ 3",
      ],
      [
        "quirk-ilo",
        "create ≤ 6 on quirk-ilo once the manager read (virtual media under the manager only) and the eject of inserted media are set aside; re-image ≤ 3",
      ],
      [
        "quirk-bluefield-new",
        "quirk-bluefield-new: BFB re-image ≤ 3 (SimpleUpdate from the UpdateService kept in state); create over ≤ 6 only by discovery before the method is chosen (settings, manager, reset ActionInfo), the service root (UpdateService link) and the firmware inventory (DPU_OS target)",
      ],
      [
        "capture-bluefield",
        "capture-bluefield (SCP only): BFB re-image ≤ 3 with the key exchange (its target kept, the UpdateService not read again); create over ≤ 6 by the same reads plus the SCP key exchange",
      ],
    ];
    for (const [profile, name] of cases) {
      it(name, () => {
        check(profile, "create");
        check(profile, "reimage");
      });
    }
  },
);
