/**
 * Confines itself with Landlock, then reports as one JSON line on stdout what
 * it could still do. Used by `tests/landlock_test.ts`.
 *
 * Usage: `landlock_confined.ts '<Setup as JSON>'`. Run as
 * `landlock_confined.ts child '<Setup as JSON>'` it does not confine itself
 * and only probes: that is the part a child spawned after confinement runs.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { defaultReadPaths, restrictSelf } from "../../core/os/landlock.ts";

/** Paths the test prepared. */
interface Setup {
  /** Directory the confined process may read and write. */
  allowed: string;
  /** Directory it may not touch. */
  denied: string;
  /** File it may read. */
  readable: string;
  /** File it may not read. */
  unreadable: string;
  /** Module outside every rule, imported after confinement. */
  unreadableModule: string;
}

/** "ok", or the name of the error the attempt threw. */
async function attempt(action: () => unknown): Promise<string> {
  try {
    await action();
    return "ok";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

/** What a (possibly) confined process tries, each as "ok" or an error name. */
async function probe(setup: Setup, tag: string) {
  const { allowed, denied } = setup;
  return {
    writeAllowed: await attempt(() =>
      Deno.writeTextFileSync(`${allowed}/${tag}-sync`, "x")
    ),
    writeDenied: await attempt(() =>
      Deno.writeTextFileSync(`${denied}/${tag}-sync`, "x")
    ),
    asyncWriteAllowed: await attempt(() =>
      Deno.writeTextFile(`${allowed}/${tag}-async`, "x")
    ),
    asyncWriteDenied: await attempt(() =>
      Deno.writeTextFile(`${denied}/${tag}-async`, "x")
    ),
    readAllowed: await attempt(() => Deno.readTextFileSync(setup.readable)),
    readDenied: await attempt(() => Deno.readTextFileSync(setup.unreadable)),
    // A literal specifier would be loaded at start-up, before confinement.
    importReadable: await attempt(() => import(lateModule)),
    importUnreadable: await attempt(() => import(setup.unreadableModule)),
  };
}

const lateModule = String(
  new URL("./landlock_late_module.ts", import.meta.url),
);

function printJson(value: unknown): void {
  Deno.stdout.writeSync(new TextEncoder().encode(`${JSON.stringify(value)}\n`));
}

function withoutKey(
  env: Record<string, string>,
  key: string,
): Record<string, string> {
  const { [key]: _removed, ...rest } = env;
  return rest;
}

const isChild = Deno.args[0] === "child";
const setup: Setup = JSON.parse(Deno.args[isChild ? 1 : 0] ?? "{}");
if (isChild) {
  printJson(await probe(setup, "child"));
} else {
  // An async operation before confining leaves an idle, unconfined thread in
  // Deno's blocking pool; below ABI 8 later async I/O may run on it.
  await Deno.readTextFile(setup.readable);
  const helpers = fileURLToPath(new URL(".", import.meta.url));
  const status = restrictSelf({
    read: [...defaultReadPaths(), helpers, setup.readable],
    // Spawning Deno needs its binary and the ELF loader to be executable.
    execute: [Deno.execPath(), "/lib", "/lib64", "/usr/lib"],
    readWrite: [setup.allowed],
  });
  const parent = await probe(setup, "parent");
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      fileURLToPath(import.meta.url),
      "child",
      JSON.stringify(setup),
    ],
    // Deno warns on stderr when it cannot read NODE_EXTRA_CA_CERTS.
    clearEnv: true,
    env: withoutKey(Deno.env.toObject(), "NODE_EXTRA_CA_CERTS"),
    stdout: "piped",
    stderr: "inherit",
  }).output();
  printJson({
    status,
    parent,
    child: JSON.parse(new TextDecoder().decode(child.stdout)),
  });
}
