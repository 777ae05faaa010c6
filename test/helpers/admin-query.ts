// One administrative statement (create or drop a database or role) on a connection of its own.
// Free of vitest, so the run's global setup and the benchmarks (scripts/bench/harness.ts) use it
// as the test files do (through test/helpers/database.ts).
import { quietClient } from '../../src/db/pg-client.ts';

/** Runs one statement (create or drop a database) on a connection of its own to `adminUrl`. */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = quietClient({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
