/** DiT checkpoints (DiT names, config keys), inputs files, and agreement with tools/dit_check.py (PyTorch). */
import assert from "node:assert/strict";
import { Rng } from "../lib/engine/rng.ts";
import { loadMnist } from "../lib/data/mnist.ts";
import { ditLayout, initDitParams, resolveDitConfig } from "../lib/models/dit/config.ts";
import {
  decodeEvalInputs,
  encodeEvalInputs,
  loadDitModel,
  readEvalInputs,
  saveDitModel,
  writeEvalInputs,
} from "../lib/models/dit/checkpoint.ts";
import { evalInputsFrom, validationTuples } from "../lib/models/dit/diffusion.ts";
import { ditLoss } from "../lib/models/dit/reference.ts";
import { decodeSafetensors } from "../lib/engine/checkpoint.ts";

const cfg = resolveDitConfig({ hidden: 32, depth: 2, heads: 4, patch: 4 });

function perturbed(seed: number): Float32Array {
  const p = initDitParams(cfg, seed);
  const rng = new Rng(seed, 5);
  for (const t of ditLayout(cfg).tensors) {
    if (t.trainable) { for (let i = 0; i < t.size; i++) p[t.offset + i] += 0.1 * rng.normal(); }
  }
  return p;
}

Deno.test("dit checkpoint: DiT tensor names and shapes, config keys, exact round trip, one-line errors", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const params = perturbed(1);
    saveDitModel(dir, cfg, params, { scheme: { fwd: "bf16", bwd: "bf16" } });
    const j = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
    for (
      const [k, v] of Object.entries({
        input_size: 28,
        patch_size: 4,
        in_channels: 1,
        hidden_size: 32,
        depth: 2,
        num_heads: 4,
        mlp_ratio: 4,
        num_classes: 10,
      })
    ) {
      assert.equal(j[k], v, k);
    }
    const st = decodeSafetensors(Deno.readFileSync(`${dir}/model.safetensors`));
    assert.deepEqual(st.get("x_embedder.proj.weight")?.shape, [32, 1, 4, 4]);
    assert.deepEqual(st.get("pos_embed")?.shape, [1, 49, 32]);
    assert.deepEqual(st.get("y_embedder.embedding_table.weight")?.shape, [11, 32]);
    assert.deepEqual(st.get("blocks.1.adaLN_modulation.1.weight")?.shape, [192, 32]);
    assert.equal(st.size, ditLayout(cfg).tensors.length);
    const back = loadDitModel(dir);
    assert.deepEqual(back.cfg, cfg);
    assert.deepEqual(back.params, params);
    assert.deepEqual(back.fp4lab.scheme, { fwd: "bf16", bwd: "bf16" });
    Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify({ ...j, hidden_size: 64 }));
    assert.throws(
      () => loadDitModel(dir),
      /x_embedder.proj.weight has shape \[32,1,4,4\], config wants \[64,1,4,4\]/,
    );
    assert.throws(() => loadDitModel(`${dir}/nope`), /config.json not found/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("dit inputs file: round trip with I32 y/t, shape and range checks", () => {
  const v = validationTuples(loadMnist().val, 8, 3);
  const back = decodeEvalInputs(encodeEvalInputs(v));
  assert.deepEqual(back, v);
  const bad = { ...v, t: new Int32Array([...v.t.slice(0, 7), 1000]) };
  assert.throws(() => decodeEvalInputs(encodeEvalInputs(bad)), /t = 1000 outside \[0, 999\]/);
  assert.throws(() => decodeEvalInputs(new Uint8Array(4)), /inputs: file too short/);
});

Deno.test("tools/dit_check.py (PyTorch DiT) recomputes the reference loss to 1e-4 (optional: needs python3-torch)", async () => {
  let hasTorch = false;
  try {
    hasTorch =
      (await new Deno.Command("/usr/bin/python3", { args: ["-c", "import torch"], stderr: "null" }).output())
        .success;
  } catch { /* no python */ }
  if (!hasTorch) {
    console.log(
      "SKIPPED: /usr/bin/python3 has no torch (apt-get install -y python3-torch) — DiT semantics not checked",
    );
    return;
  }
  const dir = Deno.makeTempDirSync();
  try {
    const v = validationTuples(loadMnist().val, 48, 9);
    writeEvalInputs(`${dir}/inputs.safetensors`, v);
    const e = evalInputsFrom(readEvalInputs(`${dir}/inputs.safetensors`));
    for (const [name, params] of [["initial", initDitParams(cfg, 2)], ["perturbed", perturbed(2)]] as const) {
      saveDitModel(`${dir}/${name}`, cfg, params);
      const ours = ditLoss(cfg, params, { batch: v.batch, x: e.x, t: e.t, y: e.y }, e.target);
      const out = await new Deno.Command("/usr/bin/python3", {
        args: [
          "tools/dit_check.py",
          "--checkpoint",
          `${dir}/${name}`,
          "--inputs",
          `${dir}/inputs.safetensors`,
        ],
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, err);
      const py = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(py.batch, 48);
      assert.ok(
        py.posEmbedMaxDiff < 1e-6,
        `pos_embed differs from DiT's get_2d_sincos_pos_embed by ${py.posEmbedMaxDiff}`,
      );
      assert.ok(Math.abs(py.loss - ours) < 1e-4, `${name}: PyTorch ${py.loss} vs reference ${ours}`);
      if (name === "perturbed") {
        assert.ok(Math.abs(ours - 1) > 0.05, `perturbed loss ${ours} is not informative`);
        // The task a user runs: deno task eval --checkpoint DIR --inputs FILE --json.
        const ev = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "cli/eval.ts",
            "--checkpoint",
            `${dir}/${name}`,
            "--inputs",
            `${dir}/inputs.safetensors`,
            "--json",
          ],
        }).output();
        assert.ok(ev.success, new TextDecoder().decode(ev.stderr));
        const j = JSON.parse(new TextDecoder().decode(ev.stdout));
        assert.equal(j.batch, 48);
        assert.ok(Math.abs(j.loss - py.loss) < 1e-4, `deno task eval ${j.loss} vs PyTorch ${py.loss}`);
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
