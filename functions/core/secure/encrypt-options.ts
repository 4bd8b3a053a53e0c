import { PasswordError, passwordBytes } from "./saslprep.ts";
import type { Issue, RenderOptions } from "../types.ts";

/**
 * `options.pdf.encrypt` passwords that the schema lets through but that cannot make a sound file,
 * refused before any work (InputError "invalid_options", HTTP 422). No message quotes a password.
 * - a password SASLprep refuses (a control character, mixed writing directions, …);
 * - an owner password that SASLprep leaves empty (anyone would open the file as its owner);
 * - an owner password that is the user password (as a reader compares them: prepared, 127 bytes)
 *   while permissions are withheld: whoever opens the file would have the owner's rights.
 */
export function encryptOptionIssues(options: RenderOptions): Issue[] {
  const encrypt = options.pdf?.encrypt;
  if (!encrypt) return [];
  const issues: Issue[] = [];
  const prepared = (key: "userPassword" | "ownerPassword"): Buffer | undefined => {
    const password = encrypt[key];
    if (password === undefined) return undefined;
    const path = `/options/pdf/encrypt/${key}`;
    try {
      const bytes = passwordBytes(password);
      if (key === "ownerPassword" && bytes.length === 0) {
        issues.push({
          rule: "pdf-options",
          path,
          message: "is empty once SASLprep has removed what it maps to nothing",
        });
      }
      return bytes;
    } catch (e) {
      if (!(e instanceof PasswordError)) throw e;
      issues.push({ rule: "pdf-options", path, message: `the password ${e.message}` });
      return undefined;
    }
  };
  const user = prepared("userPassword");
  const owner = prepared("ownerPassword");
  const withheld = Object.values(encrypt.permissions ?? {}).includes(false);
  if (user && owner && withheld && user.equals(owner)) {
    issues.push({
      rule: "pdf-options",
      path: "/options/pdf/encrypt/ownerPassword",
      message: "is the user password: whoever opens the file would have the owner's rights, not the permissions",
    });
  }
  return issues;
}
