/**
 * The DiT's held-out diffusion loss: the mean ε-MSE of a predictor over an evaluation set (the fixed
 * validation tuples, or any `inputs` safetensors file), the quantity `tools/dit_check.py` recomputes.
 *
 * Public API: {@link VAL_COUNT}, {@link VAL_SEED}, {@link mnistValidationInputs} (the standard set:
 * 1,000 held-out digits, t on an even grid over [0, 999], seeded noise), {@link evalLoss} (any predictor),
 * {@link evalCheckpointOnInputs} (checkpoint dir + inputs file, predictor injected; reference by default).
 * @module
 */
import { loadMnist } from "../../data/mnist.ts";
import type { DitConfig } from "./config.ts";
import { type EpsPredictor, type EvalInputs, evalInputsFrom, validationTuples } from "./diffusion.ts";
import { loadDitModel, readEvalInputs } from "./checkpoint.ts";
import { referencePredictor } from "./sample.ts";

/** Tuples in the standard validation set (all held-out digits). */
export const VAL_COUNT = 1000;
/** Seed of the standard validation set. */
export const VAL_SEED = 0;

/** The standard validation tuples (`count` held-out digits; 1,000 and seed 0 unless told). */
export function mnistValidationInputs(count = VAL_COUNT, seed = VAL_SEED): EvalInputs {
  return validationTuples(loadMnist().val, count, seed);
}

/** Mean (ε̂ − ε)² over an evaluation set, asking the predictor for at most `maxBatch` images at a time. */
export async function evalLoss(predict: EpsPredictor, inputs: EvalInputs, maxBatch = 250): Promise<number> {
  const { x, t, y, target } = evalInputsFrom(inputs);
  const per = x.length / inputs.batch;
  let sum = 0;
  for (let a = 0; a < inputs.batch; a += maxBatch) {
    const b = Math.min(inputs.batch, a + maxBatch);
    const eps = await predict(x.slice(a * per, b * per), t.slice(a, b), y.slice(a, b));
    if (eps.length !== (b - a) * per) {
      throw new Error(`eval: predictor returned ${eps.length} values, want ${(b - a) * per}`);
    }
    for (let i = 0; i < eps.length; i++) sum += (eps[i] - target[a * per + i]) ** 2;
  }
  return sum / x.length;
}

/** Loss of a checkpoint on an inputs file (checks the images match the model's shape). */
export async function evalCheckpointOnInputs(
  dir: string,
  inputsPath: string,
  makePredictor: (cfg: DitConfig, params: Float32Array) => EpsPredictor | Promise<EpsPredictor> =
    referencePredictor,
): Promise<{ loss: number; batch: number }> {
  const { cfg, params } = loadDitModel(dir);
  const inputs = readEvalInputs(inputsPath, cfg.numClasses);
  const want = cfg.inChannels * cfg.inputSize * cfg.inputSize;
  if (inputs.x0.length !== inputs.batch * want) {
    throw new Error(
      `inputs ${inputsPath}: images have ${
        inputs.x0.length / inputs.batch
      } values, the model takes ${cfg.inChannels}×${cfg.inputSize}×${cfg.inputSize}`,
    );
  }
  return { loss: await evalLoss(await makePredictor(cfg, params), inputs), batch: inputs.batch };
}
