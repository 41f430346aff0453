/**
 * What each Redfish request DpuHost sends before the boot wait is for, read from the BMC's request log: the
 * requests every install needs (find the system, write the image or its boot source, reset), and the ones a
 * BMC's own shape forces, each with the reason. A count over the target is explained only by requests of the
 * second kind; any other request over the target is unexplained (the per-profile bench and its smoke test show
 * it).
 */
import type { LoggedRequest } from "./request-log";

/** One request before the boot wait, with what it is for. */
export interface LabelledRequest {
  readonly method: string;
  /** The path without its query. */
  readonly path: string;
  /** What the request does. */
  readonly label: string;
  /** Set when the BMC's shape forces this request (it is not one every install needs): why. */
  readonly forcedBy?: string;
}

const SLOT = /\/VirtualMedia\/[^/]+$/;

/**
 * Labels `reqs` (one BMC, one operation, up to and including the reset or SimpleUpdate). Two writes to the same
 * slot, or an EjectMedia, mean the slot held media: the first write empties it.
 */
export function labelRequests(reqs: readonly LoggedRequest[]): LabelledRequest[] {
  const out: LabelledRequest[] = [];
  // An install the BMC runs by itself (SimpleUpdate, no boot override written): what discovery read for a boot
  // override, a reset or virtual media was read before the method was chosen, and is not used.
  const selfInstall =
    reqs.some((r) => r.method === "POST" && /SimpleUpdate$/.test(r.path)) &&
    !reqs.some((r) => r.method === "PATCH" && /\/Systems\//.test(r.path));
  const unused = "read by discovery before the method is chosen; SimpleUpdate does not use it";
  reqs.forEach((r, i) => {
    const path = r.path.split("?")[0] ?? r.path;
    const laterWrite = reqs
      .slice(i + 1)
      .some((n) => (n.path.split("?")[0] ?? n.path) === path && n.method === "PATCH");
    const one = (label: string, forcedBy?: string): void => {
      out.push({ method: r.method, path, label, ...(forcedBy ? { forcedBy } : {}) });
    };
    if (r.method === "GET") {
      if (path === "/redfish/v1" || path === "/redfish/v1/")
        one("service root", "the UpdateService is linked from the service root only");
      else if (/\/Systems$/.test(path)) one("list systems");
      else if (/\/Systems\/[^/]+$/.test(path)) one("read system");
      else if (/\/VirtualMedia$/.test(path)) one("list virtual media");
      else if (SLOT.test(path))
        one(
          "read slot",
          "the slot has no InsertMedia action: only its own GET's Allow header says PATCH drives it",
        );
      else if (/\/Managers\/[^/]+$/.test(path))
        one(
          "read manager",
          selfInstall ? unused : "the system links no virtual media: the manager's VirtualMedia link is read",
        );
      else if (/ActionInfo$/.test(path))
        one(
          "read ActionInfo",
          selfInstall && /\/Systems\//.test(path)
            ? unused
            : "the action's allowed values are listed in an ActionInfo, not inline",
        );
      else if (/\/Systems\/[^/]+\/[^/]+$/.test(path))
        one(
          "read settings object",
          selfInstall
            ? unused
            : "the system names a @Redfish.Settings object: read to know whether boot overrides go there",
        );
      else if (/TaskMonitors|\/Tasks\/|\/Jobs\//.test(path))
        one("task poll", "the action answered 202 with a task: its end is awaited before the reset");
      else if (/\/UpdateService$/.test(path)) one("read UpdateService");
      else if (/FirmwareInventory/.test(path))
        one(
          "firmware inventory",
          "SimpleUpdate's target (the DPU OS item) is found in the firmware inventory",
        );
      else one("read");
    } else if (/EjectMedia$/.test(path)) one("eject", "the slot held media: it is emptied before the insert");
    else if (/InsertMedia$/.test(path)) one("insert");
    else if (SLOT.test(path) && r.method === "PATCH")
      laterWrite
        ? one("eject (PATCH)", "the slot held media: it is emptied before the insert")
        : one("insert (PATCH)");
    else if (/ComputerSystem\.Reset$/.test(path)) one("reset");
    else if (/PublicKeyExchange$/.test(path))
      one("SCP key exchange", "the BMC fetches the image over SCP: the server's key is handed to it first");
    else if (/SimpleUpdate$/.test(path)) one("SimpleUpdate");
    else if (/\/Systems\/[^/]+(\/[^/]+)?$/.test(path) && r.method === "PATCH") one("boot override");
    else if (/\/Sessions$/.test(path) && r.method === "POST") one("log in");
    else one(r.method.toLowerCase());
  });
  return out;
}

/**
 * Whether a count is within `target` once the forced requests are set aside, and which requests are neither
 * needed by every install nor forced (unexplained). `met`: within the target as counted.
 */
export function explainCount(
  labelled: readonly LabelledRequest[],
  target: number,
): { readonly met: boolean; readonly forced: readonly LabelledRequest[]; readonly unexplained: number } {
  const forced = labelled.filter((l) => l.forcedBy !== undefined);
  const met = labelled.length <= target;
  return { met, forced, unexplained: met ? 0 : Math.max(0, labelled.length - forced.length - target) };
}

/** One line: the forced requests and their reasons (each reason once), for a count over its target. */
export function forcedNote(labelled: readonly LabelledRequest[]): string {
  const by = new Map<string, string[]>();
  for (const l of labelled) {
    if (!l.forcedBy) continue;
    by.set(l.forcedBy, [...(by.get(l.forcedBy) ?? []), l.label]);
  }
  return [...by].map(([why, labels]) => `${labels.join(", ")}: ${why}`).join("; ");
}
