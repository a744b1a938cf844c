import Ajv2020 from 'ajv/dist/2020.js';

type Spec = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

/**
 * Checks responses against the OpenAPI document the server publishes at /docs/json: the
 * documented schema for the route, the status (or its `4XX`/`5XX` range) and the media type.
 * What a client reads in the document is what it gets.
 */
export function openApiChecker(spec: Spec) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('binary', true);
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  return (path: string, method: string, status: number, contentType: string, body: unknown) => {
    const responses = spec.paths[path]?.[method.toLowerCase()]?.responses;
    if (!responses) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses[`${String(status)[0]}xx`];
    if (!documented) throw new Error(`${method} ${path}: status ${status} is not documented`);
    const media = contentType.split(';')[0].trim();
    const schema = documented.content?.[media]?.schema;
    if (!schema) throw new Error(`${method} ${path} ${status}: media type ${media} is not documented`);
    const validate = ajv.compile(schema);
    if (!validate(body)) throw new Error(`${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
  };
}
