/**
 * `deno task ptq --checkpoint DIR --recipe NAME [--bits wXaY] [--calib N] [--seed S] --out DIR [--json]`:
 * post-training quantization of a trained Llama or DiT checkpoint with one recipe; writes a quantized checkpoint
 * that `deno task eval` (and, for a DiT, `deno task sample`) reads. `--list` lists the recipes. Bad input: one line, exit 2, before any work.
 * @module
 */
import { parseArgs } from "node:util";
import { BITS, RECIPES } from "../lib/ptq/recipes.ts";
import { preparePtq, runPtqJob } from "../lib/ptq/run.ts";

const USAGE = `usage: deno task ptq --checkpoint DIR --recipe NAME --out DIR [options]
       deno task ptq --list [--json]

Post-training quantization of a trained Llama or DiT checkpoint (lib/ptq). Writes the fake-quantized weights
(f32, usual tensor names), the activation quantizers (config.json fp4lab.ptq) and the weight scales
(ptq_scales.safetensors) to --out; \`deno task eval --checkpoint OUT --text FILE\` (Llama) or
\`--inputs FILE.safetensors\` (DiT) evaluates it, \`deno task sample --checkpoint OUT\` draws from a DiT.
On a DiT, loss = validation ε-MSE (the fixed tuples training reports), calibration = N noised training digits.

options:
  --checkpoint DIR   float checkpoint (a finished run's directory)
  --recipe NAME      one of --list
  --bits wXaY        ${BITS.join(" | ")} (default: the recipe's)
  --calib N          calibration sequences from the training split (default 32, at least 2);
                     DiT: calibration images (default 64, at least 8)
  --seed S           calibration draw and rotation seed (default 0)
  --eval-tokens N    validation tokens for lossBefore/lossAfter (default min(run's evalTokens, 4096))
  --data NAME        data source (default: the checkpoint's training data; Llama only)
  --eval-images N    DiT: validation tuples for lossBefore/lossAfter (default min(run's evalImages, 1000))
  --scope S          DiT: blocks | all — quantize the DiT blocks' linears or every linear (default: recipe's)
  --iters N          AdaRound iterations (fp4dit recipes; default 300)
  --out DIR          output directory
  --cpu              run the searches' batched errors float64 on the CPU (the reference; default: the GPU,
                     an f32 GEMM through WebGPU, for the fpq recipes, whose searches are GEMM-shaped; requests
                     under 2^24 multiply-adds stay on the CPU reference — cheaper than a GPU round trip)
  --json             print {recipe, bits, lossBefore, lossAfter, delta, layers, seconds, search}
  --list             list the recipes with their default bits
  -h, --help         this text`;

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (got "${v}")`);
  return n;
}

function scopeOf(v: string | undefined): "blocks" | "all" | undefined {
  if (v === undefined || v === "blocks" || v === "all") return v;
  throw new Error(`--scope must be blocks or all (got "${v}")`);
}

if (import.meta.main) {
  let v: Record<string, string | boolean | undefined>;
  try {
    const r = parseArgs({
      args: Deno.args,
      strict: true,
      allowPositionals: false,
      options: {
        checkpoint: { type: "string" },
        recipe: { type: "string" },
        bits: { type: "string" },
        calib: { type: "string" },
        seed: { type: "string" },
        "eval-tokens": { type: "string" },
        "eval-images": { type: "string" },
        scope: { type: "string" },
        data: { type: "string" },
        iters: { type: "string" },
        out: { type: "string" },
        json: { type: "boolean" },
        cpu: { type: "boolean" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    v = r.values;
  } catch (e) {
    console.error(`ptq: ${(e as Error).message.split("\n")[0]} (see --help)`);
    Deno.exit(2);
  }
  if (v.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (v.list) {
    if (v.json) {
      console.log(
        JSON.stringify(
          RECIPES.map((r) => ({ name: r.name, bits: r.bits, method: r.method, description: r.description })),
        ),
      );
    } else for (const r of RECIPES) console.log(`${r.name.padEnd(20)} ${r.bits.padEnd(6)} ${r.description}`);
    Deno.exit(0);
  }
  let prepared, req;
  try {
    if (!v.checkpoint || !v.recipe || !v.out) {
      throw new Error("--checkpoint, --recipe and --out are required (see --help)");
    }
    req = {
      checkpoint: v.checkpoint as string,
      recipe: v.recipe as string,
      bits: v.bits as string | undefined,
      calib: int("calib", v.calib as string | undefined, 0),
      seed: int("seed", v.seed as string | undefined, 0),
      evalTokens: int("eval-tokens", v["eval-tokens"] as string | undefined, 1),
      iters: int("iters", v.iters as string | undefined, 1),
      evalImages: int("eval-images", v["eval-images"] as string | undefined, 2),
      scope: scopeOf(v.scope as string | undefined),
      data: v.data as string | undefined,
      out: v.out as string,
      log: v.json ? undefined : (line: string) => console.error(line),
    };
    prepared = preparePtq(req);
  } catch (e) {
    console.error(`ptq: ${(e as Error).message}`);
    Deno.exit(2);
  }
  try {
    // only the fpq recipes' searches yield batched errors; the others never touch the GPU
    const r = await runPtqJob(prepared, req, { cpu: !!v.cpu });
    if (v.json) {
      console.log(JSON.stringify(r));
    } else {
      console.log(
        `${r.recipe} ${r.bits}: loss ${r.lossBefore.toFixed(4)} → ${r.lossAfter.toFixed(4)} (δ ${
          r.delta.toFixed(4)
        }) in ${r.seconds.toFixed(1)} s; wrote ${req.out}`,
      );
    }
  } catch (e) {
    console.error(`ptq: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
