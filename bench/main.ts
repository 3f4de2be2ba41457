/**
 * `deno task bench NAME [args…]`: runs one benchmark module from bench/.
 * Each module prints its figures as ratios against a baseline measured in the same run.
 * @module
 */
const benches: Record<string, string> = {
  formats: "./formats.ts",
  train: "./train.ts",
  fit: "./fit.ts",
  schemes: "./schemes.ts",
};

const [name, ...rest] = Deno.args;
if (!name || !(name in benches)) {
  console.error(
    `bench: unknown benchmark ${JSON.stringify(name ?? "")}; choose one of: ${
      Object.keys(benches).join(", ")
    }`,
  );
  Deno.exit(2);
}
const mod = await import(benches[name]) as { main(args: string[]): Promise<void> };
await mod.main(rest);
