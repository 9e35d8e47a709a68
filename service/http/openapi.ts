// The OpenAPI document generated from the zod route schemas, /openapi.json and the /docs UI (loaded
// on its first request).
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { XFSGUARD_VERSION } from '../package-info.js';
import { registerDocsUi } from './docs-ui.js';

const OPENAPI_HIDDEN = ['/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/*', '/docs/initOAuth', '/docs/uiConfig', '/openapi.json', '/metrics'];

type OpenApiDoc = ReturnType<typeof jsonSchemaTransformObject>;

/**
 * The zod provider emits each registered schema twice (FooInput for requests, Foo for responses);
 * no request uses a registered schema here, so the Input twins are dropped unless referenced
 * (repeatedly: a twin may be referenced only by another twin).
 */
export function withoutUnusedInputTwins(doc: OpenApiDoc): OpenApiDoc {
  const d = doc as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = { ...(d.components?.schemas ?? {}) };
  let removed = true;
  while (removed) {
    removed = false;
    for (const name of Object.keys(schemas)) {
      if (!name.endsWith('Input') || schemas[name.slice(0, -'Input'.length)] === undefined) continue;
      const others = { ...schemas };
      delete others[name];
      if (!JSON.stringify({ paths: d.paths, others }).includes(`"#/components/schemas/${name}"`)) {
        delete schemas[name];
        removed = true;
      }
    }
  }
  return { ...doc, components: { ...d.components, schemas } } as OpenApiDoc;
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'xfsguard',
        version: XFSGUARD_VERSION,
        description:
          "Tells whether QEMU's workaround for the XFS fallocate vs in-flight AIO+DIO size race must be enabled for VM images at a path, from the filesystem, the kernel and a live self-test. Errors are RFC 9457 problem documents (application/problem+json) with a stable `code`; every response carries X-Request-Id.",
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // server.ts's DEFAULT_HOST and DEFAULT_PORT (not imported: server.ts imports this file's importer)
      servers: [
        { url: 'http://127.0.0.1:8470', description: 'TCP when serve is given --tcp (HTTPS with --tls-cert/--tls-key, which another address than loopback needs); the unix socket /run/xfsguard/xfsguard.sock answers the same API' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: "On TCP: the token in serve's --token-file (/etc/xfsguard/api-token). The unix socket checks the caller's credentials (SO_PEERCRED) instead; /livez and /readyz are open.",
          },
        },
      },
      // The token on TCP; none on the unix socket.
      security: [{ bearerAuth: [] }, {}],
      tags: [
        { name: 'decision', description: 'Should the workaround be enabled for a path, and which settings would remedy it' },
        { name: 'selftest', description: 'The live race self-test on a path\'s filesystem' },
        { name: 'host', description: 'What the service judges with' },
        { name: 'health', description: 'Liveness and readiness in application/health+json' },
      ],
    },
    transform: createJsonSchemaTransform({ skipList: OPENAPI_HIDDEN }),
    transformObject: (doc) => withoutUnusedInputTwins(jsonSchemaTransformObject(doc)),
  });
  // the UI is loaded on the first /docs request (docs-ui.ts)
  registerDocsUi(app, '/docs');
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
}
