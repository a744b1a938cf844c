import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ServiceError } from './service-error';

/** The environment variable that holds API keys, comma- or newline-separated. */
export const API_KEYS_ENV = 'SPARSEVIT_API_KEYS';

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();

/** Splits a list of keys: one per line or comma-separated; blank entries and `#` comments skipped. */
export function parseApiKeys(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((key) => key.length > 0);
}

/** The keys from `SPARSEVIT_API_KEYS` and, when given, a file (one per line). */
export async function loadApiKeys(options: { env?: NodeJS.ProcessEnv; file?: string } = {}): Promise<string[]> {
  const keys = parseApiKeys((options.env ?? process.env)[API_KEYS_ENV] ?? '');
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (error) {
      throw new ServiceError('INVALID_ARGUMENT', `cannot read the API keys file ${options.file}: ${(error as Error).message}`, { cause: error });
    }
    keys.push(...parseApiKeys(text));
  }
  return keys;
}

/**
 * Checks `Authorization: Bearer <key>` against the configured keys. Keys are compared as SHA-256
 * digests with `timingSafeEqual`, and every configured key is compared on every request, so the
 * time taken says nothing about how much of a key was right, nor which key matched.
 */
export function createApiKeyCheck(keys: readonly string[]): ((authorization: string | undefined) => void) | undefined {
  if (keys.length === 0) return undefined;
  const digests = keys.map(digest);
  const challenge = { 'www-authenticate': 'Bearer realm="sparsevit"' };
  return (authorization) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    if (!match) throw new ServiceError('UNAUTHORIZED', 'an API key is required: send "Authorization: Bearer <key>"', { headers: challenge });
    const offered = digest(match[1]);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, offered) || ok;
    if (!ok) throw new ServiceError('UNAUTHORIZED', 'the API key is not valid', { headers: challenge });
  };
}
