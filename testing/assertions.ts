/**
 * Assertions for end-to-end tests, in the test kit
 * (`@remoteproc/runtime/testing`): nothing left behind, no sysfs protocol
 * violation.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Env } from "./harness.ts";

/**
 * Pids of live processes whose command line mentions the environment's
 * temp directory and is a proxy (`proxy.ts`, the bundle's `proxy.js` or
 * `__proxy`).
 *
 * @param env The environment.
 * @returns Pids, possibly empty.
 */
export function proxies(env: Env): number[] {
  // Deno refuses /proc to anything less than --allow-all; ps reads it.
  const out = new Deno.Command("/usr/bin/ps", {
    args: ["-eo", "pid=,args="],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const pids: number[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const match = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const args = match[2]!;
    if (
      args.includes(`--dir=${env.root}/`) &&
      /\bproxy\.(ts|js) |__proxy /.test(args)
    ) {
      pids.push(Number(match[1]));
    }
  }
  return pids;
}

/**
 * Asserts the system is clean: no container directory (tombstones count),
 * no claim, no stored firmware, no proxy, every processor offline.
 *
 * @param env The environment.
 * @param message Context for a failure.
 * @param processors How many processors the simulator has.
 */
export async function assertClean(
  env: Env,
  message = "",
  processors = 1,
): Promise<void> {
  assert.deepEqual(env.containers(), [], `state dirs ${message}`);
  assert.deepEqual(env.claims(), [], `claims ${message}`);
  assert.deepEqual(env.storedFirmware(), [], `stored firmware ${message}`);
  // A SIGKILLed proxy may take a moment to disappear from /proc.
  await env.until(() => proxies(env).length === 0, 3_000).catch(() => {
    assert.deepEqual(proxies(env), [], `proxies ${message}`);
  });
  for (let i = 0; i < processors; i++) {
    assert.equal(env.sim.state(i), "offline", `processor ${i} ${message}`);
  }
}

/**
 * Asserts that the runtime never misused the sysfs protocol: the
 * simulator records every write the kernel would refuse or that breaks
 * its contract (`start` or `firmware` written to a core that is not
 * `offline`, `stop` to one that is).
 *
 * @example
 * ```ts ignore
 * assertNoViolations(env);
 * ```
 *
 * @param env The environment.
 * @param message Context for a failure.
 */
export function assertNoViolations(env: Env, message = ""): void {
  assert.deepEqual(env.sim.violations, [], `protocol violations ${message}`);
}
