import type { BmcCapabilities, BootMethod, VirtualMediaSlot } from "./discovery";

/**
 * What DpuHost keeps of a BMC's capabilities in state (plain JSON), so that a re-image, an update and a delete
 * send only the requests that change something: the system and slot paths, the action targets and the values
 * the BMC allows. A target the BMC no longer accepts is re-read then (see `insertMedia`).
 */
export interface KeptCapabilities {
  readonly sessionsPath: string;
  readonly systemPath: string;
  readonly managerPath?: string;
  /** The slot DpuHost drives (its state is not kept: the resource's state tells whether media stays in). */
  readonly slot?: Omit<VirtualMediaSlot, "inserted" | "image">;
  readonly boot: BmcCapabilities["boot"];
  readonly reset: BmcCapabilities["reset"];
  readonly managerResetTarget?: string;
  readonly managerResetTypes: readonly string[];
  readonly bootProgress: BmcCapabilities["bootProgress"];
  /**
   * The methods the BMC offered: the boot methods (virtual media, UEFI HTTP boot), and SimpleUpdate only where
   * {@link update} is kept.
   */
  readonly methods: readonly BootMethod[];
  /**
   * What discovery read of the UpdateService, kept only where it offered SimpleUpdate (its target, TransferProtocol
   * values, DPU OS items, apply times): a BFB re-image then posts SimpleUpdate without reading the service root,
   * the UpdateService and the firmware inventory again. A BMC that no longer accepts the target fails that run,
   * which leaves a partial state, and the next run rediscovers (a partial state is never served from here).
   */
  readonly update?: BmcCapabilities["update"];
  readonly unavailable?: BmcCapabilities["unavailable"];
}

/** What to keep of `caps` (the chosen slot, when DpuHost drives one). */
export function keepCapabilities(caps: BmcCapabilities): KeptCapabilities {
  const chosen = caps.virtualMedia.chosen;
  const slot = chosen ? (({ inserted: _i, image: _m, ...rest }) => rest)(chosen) : undefined;
  return {
    sessionsPath: caps.sessionsPath,
    systemPath: caps.systemPath,
    ...(caps.managerPath ? { managerPath: caps.managerPath } : {}),
    ...(slot ? { slot } : {}),
    boot: caps.boot,
    reset: caps.reset,
    ...(caps.managerResetTarget ? { managerResetTarget: caps.managerResetTarget } : {}),
    managerResetTypes: caps.managerResetTypes,
    bootProgress: caps.bootProgress,
    ...(keepsUpdate(caps)
      ? { methods: caps.methods, update: caps.update }
      : {
          methods: caps.methods.filter((m) => m !== "simpleUpdate"),
        }),
    ...(caps.unavailable ? { unavailable: caps.unavailable } : {}),
  };
}

/** Whether the UpdateService as discovery read it is kept: it offered SimpleUpdate. */
function keepsUpdate(caps: BmcCapabilities): boolean {
  return caps.methods.includes("simpleUpdate") && caps.update.simpleUpdateTarget !== undefined;
}

/** True when `v` has the shape {@link keepCapabilities} writes (state written by older versions has none). */
export function isKeptCapabilities(v: unknown): v is KeptCapabilities {
  if (v === null || typeof v !== "object") return false;
  const k = v as Partial<KeptCapabilities>;
  return (
    typeof k.systemPath === "string" &&
    typeof k.sessionsPath === "string" &&
    typeof k.boot === "object" &&
    typeof k.reset === "object" &&
    typeof k.bootProgress === "object" &&
    Array.isArray(k.methods) &&
    Array.isArray(k.managerResetTypes)
  );
}

/**
 * Capabilities rebuilt from what was kept, the slot in the state `slotState` says (media this resource left in,
 * or empty). SimpleUpdate is offered only where the UpdateService was kept.
 */
export function capabilitiesFromKept(
  kept: KeptCapabilities,
  slotState: { readonly inserted: boolean; readonly image?: string },
): BmcCapabilities {
  const slot: VirtualMediaSlot | undefined = kept.slot
    ? { ...kept.slot, inserted: slotState.inserted, ...(slotState.image ? { image: slotState.image } : {}) }
    : undefined;
  const systemId = kept.systemPath.replace(/\/+$/, "").split("/").pop() ?? kept.systemPath;
  return {
    sessionsPath: kept.sessionsPath,
    systems: [kept.systemPath],
    systemPath: kept.systemPath,
    systemId,
    ...(kept.managerPath ? { managerPath: kept.managerPath } : {}),
    ...(kept.managerResetTarget ? { managerResetTarget: kept.managerResetTarget } : {}),
    managerResetTypes: kept.managerResetTypes,
    virtualMedia: {
      location: slot ? slot.under : "none",
      slots: slot ? [slot] : [],
      ...(slot ? { chosen: slot } : {}),
    },
    boot: kept.boot,
    reset: kept.reset,
    bootProgress: kept.bootProgress,
    update: kept.update ?? { transferProtocols: [], osTargets: [] },
    methods: [...kept.methods],
    ...(kept.methods[0] ? { recommended: kept.methods[0] } : {}),
    unavailable: kept.update
      ? { ...kept.unavailable }
      : {
          ...kept.unavailable,
          simpleUpdate: "the UpdateService is not kept in state (rediscovered when SimpleUpdate may be used)",
        },
  };
}
