import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { createProgress, formatDuration } from "../runtime/progress.js";

function plainStream(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk) => (text += String(chunk)));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe("progress", () => {
  it("prints log lines with step, loss, rate and ETA when not on a terminal", () => {
    const { stream, text } = plainStream();
    const progress = createProgress(stream);
    progress.start(100, 0);
    progress.warmedUp(1);
    progress.tick(1);
    progress.report(10, { loss: 3.14159, lr: 0.001, tokensPerSecond: 12345 });
    progress.note("step 10: val_loss 3.0000");
    progress.stop();
    const lines = text().trimEnd().split("\n");
    expect(lines[0]).toBe("training for 100 steps");
    expect(lines[1]).toMatch(
      /^step 10\/100 \| loss 3\.1416 \| lr 1\.00e-3 \| 12\.3k tok\/s \| \d+s elapsed \| ETA \d+s$/,
    );
    expect(lines[2]).toBe("step 10: val_loss 3.0000");
    expect(lines).toHaveLength(3); // ticks alone print nothing
  });

  it("estimates the time left from the steps after warm-up, not from the start", () => {
    const { stream, text } = plainStream();
    let now = 0;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => now);
    try {
      const progress = createProgress(stream);
      progress.start(100, 0);
      progress.report(1, { loss: 5 });
      now = 120_000; // the first step took two minutes: the driver compiled every shader
      progress.warmedUp(1);
      now = 120_000 + 9 * 500; // then 9 steps at half a second each
      progress.report(10, { loss: 4 });
    } finally {
      clock.mockRestore();
    }
    const lines = text().trimEnd().split("\n");
    expect(lines[1]).toMatch(/ETA after warm-up$/);
    expect(lines[2]).toBe("first step done after 2m00s (the driver compiled its shaders)");
    expect(lines[3]).toMatch(/ETA 45s$/); // 90 steps x 0.5 s, not 90 x 12.4 s
  });

  it("says where a resumed run starts", () => {
    const { stream, text } = plainStream();
    createProgress(stream).start(50, 20);
    expect(text()).toBe("resuming at step 20/50\n");
  });

  it("formats durations compactly", () => {
    expect(formatDuration(5.4)).toBe("5s");
    expect(formatDuration(125)).toBe("2m05s");
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe("3h07m");
    expect(formatDuration(NaN)).toBe("?");
  });
});
