/**
 * Chromium's profile folders. Puppeteer makes one in the temp folder per launch and removes it when
 * Chromium exits, but only while the Node process that launched it is alive: a process that dies
 * first (a Lambda runtime killed at its timeout or out of memory, restarted in the same execution
 * environment, which keeps /tmp) leaves 5 MB behind each time. So the folders are named for the
 * process that made them, and each launch first removes those of processes that no longer run.
 */
import { rmSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "report-render-profile-";

/** A new profile folder for one Chromium, after removing those that dead processes left. */
export async function newProfile(): Promise<string> {
  await removeOrphanedProfiles();
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
}

/** Removes a profile folder once its Chromium has exited (at once: a few files). Never throws. */
export function removeProfile(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left for the next launch's sweep.
  }
}

/** The profile folders in the temp folder whose process no longer runs. */
async function removeOrphanedProfiles(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  const orphaned = names.filter((name) => {
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    return pid !== undefined && !isRunning(Number(pid));
  });
  for (const name of orphaned) await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // running, as another user
  }
}
