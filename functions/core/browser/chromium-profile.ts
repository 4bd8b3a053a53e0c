/**
 * Chromium's profile folders. Puppeteer's own (one per launch, in the temp folder) are removed when
 * Chromium exits, but only while the Node process that launched it is alive: a process that dies
 * first (a Lambda runtime killed at its timeout or out of memory, restarted in the same execution
 * environment, which keeps /tmp) leaves 5 MB behind each time. So the service makes its own, named
 * for the process that made them, and each launch first removes those of processes that no longer
 * run, and those of this process's pid that it did not make (a restarted runtime may get the pid
 * of the one that died).
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "report-render-profile-";
/** A profile folder's name, with the pid of the process that made it. */
const PROFILE_NAME = new RegExp(`^${PREFIX}(\\d+)-`);

/** The profile folders this process made and has not removed yet. */
const made = new Set<string>();

// This process exiting (process.exit, the end of its event loop) before a browser it is launching
// is up: the launcher kills that Chromium, and its folder goes here.
process.on("exit", () => {
  for (const dir of made) removeProfile(dir);
});

/** A new profile folder for one Chromium, after removing those that dead processes left. */
export async function newProfile(): Promise<string> {
  await removeOrphanedProfiles();
  // Counted as made before it exists: another browser's launch (this renderer's or another's in this
  // process) sweeping meanwhile must never take it for an orphan and remove it under its Chromium.
  const dir = join(tmpdir(), `${PREFIX}${process.pid}-${randomUUID()}`);
  made.add(dir);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    made.delete(dir);
    throw e;
  }
  return dir;
}

/** Removes a profile folder once its Chromium has exited (at once: a few files). Never throws. */
export function removeProfile(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
    made.delete(dir);
  } catch {
    // Left for the next launch's sweep.
  }
}

/** Removes the profile folders in the temp folder that no running process of theirs made. */
async function removeOrphanedProfiles(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  const orphaned = names.filter((name) => {
    const pid = Number(PROFILE_NAME.exec(name)?.[1] ?? Number.NaN);
    if (Number.isNaN(pid)) return false;
    return pid === process.pid ? !made.has(join(tmpdir(), name)) : !isRunning(pid);
  });
  for (const name of orphaned) {
    const dir = join(tmpdir(), name);
    if (made.has(dir)) continue; // made by this process since the listing
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // running, as another user
  }
}
