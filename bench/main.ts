/**
 * `deno task bench NAME [args…]`: runs one benchmark module from bench/.
 * Each module prints its figures as ratios against a baseline measured in the same run.
 * @module
 */
import { exitWithParent } from "../lib/cli/parent.ts";
const benches = new Map<string, string>([
  ["formats", "./formats.ts"],
  ["train", "./train.ts"],
  ["pack", "./pack.ts"],
  ["fit", "./fit.ts"],
  ["schemes", "./schemes.ts"],
]);

const [name, ...rest] = Deno.args;
if (name === "--help" || name === "-h") {
  console.log(
    `usage: deno task bench ${[...benches.keys()].join("|")} [args…]\n` +
      "  runs one benchmark; each prints its figures as ratios against a baseline measured in the same run",
  );
  Deno.exit(0);
}
const path = name === undefined ? undefined : benches.get(name);
if (path === undefined) {
  console.error(
    `bench: unknown benchmark ${JSON.stringify(name ?? "")}; choose one of: ${
      [...benches.keys()].join(", ")
    }`,
  );
  Deno.exit(2);
}
exitWithParent("bench");
const mod = await import(path) as { main(args: string[]): Promise<void> };
await mod.main(rest);
