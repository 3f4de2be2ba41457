import assert from "node:assert/strict";
import { loadModel, recoverCheckpoint, saveCheckpoint } from "../lib/engine/checkpoint.ts";
import { paramLayout, resolveModelConfig } from "../lib/models/llama/config.ts";

const cfg = resolveModelConfig({ layers: 1, dModel: 32, heads: 2, context: 32 });
const scheme = { fwd: "fp32", bwd: "fp32" };
const params = (v: number) => new Float32Array(paramLayout(cfg).totalFloats).fill(v);

Deno.test("a save torn before its commit marker rolls back to the previous checkpoint", () => {
  const dir = Deno.makeTempDirSync();
  saveCheckpoint(dir, cfg, params(1), null, null, scheme);
  // A kill after the new files were written but before the marker: only `.next` files exist.
  Deno.writeTextFileSync(`${dir}/model.safetensors.next`, "half-written");
  recoverCheckpoint(dir);
  assert.equal(loadModel(dir).params[0], 1);
  assert.throws(() => Deno.statSync(`${dir}/model.safetensors.next`));
});

Deno.test("a save torn after its commit marker rolls forward to the new checkpoint", () => {
  const dir = Deno.makeTempDirSync();
  saveCheckpoint(dir, cfg, params(1), null, null, scheme);
  const other = Deno.makeTempDirSync();
  saveCheckpoint(other, cfg, params(2), null, null, scheme);
  // A kill after the marker and the first rename: the rest must still move into place on load.
  Deno.copyFileSync(`${other}/model.safetensors`, `${dir}/model.safetensors.next`);
  Deno.copyFileSync(`${other}/config.json`, `${dir}/config.json`);
  Deno.writeTextFileSync(`${dir}/CHECKPOINT_COMMIT`, "model.safetensors\nconfig.json\n");
  assert.equal(loadModel(dir).params[0], 2);
  assert.throws(() => Deno.statSync(`${dir}/CHECKPOINT_COMMIT`));
});
