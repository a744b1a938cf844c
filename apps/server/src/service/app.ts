import fastifyCors from '@fastify/cors';
import fastifyMultipart from '@fastify/multipart';
import fastifyResponseValidation from '@fastify/response-validation';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { probeImage, type NodeSparseViTModel } from '@sparsevit/node';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ModelIdentity } from '../model-host';
import { maskFraction, PICTURES, renderPicture, type Picture } from '../pictures';
import { version } from '../version';
import { preferredType } from './accept';
import { AdmissionQueue, type Admission } from './admission-queue';
import { createApiKeyCheck } from './api-keys';
import { createServiceMetrics, type ServiceMetrics } from './metrics';
import { detectRequestBody, detectRouteSchema, healthRouteSchema, metricsRouteSchema, modelRouteSchema, readyRouteSchema } from './schemas';
import { answerClientError, ServiceError, toServiceError, type ErrorBody } from './service-error';

/** The service's limits and policies (see the README for the defaults and why). */
export interface ServiceSettings {
  /** Default mask threshold when a request gives none. */
  threshold: number;
  /** Largest request body (raw upload or multipart file), bytes. */
  maxBodyBytes: number;
  /** Largest image, pixels, read from its header before decoding. */
  maxPixels: number;
  /** Requests inside the model at once. */
  concurrency: number;
  /** Requests allowed to wait for the model; past that, 503 with Retry-After. */
  maxQueue: number;
  /** Time to receive a whole request (headers and body), ms; slower clients get 408. */
  requestTimeoutMs: number;
  /** Time from admission to the answer (queue wait + model), ms; past it, 503 TIMEOUT. */
  inferenceTimeoutMs: number;
  /** Bearer tokens accepted on /v1/*; empty: no authentication. */
  apiKeys: readonly string[];
  /** Origins allowed by CORS (`*` for any); empty: no CORS headers. */
  corsOrigins: readonly string[];
}

/** The model once loaded and warmed up; `undefined` while loading. */
export interface ServedModel {
  model: NodeSparseViTModel;
  identity: ModelIdentity;
}

export interface DetectService {
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;
  queue: AdmissionQueue;
  metrics: ServiceMetrics;
  /** Makes the service ready (`/readyz` 200) with this model. */
  setModel(served: ServedModel): void;
  /** Refuses new detections (503 SHUTTING_DOWN) and turns `/readyz` to 503; in-flight ones finish. */
  startShutdown(): void;
}

const modelSummary = ({ weights, sha256, backend, device, imgSize }: ModelIdentity) => ({ weights, sha256, backend, device, imgSize });

/** Headers that carry the figures when the response body is a PNG. */
const FIGURE_HEADERS = ['x-sparsevit-score', 'x-sparsevit-width', 'x-sparsevit-height', 'x-sparsevit-threshold', 'x-sparsevit-model'];

function parseInclude(include: string | undefined): Picture[] {
  if (!include) return [];
  return PICTURES.filter((p) => include.split(',').includes(p));
}

/**
 * The HTTP service on Fastify: `POST /v1/detect`, `GET /v1/model`, `/healthz`, `/readyz`,
 * `/metrics`, `/docs`. It does not listen; `startServer` does, and loads the model.
 */
export async function createDetectService(settings: ServiceSettings, logger: Logger): Promise<DetectService> {
  const queue = new AdmissionQueue({ concurrency: settings.concurrency, maxQueue: settings.maxQueue });
  // The place each detection request holds from its arrival (see AdmissionQueue.admit).
  const admissions = new WeakMap<FastifyRequest, Admission>();
  const releaseAdmission = async (request: FastifyRequest) => admissions.get(request)?.release();
  const metrics = createServiceMetrics(queue);
  const checkApiKey = createApiKeyCheck(settings.apiKeys);
  let served: ServedModel | undefined;
  let shuttingDown = false;

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: settings.maxBodyBytes,
    requestTimeout: settings.requestTimeoutMs,
    http: {
      // Node takes the smaller of the headers and request timeouts as the headers' and the larger
      // as the request's: its 60 s headers default would silently become the request timeout.
      headersTimeout: Math.min(60_000, settings.requestTimeoutMs),
      // It checks them on an interval (30 s by default), which a slow upload could outlast.
      connectionsCheckingInterval: Math.min(1000, settings.requestTimeoutMs),
    },
    // Requests that arrive on a kept-alive connection once closing has begun get a 503.
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { removeAdditional: false } },
  });

  app.setErrorHandler((error, request, reply) => {
    const failure = toServiceError(error);
    metrics.rejections.inc({ reason: failure.code });
    if (failure.code === 'INTERNAL') request.log.error({ err: error }, 'internal error');
    else request.log.info({ code: failure.code, reason: failure.message }, 'request refused');
    const body: ErrorBody = { error: { code: failure.code, message: failure.message } };
    return reply.code(failure.statusCode).headers(failure.headers).send(body);
  });
  app.setNotFoundHandler((request) => {
    throw new ServiceError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.requestDuration.observe(labels, reply.elapsedTime / 1000);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'SparseViT detection service', version, description: 'Image manipulation localization over HTTP (SparseViT on @sparsevit/node).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key, when the server is configured with any' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // JSON responses are checked against their route's schema before they are sent.
  await app.register(fastifyResponseValidation, { ajv: { formats: { binary: true } } });
  if (settings.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: settings.corsOrigins.includes('*') ? '*' : [...settings.corsOrigins],
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'accept'],
      exposedHeaders: ['retry-after', ...FIGURE_HEADERS],
      maxAge: 600,
    });
  }

  app.get('/healthz', { schema: healthRouteSchema }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { schema: readyRouteSchema }, async () => {
    return { status: 'ready' as const, model: modelSummary(refuseIfUnavailable().identity) };
  });
  app.get('/metrics', { schema: metricsRouteSchema }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  await app.register(async (v1) => {
    // Only image uploads are bodies here: no JSON or text parser, so anything else is a 415.
    v1.removeAllContentTypeParsers();
    for (const type of ['application/octet-stream', /^image\/[\w.+-]+$/]) {
      v1.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: settings.maxBodyBytes }, (_request, body, done) => done(null, body));
    }
    // Multipart parts stream into memory (`toBuffer`), never to disk.
    await v1.register(fastifyMultipart, { limits: { fileSize: settings.maxBodyBytes, files: 1, fields: 8, parts: 9, headerPairs: 100 } });
    if (checkApiKey) v1.addHook('onRequest', async (request) => checkApiKey(request.headers.authorization));

    v1.get('/v1/model', { schema: modelRouteSchema }, async () => {
      const { identity } = refuseIfUnavailable();
      return { ...modelSummary(identity), config: identity.config };
    });

    v1.post<{ Querystring: { threshold?: number; include?: string } }>(
      '/v1/detect',
      {
        // Refused before the body is read when the answer is known already: a full queue, a
        // model not loaded yet, a shutdown. An overload then costs neither the upload's memory
        // nor the time to receive it. An admitted request holds its place while its body
        // arrives, and gives it back however it ends (answered, refused, or the client gone).
        onRequest: async (request) => {
          refuseIfUnavailable();
          admissions.set(request, queue.admit());
        },
        onResponse: releaseAdmission,
        onRequestAbort: releaseAdmission,
        schema: detectRouteSchema,
        config: { swaggerTransform: ({ schema, url }: { schema: object; url: string }) => ({ schema: { ...schema, body: detectRequestBody }, url }) },
      },
      async (request, reply) => detect(request, reply),
    );
  }, {});

  async function readUpload(request: FastifyRequest): Promise<Buffer> {
    if (request.isMultipart()) {
      const file = await request.file();
      if (!file) throw new ServiceError('INVALID_IMAGE', 'the multipart body has no file part');
      return file.toBuffer();
    }
    if (Buffer.isBuffer(request.body)) return request.body;
    throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'no image: send it as the body (Content-Type image/* or application/octet-stream) or as a multipart file');
  }

  function loadedModel(): ServedModel {
    if (!served) throw new ServiceError('NOT_READY', 'the model is loading', { headers: { 'retry-after': '5' } });
    return served;
  }

  /** New work is refused while loading and once shutting down. */
  function refuseIfUnavailable(): ServedModel {
    if (shuttingDown) throw new ServiceError('SHUTTING_DOWN', 'the server is shutting down');
    return loadedModel();
  }

  async function detect(request: FastifyRequest<{ Querystring: { threshold?: number; include?: string } }>, reply: FastifyReply) {
    // Checked at arrival (onRequest): a request that arrived before a shutdown began is served.
    const { model, identity } = loadedModel();
    const started = performance.now();
    const threshold = request.query.threshold ?? settings.threshold;
    const include = parseInclude(request.query.include);
    const as = preferredType(request.headers.accept, ['application/json', 'image/png'] as const);
    if (!as) throw new ServiceError('NOT_ACCEPTABLE', 'this route answers application/json or image/png');
    if (as === 'image/png' && include.length > 1) {
      throw new ServiceError('INVALID_ARGUMENT', `with Accept: image/png, include names one picture (got ${include.join(',')})`);
    }
    const pictures = as === 'image/png' && include.length === 0 ? (['mask'] as Picture[]) : include;
    const bytes = await readUpload(request);
    // The header is read before the image takes a queue slot: a decompression bomb, or bytes
    // that are no image at all, are refused here without being decoded.
    await probeImage(bytes, { maxPixels: settings.maxPixels });

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), settings.inferenceTimeoutMs);
    const onClose = () => {
      if (!reply.raw.writableFinished) controller.abort(new ServiceError('ABORTED', 'the client closed the connection'));
    };
    reply.raw.once('close', onClose);
    const queuedAt = performance.now();
    let queueMs = 0;
    try {
      const outcome = await queue.run(async () => {
        queueMs = performance.now() - queuedAt;
        metrics.queueWait.observe(queueMs / 1000);
        const result = await model.detect(bytes, { threshold, returnImage: pictures.includes('overlay'), signal: controller.signal });
        const renderStarted = performance.now();
        const pngs = await Promise.all(pictures.map((p) => renderPicture(result, p)));
        return { result, pngs, renderMs: performance.now() - renderStarted };
      }, controller.signal, admissions.get(request));
      const { result, pngs, renderMs } = outcome;
      const t = result.timings;
      for (const [step, ms] of Object.entries({ decode: t.decodeMs, preprocess: t.preprocessMs, inference: t.inferenceMs, postprocess: t.postprocessMs, total: t.totalMs })) {
        metrics.detectSteps.observe({ step }, ms / 1000);
      }
      request.log.info({ score: result.score, width: result.width, height: result.height, queueMs, modelMs: t.totalMs }, 'detected');
      if (as === 'image/png') {
        const figures = [result.score, result.width, result.height, threshold, identity.sha256];
        FIGURE_HEADERS.forEach((name, i) => reply.header(name, String(figures[i])));
        return reply.type('image/png').send(pngs[0]);
      }
      const body: Record<string, unknown> = {
        score: result.score,
        width: result.width,
        height: result.height,
        threshold,
        maskFraction: maskFraction(result.mask),
        timings: {
          queueMs,
          decodeMs: t.decodeMs,
          preprocessMs: t.preprocessMs,
          inferenceMs: t.inferenceMs,
          postprocessMs: t.postprocessMs,
          renderMs,
          totalMs: performance.now() - started,
        },
        model: modelSummary(identity),
      };
      pictures.forEach((p, i) => (body[p] = pngs[i].toString('base64')));
      return reply.type('application/json').send(body);
    } finally {
      clearTimeout(timer);
      reply.raw.removeListener('close', onClose);
    }
  }

  return {
    app,
    queue,
    metrics,
    setModel(model) {
      served = model;
    },
    startShutdown() {
      shuttingDown = true;
    },
  };
}
