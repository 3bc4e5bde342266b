/**
 * Finding the processor a container names, and claiming it exclusively.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import { NAME_ANNOTATION } from "../container/annotations.ts";
import { ConfigError, DeviceError, fileError } from "../util/errors.ts";
import { claimsDir, type Roots } from "../container/paths.ts";
import {
  NAME_ENV,
  placesLooked,
  type SelectionInput,
  selectProcessor,
} from "./selection.ts";
import { type Device, label, type Sysfs } from "./sysfs.ts";
import { holdsProcessor } from "../container/takeover.ts";

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;

/**
 * Finds the processor a container asks for (core/device/selection.ts: its
 * `remoteproc.name` annotation, the pod's, or `REMOTEPROC_NAME`): a
 * processor `name`, or `remoteprocN` to pick one of several with the same
 * name (i.MX names every core `imx-rproc`).
 *
 * @param sysfs Sysfs access.
 * @param input The container's annotations and environment, and its pod's
 * annotations when known.
 * @returns The processor.
 * @throws {ConfigError} When no name is given, or it is malformed.
 * @throws {DeviceError} When no processor, or more than one, matches.
 */
export function resolveDevice(sysfs: Sysfs, input: SelectionInput): Device {
  const selected = selectProcessor(input);
  const devices = sysfs.listDevices();
  const available = devices.length > 0
    ? devices.map((d) => `${d.name} (${d.index})`).join(", ")
    : "none";
  if (selected === undefined) {
    throw new ConfigError(
      `annotation ${NAME_ANNOTATION} is required (or ${NAME_ENV} in process.env): it names the processor to deploy to (looked at ${
        placesLooked(input)
      }; available: ${available})`,
    );
  }
  const wanted = selected.name;
  if (!NAME_PATTERN.test(wanted)) {
    throw new ConfigError(
      `${selected.text} is not a processor name: ${JSON.stringify(wanted)}`,
    );
  }
  const byIndex = devices.find((d) => d.index === wanted);
  if (byIndex) return byIndex;
  const matches = devices.filter((d) => d.name === wanted);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new DeviceError(
      `several processors are named "${wanted}" (${
        matches.map((d) => d.index).join(", ")
      }): set ${selected.key} to one of those`,
    );
  }
  throw new DeviceError(
    `no remote processor named "${wanted}" (available: ${available})`,
  );
}

/** Who holds a processor. */
export interface Claim {
  /** Container id. */
  id: string;
  /** The holder's state directory. */
  dir: string;
  /**
   * The stored firmware name, once `start` chose it: lets `delete --force`
   * clean up after a container whose state file is lost.
   */
  firmware?: string;
}

/**
 * Claims a processor for a container. One container per processor, across
 * concurrent invocations and across state roots: the claim lives in a
 * global directory and is taken under an exclusive lock. A claim whose
 * holder is gone or has stopped is taken over (core/container/takeover.ts).
 *
 * @param roots The roots in use.
 * @param device The processor.
 * @param claim The claiming container.
 * @throws {DeviceError} Naming the container that holds it.
 */
export function claimDevice(roots: Roots, device: Device, claim: Claim): void {
  withClaimsLock(roots, (dir) => {
    const path = join(dir, device.index);
    const holder = readClaim(path);
    if (holder && !sameClaim(holder, claim) && holdsProcessor(holder.dir)) {
      throw new DeviceError(
        `${label(device)} is in use by container ${holder.id}`,
      );
    }
    try {
      Deno.writeTextFileSync(path, JSON.stringify(claim), { mode: 0o600 });
    } catch (error) {
      throw fileError("write", path, error);
    }
  });
}

/**
 * Releases a claim if this container holds it.
 *
 * @param roots The roots in use.
 * @param index The processor's `remoteprocN`.
 * @param claim The container releasing it.
 */
export function releaseClaim(roots: Roots, index: string, claim: Claim): void {
  withClaimsLock(roots, (dir) => {
    const path = join(dir, index);
    const holder = readClaim(path);
    if (!holder || !sameClaim(holder, claim)) return;
    try {
      Deno.removeSync(path);
    } catch (error) {
      throw fileError("remove", path, error);
    }
  });
}

/**
 * Reads who holds a processor.
 *
 * @param roots The roots in use.
 * @param index The processor's `remoteprocN`.
 * @returns The claim, or undefined.
 */
export function claimOf(roots: Roots, index: string): Claim | undefined {
  return readClaim(join(claimsDir(roots), index));
}

/**
 * Makes the claims directory exist.
 *
 * @param roots The roots in use.
 * @returns The directory.
 * @throws {StateError} Naming it when it cannot be made.
 */
export function makeClaimsDir(roots: Roots): string {
  const dir = claimsDir(roots);
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fileError("create directory", dir, error);
  }
  return dir;
}

function withClaimsLock(roots: Roots, fn: (dir: string) => void): void {
  const dir = makeClaimsDir(roots);
  const path = join(dir, ".lock");
  let lock: Deno.FsFile;
  try {
    lock = Deno.openSync(path, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch (error) {
    throw fileError("open", path, error);
  }
  try {
    lock.lockSync(true);
    fn(dir);
  } finally {
    lock.close();
  }
}

function readClaim(path: string): Claim | undefined {
  try {
    const value = JSON.parse(Deno.readTextFileSync(path));
    if (typeof value?.id === "string" && typeof value?.dir === "string") {
      return typeof value.firmware === "string"
        ? { id: value.id, dir: value.dir, firmware: value.firmware }
        : { id: value.id, dir: value.dir };
    }
  } catch {
    // missing or corrupt: no holder
  }
  return undefined;
}

function sameClaim(a: Claim, b: Claim): boolean {
  return a.id === b.id && a.dir === b.dir;
}

/**
 * Whether another container's claim is on the processor: this container's
 * was taken over (core/container/takeover.ts), and the processor is no longer its to
 * touch.
 *
 * @param roots The roots in use.
 * @param index The processor's `remoteprocN`.
 * @param claim This container.
 * @returns True when a claim names another container.
 */
export function claimedByOther(
  roots: Roots,
  index: string,
  claim: Claim,
): boolean {
  const holder = claimOf(roots, index);
  return holder !== undefined && !sameClaim(holder, claim);
}
