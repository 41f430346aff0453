/** Lab PKI for the simulator's HTTPS endpoints. */
export { createLabPki, type LabPki } from "./pki";
