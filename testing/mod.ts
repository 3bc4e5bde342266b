/**
 * The test kit for SoC plugins (`@remoteproc/runtime/testing`): what a
 * vendor needs to test a plugin end to end with `deno test` in their own
 * repository, against a runtime built with it (see
 * docs/writing-a-plugin.md):
 *
 * - {@linkcode Simulator}: a simulated remoteproc sysfs tree that plays the
 *   SoC (driver, compatibles, boot state, refused starts and stops);
 * - {@linkcode setUp}: a simulator in a temp sysroot, bundles with given
 *   firmware, and the runtime's CLI verbs run against it (the runtime is
 *   `REMOTEPROC_RUNTIME_BIN`, the one `deno task test:vendor` builds with
 *   the vendor's plugin list);
 * - {@linkcode makeElf}: valid firmware images, with a resource table or
 *   extra bytes on request;
 * - {@linkcode assertClean} (nothing left behind) and
 *   {@linkcode assertNoViolations} (no sysfs protocol misuse).
 *
 * @example Firmware deployed, then nothing left
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import {
 *   assertClean,
 *   assertNoViolations,
 *   setUp,
 * } from "@remoteproc/runtime/testing";
 *
 * Deno.test("the M7 runs our firmware", async () => {
 *   await using env = await setUp([{ name: "m7_0", driver: "acme-rproc" }]);
 *   await env.deploy("c1", { annotations: { "remoteproc.name": "m7_0" } });
 *   assert.equal(env.sim.state(0), "running");
 *   assert.equal((await env.run(["delete", "--force", "c1"])).code, 0);
 *   await assertClean(env);
 *   assertNoViolations(env);
 * });
 * ```
 *
 * @module
 */
export {
  type BundleOptions,
  type Env,
  LAUNCHER,
  list,
  type RunResult,
  RUNTIME_BIN,
  setUp,
  type SetUpOptions,
} from "./harness.ts";
export { assertClean, assertNoViolations, proxies } from "./assertions.ts";
export {
  type ProcessorSpec,
  Simulator,
  type SimulatorOptions,
} from "../sim/simulator.ts";
export {
  makeElf,
  type MakeElfOptions,
  type ResourceTableSpec,
  type TraceSpec,
} from "../fixtures/make_elf.ts";
