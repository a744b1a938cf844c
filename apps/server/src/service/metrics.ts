import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdmissionQueue } from './admission-queue';

/** Seconds: from a fast tiny model on a GPU (~10 ms) to a large image on a slow CPU (~1 min). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The service's Prometheus metrics, in a registry of its own (so two servers in one process do not mix). */
export interface ServiceMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  /** Model time per image, split by step. */
  detectSteps: Histogram<'step'>;
  /** Time from admission to a free slot. */
  queueWait: Histogram<string>;
  rejections: Counter<'reason'>;
}

export function createServiceMetrics(queue: AdmissionQueue): ServiceMetrics {
  const registry = new Registry();
  // Process metrics (RSS, heap, event-loop lag, open handles) with the usual names.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers });
  /** A gauge read from the queue when scraped. */
  const gauge = (name: string, help: string, read: (set: (value: number, labels?: { limit: string }) => void) => void) =>
    new Gauge({
      name,
      help,
      labelNames: ['limit'],
      registers,
      collect() {
        read((value, labels) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  const requestLabels = ['route', 'method', 'status'] as const;
  const metrics: ServiceMetrics = {
    registry,
    requests: new Counter({ name: 'sparsevit_http_requests_total', help: 'HTTP requests answered, by route, method and status code', labelNames: requestLabels, registers }),
    requestDuration: histogram('sparsevit_http_request_duration_seconds', 'Time from receiving a request to sending its response, by route, method and status code', requestLabels),
    detectSteps: histogram('sparsevit_detect_step_seconds', 'Model time per image by step: decode, preprocess, inference, postprocess, total', ['step'] as const),
    queueWait: histogram('sparsevit_queue_wait_seconds', 'Time an admitted request waited for a model slot', []),
    rejections: new Counter({
      name: 'sparsevit_rejections_total',
      help: 'Requests refused, by reason (the error code: OVERLOADED, TIMEOUT, UNAUTHORIZED, INVALID_IMAGE, ...)',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
  gauge('sparsevit_queue_depth', 'Requests waiting for a model slot', (set) => set(queue.waiting));
  gauge('sparsevit_queue_running', 'Requests inside the model now', (set) => set(queue.running));
  gauge('sparsevit_queue_admitted', 'Requests admitted whose upload is still arriving or being checked', (set) => set(queue.admitted));
  gauge('sparsevit_queue_capacity', 'Configured limits: slots (concurrency) and queue length', (set) => {
    set(queue.concurrency, { limit: 'concurrency' });
    set(queue.maxQueue, { limit: 'queue' });
  });
  return metrics;
}
