import { SparseViTError, throwIfAborted } from '@sparsevit/core';
import type { LoadProgress } from './types';

export const DEFAULT_WEIGHTS_CACHE = 'sparsevit-weights-v1';

export interface FetchWeightsOptions {
  /** Cache API cache name; `false` for no caching. Default `sparsevit-weights-v1`. */
  cache?: string | false;
  fetchInit?: RequestInit;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

export interface FetchedWeights {
  blob: Blob;
  /** Whether the bytes came from the Cache API (no network). */
  fromCache: boolean;
}


async function openCache(name: string | false): Promise<Cache | undefined> {
  if (name === false || typeof caches === 'undefined') return undefined;
  try {
    return await caches.open(name);
  } catch {
    return undefined; // e.g. an insecure context or storage disabled: just don't cache
  }
}

/** Reads a response body to a Blob, reporting bytes as they arrive. */
async function readBody(response: Response, phase: 'download' | 'cache', url: string, options: FetchWeightsOptions): Promise<Blob> {
  const total = Number(response.headers.get('content-length')) || 0;
  const report = (loaded: number) => options.onProgress?.({ phase, loaded, total, url });
  if (!response.body) {
    const blob = await response.blob();
    report(blob.size);
    return blob;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  report(0);
  const onAbort = () => void reader.cancel().catch(() => undefined);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      throwIfAborted(options.signal);
      const { done, value } = await reader.read();
      throwIfAborted(options.signal);
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      report(loaded);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (total && loaded !== total) {
    throw new SparseViTError('IO_ERROR', `${url}: the download ended after ${loaded} of ${total} bytes`);
  }
  return new Blob(chunks as BlobPart[], { type: response.headers.get('content-type') ?? 'application/octet-stream' });
}

/**
 * Downloads a weights file with progress (`fetch` + `ReadableStream`), abortable, and keeps it in
 * the Cache API so the next visit loads it without the network. A cached file is used as is (no
 * revalidation): give each weights release its own URL, or call `clearWeightsCache`.
 */
export async function fetchWeights(url: string, options: FetchWeightsOptions = {}): Promise<FetchedWeights> {
  throwIfAborted(options.signal);
  const cache = await openCache(options.cache ?? DEFAULT_WEIGHTS_CACHE);
  const cached = await cache?.match(url);
  if (cached) {
    try {
      return { blob: await readBody(cached, 'cache', url, options), fromCache: true };
    } catch (error) {
      throwIfAborted(options.signal);
      await cache?.delete(url); // a damaged entry: fetch again
    }
  }
  let response: Response;
  try {
    response = await fetch(url, { ...options.fetchInit, signal: options.signal });
  } catch (error) {
    throwIfAborted(options.signal);
    throw new SparseViTError('IO_ERROR', `cannot download the weights from ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw new SparseViTError('IO_ERROR', `cannot download the weights from ${url}: HTTP ${response.status} ${response.statusText}`);
  let blob: Blob;
  try {
    blob = await readBody(response, 'download', url, options);
  } catch (error) {
    throwIfAborted(options.signal);
    throw error instanceof SparseViTError ? error : new SparseViTError('IO_ERROR', `downloading ${url} failed: ${(error as Error).message}`, { cause: error });
  }
  if (cache) {
    const headers = new Headers({ 'content-type': blob.type, 'content-length': String(blob.size) });
    try {
      await cache.put(url, new Response(blob, { headers }));
    } catch {
      // Quota exceeded or storage disabled: the model still loads, just not offline next time.
    }
  }
  return { blob, fromCache: false };
}

/** Whether `url` is in the weights cache. */
export async function isWeightsCached(url: string, cacheName: string = DEFAULT_WEIGHTS_CACHE): Promise<boolean> {
  const cache = await openCache(cacheName);
  return (await cache?.match(url)) !== undefined;
}

/** Removes one URL, or (without one) every cached weights file. */
export async function clearWeightsCache(url?: string, cacheName: string = DEFAULT_WEIGHTS_CACHE): Promise<void> {
  if (typeof caches === 'undefined') return;
  if (url === undefined) await caches.delete(cacheName);
  else await (await caches.open(cacheName)).delete(url);
}
