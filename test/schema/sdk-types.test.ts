import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { generateSdkMetadata, SDK_METADATA_FILE } from "../../scripts/gen-sdk-metadata";
import { generateSdkOutputs, SDK_OUTPUTS_FILE } from "../../scripts/gen-sdk-outputs";
import { generateSdkTypes, SDK_TYPES_FILE } from "../../scripts/gen-sdk-types";

// The SDK's Args/State types are generated from the zod schemas (the one source of truth for fields and their
// descriptions). A checked-in file that differs from the generator's output is stale: run `npm run generate`.

const ROOT = path.resolve(__dirname, "../..");

describe("generated SDK types", () => {
  it(`${SDK_TYPES_FILE} is what scripts/gen-sdk-types.ts generates`, () => {
    const expected = generateSdkTypes();
    const actual = fs.readFileSync(path.join(ROOT, SDK_TYPES_FILE), "utf8");
    expect(actual === expected, `${SDK_TYPES_FILE} is stale: run \`npm run generate\``).toBe(true);
  });

  it(`${SDK_METADATA_FILE} (secret paths, observed keys) is what scripts/gen-sdk-metadata.ts generates`, () => {
    const expected = generateSdkMetadata();
    const actual = fs.readFileSync(path.join(ROOT, SDK_METADATA_FILE), "utf8");
    expect(actual === expected, `${SDK_METADATA_FILE} is stale: run \`npm run generate\``).toBe(true);
  });

  it(`${SDK_OUTPUTS_FILE} (resource output properties with TSDoc) is what scripts/gen-sdk-outputs.ts generates`, () => {
    const expected = generateSdkOutputs();
    const actual = fs.readFileSync(path.join(ROOT, SDK_OUTPUTS_FILE), "utf8");
    expect(actual === expected, `${SDK_OUTPUTS_FILE} is stale: run \`npm run generate\``).toBe(true);
    const props = expected.match(/^ {2}readonly \w+: /gm) ?? [];
    const documented = expected.match(/\*\/\n {2}readonly \w+: /gm) ?? [];
    expect(props.length).toBeGreaterThan(50);
    expect(documented.length).toBe(props.length);
  });

  it("every input field carries its description as TSDoc", () => {
    const text = generateSdkTypes();
    const fields = text.match(/^ {2}\w+\??: /gm) ?? [];
    const documented = text.match(/\*\/\n {2}\w+\??: /gm) ?? [];
    expect(fields.length).toBeGreaterThan(100);
    expect(documented.length).toBe(fields.length);
  });
});
