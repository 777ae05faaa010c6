// Preloaded (NODE_OPTIONS=--import) into a convlog process by tests: appends to EXIT_RECORD an uncaught
// exception and the exit code, without changing what the process does.
import fs from 'node:fs';
const out = process.env.EXIT_RECORD;
process.on('uncaughtExceptionMonitor', (e) => fs.appendFileSync(out, `uncaught ${e && e.code} ${e && e.message}\n`));
process.on('exit', (code) => fs.appendFileSync(out, `exit ${code}\n`));
