/**
 * Property tests over random mutations (seeded, so a failure names a seed
 * that reproduces it) of a valid config.json and of a valid state file:
 *
 * - in-process, thousands of cases: `create`'s checks either accept the
 *   bundle or throw a {@linkcode RuntimeError} with a one-line message, and
 *   never anything else; `parseRecord` either returns a record or throws a
 *   one-line `StateError`; the cheap guard `isContainerRecord` and the zod
 *   `recordSchema` agree on every mutated record;
 * - through the CLI, a few hundred of them: exit 1 with exactly the message
 *   the in-process check gave, one line, no stack trace, and nothing left
 *   behind.
 *
 * `PROPERTY_SEED=<n>` replays one seed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadBundle, resolveFirmware } from "../core/firmware/bundle.ts";
import { resolveDevice } from "../core/device/claims.ts";
import { RuntimeError, StateError } from "../core/util/errors.ts";
import { isStoredFirmwareName } from "../core/firmware/store.ts";
import { firmwareName } from "../core/firmware/placement.ts";
import { verifyFirmware } from "../core/firmware/integrity.ts";
import { isContainerRecord, parseRecord } from "../core/container/record.ts";
import { recordSchema } from "../core/container/record_schema.ts";
import { createSysfs } from "../core/device/sysfs.ts";
import { selectPlugin } from "../plugins/registry.ts";
import { setUp } from "./helpers/harness.ts";
import { assertClean, pool } from "./helpers/inspect.ts";

const SEED = Number(Deno.env.get("PROPERTY_SEED") ?? 20261128);

/** mulberry32: small, fast, good enough to drive mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const STRINGS = [
  "",
  "m4",
  "remoteproc0",
  "remoteproc9",
  "fw.elf",
  "/fw.elf",
  "../../../../etc/hostname",
  "/etc/hostname",
  "a\nb",
  "nul\u0000byte",
  "tab\tx",
  "1.0.2",
  "2.0.0",
  "1.2.0-rc.1",
  "generic",
  "/",
  ".",
  "..",
  "rootfs",
  "x".repeat(300),
  "\u{1F4A5}",
  "created",
  "running",
  "stopped",
  "creating",
  "ab".repeat(32),
  "__proto__",
];

class Mutator {
  constructor(readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  scalar(): Json {
    switch (this.int(8)) {
      case 0:
        return null;
      case 1:
        return this.random() < 0.5;
      case 2:
        return this.pick([0, -1, 1, 1.5, 2 ** 53, -0, 1e308, 42]);
      case 3:
        return [];
      case 4:
        return {};
      case 5:
        return [this.pick(STRINGS)];
      case 6:
        return { [this.pick(STRINGS)]: this.pick(STRINGS) };
      default:
        return this.pick(STRINGS);
    }
  }
  /** Every container (object/array) with its path. */
  containers(value: Json, out: Json[] = []): Json[] {
    if (value !== null && typeof value === "object") {
      out.push(value);
      for (const child of Object.values(value)) this.containers(child, out);
    }
    return out;
  }
  /** One structural mutation, in place. */
  mutate(root: Json): void {
    const target = this.pick(this.containers(root));
    if (target === null || typeof target !== "object") return;
    const keys = Object.keys(target);
    if (Array.isArray(target)) {
      switch (this.int(3)) {
        case 0:
          target.splice(this.int(target.length + 1), 0, this.scalar());
          break;
        case 1:
          target.splice(this.int(target.length), 1);
          break;
        default:
          if (target.length > 0) {
            target[this.int(target.length)] = this.scalar();
          }
      }
      return;
    }
    const obj = target as Record<string, Json>;
    switch (this.int(4)) {
      case 0:
        if (keys.length > 0) delete obj[this.pick(keys)];
        break;
      case 1:
        // defineProperty: a "__proto__" key must be an own property.
        Object.defineProperty(obj, this.pick(STRINGS), {
          value: this.scalar(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
      default:
        if (keys.length > 0) obj[this.pick(keys)] = this.scalar();
    }
  }
  /** Serialises, sometimes damaging the text itself. */
  text(value: Json): string {
    let text = JSON.stringify(value, null, this.random() < 0.5 ? 2 : 0) ?? "";
    switch (this.int(6)) {
      case 0:
        return text.slice(0, this.int(text.length + 1));
      case 1: {
        const at = this.int(text.length + 1);
        text = text.slice(0, at) +
          this.pick(['"', "{", "]", ",", "\u0000", "\\"]) +
          text.slice(at);
        return text;
      }
      default:
        return text;
    }
  }
  /** A mutated copy: 1 to 3 structural mutations, maybe text damage. */
  variant(base: Json): string {
    const value = structuredClone(base);
    const wrapper: Json = [value];
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) this.mutate(wrapper);
    return this.text(wrapper[0] ?? null);
  }
}

const VALID_CONFIG: Json = {
  ociVersion: "1.0.2",
  process: { args: ["fw.elf"], cwd: "/", terminal: false },
  root: { path: "rootfs" },
  annotations: { "remoteproc.name": "m4" },
};

const VALID_RECORD: Json = {
  version: 1,
  ociVersion: "1.0.2",
  id: "c1",
  status: "created",
  pid: 0,
  bundle: "/tmp/bundle",
  rootfs: "/tmp/bundle/rootfs",
  rootfsIdentity: { dev: 2049, ino: 131 },
  created: "2026-11-28T00:00:00.000Z",
  annotations: { "remoteproc.name": "m4" },
  device: {
    index: "remoteproc0",
    name: "m4",
    dir: "/sys/class/remoteproc/remoteproc0",
  },
  plugin: "generic",
  firmware: { source: "/tmp/bundle/rootfs/fw.elf" },
};

/**
 * What `create` checks before it writes anything, in its order: the error
 * message, or undefined when the bundle is acceptable.
 */
async function createChecks(
  bundle: string,
  sysroot: string,
): Promise<string | undefined> {
  try {
    const b = await loadBundle(bundle);
    const device = resolveDevice(createSysfs({ sysroot }), {
      annotations: b.annotations,
      env: b.env,
    });
    selectPlugin(device, b.annotations);
    const source = resolveFirmware(b);
    await verifyFirmware(
      b.annotations,
      source,
      `firmware file ${JSON.stringify(b.firmwareArg)}`,
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof RuntimeError)) {
      throw new Error(`not a RuntimeError: ${error}`, { cause: error });
    }
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
}

const CONFIG_CASES = 2_000;
const CONFIG_CLI_CASES = 120;
const RECORD_CASES = 3_000;
const RECORD_CLI_CASES = 60;

Deno.test(`${CONFIG_CASES} mutated config.json files: create refuses each with one line, in-process and through the CLI, and leaves nothing behind`, async () => {
  await using env = await setUp();
  const m = new Mutator(prng(SEED));
  const bundle = env.bundle();
  const refused: { text: string; message: string }[] = [];
  for (let i = 0; i < CONFIG_CASES; i++) {
    const text = m.variant(VALID_CONFIG);
    Deno.writeTextFileSync(join(bundle, "config.json"), text);
    const message = await createChecks(bundle, env.sysroot);
    if (message !== undefined) refused.push({ text, message });
  }
  // Most mutations break something; some are harmless (an extra key).
  assert.ok(refused.length > CONFIG_CASES / 2, `${refused.length} refused`);
  const sample = refused.filter((_, i) =>
    i % Math.ceil(refused.length / CONFIG_CLI_CASES) === 0
  );
  const results = await pool(sample, 4, async ({ text }, i) => {
    const dir = env.bundle({ config: text });
    return await env.run(["create", "-b", dir, `p${i}`]);
  });
  for (const [i, result] of results.entries()) {
    const { text, message } = sample[i]!;
    assert.equal(
      result.stderr,
      `remoteproc-runtime: ${message}\n`,
      `seed ${SEED}, config ${JSON.stringify(text.slice(0, 300))}`,
    );
    assert.equal(result.code, 1);
  }
  await assertClean(env, `seed ${SEED}`);
  assert.deepEqual(env.sim.events, []);
});

Deno.test(`${RECORD_CASES} mutated state files: parseRecord returns or throws one line, and the cheap guard and the zod schema agree`, async () => {
  const m = new Mutator(prng(SEED + 1));
  let accepted = 0;
  for (let i = 0; i < RECORD_CASES; i++) {
    const text = m.variant(VALID_RECORD);
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (parsed) {
      assert.equal(
        isContainerRecord(value),
        recordSchema.safeParse(value).success,
        `seed ${SEED + 1}, record ${text}`,
      );
    }
    try {
      await parseRecord(text, "c1");
      accepted++;
    } catch (error) {
      assert.ok(error instanceof StateError, `${error}`);
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /^state of container c1 is corrupt: /);
    }
  }
  assert.ok(accepted > 0 && accepted < RECORD_CASES, `${accepted} accepted`);
});

Deno.test(`${RECORD_CLI_CASES} mutated state files through the CLI: state answers or fails with one line, delete --force always cleans`, async () => {
  await using env = await setUp();
  const m = new Mutator(prng(SEED + 2));
  const cases = Array.from({ length: RECORD_CLI_CASES }, (_, i) => {
    const id = `s${i}`;
    const dir = env.containerDir(id);
    Deno.mkdirSync(dir, { recursive: true });
    const text = m.variant(VALID_RECORD);
    Deno.writeTextFileSync(join(dir, "state.json"), text);
    return { id, text };
  });
  const results = await pool(cases, 4, async ({ id }) => ({
    state: await env.run(["state", id]),
    deleted: await env.run(["delete", "--force", id]),
  }));
  for (const [i, { state, deleted }] of results.entries()) {
    const { id, text } = cases[i]!;
    const context = `seed ${SEED + 2}, ${id}: ${text}`;
    let expected: string | undefined;
    try {
      await parseRecord(text, id);
    } catch (error) {
      expected = (error as Error).message;
    }
    if (expected === undefined) {
      assert.equal(state.code, 0, `${context}: ${state.stderr}`);
      assert.equal(JSON.parse(state.stdout).status, "stopped", context);
    } else {
      assert.equal(
        state.stderr,
        `remoteproc-runtime: ${expected}\n`,
        context,
      );
      assert.equal(state.code, 1);
    }
    assert.equal(deleted.code, 0, `${context}: ${deleted.stderr}`);
    assert.doesNotMatch(deleted.stderr, /\n\s+at /, context);
  }
  await assertClean(env, `seed ${SEED + 2}`);
  assert.deepEqual(env.sim.events, []);
});

Deno.test("every stored firmware name the runtime makes is one it will remove, and no other", () => {
  const m = new Mutator(prng(SEED + 3));
  for (let i = 0; i < 2_000; i++) {
    const path = `/rootfs/${m.pick(STRINGS)}${
      m.pick(["", ".elf", ".bin.gz", ".x/y"])
    }`;
    const name = firmwareName(
      path,
      m.pick([
        {},
        { directory: "rproc" },
        { directory: "vendor/dsp", template: "{device}-{index}-{rand}{ext}" },
        { template: "{rand}" },
        { template: "{stem}.{stamp}.{rand}" },
      ]),
      { index: "remoteproc0", name: m.pick(["m4", "imx-rproc", "a b/c"]) },
    );
    assert.ok(isStoredFirmwareName(name), `${path} -> ${name}`);
    const other = m.pick(STRINGS);
    if (!/[0-9a-f]{8}/.test(other)) assert.ok(!isStoredFirmwareName(other));
    assert.ok(!isStoredFirmwareName(`../${name}`));
  }
});
