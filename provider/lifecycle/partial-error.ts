import { redact } from "../log";

/**
 * The error a dynamic provider throws when create or update changed the hardware and then failed: the engine
 * records the resource as partial with `id` and `properties`, so the next `pulumi up` updates it instead of
 * creating it again. The message and the reason are redacted (registered secrets, URL userinfo).
 */
export function partialError(message: string, id: string, properties: object): Error {
  const clean = redact(message);
  return Object.assign(new Error(clean), { id, properties, reasons: [clean] });
}
