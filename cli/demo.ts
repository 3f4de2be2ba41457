/**
 * `deno task demo` (`./fp4lab demo`): the main job.
 * Until the sweep lands this is the formats showcase: each format's grid and its error on Gaussian data.
 * @module
 */
import { showFormatsTable } from "./formats_showcase.ts";

await showFormatsTable();
