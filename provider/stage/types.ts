import type { StagePart } from "./content";

/** An object put on the stage: where the BMC fetches it, and what it is. */
export interface StagedObject {
  /** URL the BMC fetches (never carries credentials). */
  readonly url: string;
  /** sha256 of the content (lower-case hex). */
  readonly sha256: string;
  readonly size: number;
}

/**
 * An open image stage for one install: objects are published by content digest, and `close()` removes them
 * (stops the built-in server, deletes uploads). Open it, publish, and only then talk to the BMC: a stage that
 * cannot be reached fails here, before the BMC is touched.
 */
export interface ImageStage {
  /** Human-readable stage location for messages (no credentials). */
  readonly label: string;
  /** Publishes the concatenation of `parts` as `<sha256>-<name>`. */
  publish(name: string, parts: readonly StagePart[]): Promise<StagedObject>;
  /** Removes everything this stage published and releases it. Idempotent. */
  close(): Promise<void>;
}
