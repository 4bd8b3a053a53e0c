import { isIPv4, isIPv6 } from "node:net";

/**
 * Which addresses a callback must not reach unless its host is listed as that very address: the
 * service's own machine, the networks around it and the cloud's metadata endpoints (SSRF). An
 * address is bytes, so every spelling of one (`::ffff:127.0.0.1`, `::ffff:7f00:1`, `64:ff9b::7f00:1`)
 * is judged by the IPv4 address it carries.
 */
export type AddressRange =
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "unique-local"
  | "carrier-grade NAT"
  | "multicast"
  | "reserved";

type Cidr = [range: AddressRange, prefix: number[], bits: number];

// RFC 6890's special-purpose registries, what is not globally reachable.
const V4: Cidr[] = [
  ["unspecified", [0], 8],
  ["private", [10], 8],
  ["carrier-grade NAT", [100, 64], 10],
  ["loopback", [127], 8],
  ["link-local", [169, 254], 16],
  ["private", [172, 16], 12],
  ["reserved", [192, 0, 0], 24],
  ["reserved", [192, 0, 2], 24],
  ["reserved", [192, 88, 99], 24],
  ["private", [192, 168], 16],
  ["reserved", [198, 18], 15],
  ["reserved", [198, 51, 100], 24],
  ["reserved", [203, 0, 113], 24],
  ["multicast", [224], 4],
  ["reserved", [240], 4],
];

const V6: Cidr[] = [
  ["unspecified", new Array(16).fill(0), 128],
  ["loopback", [...new Array(15).fill(0), 1], 128],
  ["reserved", [0], 8], // ::/8 beyond the two above: IPv4-compatible and other unassigned forms
  ["reserved", [0, 0x64, 0xff, 0x9b, 0, 1], 48], // local-use NAT64
  ["reserved", [1, 0, 0, 0, 0, 0, 0, 0], 64], // discard-only
  ["reserved", [0x20, 0x01, 0, 0], 32], // Teredo (carries an obscured IPv4 address)
  ["reserved", [0x20, 0x01, 0x0d, 0xb8], 32], // documentation
  ["reserved", [0x20, 0x01, 0x00, 0x10], 28], // ORCHID
  ["unique-local", [0xfc], 7],
  ["link-local", [0xfe, 0x80], 10],
  ["reserved", [0xfe, 0xc0], 10], // site-local (deprecated)
  ["multicast", [0xff], 8],
];

/** The range `address` (an IPv4 or IPv6 literal, no brackets) lies in; undefined for a public one. */
export function addressRange(address: string): AddressRange | undefined {
  const bytes = addressBytes(address);
  if (!bytes) return "reserved"; // not an address at all: never a place to connect to
  const v4 = bytes.length === 4 ? bytes : embeddedIPv4(bytes);
  if (v4) return match(V4, v4);
  return match(V6, bytes);
}

function match(table: Cidr[], bytes: number[]): AddressRange | undefined {
  return table.find(([, prefix, bits]) => inPrefix(bytes, prefix, bits))?.[0];
}

function inPrefix(bytes: number[], prefix: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((prefix[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 address stands for: mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
function embeddedIPv4(b: number[]): number[] | undefined {
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12);
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return b.slice(12);
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6);
  return undefined;
}

/** An address literal as bytes (4 or 16), or undefined if it is none. */
function addressBytes(address: string): number[] | undefined {
  if (isIPv4(address)) return address.split(".").map(Number);
  if (!isIPv6(address)) return undefined;
  // A zone id names an interface, not an address; a dotted IPv4 tail is two groups.
  const text = (address.split("%")[0] as string).replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [Number(a) * 256 + Number(b), Number(c) * 256 + Number(d)].map((g) => g.toString(16)).join(":"),
  );
  const groups = (part: string) => (part ? part.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const [head = "", rest] = text.split("::");
  const before = groups(head);
  const after = rest === undefined ? [] : groups(rest);
  const zeros = new Array(8 - before.length - after.length).fill(0);
  return [...before, ...zeros, ...after].flatMap((g) => [g >> 8, g & 0xff]);
}
