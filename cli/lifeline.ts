// A worker thread of the launcher's child process (cli/launcher.ts). fd 3 is a pipe whose other end
// only the launcher holds, so it reaches its end when the launcher dies, even by SIGKILL; the child
// must then die at once rather than go on training, holding the lock of a run folder that a rerun
// is about to take. It is watched from a thread of its own because the main thread can be busy for
// seconds at a time compiling shaders synchronously.

import { Socket } from "node:net";

const dieWithLauncher = (): void => {
  process.kill(process.pid, "SIGKILL");
};

// the launcher never writes to it: any end of it, or any failure reading it, means it is gone
new Socket({ fd: 3, readable: true, writable: false })
  .on("end", dieWithLauncher)
  .on("error", dieWithLauncher)
  .resume();
