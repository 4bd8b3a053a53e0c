import { createCipheriv, createHash, randomBytes } from "node:crypto";
import type { EncryptOptions } from "../types.ts";
import { passwordBytes } from "./saslprep.ts";

/**
 * The standard security handler's key material for AES-256 (V 5, R 6: ISO 32000-2, 7.6.4.3.3–4,
 * algorithms 2.B, 8, 9 and 10): a random 32-byte file key, wrapped once for each password.
 */
export interface SecurityKeys {
  /** Encrypts every string and stream (AESV3 uses it as it is, for every object). */
  fileKey: Buffer;
  /** The /Encrypt dictionary, `<<` … `>>`. */
  dictionary: string;
  /** The /P value: the permissions as a signed 32-bit integer. */
  permissions: number;
}

/** User access permission bits (ISO 32000-2, table 22), 1-based as the standard numbers them. */
const bit = (n: number) => 2 ** (n - 1);
const PRINT = bit(3) | bit(12); // print, and at full quality
const MODIFY = bit(4) | bit(6) | bit(9) | bit(11); // contents; annotations and forms; fill in forms; assemble
const COPY = bit(5); // copy and extract text and graphics
const ACCESSIBILITY = bit(10); // extraction for accessibility: always allowed (PDF 2.0 deprecates refusing it)
/** Bits 7, 8 and 13–32 are reserved and must be 1; bits 1 and 2 must be 0. */
const RESERVED = 0xffff_f0c0;

/** /P for the options' permissions (each defaults to allowed), as the signed integer the file holds. */
function permissionBits(permissions: EncryptOptions["permissions"] = {}): number {
  let p = RESERVED | ACCESSIBILITY;
  if (permissions.print !== false) p |= PRINT;
  if (permissions.modify !== false) p |= MODIFY;
  if (permissions.copy !== false) p |= COPY;
  return p | 0;
}

/**
 * Key material for these options. Only a user password: the owner password is random (nobody
 * holds it: the permissions cannot be lifted). Only an owner password: the user password is empty
 * (the file opens without one, with the permissions enforced).
 */
export function securityKeys(options: EncryptOptions): SecurityKeys {
  const user = passwordBytes(options.userPassword ?? "");
  const owner = options.ownerPassword === undefined ? randomBytes(32) : passwordBytes(options.ownerPassword);
  const fileKey = randomBytes(32);
  const permissions = permissionBits(options.permissions);

  // Algorithm 8: U = hash(user, validation salt) ‖ validation salt ‖ key salt; UE wraps the key.
  const [userCheck, userKeySalt] = [randomBytes(8), randomBytes(8)];
  const u = Buffer.concat([hash(user, userCheck), userCheck, userKeySalt]);
  const ue = aes256NoPadding("aes-256-cbc", hash(user, userKeySalt), fileKey);
  // Algorithm 9: the same with the owner password, U mixed into every hash.
  const [ownerCheck, ownerKeySalt] = [randomBytes(8), randomBytes(8)];
  const o = Buffer.concat([hash(owner, ownerCheck, u), ownerCheck, ownerKeySalt]);
  const oe = aes256NoPadding("aes-256-cbc", hash(owner, ownerKeySalt, u), fileKey);
  // Algorithm 10: /Perms, the permissions sealed with the file key so that they cannot be edited.
  const perms = Buffer.alloc(16);
  perms.writeInt32LE(permissions, 0);
  perms.writeUInt32LE(0xffff_ffff, 4);
  perms.write("Tadb", 8, "latin1"); // T: /EncryptMetadata true
  randomBytes(4).copy(perms, 12);
  const sealed = aes256NoPadding("aes-256-ecb", fileKey, perms);

  const hex = (b: Buffer) => `<${b.toString("hex").toUpperCase()}>`;
  const dictionary =
    "<</Filter /Standard /V 5 /R 6 /Length 256" +
    " /CF <</StdCF <</Type /CryptFilter /CFM /AESV3 /AuthEvent /DocOpen /Length 32>>>> /StmF /StdCF /StrF /StdCF" +
    ` /O ${hex(o)} /U ${hex(u)} /OE ${hex(oe)} /UE ${hex(ue)} /Perms ${hex(sealed)} /P ${permissions}` +
    " /EncryptMetadata true>>";
  return { fileKey, dictionary, permissions };
}

/**
 * Algorithm 2.B: the hash of a password with a salt (and, for the owner password, the 48 bytes of
 * /U), 64 or more rounds of AES-128-CBC over 64 copies of the input, each round's digest (SHA-256,
 * -384 or -512) chosen by the previous round's output. Returns 32 bytes.
 */
function hash(password: Uint8Array, salt: Uint8Array, userKey: Uint8Array = new Uint8Array(0)): Buffer {
  let k = createHash("sha256").update(password).update(salt).update(userKey).digest();
  let e = Buffer.alloc(0);
  for (let round = 0; round < 64 || (e.at(-1) ?? 0) > round - 32; round++) {
    const block = Buffer.concat([password, k, userKey]);
    const k1 = Buffer.alloc(block.length * 64);
    for (let i = 0; i < 64; i++) block.copy(k1, i * block.length);
    const cipher = createCipheriv("aes-128-cbc", k.subarray(0, 16), k.subarray(16, 32)).setAutoPadding(false);
    e = Buffer.concat([cipher.update(k1), cipher.final()]);
    // The first 16 bytes as a big-endian number mod 3: as 256 ≡ 1 (mod 3), the sum of the bytes mod 3.
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += e[i] as number;
    k = createHash(["sha256", "sha384", "sha512"][sum % 3] as string)
      .update(e)
      .digest();
  }
  return k.subarray(0, 32);
}

function aes256NoPadding(algorithm: "aes-256-cbc" | "aes-256-ecb", key: Buffer, data: Buffer): Buffer {
  const iv = algorithm === "aes-256-cbc" ? Buffer.alloc(16) : null;
  const cipher = createCipheriv(algorithm, key, iv).setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}
