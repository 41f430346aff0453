import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { BmcOptions, BmcSnapshot, SimBmc } from "../contracts";
import { type Account, SessionStore } from "./auth";
import { BootController } from "./boot";
import { isCaptureProfile } from "./capture/catalog";
import { jobId } from "./capture/jobs";
import { loadCaptureModel, type QuirkTiming } from "./capture/model";
import { HANDWRITTEN_TYPES, metadataXml, registerOdata } from "./capture/odata";
import { buildCaptureRouter, seedCaptureState } from "./capture/register";
import type { BmcContext } from "./context";
import { dispatch } from "./dispatch";
import { MisbehavingRouter } from "./misbehave";
import { applyPendingMode, type HostPowerLink, type NvidiaMode, registerNvidiaMode } from "./nvidia-mode";
import { PROFILES, pathsOf } from "./profiles";
import { registerChassis } from "./resources/chassis";
import { registerManagers } from "./resources/managers";
import { registerSecondSlot } from "./resources/second-slot";
import { registerServiceRoot } from "./resources/service-root";
import { registerSessions } from "./resources/sessions";
import { registerSystems } from "./resources/systems";
import { registerTasks } from "./resources/tasks";
import { registerUpdateService } from "./resources/update-service";
import { registerVirtualMedia } from "./resources/virtual-media";
import { Router } from "./router";
import { type BmcState, noFaults, nowIso } from "./state";
import { TaskManager } from "./task-manager";

/** {@link BmcOptions} plus simulator-only extras. */
export interface CreateBmcOptions extends BmcOptions {
  /** An extra read-only account: every change it attempts gets 403 InsufficientPrivilege. */
  readonly readOnlyAccount?: { readonly username: string; readonly password: string };
  /** Capture profiles: the directory holding the Redfish mockups (default: found next to the repository). */
  readonly mockupsDir?: string;
  /** Quirk profiles: shorter (tests) or longer delays than the profile's own (late power changes, stale BootProgress). */
  readonly quirkTiming?: QuirkTiming;
  /**
   * A simulated host server and the DPU it carries share a {@link HostPowerLink}: the `server` BMC tells it every
   * power-on, a `dpu` BMC (BlueField-like) applies a pending mode and restarts at the host's power cycle.
   */
  readonly hostLink?: { readonly link: HostPowerLink; readonly role: "server" | "dpu" };
  /** BlueField-like profiles: the mode of operation the DPU starts in (default DpuMode). */
  readonly initialMode?: NvidiaMode;
}

function uuidFrom(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Starts one simulated Redfish BMC (HTTPS on `host`:`port`, default 127.0.0.1:0) driving `opts.backend`.
 * The DPU starts powered off; call `powerOnAndWait()` to boot its installed OS.
 */
export async function createBmc(opts: CreateBmcOptions): Promise<SimBmc> {
  const capture = isCaptureProfile(opts.profile)
    ? loadCaptureModel(opts.profile, opts.mockupsDir, opts.quirkTiming)
    : undefined;
  const profile = capture?.profile ?? PROFILES[opts.profile as keyof typeof PROFILES];
  if (!profile) throw new Error(`createBmc: unknown profile ${String(opts.profile)}`);
  const paths = capture?.paths ?? pathsOf(profile);
  const closing = new AbortController();
  const serial =
    opts.serial ?? `SIM${createHash("sha256").update(opts.name).digest("hex").slice(0, 10).toUpperCase()}`;
  const state: BmcState = {
    power: "Off",
    bootProgress: { lastState: "None", time: nowIso() },
    override: { enabled: "Disabled", target: "None", mode: "UEFI" },
    media: { inserted: false, writeProtected: true },
    lastResetTime: nowIso(),
    faults: noFaults(),
    requests: {},
    etagGenerations: {},
    extraMedia: {},
    assetTag: "",
    updateInProgress: false,
  };
  if (capture) seedCaptureState(capture, state);
  const accounts: Account[] = [{ username: opts.username, password: opts.password, readOnly: false }];
  if (opts.readOnlyAccount) accounts.push({ ...opts.readOnlyAccount, readOnly: true });
  const idle = opts.sessionIdleTimeoutMs ?? 30 * 60 * 1000;
  const maxSessions = opts.maxSessions ?? 16;
  const sessions = new SessionStore(accounts, idle, maxSessions);
  let caCache: string | undefined;
  const ca = () => {
    if (opts.caFile && caCache === undefined) caCache = readFileSync(opts.caFile, "utf8");
    return caCache;
  };
  const boot = new BootController({
    state,
    profile,
    backend: opts.backend,
    bootTimeMs: opts.bootTimeMs ?? 3000,
    ca,
    signal: closing.signal,
    ...(opts.hostLink?.role === "server" ? { onPowerOn: () => opts.hostLink?.link.hostPoweredOn() } : {}),
  });
  const ctx: BmcContext = {
    name: opts.name,
    profile,
    paths,
    state,
    sessions,
    tasks: new TaskManager(state, closing.signal, capture?.spec.quirks?.jobTasks ? jobId : String),
    boot,
    backend: opts.backend,
    serial,
    uuid: uuidFrom(`${opts.name}/${serial}`),
    sessionIdleTimeoutMs: idle,
    maxSessions,
    ca,
    signal: closing.signal,
  };
  const router = capture ? buildCaptureRouter(ctx, capture) : new Router();
  if (!capture) {
    registerServiceRoot(router, ctx);
    registerSessions(router, ctx);
    registerSystems(router, ctx);
    registerManagers(router, ctx);
    registerChassis(router, ctx);
    registerVirtualMedia(router, ctx);
    registerSecondSlot(router, ctx);
    registerUpdateService(router, ctx);
    registerTasks(router, ctx);
    registerOdata(router, {
      metadata: () => metadataXml(HANDWRITTEN_TYPES),
      root: async () => {
        const def = router.match("/redfish/v1")?.def.GET;
        const reply = def
          ? await def({ method: "GET", path: "/redfish/v1", params: {}, headers: {}, body: undefined })
          : undefined;
        return (reply?.body ?? {}) as Record<string, unknown>;
      },
    });
  }

  // BlueField modes of operation (Oem/Nvidia Mode.Set): the hand-written BlueField profile reports its mode; a
  // capture reports it as captured (the shared nvidia-bluefield-bmc capture: `Mode: ""`) unless its quirks say.
  const capturedOem = capture?.tree.resources.get(`${paths.system}/Oem/Nvidia`);
  const capturedBody = capturedOem?.kind === "json" ? capturedOem.body : undefined;
  if (
    opts.profile === "bluefield" ||
    (capturedBody && "#Mode.Set" in ((capturedBody.Actions as object) ?? {}))
  ) {
    const capturedMode = capturedBody?.Mode;
    state.mode = {
      effective: opts.initialMode ?? "DpuMode",
      reported:
        capturedBody === undefined ||
        capture?.spec.quirks?.reportsMode === true ||
        (typeof capturedMode === "string" && capturedMode !== ""),
    };
    registerNvidiaMode(
      capture ? (router as ReturnType<typeof buildCaptureRouter>).overlay : router,
      ctx,
      paths.system,
      profile.actionStatus,
      capturedBody,
    );
  }
  // The DPU sees its host's power cycle (PERST): a pending mode takes effect, and the DPU restarts.
  const unlink =
    opts.hostLink?.role === "dpu"
      ? opts.hostLink.link.onHostPowerOn(() => {
          applyPendingMode(state);
          void boot.reset();
        })
      : undefined;

  // Field misbehaviours (fault counters and toggles) wrap every route of every profile.
  const served = new MisbehavingRouter(router, ctx);
  const sockets = new Set<Socket>();
  const server = createServer({ key: opts.tls.key, cert: opts.tls.cert }, (req, res) => {
    dispatch({ router: served, sessions, state }, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("tlsClientError", () => {});
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const bmc: SimBmc = {
    name: opts.name,
    profile: opts.profile,
    url,
    username: opts.username,
    password: opts.password,
    systemId: profile.systemId,
    setFaults(f) {
      for (const [k, v] of Object.entries(f)) {
        if (typeof v === "number" && k in state.faults)
          (state.faults as unknown as Record<string, number>)[k] = v;
      }
    },
    expireSessions: () => sessions.clear(),
    clearFaults() {
      state.faults = noFaults();
    },
    snapshot(): BmcSnapshot {
      const installed = opts.backend.installedImage();
      return {
        name: opts.name,
        profile: opts.profile,
        powerState: state.power,
        bootProgress: {
          lastState: state.bootProgress.lastState,
          ...(state.bootProgress.lastState === "OEM"
            ? { oemLastState: state.bootProgress.oemLastState }
            : {}),
        },
        override: {
          enabled: state.override.enabled,
          target: state.override.target,
          ...(state.override.httpBootUri ? { httpBootUri: state.override.httpBootUri } : {}),
        },
        media: { inserted: state.media.inserted, ...(state.media.image ? { image: state.media.image } : {}) },
        ...(Object.keys(state.extraMedia).length > 0 ? { extraMedia: { ...state.extraMedia } } : {}),
        ...(state.lastMediaError ? { lastMediaError: state.lastMediaError } : {}),
        ...(installed ? { installedImage: installed } : {}),
        ...(state.lastBootError ? { lastBootError: state.lastBootError } : {}),
        requests: { ...state.requests },
        activeSessions: sessions.list().length,
      };
    },
    async powerOnAndWait() {
      if (state.power === "On" && opts.backend.running()) return;
      await boot.reset();
      if (state.lastBootError) throw new Error(`${opts.name}: boot failed: ${state.lastBootError}`);
      if (!opts.backend.running()) throw new Error(`${opts.name}: boot did not bring the OS up`);
    },
    async close() {
      unlink?.();
      closing.abort();
      boot.cancel();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await boot.idle();
      await opts.backend.stop();
      state.power = "Off";
    },
  };
  return bmc;
}
