// Every multi-statement transaction goes through here, not through drizzle's db.transaction: that
// one sends BEGIN before its try block, so a connection lost between checkout and BEGIN (Postgres
// restarting) keeps its pool client for ever, and a worker's pool then never closes on SIGTERM.
// A client whose BEGIN, COMMIT or ROLLBACK failed is destroyed rather than returned to the pool.
import { drizzle } from 'drizzle-orm/node-postgres';
import { poolOf, type Db } from './connection.ts';
import * as schema from './schema.ts';

export async function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  const pool = poolOf(db);
  const client = await pool.connect();
  // Set once the transaction has ended cleanly (committed, or rolled back after the work failed).
  let reusable = false;
  try {
    await client.query('begin');
    let result: T;
    try {
      result = await work(drizzle(client, { schema }) as unknown as Db);
    } catch (error) {
      // The work's own error is what the caller needs, whether or not the rollback goes through.
      await client.query('rollback').then(
        () => void (reusable = true),
        () => {},
      );
      throw error;
    }
    await client.query('commit');
    reusable = true;
    return result;
  } finally {
    // release(true) destroys the connection: one whose BEGIN, COMMIT or ROLLBACK failed is not reused.
    client.release(!reusable);
  }
}
