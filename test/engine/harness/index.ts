export * from "../../../engine";
