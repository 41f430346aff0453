import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { skipUnless } from "../capabilities";
import { SHARED_ROOT } from "../shared-material";

/** Root of the shared reference material (mockups of real and DMTF BMCs). */
export const SHARED_MOCKUPS = join(SHARED_ROOT, "redfish", "mockups");

/** A read-only Redfish mockup served over HTTP on 127.0.0.1. */
export interface MockupServer {
  readonly url: string;
  /** Requests received, by method. */
  readonly requests: Record<string, number>;
  close(): Promise<void>;
}

/**
 * Serves a DMTF-style mockup directory read-only: `GET /redfish/v1/<p>` answers `<dir>/<p>/index.json` (or
 * `<dir>/redfish/v1/<p>/index.json` for captures stored with the full path). Everything else is 405 (writes) or
 * 404 (unknown paths), with a Redfish error body, as a BMC in read-only mode would answer.
 */
export async function serveMockup(name: string): Promise<MockupServer> {
  const dir = join(SHARED_MOCKUPS, name);
  const nested = existsSync(join(dir, "redfish", "v1"));
  const requests: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    requests[req.method ?? "?"] = (requests[req.method ?? "?"] ?? 0) + 1;
    const url = new URL(req.url ?? "/", "http://x");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json", "OData-Version": "4.0" });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, id: string, message: string) =>
      send(status, {
        error: {
          code: `Base.1.8.${id}`,
          message,
          "@Message.ExtendedInfo": [{ MessageId: `Base.1.8.${id}`, Message: message, Resolution: "None." }],
        },
      });
    if (req.method !== "GET") {
      req.resume();
      error(
        405,
        "OperationNotAllowed",
        "The HTTP method is not allowed on this resource (read-only mockup).",
      );
      return;
    }
    const path = url.pathname.replace(/\/+$/, "");
    if (!path.startsWith("/redfish/v1")) return error(404, "ResourceNotFound", "not found");
    const rel = nested ? path : path.slice("/redfish/v1".length);
    const file = join(dir, rel, "index.json");
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      return error(404, "ResourceNotFound", `The requested resource ${path} was not found.`);
    }
    send(200, JSON.parse(readFileSync(file, "utf8")));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** True when the shared mockups are present; in CI their absence fails the suite. */
export function mockupsAvailable(): boolean {
  return !skipUnless("shared-mockup tests", "mockups");
}
