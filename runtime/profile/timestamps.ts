// Per-dispatch GPU time from timestamp queries. A wrapped command encoder hands callers that
// record compute passes (Executor.encode, GpuAdamw.encode) a pass that records nothing itself:
// each dispatch becomes its own real compute pass, with the pipeline and bind groups set before it
// and timestamps written at its beginning and end. Everything stays in one command buffer and one
// submission, so the times exclude submission latency (each still includes one pass boundary).

/** WebGPU's largest query set */
const QUERIES_PER_SET = 4096;

export interface TimedDispatch {
  /** the label of the compute pass the caller began */
  pass: string;
  /** the dispatch's index within that pass */
  index: number;
  ms: number;
}

export class DispatchTimer {
  private readonly sets: GPUQuerySet[] = [];
  private readonly records: { pass: string; index: number }[] = [];

  constructor(private readonly device: GPUDevice) {}

  private nextQuery(): {
    querySet: GPUQuerySet;
    beginningOfPassWriteIndex: number;
    endOfPassWriteIndex: number;
  } {
    const slot = this.records.length * 2;
    const set = Math.floor(slot / QUERIES_PER_SET);
    while (this.sets.length <= set)
      this.sets.push(this.device.createQuerySet({ type: "timestamp", count: QUERIES_PER_SET }));
    const at = slot % QUERIES_PER_SET;
    return { querySet: this.sets[set], beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 };
  }

  /** `encoder`, except that its compute passes are split into one timed pass per dispatch */
  wrap(encoder: GPUCommandEncoder): GPUCommandEncoder {
    const timer = this;
    const beginComputePass = (descriptor?: GPUComputePassDescriptor): GPUComputePassEncoder => {
      const label = descriptor?.label ?? "";
      let pipeline: GPUComputePipeline | undefined;
      const groups = new Map<number, [GPUBindGroup | null, Iterable<number> | undefined]>();
      let index = 0;
      const pass = {
        label,
        setPipeline(p: GPUComputePipeline) {
          pipeline = p;
        },
        setBindGroup(i: number, group: GPUBindGroup | null, offsets?: Iterable<number>) {
          groups.set(i, [group, offsets]);
        },
        dispatchWorkgroups(x: number, y?: number, z?: number) {
          if (!pipeline) throw new Error(`internal: dispatch without a pipeline in pass ${label}`);
          const real = encoder.beginComputePass({
            label: `${label} #${index}`,
            timestampWrites: timer.nextQuery(),
          });
          real.setPipeline(pipeline);
          for (const [i, [group, offsets]] of groups) real.setBindGroup(i, group, offsets);
          real.dispatchWorkgroups(x, y, z);
          real.end();
          timer.records.push({ pass: label, index });
          index += 1;
        },
        dispatchWorkgroupsIndirect() {
          throw new Error("internal: the dispatch timer does not split indirect dispatches");
        },
        end() {},
        pushDebugGroup() {},
        popDebugGroup() {},
        insertDebugMarker() {},
      };
      return pass as unknown as GPUComputePassEncoder;
    };
    return new Proxy(encoder, {
      get(target, prop) {
        if (prop === "beginComputePass") return beginComputePass;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /** records the resolution of every query into `encoder` (after the timed work); read with `read` */
  resolve(encoder: GPUCommandEncoder): () => Promise<TimedDispatch[]> {
    const count = this.records.length * 2;
    const bytes = Math.max(8, count * 8);
    const resolved = this.device.createBuffer({
      label: "timestamps",
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = this.device.createBuffer({
      label: "read timestamps",
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.sets.forEach((set, s) => {
      const n = Math.min(QUERIES_PER_SET, count - s * QUERIES_PER_SET);
      if (n > 0) encoder.resolveQuerySet(set, 0, n, resolved, s * QUERIES_PER_SET * 8);
    });
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    return async () => {
      await staging.mapAsync(GPUMapMode.READ);
      const stamps = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.destroy();
      resolved.destroy();
      for (const set of this.sets) set.destroy();
      return this.records.map((r, i) => {
        const ns = stamps[2 * i + 1] - stamps[2 * i];
        // a driver may report an end before its beginning for an empty interval
        return { ...r, ms: ns > 0n ? Number(ns) / 1e6 : 0 };
      });
    };
  }
}

/**
 * times every dispatch `record` encodes, in one submission: `record` receives an encoder whose
 * compute passes are split per dispatch
 */
export async function timeDispatches(
  device: GPUDevice,
  record: (encoder: GPUCommandEncoder) => void,
): Promise<TimedDispatch[]> {
  const timer = new DispatchTimer(device);
  const encoder = device.createCommandEncoder({ label: "timed dispatches" });
  record(timer.wrap(encoder));
  const read = timer.resolve(encoder);
  device.queue.submit([encoder.finish()]);
  return read();
}
