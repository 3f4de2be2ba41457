import assert from "node:assert/strict";

const root = new URL("../lib/fit/", import.meta.url);

/** Every .ts file under lib/fit with its relative imports and re-exports (type-only ones too). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  const walk = (dir: URL) => {
    for (const e of Deno.readDirSync(dir)) {
      const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) walk(u);
      else if (e.name.endsWith(".ts")) {
        const text = Deno.readTextFileSync(u);
        const deps = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g)]
          .map((m) => new URL(m[1], u).href)
          .filter((h) => h.startsWith(root.href));
        g.set(u.href, deps);
      }
    }
  };
  walk(root);
  return g;
}

Deno.test("lib/fit has no import cycles (type-only imports included)", () => {
  const g = graph(), state = new Map<string, number>(), path: string[] = [];
  const visit = (u: string) => {
    state.set(u, 1);
    path.push(u);
    for (const v of g.get(u) ?? []) {
      if (state.get(v) === 1) {
        const cycle = [...path.slice(path.indexOf(v)), v].map((h) => h.slice(root.href.length));
        assert.fail(`import cycle: ${cycle.join(" → ")}`);
      }
      if (!state.has(v)) visit(v);
    }
    path.pop();
    state.set(u, 2);
  };
  for (const u of g.keys()) if (!state.has(u)) visit(u);
  assert.ok(g.size > 20);
});

Deno.test("no form-name switchboards: lib/fit never compares a form's name to a literal", () => {
  for (const [u] of graph()) {
    const text = Deno.readTextFileSync(new URL(u));
    assert.doesNotMatch(text, /\bform(?:\.name)?\s*[!=]==?\s*"(?!string")/, u);
  }
});
