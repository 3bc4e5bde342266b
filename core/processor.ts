/**
 * Stopping a processor the runtime deployed to, used by `delete` (after the
 * proxy was killed) and by `start` when it rolls back.
 *
 * @module
 */
import { DeviceError } from "./errors.ts";
import { sleep } from "./locks.ts";
import { type DeviceRef, label, type Sysfs } from "./sysfs.ts";

/**
 * Brings a processor to `offline`. A crashed core cannot be stopped on
 * kernels before the "allow shutdown of crashed processors" change, so it
 * is recovered (`recovery` <- `recover`, which reboots it from the same
 * firmware file) and then stopped.
 *
 * @param sysfs Sysfs access.
 * @param device The processor.
 * @param timeoutMs How long to wait for each transition.
 * @throws {DeviceError} When it does not go offline.
 */
export async function stopProcessor(
  sysfs: Sysfs,
  device: DeviceRef,
  timeoutMs: number,
): Promise<void> {
  let state = sysfs.readState(device);
  if (state === "offline") return;
  if (state === "crashed") {
    try {
      sysfs.writeState(device, "stop");
    } catch {
      sysfs.writeRecovery(device, "recover");
      await waitFor(
        sysfs,
        device,
        (s) => s === "running" || s === "offline",
        timeoutMs,
      );
    }
    state = sysfs.readState(device);
  }
  if (state === "running" || state === "attached") {
    sysfs.writeState(device, "stop");
  }
  await waitFor(sysfs, device, (s) => s === "offline", timeoutMs);
}

async function waitFor(
  sysfs: Sysfs,
  device: DeviceRef,
  done: (state: string) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = sysfs.readState(device);
    if (done(state)) return;
    if (Date.now() > deadline) {
      throw new DeviceError(
        `${
          label(device)
        } did not go offline within ${timeoutMs} ms (it reads "${state}")`,
      );
    }
    await sleep(2);
  }
}
