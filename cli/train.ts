/**
 * `deno task train [--layers --d-model --heads --ffn --context --batch --steps | --tokens --lr --seed
 * --data NAME --fwd LABEL --bwd LABEL --eval-every N --eval-tokens N --out DIR --checkpoint-every N
 * --resume --json]`: trains one model, printing a live progress line (stderr) and, with `--json`,
 * one final JSON object (stdout). Bad arguments: one error line and exit code 2.
 * @module
 */
import { parseArgs } from "node:util";
import { train, validateTrainConfig } from "../lib/engine/train.ts";
import { paramCounts, resolveModelConfig } from "../lib/models/llama/config.ts";
import type { ModelConfig, TrainConfig, TrainProgress } from "../lib/engine/api.ts";
import { closestNames, schemeNames, schemePair } from "../lib/schemes/catalog.ts";
import { schemeLabels } from "../lib/schemes/resolve.ts";
import { withSwitch } from "../lib/schemes/schedule.ts";
import { mainDit } from "./train_dit.ts";

const USAGE = "usage: deno task train [--layers 4 --d-model 128 --heads 4 --ffn N --context 128 --batch 16 " +
  "--steps 200 | --tokens N --lr 3e-3 --seed 0 --data sotu --scheme NAME | --fwd fp32 --bwd fp32 --switch-to NAME --switch-at 0.9 --eval-every 0 --eval-tokens 32768 " +
  "--out DIR --checkpoint-every N --resume --json]\n" +
  "       deno task train --family dit …  (a DiT on MNIST; --family dit --help for its options)";

/** Parses an integer option; throws one line. */
function int(name: string, v: string | undefined, dflt?: number): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    throw new Error(`--${name} must be an integer (got "${v}")`);
  }
  return n;
}

/** Builds the TrainConfig (and options) from command-line arguments. */
export function configFromArgs(args: string[]): {
  config: TrainConfig;
  out?: string;
  json: boolean;
  resume: boolean;
  checkpointEvery: number;
} {
  const { values: v, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      layers: { type: "string" },
      "d-model": { type: "string" },
      heads: { type: "string" },
      ffn: { type: "string" },
      context: { type: "string" },
      batch: { type: "string" },
      steps: { type: "string" },
      tokens: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      data: { type: "string" },
      fwd: { type: "string" },
      bwd: { type: "string" },
      scheme: { type: "string" },
      "switch-to": { type: "string" },
      "switch-at": { type: "string" },
      "eval-every": { type: "string" },
      "eval-tokens": { type: "string" },
      out: { type: "string" },
      "checkpoint-every": { type: "string" },
      resume: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (v.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
  const model = resolveModelConfig({
    layers: int("layers", v.layers, 4)!,
    dModel: int("d-model", v["d-model"], 128)!,
    heads: int("heads", v.heads, 4)!,
    ffn: int("ffn", v.ffn),
    context: int("context", v.context, 128)!,
  });
  const batch = int("batch", v.batch, 16)!;
  if (v.steps !== undefined && v.tokens !== undefined) throw new Error("give --steps or --tokens, not both");
  const tokens = int("tokens", v.tokens);
  if (tokens !== undefined && tokens < 1) throw new Error("--tokens must be positive");
  const steps = tokens !== undefined
    ? Math.ceil(tokens / (batch * model.context))
    : int("steps", v.steps, 200)!;
  const lr = v.lr === undefined ? 3e-3 : Number(v.lr);
  if (!(lr > 0)) throw new Error(`--lr must be a positive number (got "${v.lr}")`);
  const config: TrainConfig = {
    model,
    batch,
    steps,
    lr,
    seed: int("seed", v.seed, 0)!,
    data: v.data ?? "sotu",
    scheme: withTarget(schemeFromArgs(v.scheme, v.fwd, v.bwd), v["switch-to"], v["switch-at"]),
    evalEvery: int("eval-every", v["eval-every"], 0)!,
    evalTokens: int("eval-tokens", v["eval-tokens"], 32768)!,
  };
  validateTrainConfig(config);
  if ((v.resume || v["checkpoint-every"]) && !v.out) {
    throw new Error("--resume and --checkpoint-every need --out DIR");
  }
  return {
    config,
    out: v.out,
    json: !!v.json,
    resume: !!v.resume,
    checkpointEvery: int("checkpoint-every", v["checkpoint-every"], 0)!,
  };
}

/** `--scheme NAME` (a preset pair, see `deno task schemes`) or `--fwd A --bwd B`; unknown: closest names. */
function schemeFromArgs(name?: string, fwd?: string, bwd?: string): TrainConfig["scheme"] {
  if (name !== undefined) {
    if (fwd !== undefined || bwd !== undefined) throw new Error("give --scheme or --fwd/--bwd, not both");
    const pair = schemePair(name);
    if (!pair) {
      throw new Error(`unknown scheme "${name}"; closest: ${closestNames(name, schemeNames()).join(", ")}`);
    }
    return pair;
  }
  const known = schemeLabels();
  const f = fwd ?? "fp32", b = bwd ?? "fp32";
  if (!known.fwd.includes(f)) {
    throw new Error(`unknown forward scheme "${f}"; closest: ${closestNames(f, known.fwd).join(", ")}`);
  }
  if (!known.bwd.includes(b)) {
    throw new Error(`unknown backward scheme "${b}"; closest: ${closestNames(b, known.bwd).join(", ")}`);
  }
  return { fwd: f, bwd: b };
}

/** `--switch-to NAME --switch-at F`: target-precision schedule (lib/schemes/schedule.ts). */
function withTarget(c: TrainConfig["scheme"], to?: string, at?: string): TrainConfig["scheme"] {
  if (to === undefined) {
    if (at !== undefined) throw new Error("--switch-at needs --switch-to NAME");
    return c;
  }
  const target = schemePair(to);
  if (!target) {
    throw new Error(`unknown scheme "${to}"; closest: ${closestNames(to, schemeNames()).join(", ")}`);
  }
  return withSwitch(c, target, at === undefined ? 0.9 : Number(at));
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

/** `--family F` / `--family=F` split off the arguments (F undefined when absent). */
export function splitFamily(args: string[]): { family?: string; rest: string[] } {
  const rest: string[] = [];
  let family: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--family") family = args[++i] ?? "";
    else if (args[i].startsWith("--family=")) family = args[i].slice("--family=".length);
    else rest.push(args[i]);
  }
  return { family, rest };
}

const cliArgs = splitFamily(Deno.args);
if (import.meta.main && cliArgs.family !== undefined && cliArgs.family !== "llama") {
  await mainDit(Deno.args);
} else if (import.meta.main) {
  let opts: ReturnType<typeof configFromArgs>;
  try {
    opts = configFromArgs(cliArgs.rest);
  } catch (e) {
    console.error(`train: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const { config, out, json, resume, checkpointEvery } = opts;
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let lastPrint = 0;
  const progress = (p: TrainProgress) => {
    const line =
      `step ${p.step}/${p.steps}  ${Math.round(p.tokensPerSecond)} tok/s  loss ${p.trainLoss.toFixed(4)}  ` +
      `lr ${p.lr.toExponential(2)}  ETA ${fmtTime(p.etaSeconds)}`;
    const now = performance.now();
    if (tty) Deno.stderr.writeSync(enc.encode(`\r${line}\x1b[K`));
    else if (now - lastPrint > 5000 || p.step === p.steps) {
      console.error(line);
      lastPrint = now;
    }
  };
  const model = config.model as ModelConfig; // --family dit is handled by cli/train_dit.ts
  const counts = paramCounts(model);
  if (!json) {
    console.error(
      `model: ${model.layers} layers, d ${model.dModel}, ${model.heads} heads, ffn ${model.ffn}, ` +
        `context ${model.context}; N (non-embedding) ${counts.nonEmbedding}, total ${counts.total}; ` +
        `${config.steps} steps × ${config.batch * model.context} tokens; data ${config.data}`,
    );
  }
  try {
    const r = await train(config, {
      outDir: out,
      resume,
      checkpointEvery,
      onProgress: progress,
      onData: (d) => {
        if (json) return;
        console.error(
          `data ${d.source}: ${d.trainTokens} training tokens available, ${d.valTokens} held out` +
            (d.entropyRate !== undefined ? `, entropy rate ${d.entropyRate.toFixed(4)} nats/token` : ""),
        );
      },
      onEval: (e) => {
        if (tty) Deno.stderr.writeSync(enc.encode("\n"));
        console.error(`eval step ${e.step}: val loss ${e.valLoss.toFixed(4)}`);
      },
    });
    if (tty) Deno.stderr.writeSync(enc.encode("\n"));
    if (json) {
      const { curve, ...rest } = r;
      console.log(JSON.stringify({ ...rest, curvePoints: curve.length, config, checkpoint: out ?? null }));
    } else {
      console.log(
        `${r.status}: ${r.steps} steps, ${r.tokens} tokens, train loss ${r.finalTrainLoss.toFixed(4)}, ` +
          `val loss ${r.finalValLoss.toFixed(4)}, ${Math.round(r.tokensPerSecond)} tok/s, ${
            r.wallSeconds.toFixed(1)
          } s` +
          (out ? `, checkpoint ${out}` : ""),
      );
    }
  } catch (e) {
    console.error(`train: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
