/**
 * npm run lint: the import graph's rules (dependency-cruiser). Tests and benches may reach into any
 * room to test it; the service's code may not.
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "An import cycle: one of the two modules belongs in the other, or both in a third.",
      from: {},
      to: { circular: true },
    },
    {
      name: "room-through-index",
      severity: "error",
      comment:
        "functions/core is in rooms: another room uses one only through its index.ts (its public surface). " +
        "The one exception is a module loaded on demand that its room's index names (secure/sign.ts).",
      from: { path: "^functions/core/([^/]+)/" },
      to: {
        path: "^functions/core/[^/]+/(?!index\\.ts$)",
        pathNot: "^functions/core/$1/",
        dependencyTypesNot: ["dynamic-import"],
      },
    },
    {
      name: "core-through-index",
      severity: "error",
      comment:
        "Outside its rooms (the spine render.ts, the kit, the packages, the service, the doors), the core is used through each room's index.ts.",
      from: { path: "^(functions/(?!core/)|functions/core/[^/]+\\.ts$|templates/|infra/|bin/)" },
      to: { path: "^functions/core/[^/]+/(?!index\\.ts$)", dependencyTypesNot: ["dynamic-import"] },
    },
    {
      name: "core-is-the-bottom",
      severity: "error",
      comment: "The core knows no door, no service, no package and no template: they are handed in.",
      from: { path: "^functions/core/" },
      to: { path: "^(functions/(?!core/)|templates/|infra/)" },
    },
    {
      name: "templates-use-the-kit",
      severity: "error",
      comment: "A template's code imports only the core's kit (functions/core/kit.ts) of the service's code.",
      from: { path: "^templates/" },
      to: { path: "^functions/", pathNot: "^functions/core/kit\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|cdk\\.out|scratch)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs"] },
  },
};
