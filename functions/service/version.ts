import pkg from "../../package.json" with { type: "json" };

export const serviceVersion: string = pkg.version;
/** Written into every PDF as /Producer and /Creator. */
export const producer = `report-render ${pkg.version}`;
