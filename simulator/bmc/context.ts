import type { DpuOsBackend } from "../contracts";
import type { SessionStore } from "./auth";
import type { BootController } from "./boot";
import type { ProfileDef, ProfilePaths } from "./profiles";
import type { BmcState } from "./state";
import type { TaskManager } from "./task-manager";

/** What every resource module needs. */
export interface BmcContext {
  readonly name: string;
  readonly profile: ProfileDef;
  readonly paths: ProfilePaths;
  readonly state: BmcState;
  readonly sessions: SessionStore;
  readonly tasks: TaskManager;
  readonly boot: BootController;
  readonly backend: DpuOsBackend;
  readonly serial: string;
  readonly uuid: string;
  readonly sessionIdleTimeoutMs: number;
  readonly maxSessions: number;
  /** CA PEM the BMC trusts for HTTPS image URLs. */
  readonly ca: () => string | undefined;
  /** Aborted when the BMC closes; long transfers stop. */
  readonly signal: AbortSignal;
}

/** `{ "@odata.id": uri }` */
export function link(uri: string): { "@odata.id": string } {
  return { "@odata.id": uri };
}

/** A resource collection body (`#XCollection.XCollection`). */
export function collection(
  type: string,
  uri: string,
  name: string,
  members: readonly string[],
): Record<string, unknown> {
  return {
    "@odata.type": `#${type}.${type}`,
    "@odata.id": uri,
    Name: name,
    "Members@odata.count": members.length,
    Members: members.map(link),
  };
}
