/**
 * Every test file gets its own provider state directory (`PULUMI_DPU_STATE_DIR`: BMC session records and
 * DpuHost claims), removed after the file. Labs reuse ports, and simulated DPUs keep their names and UUIDs from
 * one lab to the next, so a claim or session record another file left in a shared directory would otherwise
 * decide this file's outcome (and the operator's own ~/.pulumi-dpu is never touched by tests). A file that sets
 * its own directory (kill and claim tests hand theirs to child processes) simply overrides it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "pdu-state-"));
process.env.PULUMI_DPU_STATE_DIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
