/**
 * `deno task demo`: a full lifecycle against the built-in simulator, showing
 * each step as the command an engine would run and what the processor does.
 * This is the main job on a machine without remoteproc hardware.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { Simulator } from "./simulator.ts";
import { makeElf } from "../fixtures/make_elf.ts";

const launcher = fileURLToPath(
  new URL("../bin/remoteproc-runtime", import.meta.url),
);
const encoder = new TextEncoder();
const say = (text: string) =>
  Deno.stdout.writeSync(encoder.encode(text + "\n"));

const tmp = Deno.makeTempDirSync({ prefix: "remoteproc-demo-" });
const sim = await Simulator.create({
  root: join(tmp, "sysroot"),
  processors: [{ name: "m4", recovery: "disabled" }, { name: "dsp" }],
});
const sysfs = (n: number) => join(sim.classDir(n));
let failed = false;

async function rt(...args: string[]): Promise<number> {
  say(`\n$ remoteproc-runtime ${args.join(" ")}`);
  const { code } = await new Deno.Command(launcher, {
    args,
    env: { REMOTEPROC_RUNTIME_SYSROOT: sim.root },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) say(`(exit code ${code})`);
  return code;
}

function show(n: number): void {
  const read = (a: string) => Deno.readTextFileSync(join(sysfs(n), a)).trim();
  say(
    `  [sysfs] remoteproc${n}: name=${read("name")} state=${
      read("state")
    } firmware=${read("firmware")}`,
  );
}

async function waitFor(test: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !test(); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

try {
  const bundle = join(tmp, "bundle");
  Deno.mkdirSync(join(bundle, "rootfs"), { recursive: true });
  Deno.writeFileSync(
    join(bundle, "rootfs/fw.elf"),
    makeElf({ resourceTable: {} }),
  );
  Deno.writeTextFileSync(
    join(bundle, "config.json"),
    JSON.stringify(
      {
        ociVersion: "1.0.2",
        process: { args: ["fw.elf"], cwd: "/", terminal: false },
        root: { path: "rootfs" },
        annotations: { "remoteproc.name": "m4" },
      },
      null,
      2,
    ),
  );
  say(
    `Simulated processors under ${sim.root}: m4 (remoteproc0), dsp (remoteproc1)`,
  );
  say(
    `Bundle ${bundle}: config.json + rootfs/fw.elf (ARM ELF), annotation remoteproc.name=m4`,
  );
  show(0);

  say("\n== 1. Deploy, run, stop, delete");
  failed ||= await rt(
    "create",
    "--bundle",
    bundle,
    "--pid-file",
    join(tmp, "pid"),
    "demo",
  ) !== 0;
  failed ||= await rt("state", "demo") !== 0;
  failed ||= await rt("start", "demo") !== 0;
  show(0);
  failed ||= await rt("list") !== 0;
  failed ||= await rt("kill", "demo", "TERM") !== 0;
  await waitFor(() => sim.state(0) === "offline");
  show(0);
  failed ||= await rt("delete", "demo") !== 0;

  say("\n== 2. The firmware crashes: the container stops on its own");
  failed ||= await rt("create", "--bundle", bundle, "demo2") !== 0;
  failed ||= await rt("start", "demo2") !== 0;
  say(
    "\n$ echo 1 > /sys/kernel/debug/remoteproc/remoteproc0/crash   (simulated)",
  );
  sim.crash(0);
  show(0);
  await new Promise((r) => setTimeout(r, 200));
  failed ||= await rt("state", "demo2") !== 0;
  failed ||= await rt("delete", "demo2") !== 0;
  show(0);

  say("\n== 3. Mistakes get one clear line");
  await rt("create", "--bundle", join(tmp, "nowhere"), "bad");
  await rt("start", "no-such-container");
  await rt("kill", "demo2", "USR1");

  const left = [...Deno.readDirSync(join(sim.root, "lib/firmware"))].length;
  say(
    `\nStored firmware left behind: ${left}. Protocol violations: ${sim.violations.length}.`,
  );
  failed ||= left !== 0 || sim.violations.length !== 0;
} finally {
  await sim.close();
  Deno.removeSync(tmp, { recursive: true });
}
say(failed ? "\nDemo FAILED" : "\nDemo finished: every step behaved.");
Deno.exit(failed ? 1 : 0);
