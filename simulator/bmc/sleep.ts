/** Thrown when work is abandoned (BMC closing, or superseded by a newer reset). */
export class Cancelled extends Error {
  constructor() {
    super("cancelled");
  }
}

/** Sleeps `ms` (0 → next tick); rejects with {@link Cancelled} when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Cancelled());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Cancelled());
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
