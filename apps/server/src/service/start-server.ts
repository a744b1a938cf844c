import type { Logger } from 'pino';
import { loadServiceModel, type ModelSettings } from '../model-host';
import { createDetectService, type DetectService, type ServedModel, type ServiceSettings } from './app';

export interface ServeSettings extends ServiceSettings, ModelSettings {
  host: string;
  /** 0 picks a free port (see `RunningServer.url`). */
  port: number;
  /** On shutdown, how long in-flight requests get to finish before their connections are cut, ms. */
  shutdownTimeoutMs: number;
}

export interface RunningServer {
  /** `http://host:port` the server listens on. */
  url: string;
  service: DetectService;
  /** Resolves once the model is loaded and warmed up (`/readyz` 200); rejects if loading failed. */
  ready: Promise<ServedModel>;
  /**
   * Graceful shutdown: stops accepting, lets in-flight requests (running and queued) finish,
   * then releases the model. Resolves `{ drained: true }` when everything finished within
   * `shutdownTimeoutMs`, `{ drained: false }` when connections had to be cut.
   */
  close(): Promise<{ drained: boolean }>;
}

/**
 * Starts the service: listens at once (so `/healthz` answers while the model loads), loads and
 * warms up the model, then turns ready.
 */
export async function startServer(settings: ServeSettings, logger: Logger): Promise<RunningServer> {
  const service = await createDetectService(settings, logger);
  const { app } = service;
  await app.listen({ host: settings.host, port: settings.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;

  const loadStarted = performance.now();
  const ready = loadServiceModel(settings, (message) => logger.warn(message)).then((served) => {
    service.setModel(served);
    logger.info({ model: { ...served.identity, config: undefined }, loadMs: Math.round(performance.now() - loadStarted) }, 'model ready');
    return served;
  });
  ready.catch((error) => logger.error({ err: error }, 'the model could not be loaded'));

  let closing: Promise<{ drained: boolean }> | undefined;
  const close = () => {
    closing ??= (async () => {
      service.startShutdown();
      logger.info({ running: service.queue.running, queued: service.queue.waiting }, 'shutting down: finishing in-flight requests');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), settings.shutdownTimeoutMs);
      });
      // Fastify stops listening, closes idle keep-alive connections and waits for the requests
      // in progress, queued ones included.
      const drained = await Promise.race([app.close().then(() => true), deadline]);
      clearTimeout(timer);
      if (!drained) {
        logger.warn({ running: service.queue.running, queued: service.queue.waiting }, 'shutdown deadline passed: closing the remaining connections');
        app.server.closeAllConnections();
      }
      const loaded = await ready.catch(() => undefined);
      await loaded?.model.dispose();
      logger.info({ drained }, 'stopped');
      return { drained };
    })();
    return closing;
  };
  return { url, service, ready, close };
}
