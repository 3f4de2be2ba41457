/**
 * `deno task train [--layers --d-model --heads --ffn --context --batch --steps | --tokens --lr --seed
 * --data NAME --fwd LABEL --bwd LABEL --eval-every N --eval-tokens N --out DIR --checkpoint-every N
 * --resume --attention NAME --init-from DIR --json]`: trains one model, printing a live progress line (stderr)
 * and, with `--json`, one final JSON object (stdout). Bad arguments (and an --out that cannot be written): one
 * line `train: …` and exit code 2 before any step; a failure while training: one line, exit code 2.
 * @module
 */
import { train, validateTrainConfig } from "../lib/engine/train.ts";
import { paramCounts, resolveModelConfig } from "../lib/models/llama/config.ts";
import type { ModelConfig, TrainConfig, TrainProgress } from "../lib/engine/api.ts";
import { schemeNames, schemePair } from "../lib/schemes/catalog.ts";
import { schemeLabels } from "../lib/schemes/resolve.ts";
import { withSwitch } from "../lib/schemes/schedule.ts";
import { checkSourceName } from "../lib/data/sources.ts";
import { InputError, taskMessage } from "../lib/spec/errors.ts";
import { LIMITS } from "../lib/spec/schema.ts";
import { unknownNameMessage } from "../lib/spec/suggest.ts";
import { numberFlag, parseFlags } from "../lib/cli/args.ts";
import { ensureWritableDir } from "../lib/results/writable.ts";
import { exitWithParent } from "../lib/cli/parent.ts";
import { loadModel } from "../lib/engine/checkpoint.ts";
import { mainDit } from "./train_dit.ts";

const USAGE = `usage: deno task train [options]
  model:    --layers 4 --d-model 128 --heads 4 [--ffn N] --context 128
  training: --batch 16 (--steps 200 | --tokens N) --lr 3e-3 --seed 0 (0 ≤ seed < 2^32)
            --data sotu|brown|moby-dick|english|markov[:k=2,v=16,seed=1,tokens=1048576,conc=0.5]
  scheme:   --scheme NAME | --fwd fp32 --bwd fp32   [--switch-to NAME --switch-at 0.9]   (deno task schemes)
  eval:     --eval-every 0 --eval-tokens 32768
  attention: --attention fp32|bf16|sagebwd|sagebwd-int8-dp (deno task schemes)
  fine-tune: --init-from DIR (the shape comes from the checkpoint)
  output:   --out DIR [--checkpoint-every N] [--resume] [--json]
a diffusion transformer on MNIST: deno task train --family dit --help`;

const OPTIONS = {
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
  attention: { type: "string" },
  "init-from": { type: "string" },
  json: { type: "boolean" },
} as const;

/** Parses an integer option within [min, max]; InputError (one line) otherwise. */
function int(
  name: string,
  v: string | undefined,
  min: number,
  max: number,
  dflt?: number,
): number | undefined {
  return v === undefined ? dflt : numberFlag(name, v, { integer: true, min, max });
}

/** What `train` was asked to do. */
export interface TrainArgs {
  config: TrainConfig;
  out?: string;
  json: boolean;
  resume: boolean;
  checkpointEvery: number;
}

/**
 * Builds the TrainConfig (and options) from command-line arguments, checking every value; `"help"` for
 * --help. Bad input throws InputError with one line (no `train:` prefix).
 */
export function configFromArgs(args: string[]): TrainArgs | "help" {
  const { values, positionals, help } = parseFlags(args, OPTIONS);
  if (help) return "help";
  const v = values as Partial<Record<keyof typeof OPTIONS, string>> & { resume?: boolean; json?: boolean };
  if (positionals.length) throw new InputError(`unexpected argument "${positionals[0]}" (see --help)`);
  const initFrom = v["init-from"];
  let model;
  try {
    model = initFrom !== undefined ? shapeFromCheckpoint(initFrom, v) : resolveModelConfig({
      layers: int("layers", v.layers, 1, 256, 4)!,
      dModel: int("d-model", v["d-model"], 32, 16384, 128)!,
      heads: int("heads", v.heads, 1, 16384, 4)!,
      ffn: int("ffn", v.ffn, 32, 65536),
      context: int("context", v.context, 32, LIMITS.context, 128)!,
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError((e as Error).message);
  }
  const batch = int("batch", v.batch, 1, LIMITS.batch, 16)!;
  if (v.steps !== undefined && v.tokens !== undefined) {
    throw new InputError("give --steps or --tokens, not both");
  }
  const tokens = int("tokens", v.tokens, 1, LIMITS.tokens);
  const steps = tokens !== undefined
    ? Math.ceil(tokens / (batch * model.context))
    : int("steps", v.steps, 1, LIMITS.steps, 200)!;
  if (steps > LIMITS.steps) {
    throw new InputError(`--tokens ${tokens} needs ${steps} steps; at most ${LIMITS.steps}`);
  }
  const lr = v.lr === undefined ? 3e-3 : numberFlag("lr", v.lr, { max: LIMITS.lr });
  if (!(lr > 0)) throw new InputError(`--lr must be a positive number ≤ ${LIMITS.lr} (got "${v.lr}")`);
  const data = v.data ?? "sotu";
  try {
    checkSourceName(data);
  } catch (e) {
    throw new InputError(`--data: ${(e as Error).message}`);
  }
  const config: TrainConfig = {
    model,
    batch,
    steps,
    lr,
    seed: int("seed", v.seed, 0, LIMITS.seeds - 1, 0)!,
    data,
    scheme: withTarget(schemeFromArgs(v.scheme, v.fwd, v.bwd), v["switch-to"], v["switch-at"]),
    evalEvery: int("eval-every", v["eval-every"], 0, LIMITS.count, 0)!,
    evalTokens: int("eval-tokens", v["eval-tokens"], 1, LIMITS.count, 32768)!,
    // f32 attention stays absent from the config (unchanged hashes and run ids)
    ...(v.attention !== undefined && v.attention !== "fp32" ? { attention: v.attention } : {}),
    ...(initFrom !== undefined ? { initFrom } : {}),
  };
  try {
    validateTrainConfig(config);
  } catch (e) {
    throw new InputError(taskMessage("train", (e as Error).message).slice("train: ".length));
  }
  if ((v.resume || v["checkpoint-every"] !== undefined) && !v.out) {
    throw new InputError("--resume and --checkpoint-every need --out DIR");
  }
  return {
    config,
    out: v.out,
    json: !!v.json,
    resume: !!v.resume,
    checkpointEvery: int("checkpoint-every", v["checkpoint-every"], 0, LIMITS.count, 0)!,
  };
}

/** `--init-from DIR`: the model shape is the checkpoint's (shape flags are refused). */
function shapeFromCheckpoint(dir: string, v: Record<string, unknown>): ModelConfig {
  const given = ["layers", "d-model", "heads", "ffn", "context"].filter((k) => v[k] !== undefined);
  if (given.length) {
    throw new InputError(`--init-from takes the model shape from the checkpoint; drop --${given[0]}`);
  }
  return loadModel(dir).cfg;
}

/** `--scheme NAME` (a preset pair, see `deno task schemes`) or `--fwd A --bwd B`; unknown: closest names. */
function schemeFromArgs(name?: string, fwd?: string, bwd?: string): TrainConfig["scheme"] {
  if (name !== undefined) {
    if (fwd !== undefined || bwd !== undefined) {
      throw new InputError("give --scheme or --fwd/--bwd, not both");
    }
    const pair = schemePair(name);
    if (!pair) throw new InputError(`--scheme: ${unknownNameMessage("scheme", name, schemeNames())}`);
    return pair;
  }
  const known = schemeLabels();
  const f = fwd ?? "fp32", b = bwd ?? "fp32";
  if (!known.fwd.includes(f)) {
    throw new InputError(`--fwd: ${unknownNameMessage("forward scheme", f, known.fwd)}`);
  }
  if (!known.bwd.includes(b)) {
    throw new InputError(`--bwd: ${unknownNameMessage("backward scheme", b, known.bwd)}`);
  }
  return { fwd: f, bwd: b };
}

/** `--switch-to NAME --switch-at F`: target-precision schedule (lib/schemes/schedule.ts). */
function withTarget(c: TrainConfig["scheme"], to?: string, at?: string): TrainConfig["scheme"] {
  if (to === undefined) {
    if (at !== undefined) throw new InputError("--switch-at needs --switch-to NAME");
    return c;
  }
  const target = schemePair(to);
  if (!target) throw new InputError(`--switch-to: ${unknownNameMessage("scheme", to, schemeNames())}`);
  const fraction = at === undefined ? 0.9 : numberFlag("switch-at", at, { min: 0, max: 1 });
  if (!(fraction > 0 && fraction < 1)) throw new InputError(`--switch-at must be in (0, 1) (got "${at}")`);
  return withSwitch(c, target, fraction);
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
  exitWithParent("train");
  let opts: TrainArgs | "help";
  try {
    opts = configFromArgs(cliArgs.rest);
    // The output directory is created and proven writable before the first step, not after the run.
    if (opts !== "help" && opts.out) await ensureWritableDir(opts.out, "output directory", "--out");
  } catch (e) {
    console.error(taskMessage("train", (e as Error).message));
    Deno.exit(2);
  }
  if (opts === "help") {
    console.log(USAGE);
    Deno.exit(0);
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
    console.error(taskMessage("train", (e as Error).message.split("\n")[0]));
    Deno.exit(2);
  }
}
