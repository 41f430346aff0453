import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRedfishHttpError } from "../../provider/errors/redfish-http-error";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import { type Lab, startLab } from "../../simulator";
import { inputsFor, inputsOf, labAvailable } from "../dpu-host/helpers";

// Issue 13 (hostile review, finding 7): errors that named the BMC left the provider as they were ("log in on BMC
// …", "list systems on BMC …", "read system on BMC …" from delete), without the operation or the resource.
// Every error leaving create/read/update/delete starts with `<action> DpuHost <name> (<system> …)`, keeping the
// typed error (code, HTTP status) and the BMC's words.

describe.skipIf(!labAvailable())("DpuHost errors name the operation and the resource", () => {
  let lab: Lab;
  let outs: DpuHostOutputs;
  let id: string;
  const OWNER = "proj/dev/dpu-errs";
  const wrongPassword = <T extends { bmc: object }>(p: T): T => ({
    ...p,
    bmc: { ...p.bmc, password: "not-the-password-1" },
  });
  const failure = async (p: Promise<unknown> | undefined): Promise<Error> => {
    const err = await Promise.resolve(p).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).not.toContain("not-the-password-1");
    return err as Error;
  };

  beforeAll(async () => {
    lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
    const r = await dpuHost.create?.({ ...inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso"), owner: OWNER });
    if (!r) throw new Error("no create");
    outs = r.outs as DpuHostOutputs;
    id = r.id;
  }, 180_000);
  afterAll(async () => {
    await closeAllPools();
    await lab?.stop();
  });

  it("create, read, update and delete: '<action> DpuHost dpu-errs (system …)', typed error and BMC words kept", async () => {
    const ep = lab.endpoints.dpus[0]?.bmc.url ?? "";
    // One after the other: two operations at once on one DPU are refused (one writer per DPU).
    const cases: [string, () => Promise<unknown> | undefined][] = [
      [
        "create",
        () =>
          dpuHost.create?.(
            wrongPassword({
              ...inputsFor(lab.endpoints, 0, "dpu-os-2.0.iso"),
              owner: OWNER,
              bmc: {
                ...inputsFor(lab.endpoints, 0, "dpu-os-2.0.iso").bmc,
                systemId: "1",
                auth: "session" as const,
              },
            }),
          ),
      ],
      ["read", () => dpuHost.read?.(id, wrongPassword(outs))],
      [
        "update",
        () =>
          dpuHost.update?.(
            id,
            outs,
            wrongPassword({ ...inputsOf(outs), owner: OWNER, power: "Off" as const }),
          ),
      ],
      ["delete", () => dpuHost.delete?.(id, wrongPassword(outs))],
    ];
    for (const [action, p] of cases) {
      const err = await failure(p());
      expect(err.message).toMatch(new RegExp(`^${action} DpuHost dpu-errs \\(system 1\\): \\S`));
      // The BMC is named once, by the words of the step that failed.
      expect(err.message.split(ep).length - 1).toBe(1);
      expect(isRedfishHttpError(err)).toBe(true);
      expect((err as { status?: number }).status).toBe(401);
    }
  });

  it("a BMC that is not there: 'create DpuHost (the DPU's system)' before the step's own words, which name the BMC", async () => {
    const i = inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso");
    const err = await failure(
      dpuHost.create?.({ ...i, bmc: { ...i.bmc, endpoint: "https://127.0.0.1:9", retryAttempts: 1 } }),
    );
    expect(err.message).toMatch(/^create DpuHost \(the DPU's system\): \S+ .*https:\/\/127\.0\.0\.1:9/);
  });
});
