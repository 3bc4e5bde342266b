/**
 * The built-in SoC plugins, in match order (`generic`, the fallback, is not
 * listed). Kept apart from the registry so that `tools/plugins.ts` can read
 * the names without importing the configured vendor modules.
 *
 * @module
 */
import type { Plugin } from "../core/plugin/types.ts";
import { imxPlugin } from "./imx.ts";
import { stm32mpPlugin } from "./stm32mp.ts";
import { tiK3Plugin } from "./ti_k3.ts";

/**
 * SoC plugins in match order; `generic` is the fallback, not listed.
 *
 * @example The SoC plugins in match order
 * ```ts
 * import assert from "node:assert/strict";
 * import { PLUGINS } from "./builtin.ts";
 *
 * assert.deepEqual(PLUGINS.map((p) => p.name), ["imx", "stm32mp", "ti-k3"]);
 * ```
 */
export const PLUGINS: readonly Plugin[] = [
  imxPlugin,
  stm32mpPlugin,
  tiK3Plugin,
];
