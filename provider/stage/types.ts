import { measure, objectKey, type StageContent, StageError, type StagePart } from "./content";

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
  /**
   * Takes over object `key` (`<sha256>-<name>`) an earlier install put on this stage and never removed (its
   * provider process was killed): `close()` removes it with this stage's own. A no-op where the objects lived in
   * the earlier process only (the built-in server).
   */
  adopt(key: string): void;
  /** Removes everything this stage published and releases it. Idempotent. */
  close(): Promise<void>;
}

/**
 * An {@link ImageStage} from its two transport steps: `put` stores one measured object under its key and returns
 * the URL the BMC fetches it from; `release` removes what was stored and frees the transport; `adopt` adds an
 * object an earlier install left to what `release` removes. Publishing after `close()` is an error; `close()`
 * runs `release` once.
 */
export function contentStage(
  label: string,
  put: (key: string, content: StageContent) => Promise<string>,
  release: () => Promise<void>,
  adopt: (key: string) => void = () => undefined,
): ImageStage {
  let closed = false;
  return {
    label,
    async publish(name: string, parts: readonly StagePart[]): Promise<StagedObject> {
      if (closed) throw new StageError(`publish ${name} on ${label}: the stage is closed`);
      const content = await measure(parts);
      const key = objectKey(content.sha256, name);
      const url = await put(key, content);
      return { url, sha256: content.sha256, size: content.size };
    },
    adopt(key: string): void {
      if (closed) throw new StageError(`adopt ${key} on ${label}: the stage is closed`);
      const m = /^([0-9a-f]{64})-(.+)$/.exec(key);
      if (!m)
        throw new StageError(
          `adopt ${JSON.stringify(key)} on ${label}: not a staged object (<sha256>-<name>)`,
        );
      adopt(objectKey(m[1] as string, m[2] as string));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await release();
    },
  };
}
