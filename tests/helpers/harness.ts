/**
 * The black-box harness, from the test kit (testing/harness.ts).
 *
 * @module
 */
export * from "../../testing/harness.ts";
