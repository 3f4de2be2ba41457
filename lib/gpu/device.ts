/**
 * The one WebGPU device of the process, requested with the adapter's own limits
 * (the defaults are far lower: 8 storage buffers, 128 MiB bindings on llvmpipe).
 * @module
 */

/** A device plus a one-line description of the adapter it runs on (recorded in results). */
export interface Gpu {
  /** The WebGPU device. */
  device: GPUDevice;
  /** Adapter description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  adapter: string;
  /** True when the adapter is a software (fallback) adapter. */
  isFallback: boolean;
  /** Whether `shader-f16` was enabled on the device. */
  hasF16: boolean;
}

let cached: Promise<Gpu> | undefined;

/** Returns the shared device, creating it on first use. Throws one clear line when no adapter exists. */
export function getGpu(): Promise<Gpu> {
  cached ??= (async () => {
    if (!("gpu" in navigator)) throw new Error("WebGPU is not available in this Deno build");
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) {
      throw new Error(
        "no WebGPU adapter: install Mesa's Vulkan driver (apt-get install mesa-vulkan-drivers libvulkan1) " +
          "and set DENO_WEBGPU_BACKEND=vulkan",
      );
    }
    const requiredLimits: Record<string, number> = {};
    for (const key of limitKeys) {
      const v = (adapter.limits as unknown as Record<string, number>)[key];
      if (typeof v === "number") requiredLimits[key] = v;
    }
    const features: GPUFeatureName[] = [];
    if (adapter.features.has("shader-f16")) features.push("shader-f16");
    if (adapter.features.has("timestamp-query")) features.push("timestamp-query");
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features });
    const info = adapter.info;
    const name = [info.description, info.vendor && `vendor ${info.vendor}`].filter(Boolean).join(", ");
    return {
      device,
      adapter: name || "unknown adapter",
      isFallback: info.isFallbackAdapter ?? false,
      hasF16: features.includes("shader-f16"),
    };
  })();
  return cached;
}

const limitKeys = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxBindGroups",
  "maxBindingsPerBindGroup",
  "maxUniformBufferBindingSize",
  "maxTextureDimension2D",
  "maxTextureArrayLayers",
];
