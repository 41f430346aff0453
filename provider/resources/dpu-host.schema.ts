/** DpuHost inputs: the schema and its field rules live in the host domain (provider/host/inputs.schema.ts). */
export * from "../host/inputs.schema";
