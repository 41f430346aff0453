/** The live fleet dashboard of the DPU lab: page, JSON snapshot and Server-Sent Events, and the observer. */
export {
  createDashboard,
  type Dashboard,
  type DashboardOptions,
  type DashboardStats,
} from "./dashboard-routes";
export { dpuStatus, FleetObserver, type FleetObserverOptions, summarize } from "./fleet-observer";
export type {
  AddressView,
  DashboardTarget,
  DpuStatus,
  DpuView,
  FleetSnapshot,
  FleetSummary,
  LinkView,
  WorkloadView,
} from "./fleet-types";
export { parseIpAddr } from "./kernel-view";
export { dashboardPage } from "./page";
