// The host-backed mocks moved to the product's engine stand-in (engine/), which the demo uses too.
export { type HostMocksOptions, type HostStep, installHostMocks, settle } from "../../engine";
