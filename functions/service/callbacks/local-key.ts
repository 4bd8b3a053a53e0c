import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CallbackSettings } from "./callback-settings.ts";

/** Where `npm start` keeps the callback signing key it generated, in its data folder. */
export const LOCAL_KEY_FILE = "callback-secret";

/**
 * `npm start` without CALLBACK_SECRET (or CALLBACK_SECRET_ARN): a key generated on the first start
 * (32 random bytes, hex) and kept in `dataDir`, readable by its owner only, so that receivers set up
 * once keep verifying across restarts. Returns the settings with it, and the file it is in.
 */
export async function withLocalKey(
  settings: CallbackSettings,
  dataDir: string,
): Promise<{ settings: CallbackSettings; file?: string }> {
  if (settings.secret || settings.secretArn) return { settings };
  const file = join(dataDir, LOCAL_KEY_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const secret = (await readFile(file, "utf8")).trim();
  if (secret.length < 32)
    throw new Error(`${file} must hold a key of at least 32 characters (delete it for a new one)`);
  return { settings: { ...settings, secret }, file };
}
