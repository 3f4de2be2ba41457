/**
 * Per-dispatch GPU times from timestamp queries: each dispatch of a recorded program runs in its own compute
 * pass with begin/end timestamps, one submit, one read-back. Shared by the training and attention benches.
 * @module
 */
import type { Dispatch } from "../lib/gpu/runtime.ts";

/**
 * Milliseconds of GPU time per dispatch (same order as `items`), or null when the adapter has no
 * `timestamp-query` feature.
 */
export async function dispatchTimesMs(dev: GPUDevice, items: Dispatch[]): Promise<number[] | null> {
  if (!dev.features.has("timestamp-query")) return null;
  const qs = dev.createQuerySet({ type: "timestamp", count: items.length * 2 });
  const qb = dev.createBuffer({
    size: items.length * 16,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const rb = dev.createBuffer({
    size: items.length * 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = dev.createCommandEncoder();
  items.forEach((it, i) => {
    const p = enc.beginComputePass({
      timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    p.setPipeline(it.pipeline);
    p.setBindGroup(0, it.bindGroup);
    p.dispatchWorkgroups(...it.grid);
    p.end();
  });
  enc.resolveQuerySet(qs, 0, items.length * 2, qb, 0);
  enc.copyBufferToBuffer(qb, 0, rb, 0, items.length * 16);
  dev.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const ts = new BigUint64Array(rb.getMappedRange());
  const out = items.map((_, i) => Number(ts[2 * i + 1] - ts[2 * i]) / 1e6);
  rb.unmap();
  for (const b of [qb, rb]) b.destroy();
  qs.destroy();
  return out;
}
