/**
 * What this provider process has learned about BMCs it discovered or read (whether the DPU's system shows
 * BootProgress), so check() can refuse inputs that could not work on that BMC before anything touches it. The
 * engine gives check() only inputs, never the last discovery; a refresh (read) or an earlier operation in the same
 * process fills this in. Keyed by BMC origin and system id (or path) as the inputs name it; in memory only.
 */
const known = new Map<string, boolean>();

function keyOf(endpoint: string, system: string | undefined): string | undefined {
  try {
    return `${new URL(endpoint).origin}\u0000${system ?? ""}`;
  } catch {
    return undefined;
  }
}

/** Records whether system `systemId` (and `systemPath`) of the BMC at `endpoint` shows BootProgress. */
export function rememberBootProgress(
  endpoint: string,
  names: { readonly systemId: string; readonly systemPath: string; readonly requested?: string },
  supported: boolean,
): void {
  for (const n of [names.systemId, names.systemPath, names.requested]) {
    const k = keyOf(endpoint, n);
    if (k) known.set(k, supported);
  }
  // Inputs without bmc.systemId name the system this BMC's discovery chose.
  if (!names.requested) {
    const k = keyOf(endpoint, undefined);
    if (k) known.set(k, supported);
  }
}

/** Whether the system the inputs name shows BootProgress, when this process knows; else undefined. */
export function knownBootProgress(endpoint: string, systemId: string | undefined): boolean | undefined {
  const k = keyOf(endpoint, systemId);
  return k ? known.get(k) : undefined;
}
