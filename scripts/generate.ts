/**
 * `npm run generate`: rewrites every file derived from the providers' zod schemas: `schema.json`, the SDK's
 * generated types, metadata (secret paths, observed keys) and resource output properties. The tests in test/schema fail when
 * a checked-in file differs from what this writes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { schemaText } from "./gen-schema";
import { generateSdkMetadata, SDK_METADATA_FILE } from "./gen-sdk-metadata";
import { generateSdkOutputs, SDK_OUTPUTS_FILE } from "./gen-sdk-outputs";
import { generateSdkTypes, SDK_TYPES_FILE } from "./gen-sdk-types";

const ROOT = path.resolve(__dirname, process.env.PULUMI_DPU_REPO_ROOT ?? "../../..");

function write(rel: string, text: string): void {
  const file = path.join(ROOT, rel);
  const before = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (before === text) {
    console.log(`unchanged ${rel}`);
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  console.log(`wrote ${rel}`);
}

write("schema.json", schemaText());
write(SDK_TYPES_FILE, generateSdkTypes());
write(SDK_METADATA_FILE, generateSdkMetadata());
write(SDK_OUTPUTS_FILE, generateSdkOutputs());
