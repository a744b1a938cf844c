// The load benchmark's transport floor: Fastify with nothing but a raw-body route, which takes
// the upload as the service's `/v1/detect` does (a buffer, up to the same limit) and answers a
// small JSON. What a request to it costs is what HTTP itself costs on this host, before any work
// of the service. Started by load.ts as the service is (`--host H --port P`, ready once `/readyz`
// answers).
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });

const app = Fastify();
app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_request, body, done) => done(null, body));
app.post('/v1/detect', async (request) => ({ bytes: (request.body as Buffer).length }));
app.get('/readyz', async () => ({ ready: true }));
await app.listen({ host: values.host, port: Number(values.port) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
