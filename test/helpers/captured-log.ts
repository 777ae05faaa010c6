// A logger whose JSON lines a test reads back, to check what a piece of code said and at what level.
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

export function capturedLog(level = 'info'): { log: Logger; lines: () => Record<string, unknown>[] } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const log = createLogger(level, { destination: sink, pretty: false });
  return { log, lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}
