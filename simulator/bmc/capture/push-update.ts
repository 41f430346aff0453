import type { IncomingHttpHeaders } from "node:http";
import type { BmcContext } from "../context";
import { httpError, message, RedfishHttpError } from "../errors";
import { ImageFetchError, identifyImage } from "../fetch-image";
import { type FetchedUpdate, updateOf } from "../resources/update-service";
import type { Reply } from "../router";
import { TaskFailure } from "../task-manager";
import type { CaptureModel } from "./model";
import type { CaptureRouter } from "./router";
import { startUpdateTask } from "./update-task";

type Json = Record<string, unknown>;

/** Largest upload taken where the capture states no `MaxImageSizeBytes`. */
const DEFAULT_MAX_IMAGE = 256 * 1024 * 1024;
/** `UpdateParameters` properties of the UpdateService schema (v1_17_0); `@…` annotations are allowed too. */
const UPDATE_PARAMETERS = ["Targets", "ExcludeTargets", "ForceUpdate", "LocalImage", "Oem"];
/** OperationApplyTime values the simulator honours: now, or staged until the next reset. */
const APPLY_TIMES = ["Immediate", "OnReset"];

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.flat(3).filter((x): x is string => typeof x === "string") : undefined;
}

function unsupportedMediaType(type: string, want: string): RedfishHttpError {
  return new RedfishHttpError(415, [
    { ...message("GeneralError"), Resolution: `Content-Type '${type}' is not accepted here; send ${want}.` },
  ]);
}

/** One part of a multipart/form-data body (RFC 7578). */
interface FormPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

/** The `boundary` parameter of a multipart/form-data Content-Type, quoted or not. */
function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/** Splits a multipart/form-data body into its named parts; a malformed body is a 400 naming the problem. */
function parseFormData(raw: Buffer, boundary: string): FormPart[] {
  const malformed = (why: string) =>
    new RedfishHttpError(400, [
      { ...message("GeneralError"), Resolution: `Malformed multipart/form-data body: ${why}.` },
    ]);
  const delim = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let at = raw.indexOf(delim);
  if (at < 0) throw malformed("no boundary delimiter");
  for (;;) {
    let start = at + delim.length;
    if (raw.subarray(start, start + 2).toString("latin1") === "--") break; // close delimiter
    if (raw.subarray(start, start + 2).toString("latin1") !== "\r\n")
      throw malformed("no CRLF after a delimiter");
    start += 2;
    const next = raw.indexOf(Buffer.from(`\r\n--${boundary}`), start);
    if (next < 0) throw malformed("no close delimiter");
    const part = raw.subarray(start, next);
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) throw malformed("a part without a header block");
    const headers = new Map<string, string>();
    for (const line of part.subarray(0, split).toString("utf8").split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const disposition = headers.get("content-disposition") ?? "";
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (!/^form-data\b/i.test(disposition) || name === undefined)
      throw malformed("a part without Content-Disposition: form-data; name");
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    const contentType = headers.get("content-type");
    parts.push({
      name,
      ...(filename !== undefined ? { filename } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      data: part.subarray(split + 4),
    });
    at = next + 2;
  }
  return parts;
}

/** The pushed bytes as an update image, identified inside the task (not an ISO or BFB: task Exception). */
function pushed(source: string, bytes: Buffer): () => Promise<FetchedUpdate> {
  return async () => {
    try {
      return updateOf(identifyImage(source, bytes));
    } catch (e) {
      if (e instanceof ImageFetchError) throw new TaskFailure(e.redfish, 400);
      throw e;
    }
  };
}

/** What the captured UpdateService says about pushed updates. */
interface PushModel {
  readonly httpPushUri?: string;
  /** `HttpPushUriOptions.HttpPushUriApplyTime.ApplyTime` (default Immediate). */
  readonly httpPushApplyTime: string;
  readonly multipartUri?: string;
  /** `MultipartHttpPushUri@Redfish.OperationApplyTimeSupport.SupportedValues` (default: Immediate, OnReset). */
  readonly multipartApplyTimes: readonly string[];
  readonly maxBytes: number;
  /** Firmware inventory members (Targets must name one of them; empty: any). */
  readonly inventory: readonly string[];
}

function pushModel(m: CaptureModel): PushModel | undefined {
  const root = m.tree.resources.get("/redfish/v1");
  const link =
    root?.kind === "json" && isRecord(root.body.UpdateService) ? root.body.UpdateService : undefined;
  const path = typeof link?.["@odata.id"] === "string" ? link["@odata.id"].replace(/\/+$/, "") : undefined;
  const r = path ? m.tree.resources.get(path) : undefined;
  if (r?.kind !== "json") return undefined;
  const us = r.body as Json;
  const uri = (v: unknown) =>
    typeof v === "string" && v.startsWith("/") ? v.replace(/\/+$/, "") : undefined;
  const httpPushUri = uri(us.HttpPushUri);
  const multipartUri = uri(us.MultipartHttpPushUri);
  if (!httpPushUri && !multipartUri) return undefined;
  const opts = isRecord(us.HttpPushUriOptions) ? us.HttpPushUriOptions.HttpPushUriApplyTime : undefined;
  const support = us["MultipartHttpPushUri@Redfish.OperationApplyTimeSupport"];
  const inv = isRecord(us.FirmwareInventory)
    ? m.tree.resources.get(String(us.FirmwareInventory["@odata.id"]))
    : undefined;
  const members = inv?.kind === "json" && Array.isArray(inv.body.Members) ? inv.body.Members : [];
  return {
    ...(httpPushUri ? { httpPushUri } : {}),
    httpPushApplyTime: isRecord(opts) && typeof opts.ApplyTime === "string" ? opts.ApplyTime : "Immediate",
    ...(multipartUri ? { multipartUri } : {}),
    multipartApplyTimes: (isRecord(support) && strings(support.SupportedValues)) || APPLY_TIMES,
    maxBytes: typeof us.MaxImageSizeBytes === "number" ? us.MaxImageSizeBytes : DEFAULT_MAX_IMAGE,
    inventory: members.flatMap((x) =>
      isRecord(x) && typeof x["@odata.id"] === "string" ? [x["@odata.id"].replace(/\/+$/, "")] : [],
    ),
  };
}

/** Checks `UpdateParameters` (JSON) and returns its Targets and apply time; refusals are Base messages. */
function updateParameters(p: PushModel, part: FormPart | undefined): { applyTime: string } {
  if (!part) throw httpError(400, "PropertyMissing", ["UpdateParameters"], ["#/UpdateParameters"]);
  let params: unknown;
  try {
    params = JSON.parse(part.data.toString("utf8"));
  } catch {
    throw httpError(400, "MalformedJSON");
  }
  if (!isRecord(params)) throw httpError(400, "MalformedJSON");
  for (const key of Object.keys(params)) {
    if (!UPDATE_PARAMETERS.includes(key) && !/^[A-Za-z_]*@(odata|Redfish|Message)\./.test(key))
      throw httpError(400, "PropertyUnknown", [key], [`#/${key}`]);
  }
  const targets = params.Targets ?? [];
  if (!Array.isArray(targets) || targets.some((t) => typeof t !== "string"))
    throw httpError(400, "PropertyValueTypeError", [JSON.stringify(targets), "Targets"], ["#/Targets"]);
  for (const t of targets as string[]) {
    const path = `/${t.replace(/^\/+/, "")}`.replace(/\/+$/, "");
    if (p.inventory.length > 0 && !p.inventory.includes(path))
      throw httpError(400, "PropertyValueNotInList", [t, "Targets"], ["#/Targets"]);
  }
  if (params.ForceUpdate !== undefined && typeof params.ForceUpdate !== "boolean") {
    throw httpError(
      400,
      "PropertyValueTypeError",
      [JSON.stringify(params.ForceUpdate), "ForceUpdate"],
      ["#/ForceUpdate"],
    );
  }
  const applyTime = params["@Redfish.OperationApplyTime"] ?? p.multipartApplyTimes[0] ?? "Immediate";
  if (typeof applyTime !== "string" || !p.multipartApplyTimes.includes(applyTime)) {
    throw httpError(
      400,
      "PropertyValueNotInList",
      [String(applyTime), "@Redfish.OperationApplyTime"],
      ["#/@Redfish.OperationApplyTime"],
    );
  }
  return { applyTime };
}

function contentTypeOf(headers: IncomingHttpHeaders): string {
  return (headers["content-type"] ?? "").trim();
}

/** A multipart push (DSP0266 "Multipart HTTP push updates"): `UpdateParameters` (JSON) and `UpdateFile`. */
function multipartPush(
  c: BmcContext,
  m: CaptureModel,
  p: PushModel,
  uri: string,
  raw: Buffer,
  type: string,
): Reply {
  const boundary = boundaryOf(type);
  if (!/^multipart\/form-data\b/i.test(type) || !boundary)
    throw unsupportedMediaType(type, "multipart/form-data with a boundary");
  const parts = parseFormData(raw, boundary);
  const { applyTime } = updateParameters(
    p,
    parts.find((x) => x.name === "UpdateParameters"),
  );
  const file = parts.find((x) => x.name === "UpdateFile");
  if (!file) throw httpError(400, "PropertyMissing", ["UpdateFile"], ["#/UpdateFile"]);
  const source = `${uri}#${file.filename ?? "UpdateFile"}`;
  const now = applyTime === "Immediate";
  return startUpdateTask(c, m, uri, source, now && m.spec.updateInstallsNow, pushed(source, file.data));
}

/**
 * UpdateService push updates where the capture advertises them (BlueField bmcweb: `HttpPushUri`
 * `/redfish/v1/UpdateService/update` and `MultipartHttpPushUri` `/update-multipart`; the DMTF rack-mount and
 * tower mockups: `HttpPushUri` `/FWUpdate`). `HttpPushUri` takes the image as the body
 * (`application/octet-stream`, or no Content-Type) and applies it at `HttpPushUriOptions.HttpPushUriApplyTime`;
 * `MultipartHttpPushUri` takes multipart/form-data with `UpdateParameters` (JSON: Targets, ForceUpdate,
 * `@Redfish.OperationApplyTime` among the advertised values) and `UpdateFile`. Like bmcweb, the `HttpPushUri`
 * also takes a multipart body. Either starts the SimpleUpdate install task with the pushed bytes: installed at
 * once with a reboot where the profile installs updates now (BlueField) and the apply time is Immediate, staged
 * until the next reset otherwise. Bodies beyond `MaxImageSizeBytes` are refused with 413.
 */
export function registerCapturePushUpdate(r: CaptureRouter, c: BmcContext, m: CaptureModel): void {
  const p = pushModel(m);
  if (!p) return;
  if (p.httpPushUri) {
    const uri = p.httpPushUri;
    r.overlay.add(uri, {
      rawPostBytes: p.maxBytes,
      POST: ({ headers, raw }) => {
        const type = contentTypeOf(headers);
        if (/^multipart\/form-data\b/i.test(type))
          return multipartPush(c, m, p, uri, raw ?? Buffer.alloc(0), type);
        if (type !== "" && !/^application\/octet-stream\b/i.test(type))
          throw unsupportedMediaType(type, "application/octet-stream");
        const bytes = raw ?? Buffer.alloc(0);
        if (bytes.length === 0) throw httpError(400, "PropertyMissing", ["UpdateFile"]);
        const now = p.httpPushApplyTime === "Immediate";
        return startUpdateTask(c, m, uri, uri, now && m.spec.updateInstallsNow, pushed(uri, bytes));
      },
    });
  }
  if (p.multipartUri) {
    const uri = p.multipartUri;
    r.overlay.add(uri, {
      rawPostBytes: p.maxBytes,
      POST: ({ headers, raw }) => multipartPush(c, m, p, uri, raw ?? Buffer.alloc(0), contentTypeOf(headers)),
    });
  }
}
