import assert from "node:assert/strict";
import { pollUntil } from "../core/util/poll.ts";
import { sendSignal } from "../core/os/libc.ts";

Deno.test("sendSignal reports a missing process as NotFound, like Deno.kill", async () => {
  const child = new Deno.Command("true").spawn();
  await child.status; // reaped: the pid names nothing now
  assert.throws(() => sendSignal(child.pid, "SIGTERM"), Deno.errors.NotFound);
});

Deno.test("sendSignal refuses pids that would name a process group", () => {
  for (const pid of [0, -1, -42, 1.5, NaN]) {
    assert.throws(() => sendSignal(pid, "SIGKILL"), TypeError, String(pid));
  }
});

Deno.test("sendSignal delivers the named signal", async () => {
  for (const signal of ["SIGINT", "SIGKILL", "SIGUSR1", "SIGTERM"] as const) {
    const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
    sendSignal(child.pid, signal);
    assert.equal((await child.status).signal, signal);
  }
});

Deno.test("spawnSession starts a child in its own session with default signals, and reaps it", async () => {
  const { spawnSession } = await import("../core/os/libc.ts");
  const child = spawnSession("/bin/sh", ["-c", "sleep 2; exit 3"]);
  assert.ok(child, "FFI is permitted in tests");
  // Deno refuses /proc to the tests' permissions; ps reads it.
  const ps = (...args: string[]) =>
    new Deno.Command("/usr/bin/ps", { args, stdout: "piped" }).outputSync();
  const [sid, ignored, blocked] = new TextDecoder().decode(
    ps("-o", "sid=,ignored=,blocked=", "-p", String(child.pid)).stdout,
  ).trim().split(/\s+/);
  assert.equal(Number(sid), child.pid, "session id is its own pid");
  // Deno ignores SIGPIPE; the child must not inherit that, nor a mask.
  assert.match(ignored!, /^0+$/);
  assert.match(blocked!, /^0+$/);
  assert.equal(child.exited(), undefined);
  await pollUntil(() => child.exited(), { timeoutMs: 15_000, delayMs: 20 });
  assert.deepEqual(child.exited(), { code: 3, signal: 0 });
  // Reaped: the pid names nothing any more.
  assert.equal(ps("-p", String(child.pid)).code, 1);
});

Deno.test("a child started with blockSignals takes them from its signal queue instead of dying of them", async () => {
  const { spawnSession } = await import("../core/os/libc.ts");
  const tmp = Deno.makeTempDirSync();
  try {
    const out = `${tmp}/out`;
    const script = `${tmp}/child.ts`;
    const libc = new URL("../core/os/libc.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      script,
      `import { openSignalQueue } from ${JSON.stringify(libc)};
const queue = openSignalQueue(["SIGUSR1", "SIGTERM"]);
const seen = [String(queue?.wait(0))];
Deno.writeTextFileSync(${JSON.stringify(`${out}.ready`)}, "");
for (;;) {
  const signal = queue!.wait(-1);
  seen.push(String(signal));
  if (signal === "SIGTERM") break;
}
Deno.writeTextFileSync(${JSON.stringify(out)}, seen.join(" "));
`,
    );
    const child = spawnSession(
      Deno.execPath(),
      ["run", "-q", "-A", "--no-config", script],
      { blockSignals: ["SIGUSR1", "SIGTERM"] },
    );
    assert.ok(child);
    const until = async (done: () => boolean) => {
      const met = await pollUntil(() => done() || undefined, {
        timeoutMs: 10_000,
        delayMs: 10,
      });
      if (!met) throw new Error("timed out");
    };
    const exists = (path: string) => {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => exists(`${out}.ready`));
    // Every thread blocks both (threads inherit the mask; a thread may
    // block more for a moment).
    const masks = new TextDecoder().decode(
      new Deno.Command("/usr/bin/ps", {
        args: ["-T", "-o", "blocked=", "-p", String(child.pid)],
        stdout: "piped",
      }).outputSync().stdout,
    ).trim().split(/\s+/);
    assert.ok(masks.length > 1, "deno runs several threads");
    const ours = (1n << 9n) | (1n << 14n); // bit signo-1: SIGUSR1, SIGTERM
    for (const mask of masks) assert.equal(BigInt(`0x${mask}`) & ours, ours);
    sendSignal(child.pid, "SIGUSR1");
    sendSignal(child.pid, "SIGTERM");
    await until(() => child.exited() !== undefined);
    assert.deepEqual(child.exited(), { code: 0, signal: 0 });
    // A blocked SIGTERM did not kill it: it was read, after SIGUSR1.
    assert.equal(
      Deno.readTextFileSync(out),
      "undefined SIGUSR1 SIGTERM",
    );
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
