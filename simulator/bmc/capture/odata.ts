import type { Router } from "../router";

type Json = Record<string, unknown>;

/** The DMTF CSDL namespaces behind resource types (`#ComputerSystem.v1_27_0.ComputerSystem`). */
function namespacesOf(types: Iterable<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const t of types) {
    const m = /^#([A-Za-z0-9]+)\.(?:(v\d+_\d+_\d+)\.)?[A-Za-z0-9]+$/.exec(t);
    if (!m?.[1]) continue;
    const set = out.get(m[1]) ?? new Set<string>([m[1]]);
    if (m[2]) set.add(`${m[1]}.${m[2]}`);
    out.set(m[1], set);
  }
  return out;
}

/**
 * A CSDL `$metadata` document referencing the DMTF schema of every resource type served, with the `Service`
 * entity container extending the service root's.
 */
export function metadataXml(types: Iterable<string>): string {
  const ns = namespacesOf(["#ServiceRoot.ServiceRoot", "#Resource.Resource", "#Message.Message", ...types]);
  const root = [...(ns.get("ServiceRoot") ?? [])].find((n) => n.includes(".v")) ?? "ServiceRoot.v1_0_0";
  const refs = [...ns.keys()].sort().map((name) => {
    const includes = [...(ns.get(name) ?? [])]
      .sort()
      .map((n) => `    <edmx:Include Namespace="${n}"/>`)
      .join("\n");
    return `  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/${name}_v1.xml">\n${includes}\n  </edmx:Reference>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
    ...refs,
    "  <edmx:DataServices>",
    '    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">',
    `      <EntityContainer Name="Service" Extends="${root}.ServiceContainer"/>`,
    "    </Schema>",
    "  </edmx:DataServices>",
    "</edmx:Edmx>",
    "",
  ].join("\n");
}

/** The OData service document: one entry per top-level link of the service root. */
export function odataServiceDocument(root: Json): Json {
  const value: Json[] = [{ name: "Service", kind: "Singleton", url: "/redfish/v1/" }];
  for (const [k, v] of Object.entries(root)) {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const id = (v as Json)["@odata.id"];
      if (typeof id === "string") value.push({ name: k, kind: "Singleton", url: id });
    }
  }
  return { "@odata.context": "/redfish/v1/$metadata", value };
}

/** Resource types the hand-written profiles serve (their `$metadata` references these). */
export const HANDWRITTEN_TYPES = [
  "#ServiceRoot.v1_20_0.ServiceRoot",
  "#ComputerSystemCollection.ComputerSystemCollection",
  "#ComputerSystem.v1_27_0.ComputerSystem",
  "#ManagerCollection.ManagerCollection",
  "#Manager.v1_24_0.Manager",
  "#ChassisCollection.ChassisCollection",
  "#Chassis.v1_28_0.Chassis",
  "#VirtualMediaCollection.VirtualMediaCollection",
  "#VirtualMedia.v1_6_5.VirtualMedia",
  "#UpdateService.v1_17_0.UpdateService",
  "#SoftwareInventoryCollection.SoftwareInventoryCollection",
  "#SoftwareInventory.v1_13_0.SoftwareInventory",
  "#TaskService.v1_3_0.TaskService",
  "#TaskCollection.TaskCollection",
  "#Task.v1_7_4.Task",
  "#SessionService.v1_2_0.SessionService",
  "#SessionCollection.SessionCollection",
  "#Session.v1_8_0.Session",
  "#EthernetInterfaceCollection.EthernetInterfaceCollection",
  "#EthernetInterface.v1_12_4.EthernetInterface",
  "#ActionInfo.v1_5_0.ActionInfo",
  "#Settings.v1_4_0.Settings",
];

/**
 * Registers `/redfish/v1/$metadata` (CSDL XML) and `/redfish/v1/odata` (service document), each only when its
 * source is given, both readable without authentication as the Redfish specification requires.
 */
export function registerOdata(
  r: Router,
  src: { readonly metadata?: () => string; readonly root?: () => Json | Promise<Json> },
): void {
  const { metadata, root } = src;
  if (metadata) {
    r.add("/redfish/v1/$metadata", {
      public: ["GET"],
      GET: () => ({
        status: 200,
        body: metadata(),
        headers: { "Content-Type": "application/xml; charset=utf-8" },
      }),
    });
  }
  if (root) {
    r.add("/redfish/v1/odata", {
      public: ["GET"],
      GET: async () => ({ status: 200, body: odataServiceDocument(await root()) }),
    });
  }
}
