// Container health check: GET /healthz of the convlog process in this container. 200 means the
// process is up and its database answers. The URL is the first argument, else the health port on
// CONVLOG_HEALTH_HOST when the worker listens on that address only.
const host = process.env.CONVLOG_HEALTH_HOST || '127.0.0.1';
const url = process.argv[2] ?? `http://${host.includes(':') ? `[${host}]` : host}:${process.env.CONVLOG_HEALTH_PORT ?? '9464'}/healthz`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  process.exitCode = response.status === 200 ? 0 : 1;
} catch {
  process.exitCode = 1;
}
