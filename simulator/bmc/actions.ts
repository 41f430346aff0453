import { httpError, message, RedfishHttpError, type RedfishMessage } from "./errors";
import type { Reply } from "./router";

/** Parameters an action accepts. */
export interface ActionParams {
  readonly required?: readonly string[];
  readonly optional?: readonly string[];
}

/**
 * Checks an action body: JSON object (an absent body counts as `{}`), no unknown parameters
 * (`ActionParameterUnknown`), required ones present (`ActionParameterMissing`).
 */
export function actionBody(body: unknown, action: string, params: ActionParams): Record<string, unknown> {
  const b = body === undefined ? {} : body;
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw httpError(400, "MalformedJSON");
  const rec = b as Record<string, unknown>;
  const known = new Set([...(params.required ?? []), ...(params.optional ?? [])]);
  const problems: RedfishMessage[] = [];
  for (const k of Object.keys(rec)) {
    if (!known.has(k) && !k.includes("@"))
      problems.push(message("ActionParameterUnknown", [action, k], [`#/${k}`]));
  }
  for (const k of params.required ?? []) {
    if (rec[k] === undefined || rec[k] === null)
      problems.push(message("ActionParameterMissing", [action, k], [`#/${k}`]));
  }
  if (problems.length > 0) throw new RedfishHttpError(400, problems);
  return rec;
}

/** Checks a string parameter against allowable values. */
export function enumParam(
  rec: Record<string, unknown>,
  key: string,
  action: string,
  allowed: readonly string[],
): string | undefined {
  const v = rec[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") {
    throw httpError(400, "ActionParameterValueTypeError", [JSON.stringify(v), key, action], [`#/${key}`]);
  }
  if (!allowed.includes(v))
    throw httpError(400, "ActionParameterValueNotInList", [v, key, action], [`#/${key}`]);
  return v;
}

/** A string parameter (or undefined); wrong type → 400. */
export function stringParam(rec: Record<string, unknown>, key: string, action: string): string | undefined {
  const v = rec[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    throw httpError(400, "ActionParameterValueTypeError", [JSON.stringify(v), key, action], [`#/${key}`]);
  }
  return v;
}

/** Success reply of an action in the profile's style: 204, or 200 with a Success message (bmcweb). */
export function actionOk(status: 200 | 204): Reply {
  return status === 204
    ? { status: 204 }
    : { status: 200, body: { "@Message.ExtendedInfo": [message("Success")] } };
}
