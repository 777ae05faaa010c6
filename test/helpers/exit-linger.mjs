// Preloaded (NODE_OPTIONS=--import) into a convlog process by tests: once its exit hooks have run,
// the process stays a while (EXIT_LINGER_MS) before it is gone, as one descheduled on a busy machine
// may; its connections stay open meanwhile. What the process does is otherwise unchanged.
const reallyExit = process.reallyExit;
process.reallyExit = (code) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.EXIT_LINGER_MS));
  reallyExit.call(process, code);
};
