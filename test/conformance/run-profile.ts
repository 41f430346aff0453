import type { ChildProcess } from "node:child_process";
import { dpuHost } from "../../provider";
import type { BmcCapabilities } from "../../provider/redfish";
import type { DpuHostInputs, DpuHostOutputs } from "../../provider/resources/dpu-host";
import type { Lab } from "../../simulator";
import type { BmcProfileName, BmcSnapshot } from "../../simulator/contracts";
import type { ScpImageServer } from "../../simulator/images";
import { inputsFor } from "../dpu-host/helpers";
import { until } from "../faults/helpers";
import type { ProviderChildren } from "../faults/provider-child";
import { type Column, cellOf, METHODS, type Method, NO_METHOD, OK, type Row } from "./matrix";
import { powerOffBehindPulumi } from "./power-off";
import { authorizeBmcForScp, bmcLoginOf, scpUrl } from "./scp-images";

/** Images by what each method installs: a bootable ISO, or a vendor bundle for SimpleUpdate. */
const IMAGES = {
  iso: ["dpu-os-1.1.iso", "dpu-os-2.0.iso", "dpu-os-1.0.iso"],
  bundle: ["bf-bundle-4.10.bfb", "bf-bundle-4.9.bfb"],
} as const;

/** The bundles the SimpleUpdate cells install (an SCP image server must hold them too). */
export const BUNDLE_IMAGES: readonly string[] = IMAGES.bundle;

type Created = { id: string; outs: DpuHostOutputs };

/** What one profile's row needs: its lab DPU, what inspect reported, and provider processes to kill. */
export interface ProfileRun {
  readonly lab: Lab;
  readonly index: number;
  readonly profile: BmcProfileName;
  /** inspect's JSON report (`pulumi-dpu inspect --json`), or undefined when inspect failed. */
  readonly caps: BmcCapabilities | undefined;
  readonly children: ProviderChildren;
  /** Where bundles are served to BMCs whose SimpleUpdate allows SCP only (BlueField), with the key exchange. */
  readonly scp?: ScpImageServer;
}

/** One cell: ✅ when `fn` resolves, else the refusal's short name or the failure. */
async function cell(fn: () => Promise<void>): Promise<string> {
  try {
    await fn();
    return OK;
  } catch (e) {
    return cellOf(e);
  }
}

/**
 * Runs every operation of the matrix on one profile's DPU, in the order a user would meet them, and returns the
 * observed cells (inspect's own cell is decided by the caller, against these). Each create installs an image the
 * DPU does not run yet, so none is adopted without an install.
 */
export async function runProfile(r: ProfileRun): Promise<Omit<Row, "inspect">> {
  const d = r.lab.endpoints.dpus[r.index];
  if (!d) throw new Error(`no DPU ${r.index}`);
  const target = r.lab.dpus.get(d.name);
  if (!target) throw new Error(`no DPU ${d.name}`);
  const snap = (): BmcSnapshot => target.bmc.snapshot();
  const sha = (name: string) => r.lab.endpoints.images.files.find((f) => f.name === name)?.sha256;
  const kindOf = (m: Method | undefined) => (m === "simpleUpdate" ? "bundle" : "iso");
  /** An image of the method's kind that the DPU does not run now. */
  const nextImage = (m: Method | undefined): string => {
    const running = snap().installedImage?.sha256;
    const name = IMAGES[kindOf(m)].find((n) => sha(n) !== running);
    if (!name) throw new Error("no image left to install");
    return name;
  };
  // An SCP-only SimpleUpdate (BlueField) gets its bundles over SCP, the BMC's key authorized once (the operator's
  // step of NVIDIA's "Setting Up Secure Connection"); DpuHost does the key exchange itself, with the pinned key.
  const protocols = r.caps?.update.transferProtocols ?? [];
  const scp = r.scp && protocols.length > 0 && protocols.every((p) => p === "SCP") ? r.scp : undefined;
  if (scp) await authorizeBmcForScp(bmcLoginOf(d), scp);
  const inputs = (image: string, method: Method | undefined, ssh = true): DpuHostInputs => {
    const i = inputsFor(r.lab.endpoints, r.index, image, {
      ...(method ? { method } : {}),
      ssh,
      readyTimeoutMs: 45_000,
    });
    const overScp =
      scp && kindOf(method) === "bundle"
        ? { url: scpUrl(scp, image), username: "root", scpHostKey: scp.hostKey }
        : {};
    // The lab's endpoints file names the DPU's system, as a user would declare it.
    return { ...i, bmc: { ...i.bmc, systemId: d.bmc.systemId }, image: { ...i.image, ...overScp } };
  };
  /** check() then create(), as the engine sends them; check failures are refusals too. */
  const create = async (news: DpuHostInputs): Promise<Created> => {
    const checked = await dpuHost.check?.({}, news);
    const failures = checked?.failures ?? [];
    if (failures.length > 0) throw new Error(failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
    return (await dpuHost.create?.(checked?.inputs)) as Created;
  };
  /** The install happened: recorded in the outputs and seen by the BMC, media ejected, override cleared. */
  const expectInstalled = (c: Created, image: string, method: Method | undefined): void => {
    const want = sha(image);
    const got = c.outs.installedImage;
    const s = snap();
    const problems = [
      got?.sha256 !== want && `installedImage.sha256 ${got?.sha256} is not ${image}'s`,
      method && got?.method !== method && `installedImage.method ${got?.method}, asked ${method}`,
      !got?.observedBy && "installedImage.observedBy is missing",
      s.installedImage?.sha256 !== want && `the BMC installed ${s.installedImage?.label ?? "nothing"}`,
      s.media.inserted && `media still inserted (${s.media.image})`,
      ourOverride(s) && `boot override ${s.override.enabled}/${s.override.target} left set`,
      s.powerState !== "On" && `power ${s.powerState}`,
    ].filter((p): p is string => typeof p === "string");
    if (problems.length > 0) throw new Error(`create of ${image}: ${problems.join("; ")}`);
  };
  const remove = async (c: Created): Promise<void> => {
    await dpuHost.delete?.(c.id, c.outs);
    const s = snap();
    const left = [
      s.media.inserted && `media still inserted (${s.media.image})`,
      ourOverride(s) && `boot override ${s.override.enabled}/${s.override.target} left set`,
    ].filter((p): p is string => typeof p === "string");
    if (left.length > 0) throw new Error(`delete left ${left.join("; ")}`);
  };
  /** Creates with `method`, checks the install, deletes. */
  const createAndDelete = async (method: Method | undefined, ssh: boolean): Promise<void> => {
    const image = nextImage(method);
    const c = await create(inputs(image, method, ssh));
    try {
      expectInstalled(c, image, method);
    } finally {
      await remove(c);
    }
  };

  const primary = r.caps?.recommended;
  const row: Partial<Record<Exclude<Column, "inspect">, string>> = {};
  row.noSsh = await cell(() => createAndDelete(primary, false));
  for (const m of METHODS) if (m !== primary) row[m] = await cell(() => createAndDelete(m, true));

  let created: Created | undefined;
  const image = nextImage(primary);
  const first = await cell(async () => {
    created = await create(inputs(image, primary));
    expectInstalled(created, image, primary);
  });
  if (primary) row[primary] = first;
  if (!created || first !== OK) {
    const why = primary ? first : NO_METHOD;
    for (const c of ["read", "drift", "reimage", "repair", "delete", "kill"] as const) row[c] = why;
    return row as Omit<Row, "inspect">;
  }
  let outs = created.outs;
  const id = created.id;
  row.read = await cell(async () => {
    const seen = await dpuHost.read?.(id, outs);
    const props = seen?.props as DpuHostOutputs | undefined;
    const ins = seen?.inputs as DpuHostInputs | undefined;
    if (!props || !ins) throw new Error("read found nothing");
    if (ins.power !== "On" || ins.image.url !== outs.image.url)
      throw new Error(`read reports drift on an untouched DPU: power ${ins.power}, image ${ins.image.url}`);
    if (props.osRelease.DPU_IMAGE_SHA256 !== sha(image))
      throw new Error(`read: os-release sha256 ${props.osRelease.DPU_IMAGE_SHA256}, not ${image}'s`);
    outs = props;
  });
  /** Powers the DPU off behind Pulumi's back; read() must report it (the refreshed state replaces `outs`). */
  const powerOffAndRead = async (): Promise<void> => {
    await powerOffBehindPulumi(d, outs.discovery.systemPath);
    await until("the DPU to power off", () => snap().powerState === "Off", 30_000);
    const seen = await dpuHost.read?.(id, outs);
    const ins = seen?.inputs as DpuHostInputs | undefined;
    if (ins?.power !== "Off") throw new Error(`read after a power off reports power ${ins?.power}`);
    outs = seen?.props as DpuHostOutputs;
  };
  /** update() as the engine sends it (check first); a partial resource's properties replace the state. */
  const update = async (news: DpuHostInputs): Promise<void> => {
    const checked = await dpuHost.check?.(outs, news);
    if ((checked?.failures ?? []).length > 0) throw new Error(JSON.stringify(checked?.failures));
    const res = await dpuHost.update?.(id, outs, checked?.inputs).catch((err: unknown) => {
      const partial = (err as { properties?: DpuHostOutputs }).properties;
      if (partial) outs = partial;
      throw err;
    });
    outs = res?.outs as DpuHostOutputs;
  };
  let declared = inputs(image, primary);
  row.drift = await cell(powerOffAndRead);
  // From the drifted state: the DPU is off.
  row.reimage = await cell(async () => {
    const next = nextImage(primary);
    declared = inputs(next, primary);
    await update(declared);
    expectInstalled({ id, outs }, next, primary);
  });
  // `pulumi refresh` shows the power drift, `pulumi up` with the same program repairs it.
  row.repair = await cell(async () => {
    await powerOffAndRead();
    await update(declared);
    const seen = await dpuHost.read?.(id, outs);
    const ins = seen?.inputs as DpuHostInputs | undefined;
    if (snap().powerState !== "On" || ins?.power !== "On")
      throw new Error(`after the up: BMC power ${snap().powerState}, read reports ${ins?.power}`);
    outs = seen?.props as DpuHostOutputs;
  });
  row.delete = await cell(() => remove({ id, outs }));
  row.kill = await cell(async () => {
    const next = nextImage(primary);
    const news = inputs(next, primary);
    const before = snap();
    const child: ChildProcess = r.children.start(news);
    const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
    await Promise.race([
      until("the provider to change the BMC's state", () => stateMoved(before, snap()), 60_000),
      exited.then((code) => {
        throw new Error(`the provider process exited (${code}) before it changed anything`);
      }),
    ]);
    if (child.exitCode !== null)
      throw new Error("the provider finished before it could be killed mid-create");
    await r.children.kill9(child);
    const c = await create(news);
    try {
      expectInstalled(c, next, primary);
    } finally {
      await remove(c);
    }
  });
  return row as Omit<Row, "inspect">;
}

/** A one-time boot override DpuHost sets (Cd or UefiHttp) is still set. */
function ourOverride(s: BmcSnapshot): boolean {
  return s.override.enabled !== "Disabled" && ["Cd", "UefiHttp"].includes(s.override.target);
}

/** Anything the provider changes on the BMC moved: media, boot override, power, BootProgress, installed image. */
function stateMoved(a: BmcSnapshot, b: BmcSnapshot): boolean {
  return (
    a.media.inserted !== b.media.inserted ||
    a.override.enabled !== b.override.enabled ||
    a.override.target !== b.override.target ||
    a.powerState !== b.powerState ||
    a.bootProgress.lastState !== b.bootProgress.lastState ||
    a.installedImage?.sha256 !== b.installedImage?.sha256
  );
}
