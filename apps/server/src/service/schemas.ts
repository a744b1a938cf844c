/**
 * JSON schemas of every route: Fastify validates requests against them (and
 * @fastify/response-validation the JSON responses), and @fastify/swagger builds the OpenAPI
 * document at `/docs` from the same objects, so the documentation cannot drift from the code.
 */
import { PICTURES } from '../pictures';

export const errorBodySchema = {
  type: 'object',
  description: 'Every error: a stable code (the SDK\'s own for image and model errors) and a message for people',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', examples: ['INVALID_IMAGE', 'IMAGE_TOO_LARGE', 'OVERLOADED', 'UNAUTHORIZED'] },
        message: { type: 'string' },
      },
    },
  },
} as const;

const errorResponses = {
  '4xx': { ...errorBodySchema, description: 'The request was refused (see error.code)' },
  '5xx': { ...errorBodySchema, description: 'Overloaded (503, with Retry-After), not ready, shutting down, or an internal error' },
} as const;

const modelSummary = {
  type: 'object',
  required: ['weights', 'sha256', 'backend', 'device', 'imgSize'],
  additionalProperties: false,
  properties: {
    weights: { type: 'string', description: 'The weights file name' },
    sha256: { type: 'string', description: 'SHA-256 of the weights file (hex)' },
    backend: { type: 'string', examples: ['onnxruntime-node'] },
    device: { type: 'string', examples: ['cpu', 'cuda'] },
    imgSize: { type: 'integer', description: 'Side of the square the network sees' },
  },
} as const;

const milliseconds = { type: 'number', minimum: 0 } as const;

const picture = { type: 'string', contentEncoding: 'base64', contentMediaType: 'image/png' } as const;

export const detectionSchema = {
  type: 'object',
  required: ['score', 'width', 'height', 'threshold', 'maskFraction', 'timings', 'model'],
  additionalProperties: false,
  properties: {
    score: { type: 'number', minimum: 0, maximum: 1, description: 'Image-level score: the maximum of the network-resolution probability map' },
    width: { type: 'integer', minimum: 1 },
    height: { type: 'integer', minimum: 1 },
    threshold: { type: 'number', description: 'The mask is probability > threshold' },
    maskFraction: { type: 'number', minimum: 0, maximum: 1, description: 'Fraction of the pixels in the mask' },
    timings: {
      type: 'object',
      required: ['queueMs', 'decodeMs', 'preprocessMs', 'inferenceMs', 'postprocessMs', 'renderMs', 'totalMs'],
      additionalProperties: false,
      properties: {
        queueMs: { ...milliseconds, description: 'Waiting for a model slot' },
        decodeMs: milliseconds,
        preprocessMs: milliseconds,
        inferenceMs: milliseconds,
        postprocessMs: milliseconds,
        renderMs: { ...milliseconds, description: 'Encoding the requested PNGs' },
        totalMs: { ...milliseconds, description: 'From the body received to the response built' },
      },
    },
    model: modelSummary,
    mask: { ...picture, description: 'With include=mask: 8-bit grayscale PNG, 255 where probability > threshold' },
    heatmap: { ...picture, description: 'With include=heatmap: the probability in the Turbo colormap, RGB PNG' },
    overlay: { ...picture, description: 'With include=overlay: the image tinted red by the probability, RGB PNG' },
  },
} as const;

const includePattern = `^(${PICTURES.join('|')})(,(${PICTURES.join('|')}))*$`;

export const detectRouteSchema = {
  summary: 'Localize manipulated regions in one image',
  description:
    'The image is the body: a multipart upload (the first file part, e.g. field "image") or the raw bytes ' +
    '(Content-Type image/* or application/octet-stream). It is held in memory only. With Accept: image/png the ' +
    'response is the PNG of the one picture named by include (default mask), and the figures go in X-SparseViT-* headers.',
  tags: ['detect'],
  security: [{ bearer: [] }],
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      threshold: { type: 'number', minimum: 0, maximum: 1, description: 'Mask threshold (default: the server\'s, 0.5 unless configured)' },
      include: { type: 'string', pattern: includePattern, description: `Pictures to return, comma-separated: ${PICTURES.join(', ')}` },
    },
  },
  response: {
    200: {
      description: 'The detection (JSON), or with Accept: image/png one picture',
      content: {
        'application/json': { schema: detectionSchema },
        'image/png': { schema: { type: 'string', format: 'binary' } },
      },
    },
    ...errorResponses,
  },
} as const;

/** The request body as documented; the content-type parsers and the image check enforce it. */
export const detectRequestBody = {
  content: {
    'multipart/form-data': {
      schema: { type: 'object', required: ['image'], properties: { image: { type: 'string', format: 'binary' } } },
    },
    'image/*': { schema: { type: 'string', format: 'binary' } },
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  },
} as const;

export const modelRouteSchema = {
  summary: 'The model this server runs',
  tags: ['model'],
  security: [{ bearer: [] }],
  response: {
    200: {
      ...modelSummary,
      required: [...modelSummary.required, 'config'],
      properties: { ...modelSummary.properties, config: { type: 'object', additionalProperties: true, description: 'The SparseViT config' } },
    },
    ...errorResponses,
  },
} as const;

export const healthRouteSchema = {
  summary: 'Liveness: the process answers',
  tags: ['operations'],
  response: {
    200: { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string', const: 'ok' } } },
  },
} as const;

export const readyRouteSchema = {
  summary: 'Readiness: the model is loaded and warmed up, and the server is not shutting down',
  tags: ['operations'],
  response: {
    200: {
      type: 'object',
      required: ['status', 'model'],
      additionalProperties: false,
      properties: { status: { type: 'string', const: 'ready' }, model: modelSummary },
    },
    503: { ...errorBodySchema, description: 'Still loading, or shutting down' },
  },
} as const;

export const metricsRouteSchema = {
  summary: 'Prometheus metrics (text exposition format)',
  tags: ['operations'],
  response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
} as const;
