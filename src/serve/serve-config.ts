// The settings of `convlog serve` and `convlog webhook`, read from the environment (or .env)
// and checked at once: every problem in one ConfigError line, like src/config.ts.
import dotenv from 'dotenv';
import { z } from 'zod';
import { ConfigError, UsageError } from '../errors.ts';

/** Where `convlog serve` listens unless told otherwise. */
export const DEFAULT_SERVE_PORT = 8787;
/** A signed request whose timestamp is further than this from now is refused (replay window). */
export const DEFAULT_MAX_AGE_SECONDS = 300;

export interface ServeConfig {
  /** Signing secrets, newest first or in any order: a request signed with any of them is accepted. */
  secrets: string[];
  maxAgeSeconds: number;
  host: string | undefined;
}

const text = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  CONVLOG_WEBHOOK_SECRET: text.transform((value, ctx) => {
    const secrets = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (secrets.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'is missing: set the webhook signing secret (several, comma-separated, while rotating)' });
      return z.NEVER;
    }
    // Zendesk's secrets are long random strings; a short one is a typo or a placeholder.
    if (secrets.some((s) => s.length < 8)) {
      ctx.addIssue({ code: 'custom', message: 'has a secret shorter than 8 characters' });
      return z.NEVER;
    }
    return secrets;
  }),
  CONVLOG_WEBHOOK_MAX_AGE_SECONDS: text.transform((value, ctx) => {
    if (value === undefined) return DEFAULT_MAX_AGE_SECONDS;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 86_400) {
      ctx.addIssue({ code: 'custom', message: `must be a number of seconds from 1 to 86400, got "${value}"` });
      return z.NEVER;
    }
    return n;
  }),
  CONVLOG_SERVE_HOST: text,
});

/** Reads `.env` without overriding the real environment, as loadConfig does. */
export function loadServeConfig(env: NodeJS.ProcessEnv = withDotenv()): ServeConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`configuration: ${problems.join('; ')}`);
  }
  return {
    secrets: parsed.data.CONVLOG_WEBHOOK_SECRET,
    maxAgeSeconds: parsed.data.CONVLOG_WEBHOOK_MAX_AGE_SECONDS,
    host: parsed.data.CONVLOG_SERVE_HOST,
  };
}

function withDotenv(): NodeJS.ProcessEnv {
  dotenv.config({ quiet: true });
  return process.env;
}

/** `--port N` (1–65535; 0 asks the system for a free one, for tests). */
export function portFrom(value: unknown, fallback = DEFAULT_SERVE_PORT): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n > 65_535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${String(value)}"`);
  }
  return n;
}
