import assert from "node:assert/strict";
import { isValidConfig } from "../core/firmware/config_check.ts";
import { configSchema } from "../core/firmware/config_schema.ts";

const VALID = {
  ociVersion: "1.0.2",
  process: { args: ["fw.elf"], cwd: "/", terminal: false },
  root: { path: "rootfs", readonly: true },
  annotations: { "remoteproc.name": "m4" },
};

const ODD_VALUES: unknown[] = [
  undefined,
  null,
  0,
  1,
  true,
  false,
  "",
  "x",
  "1.0.0",
  "2.0.0",
  "1.2.3-rc1",
  "1.2",
  [],
  ["fw.elf"],
  ["a", "b"],
  [1],
  {},
  { a: "b" },
  { a: 1 },
];

/** Every config that replaces one field (at any depth) with an odd value. */
function* mutations(value: unknown, depth = 0): Generator<unknown> {
  yield* ODD_VALUES;
  if (depth > 2 || typeof value !== "object" || value === null) return;
  const record = value as Record<string, unknown>;
  const keys = [...Object.keys(record), "extra"];
  for (const key of keys) {
    for (const replacement of mutations(record[key], depth + 1)) {
      const copy: Record<string, unknown> = Array.isArray(value)
        ? [...value] as unknown as Record<string, unknown>
        : { ...record };
      if (replacement === undefined) delete copy[key];
      else copy[key] = replacement;
      yield copy;
    }
  }
}

Deno.test("the cheap config check accepts exactly what the zod schema accepts", () => {
  let count = 0;
  let accepted = 0;
  for (const config of mutations(VALID)) {
    const zod = configSchema.safeParse(config).success;
    assert.equal(
      isValidConfig(config),
      zod,
      `disagree on ${JSON.stringify(config)}`,
    );
    count++;
    if (zod) accepted++;
  }
  assert.ok(count > 300, `only ${count} mutations`);
  assert.ok(accepted > 10 && accepted < count, "both outcomes are exercised");
});
