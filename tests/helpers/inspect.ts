/**
 * Looking at what a test environment left behind: proxies still running,
 * and a one-call "nothing is left" assertion.
 *
 * @module
 */
import assert from "node:assert/strict";
export { assertClean, proxies } from "../../testing/assertions.ts";

/**
 * Runs `fn` over `items` with at most `limit` at a time.
 *
 * @param items Inputs.
 * @param limit Concurrency.
 * @param fn The work.
 * @returns Results in input order.
 */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

/**
 * The SHA-256 digest of some bytes as lower-case hex, computed here rather
 * than by the runtime's own `sha256File` so that a test checks it.
 *
 * @param data The bytes.
 * @returns 64 hex digits.
 */
export async function sha256(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** One open descriptor of a process. */
export interface Descriptor {
  fd: number;
  /** What it names (`readlink /proc/PID/fd/N`). */
  target: string;
  /** Whether it is close-on-exec (a child would not inherit it). */
  cloexec: boolean;
}

/**
 * The open descriptors of a process, from `/proc/PID/fd` and `fdinfo`
 * (read by a shell: Deno refuses /proc to the tests' permissions).
 *
 * @param pid The process.
 * @returns Its descriptors, by number.
 */
export function descriptors(pid: number): Descriptor[] {
  const out = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'cd "/proc/$1/fd" || exit 1; for fd in *; do ' +
      'flags=$(sed -n "s/^flags:[[:space:]]*//p" "../fdinfo/$fd" 2>/dev/null) && ' +
      'printf "%s %s %s\\n" "$fd" "$flags" "$(readlink "$fd")"; done',
      "sh",
      String(pid),
    ],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  assert.ok(out.success, `cannot read the descriptors of ${pid}`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l)
    .map((line) => {
      const [fd, flags, ...target] = line.split(" ");
      return {
        fd: Number(fd),
        target: target.join(" "),
        // O_CLOEXEC, octal in fdinfo.
        cloexec: (parseInt(flags!, 8) & 0o2000000) !== 0,
      };
    }).sort((a, b) => a.fd - b.fd);
}
