// Starts one Postgres for the whole run and migrates a template database once; each test
// file clones it (test/helpers/database.ts), which takes milliseconds and isolates files.
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connect } from '../../src/db/connection.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/log.ts';
import { adminQuery } from '../helpers/admin-query.ts';
import { startTestPostgres } from './postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
    /** Appended to CREATE DATABASE: ` strategy file_copy` where the server has it. */
    pgCreateStrategy: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestPostgres();
  const template = `convlog_template_${process.pid}`;
  let strategy = '';
  try {
    // Postgres 15+ copies a template through the WAL by default, a page at a time; copying its
    // files takes a third of the CPU, and every test file clones one.
    const version = new pg.Client({ connectionString: server.adminUrl });
    await version.connect();
    try {
      const { rows } = await version.query<{ n: number }>(`select current_setting('server_version_num')::int as n`);
      if (rows[0].n >= 150000) strategy = ' strategy file_copy';
    } finally {
      await version.end();
    }
    await adminQuery(server.adminUrl, `drop database if exists ${template}`);
    await adminQuery(server.adminUrl, `create database ${template}`);

    const db = await connect(withDatabase(server.adminUrl, template), silentLogger, 1);
    try {
      await migrateDatabase(db.pool, silentLogger);
    } finally {
      await db.close();
    }
  } catch (error) {
    // vitest runs no teardown when setup fails: a Postgres started here would outlive the run.
    await server.stop();
    throw error;
  }

  project.provide('pgAdminUrl', server.adminUrl);
  project.provide('pgTemplate', template);
  project.provide('pgCreateStrategy', strategy);

  return async () => {
    const cleanup = new pg.Client({ connectionString: server.adminUrl });
    await cleanup.connect();
    const { rows } = await cleanup.query<{ datname: string }>(
      `select datname from pg_database where datname like $1 or datname = $2`,
      [`convlog_test_${process.pid}_%`, template],
    );
    for (const { datname } of rows) await cleanup.query(`drop database if exists "${datname}" with (force)`);
    await cleanup.end();
    await server.stop();
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
