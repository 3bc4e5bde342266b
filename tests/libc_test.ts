import assert from "node:assert/strict";
import { sendSignal } from "../core/libc.ts";

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
