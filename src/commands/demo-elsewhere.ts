// Right after `npm run demo`, a command on the embedded default opens a database the demo never
// writes to (the demo keeps its own, demoDataDir): `status` showed zeros and `query` no rows, with
// nothing saying where the demo's tickets went.
import fs from 'node:fs';
import { demoDataDir, projectFolder, type Config } from '../config.ts';
import { shownFolder } from '../text.ts';

/**
 * The line naming the demo's folder, and `command` again with it, for a database on the embedded
 * default that holds no ticket (`noTickets`, asked only then) beside a demo that has run; otherwise undefined.
 */
export async function demoDataElsewhere(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  noTickets: () => boolean | Promise<boolean>,
  command: string,
): Promise<string | undefined> {
  const demoDir = demoDataDir(config);
  if (config.databaseUrl || !fs.existsSync(demoDir) || !(await noTickets())) return undefined;
  // The setting is read from the project folder wherever below it the shell is (src/config.ts).
  return `the demo's data is in ${shownFolder(demoDir, process.cwd())}: CONVLOG_DATA_DIR=${shownFolder(demoDir, projectFolder())} npx convlog ${command}`;
}
