import type { Readable } from "node:stream";

/**
 * Reads an undici response body to its end in flowing mode, handing each chunk to `onChunk`, which may throw to
 * stop (the body is destroyed and the promise rejects with that error).
 *
 * Never `for await` or `pipeline` an undici 7 body into a slower consumer: backpressure pauses its HTTP parser,
 * and when the server then closes the connection (BMCs and image servers often answer `Connection: close`),
 * undici throws an uncatchable `AssertionError: assert(!this.paused)` from the socket's end handler, which kills
 * the whole provider process (nodejs/undici#5360; fixed in undici 8, which needs Node 22.19). In flowing mode the
 * parser is never paused; a slower sink (a file) buffers instead.
 */
export function consumeBody(body: Readable, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    body.once("error", reject);
    body.once("end", resolve);
    body.on("data", (chunk: Buffer) => {
      try {
        onChunk(chunk);
      } catch (err) {
        body.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
