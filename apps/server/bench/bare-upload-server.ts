// The load benchmark's transport floor: Fastify with nothing but a raw-body route, which takes
// the upload as the service's `/v1/detect` does (a buffer, up to the same limit) and answers a
// small JSON. What a request to it costs is what HTTP itself costs on this host, before any work
// of the service. Started by load.ts: argv <port>; it prints "ready" when it listens.
import Fastify from 'fastify';

const app = Fastify();
app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_request, body, done) => done(null, body));
app.post('/v1/detect', async (request) => ({ bytes: (request.body as Buffer).length }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
