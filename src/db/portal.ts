// A statement's rows a batch at a time, through a named portal of Postgres's extended protocol,
// each batch its own Execute and Sync. Not DECLARE … CURSOR: the statement runs as typed, so its
// errors, their positions and the text pg_stat_activity shows are its own, and explain and show
// are read the same way. Not pg's own `rows` option or pg-cursor: they send one Sync at the end,
// and Postgres keeps a statement's time limit running across the batches until a Sync, so an
// export would meet the limit as a whole; after each Sync the next batch has the limit afresh.
// Inside the caller's transaction block the portal outlives each Sync, until the transaction ends.
// pg runs any object with these methods (a "submittable", as pg-cursor is) as one query.
import type pg from 'pg';

/** The result's columns, as Postgres describes them. */
export interface ResultColumn {
  name: string;
  dataTypeID: number;
}

export interface Batch {
  /** Empty for a statement that returns no rows. */
  columns: ResultColumn[];
  /** One array per row, one text value (or null) per column: the text Postgres sends. */
  rows: (string | null)[][];
  /** True when the statement has rows left for another batch. */
  more: boolean;
}

/** The part of pg's connection a portal uses (the messages pg-cursor sends too). */
interface ProtocolConnection {
  parse(message: { text: string }): void;
  bind(message: { portal: string; values: unknown[] }): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(message: { portal: string; rows: number }): void;
  sync(): void;
  sendCopyFail(message: string): void;
  stream: { cork?: () => void; uncork?: () => void };
}

class PortalExecute {
  readonly batch: Batch;
  readonly done: Promise<Batch>;
  private settle: { resolve(batch: Batch): void; reject(error: unknown): void } = { resolve: () => {}, reject: () => {} };
  private readonly portal: string;
  private readonly count: number;
  private readonly text: string | undefined;

  /** With `text`, opens the portal first (parse, bind, describe); without, reads on from it. */
  constructor(portal: string, count: number, columns: ResultColumn[], text?: string) {
    this.portal = portal;
    this.count = count;
    this.text = text;
    this.batch = { columns, rows: [], more: false };
    this.done = new Promise<Batch>((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: unknown): void {
    const con = connection as ProtocolConnection;
    // One write for the whole series, as pg does for its own extended queries.
    con.stream.cork?.();
    try {
      if (this.text !== undefined) {
        con.parse({ text: this.text });
        con.bind({ portal: this.portal, values: [] });
        con.describe({ type: 'P', name: this.portal });
      }
      con.execute({ portal: this.portal, rows: this.count });
      con.sync();
    } finally {
      con.stream.uncork?.();
    }
  }

  handleRowDescription(message: { fields: ResultColumn[] }): void {
    this.batch.columns = message.fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID }));
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    this.batch.rows.push(message.fields);
  }

  handlePortalSuspended(): void {
    this.batch.more = true;
  }

  handleCommandComplete(): void {}

  handleEmptyQuery(): void {}

  /** Postgres's error (pg then forgets this query and reads the Sync's answer itself), or the connection's. */
  handleError(error: unknown): void {
    this.settle.reject(error);
  }

  handleReadyForQuery(): void {
    this.settle.resolve(this.batch);
  }

  // Only a COPY asks for data: none is sent.
  handleCopyInResponse(connection: unknown): void {
    (connection as ProtocolConnection).sendCopyFail('convlog reads query results only');
  }

  handleCopyData(): void {}
}

/** Opens portal `portal` on `sql` and reads its first `count` rows. */
export function openPortal(client: pg.ClientBase, portal: string, sql: string, count: number): Promise<Batch> {
  return client.query(new PortalExecute(portal, count, [], sql) as unknown as pg.Submittable & PortalExecute).done;
}

/** The next `count` rows of a portal `openPortal` opened, whose batches have `columns`. */
export function readPortal(client: pg.ClientBase, portal: string, count: number, columns: ResultColumn[]): Promise<Batch> {
  return client.query(new PortalExecute(portal, count, columns) as unknown as pg.Submittable & PortalExecute).done;
}
