import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { HostPowerLink } from "../../simulator/bmc/nvidia-mode";

/**
 * A host server's BMC that is not the project's simulator: a few Redfish resources written here, by hand, in the
 * shape DSP0266 gives them (service root, Systems collection, one ComputerSystem with `#ComputerSystem.Reset`),
 * with knobs for the odd answers field BMCs give. Its power-on edges drive the DPU's {@link HostPowerLink}.
 */
export interface FakeHostOptions {
  readonly key: string;
  readonly cert: string;
  readonly username: string;
  readonly password: string;
  readonly link?: HostPowerLink;
  readonly power: "On" | "Off";
  /** Serve the system without `PowerState`. */
  readonly noPowerState?: boolean;
  /** ResetType values listed (default On, ForceOff, GracefulShutdown, ForceRestart). */
  readonly resetTypes?: readonly string[];
  /** ResetType values answered 400 although listed. */
  readonly refuse?: readonly string[];
  /** Answer a reset 202 with a task monitor, and change the power only this many ms later. */
  readonly asyncResetMs?: number;
}

/** A request the fake host received. */
export interface FakeHostRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

/** A running fake host BMC. */
export interface FakeHost {
  readonly url: string;
  power: "On" | "Off";
  /** While true, every connection is destroyed without an answer (the BMC dropped off the network). */
  dropping: boolean;
  /** Set `dropping` right after the next accepted power-off. */
  dropAfterOff: boolean;
  readonly requests: FakeHostRequest[];
  /** Power transitions in order ("On"/"Off"). */
  readonly transitions: ("On" | "Off")[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "OData-Version": "4.0" });
  res.end(text);
}

/** Starts a fake host BMC on 127.0.0.1 (lab TLS key and certificate). */
export async function startFakeHost(o: FakeHostOptions): Promise<FakeHost> {
  const sys = "/redfish/v1/Systems/1";
  const target = `${sys}/Actions/ComputerSystem.Reset`;
  const types = o.resetTypes ?? ["On", "ForceOff", "GracefulShutdown", "ForceRestart"];
  const state = {
    url: "",
    power: o.power,
    dropping: false,
    dropAfterOff: false,
    requests: [] as FakeHostRequest[],
    transitions: [] as ("On" | "Off")[],
    close: async () => {},
  };
  let tasks = 0;
  const monitors = new Map<string, number>();
  const setPower = (p: "On" | "Off"): void => {
    if (p === state.power) return;
    state.power = p;
    state.transitions.push(p);
    if (p === "On") o.link?.hostPoweredOn();
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const path = (req.url ?? "").split("?")[0]?.replace(/\/+$/, "") ?? "";
    state.requests.push({ method: req.method ?? "", path, body });
    if (state.dropping) {
      req.socket.destroy();
      return;
    }
    const basic = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString("base64")}`;
    if (path !== "/redfish/v1" && req.headers.authorization !== basic) return void send(res, 401, {});
    if (req.method === "GET" && path === "/redfish/v1")
      return void send(res, 200, {
        "@odata.id": "/redfish/v1",
        "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
        Id: "RootService",
        Systems: { "@odata.id": "/redfish/v1/Systems" },
      });
    if (req.method === "GET" && path === "/redfish/v1/Systems")
      return void send(res, 200, {
        "@odata.id": "/redfish/v1/Systems",
        Members: [{ "@odata.id": sys }],
        "Members@odata.count": 1,
      });
    if (req.method === "GET" && path === sys)
      return void send(res, 200, {
        "@odata.id": sys,
        "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
        Id: "1",
        ...(o.noPowerState ? {} : { PowerState: state.power }),
        Actions: { "#ComputerSystem.Reset": { target, "ResetType@Redfish.AllowableValues": types } },
      });
    if (req.method === "POST" && path === target) {
      let type = "";
      try {
        type = String((JSON.parse(body) as { ResetType?: unknown }).ResetType);
      } catch {
        return void send(res, 400, {});
      }
      if (!types.includes(type) || o.refuse?.includes(type))
        return void send(res, 400, {
          error: {
            code: "Base.1.8.ActionParameterNotSupported",
            message: `ResetType ${type} is not supported by this system.`,
          },
        });
      const apply = (): void => {
        if (type === "On" || type === "ForceOn") setPower("On");
        else if (type === "ForceOff" || type === "GracefulShutdown") {
          setPower("Off");
          if (state.dropAfterOff) state.dropping = true;
        } else if (type === "ForceRestart") {
          setPower("Off");
          setPower("On");
        }
      };
      if (o.asyncResetMs === undefined) {
        apply();
        return void send(res, 204);
      }
      const n = ++tasks;
      const until = Date.now() + o.asyncResetMs;
      monitors.set(`/redfish/v1/TaskService/TaskMonitors/${n}`, until);
      setTimeout(apply, o.asyncResetMs);
      res.writeHead(202, {
        Location: `/redfish/v1/TaskService/TaskMonitors/${n}`,
        "Content-Type": "application/json",
      });
      return void res.end(
        JSON.stringify({
          "@odata.id": `/redfish/v1/TaskService/Tasks/${n}`,
          TaskState: "Running",
          Id: String(n),
        }),
      );
    }
    const monitor = monitors.get(path);
    if (req.method === "GET" && monitor !== undefined) {
      if (Date.now() < monitor) return void send(res, 202, { TaskState: "Running" });
      return void send(res, 204);
    }
    return void send(res, 404, {});
  };
  const server: Server = createServer({ key: o.key, cert: o.cert }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  state.url = `https://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
