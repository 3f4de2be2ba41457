/**
 * `deno task train --family dit --depth 4 --width 128 --heads 4 --patch 4 --data mnist --steps N [--batch 32
 * --lr 1e-3 --seed 0 --eval-images 1000 --ema 0.999 --weight-decay 0 --scheme NAME | --fwd A --bwd B] [--attention NAME]
 * [--init-from DIR] [--out DIR] [--json]`: trains a class-conditional DiT on MNIST (cli/train.ts hands over when
 * it sees `--family dit`). Prints `finalValLoss`, the mean ε-MSE over the fixed validation tuples, of the
 * EMA weights that the checkpoint stores (`--ema 0`: no EMA, the last step's weights). Bad arguments: one
 * line, exit code 2.
 * @module
 */
import { parseArgs } from "node:util";
import { resolveDitConfig } from "../lib/models/dit/config.ts";
import { checkRecipeBatch, type DitTrainConfig, trainDit } from "../lib/models/dit/train.ts";
import { schemePair } from "../lib/schemes/catalog.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import { attentionRecipe, checkTrainable } from "../lib/attention/recipes.ts";
import { ditConfigJson, loadDitModel } from "../lib/models/dit/checkpoint.ts";

/** Usage line of the DiT trainer. */
export const DIT_USAGE =
  "usage: deno task train --family dit --depth 4 --width 128 --heads 4 --patch 4 --data mnist " +
  "--steps N [--batch 32 --lr 1e-3 --seed 0 --eval-images 1000 --ema 0.999 --weight-decay 0 " +
  "--scheme NAME | --fwd A --bwd B --attention NAME --init-from DIR --out DIR --json]\n" +
  "  --ema D: decay of the weights' moving average that the checkpoint, eval and sample use " +
  "(warmed up as min(D, (1+s)/(10+s)); 0: none)\n" +
  "  --weight-decay W: AdamW decay of the linear weights (0, as the original DiT; the Llama trainer uses 0.1)";

/** Parses the DiT trainer's arguments; throws one line. */
export function ditConfigFromArgs(args: string[]): { config: DitTrainConfig; out?: string; json: boolean } {
  const { values: v, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      family: { type: "string" },
      depth: { type: "string" },
      width: { type: "string" },
      heads: { type: "string" },
      patch: { type: "string" },
      data: { type: "string" },
      steps: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      "eval-images": { type: "string" },
      ema: { type: "string" },
      "weight-decay": { type: "string" },
      scheme: { type: "string" },
      fwd: { type: "string" },
      bwd: { type: "string" },
      attention: { type: "string" },
      "init-from": { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (v.help) return { help: true } as unknown as ReturnType<typeof ditConfigFromArgs>;
  if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
  if (v.family !== "dit") throw new Error(`--family must be "llama" (default) or "dit", got "${v.family}"`);
  if ((v.data ?? "mnist") !== "mnist") throw new Error(`the DiT trains on --data mnist (got "${v.data}")`);
  const num = (k: string, d: number, int = true): number => {
    const s = (v as Record<string, string | boolean | undefined>)[k] as string | undefined;
    if (s === undefined) return d;
    const n = Number(s);
    if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n <= 0) {
      throw new Error(`--${k} must be a positive ${int ? "integer" : "number"} (got "${s}")`);
    }
    return n;
  };
  if (v.steps === undefined) throw new Error(DIT_USAGE.split("\n")[0]);
  const unit = (k: string, d: number, hi: number): number => {
    const s = (v as Record<string, string | boolean | undefined>)[k] as string | undefined;
    if (s === undefined) return d;
    const n = Number(s);
    if (s.trim() === "" || !(n >= 0 && n < hi)) {
      throw new Error(`--${k} must be a number in [0, ${hi}) (got "${s}")`);
    }
    return n;
  };
  const ema = unit("ema", 0.999, 1), weightDecay = unit("weight-decay", 0, 10);
  const model = resolveDitConfig({
    depth: num("depth", 4),
    hidden: num("width", 128),
    heads: num("heads", 4),
    patch: num("patch", 4),
  });
  const scheme = v.scheme !== undefined
    ? schemePair(v.scheme as string)
    : { fwd: (v.fwd as string) ?? "fp32", bwd: (v.bwd as string) ?? "fp32" };
  if (!scheme) throw new Error(`unknown scheme "${v.scheme}"`);
  resolveRecipe(scheme);
  const batch = num("batch", 32);
  if (batch % 8) throw new Error(`--batch must be a multiple of 8 (got ${batch})`);
  checkRecipeBatch(scheme, batch);
  const config: DitTrainConfig = {
    model,
    batch,
    steps: num("steps", 1),
    lr: num("lr", 1e-3, false),
    seed: v.seed === undefined ? 0 : Number(v.seed),
    scheme,
    evalImages: num("eval-images", 1000),
    ema,
    weightDecay,
    ...(v.attention !== undefined && v.attention !== "fp32" ? { attention: v.attention as string } : {}),
  };
  if (config.attention !== undefined) checkTrainable(attentionRecipe(config.attention));
  const initFrom = v["init-from"] as string | undefined;
  if (initFrom !== undefined) {
    const init = loadDitModel(initFrom); // one line when missing or corrupt, before any work
    if (JSON.stringify(ditConfigJson(init.cfg)) !== JSON.stringify(ditConfigJson(model))) {
      throw new Error(
        `--init-from ${initFrom}: the checkpoint's DiT shape differs (give the same --depth/--width/--heads/--patch)`,
      );
    }
    config.initFrom = initFrom;
  }
  return { config, out: v.out as string | undefined, json: !!v.json };
}

/** Runs the DiT trainer from command-line arguments (exit 2 on bad input). */
export async function mainDit(args: string[]): Promise<void> {
  let o: ReturnType<typeof ditConfigFromArgs>;
  try {
    o = ditConfigFromArgs(args);
    if ((o as { help?: boolean }).help) {
      console.log(DIT_USAGE);
      return;
    }
  } catch (e) {
    console.error(`train: ${(e as Error).message.replace(/^train: /, "")}`);
    Deno.exit(2);
  }
  let r: Awaited<ReturnType<typeof trainDit>>;
  try {
    r = await trainDit(o.config, {
      outDir: o.out,
      onStep: (s, l) => {
        if (!o.json && (s % 50 === 0 || s === o.config.steps)) {
          console.error(`step ${s}/${o.config.steps}  loss ${l.toFixed(4)}`);
        }
      },
    });
  } catch (e) {
    console.error(`train: ${(e as Error).message.split("\n")[0].replace(/^train: /, "")}`);
    Deno.exit(2);
  }
  if (o.json) {
    const { curve, ...rest } = r;
    console.log(
      JSON.stringify({ ...rest, curvePoints: curve.length, config: o.config, checkpoint: o.out ?? null }),
    );
  } else {
    console.log(
      `finished: val loss (ε-MSE) ${r.finalValLoss.toFixed(4)}, train loss ${r.finalTrainLoss.toFixed(4)}, ` +
        `${r.stepsPerSecond.toFixed(2)} steps/s, ${r.wallSeconds.toFixed(1)} s` +
        (o.out ? `, checkpoint ${o.out}` : ""),
    );
  }
}
