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
  const requests = new Counter({
    name: 'sparsevit_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const requestDuration = new Histogram({
    name: 'sparsevit_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const detectSteps = new Histogram({
    name: 'sparsevit_detect_step_seconds',
    help: 'Model time per image by step: decode, preprocess, inference, postprocess, total',
    labelNames: ['step'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'sparsevit_queue_wait_seconds',
    help: 'Time an admitted request waited for a model slot',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const rejections = new Counter({
    name: 'sparsevit_rejections_total',
    help: 'Requests refused, by reason (the error code: OVERLOADED, TIMEOUT, UNAUTHORIZED, INVALID_IMAGE, ...)',
    labelNames: ['reason'] as const,
    registers,
  });
  new Gauge({
    name: 'sparsevit_queue_depth',
    help: 'Requests waiting for a model slot',
    registers,
    collect() {
      this.set(queue.waiting);
    },
  });
  new Gauge({
    name: 'sparsevit_queue_running',
    help: 'Requests inside the model now',
    registers,
    collect() {
      this.set(queue.running);
    },
  });
  new Gauge({
    name: 'sparsevit_queue_capacity',
    help: 'Configured limits: slots (concurrency) and queue length',
    labelNames: ['limit'] as const,
    registers,
    collect() {
      this.set({ limit: 'concurrency' }, queue.concurrency);
      this.set({ limit: 'queue' }, queue.maxQueue);
    },
  });
  return { registry, requests, requestDuration, detectSteps, queueWait, rejections };
}
