import { buildNegGraph } from '../../src/model/lm/gpu/cache-graphs.js';
import { createSession, type ExecutionProvider } from '../../src/model/onnx/session.js';
import { encodeModel } from '../../src/model/onnx/serialize.js';

/**
 * Whether the WebGPU provider finds a device here (any Vulkan device, Mesa's
 * software one included; .ci/run installs it): null when it does, else why not.
 */
async function webgpuMissing(): Promise<string | null> {
  try {
    const s = await createSession(encodeModel(buildNegGraph('float32')), { provider: 'webgpu', intraOpThreads: 1 });
    await s.release();
    return null;
  } catch (e) {
    const m = (e as Error).message;
    return /Failed to get a WebGPU adapter[^\n]*/.exec(m)?.[0] ?? m.split('\n')[0]!;
  }
}

export const WEBGPU_MISSING = await webgpuMissing();

/** A test's skip option for WebGPU tests: skipped without a device, unless PARLEY_REQUIRE_WEBGPU=1 says there must be one. */
export const WEBGPU_SKIP: string | false = WEBGPU_MISSING !== null && process.env['PARLEY_REQUIRE_WEBGPU'] !== '1' ? `no WebGPU device here (${WEBGPU_MISSING})` : false;

/** The providers device-cache tests run on: the CPU always, WebGPU unless skipped. */
export const DEVICE_PROVIDERS: ExecutionProvider[] = WEBGPU_SKIP === false ? ['cpu', 'webgpu'] : ['cpu'];
