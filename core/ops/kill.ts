/**
 * `kill`: deliver TERM/INT (graceful: the proxy stops the processor and
 * exits 128+signal) or KILL (the proxy dies; `delete` stops the processor)
 * to a created or running container.
 *
 * @module
 */
import { sendSignal } from "../os/libc.ts";
import { InvalidStateError } from "../util/errors.ts";
import type { Runtime } from "../runtime.ts";
import { withContainer } from "./open.ts";
import { parseSignal } from "../os/signals.ts";
import { canKill } from "../container/status.ts";

/**
 * Options of {@linkcode kill}.
 *
 * @example Kill the proxy of every container state
 * ```ts
 * import type { KillOptions } from "./kill.ts";
 * import assert from "node:assert/strict";
 *
 * const options: KillOptions = { id: "fw1", signal: "KILL", all: true };
 * assert.equal(options.signal, "KILL");
 * ```
 */
export interface KillOptions {
  /** Container id. */
  id: string;
  /** Signal name or number (default TERM). */
  signal?: string | undefined;
  /** runc's `--all`: no error when nothing is running. */
  all?: boolean | undefined;
}

/**
 * Sends a signal to a container's proxy.
 *
 * @example Bad signals and unknown ids are refused (see `create` for a full lifecycle)
 * ```ts
 * import assert from "node:assert/strict";
 * import { kill } from "./kill.ts";
 * import { ContainerNotFoundError, UsageError } from "../util/errors.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const rt = openRuntime({ sysroot: sim.root });
 *
 * await assert.rejects(kill(rt, { id: "missing", signal: "NOPE" }), UsageError);
 * await assert.rejects(kill(rt, { id: "missing" }), ContainerNotFoundError);
 *
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param rt The runtime context.
 * @param options Id, signal, `--all`.
 * @throws {InvalidStateError} `container not running` for a stopped one.
 */
export async function kill(rt: Runtime, options: KillOptions): Promise<void> {
  const signal = parseSignal(options.signal);
  await withContainer(rt, options.id, ({ record, status }) => {
    if (!canKill(status)) {
      if (options.all) return;
      throw new InvalidStateError("container not running", status);
    }
    try {
      sendSignal(record.pid, signal);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || !options.all) {
        // ESRCH: it died between the check and the signal.
        if (error instanceof Deno.errors.NotFound) {
          throw new InvalidStateError("container not running", "stopped");
        }
        throw error;
      }
    }
  });
}
