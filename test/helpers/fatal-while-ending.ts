// Run by test/db/fatal-while-ending.test.ts in a process of its own: a client is ended as pg-boss
// ends its LISTEN connection (every listener taken off, then end()) while a FATAL message from its
// server is still unread, as when Postgres restarts or an embedded server is killed. Prints
// "ended quietly" unless that message ends the process. Arguments: a database URL, and "hushed"
// for hushEndingClients first.
import pg from 'pg';
import { hushEndingClients } from '../../src/db/pg-client.ts';

const [url, mode] = process.argv.slice(2);
if (mode === 'hushed') hushEndingClients();
const client = new pg.Client({ connectionString: url });
client.on('error', () => {});
await client.connect();
const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
// Nothing the server sends from here is read until the client has begun to end.
const socket = (client as unknown as { connection: { stream: NodeJS.ReadableStream } }).connection.stream;
socket.pause();
const admin = new pg.Client({ connectionString: url });
await admin.connect();
// The second argument waits for the backend to be gone: its FATAL is sent by then.
await admin.query('select pg_terminate_backend($1, 10000)', [rows[0].pid]);
await admin.end();
client.removeAllListeners();
const ended = client.end().catch(() => {});
socket.resume();
await ended;
await new Promise((resolve) => setTimeout(resolve, 200));
console.log('ended quietly');
