/**
 * Firmware integrity: the optional `remoteproc.firmware-sha256` annotation
 * names the SHA-256 digest the firmware must have. `create` checks the file
 * in the rootfs (an early, clear error) and `start` checks the copy it
 * stored, which is what the kernel loads, so a rootfs changed in between
 * cannot slip another image in.
 *
 * @module
 */
import { FIRMWARE_SHA256_ANNOTATION } from "../container/annotations.ts";
import { ConfigError, FirmwareError } from "../util/errors.ts";

const DIGEST_PATTERN = /^(?:sha256:)?([0-9A-Fa-f]{64})$/;

/**
 * The expected digest from the annotations, lower case, or undefined when
 * the annotation is absent.
 *
 * @param annotations The container's annotations.
 * @returns 64 lower-case hex digits, or undefined.
 * @throws {ConfigError} When the annotation is not a SHA-256 digest.
 */
export function expectedDigest(
  annotations: Readonly<Record<string, string>>,
): string | undefined {
  const value = annotations[FIRMWARE_SHA256_ANNOTATION];
  if (value === undefined) return undefined;
  const match = DIGEST_PATTERN.exec(value);
  if (!match) {
    throw new ConfigError(
      `annotation ${FIRMWARE_SHA256_ANNOTATION} is not a sha-256 digest (64 hex digits): ${
        JSON.stringify(value)
      }`,
    );
  }
  return match[1]!.toLowerCase();
}

/**
 * The SHA-256 digest of a file, as lower-case hex.
 *
 * @param path The file.
 * @returns 64 hex digits.
 */
export function sha256File(path: string): Promise<string> {
  return sha256(Deno.readFileSync(path));
}

async function sha256(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Checks a firmware file against the annotation, if there is one.
 *
 * @param annotations The container's annotations.
 * @param path The file to check.
 * @param what How to name the file in the message.
 * @param read The file's bytes, when the caller has read them already.
 * @throws {FirmwareError} When the digest differs, naming both.
 */
export async function verifyFirmware(
  annotations: Readonly<Record<string, string>>,
  path: string,
  what: string,
  read?: Uint8Array,
): Promise<void> {
  const expected = expectedDigest(annotations);
  if (expected === undefined) return;
  const actual = read ? await sha256(read) : await sha256File(path);
  if (actual !== expected) {
    throw new FirmwareError(
      `${what} does not match ${FIRMWARE_SHA256_ANNOTATION}: expected sha256 ${expected}, got ${actual}`,
    );
  }
}
