// The OpenAPI document generated from the zod route schemas, /openapi.json and the /docs UI.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { XFSGUARD_VERSION } from '../package-info.js';

const OPENAPI_HIDDEN = ['/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/*', '/docs/initOAuth', '/docs/uiConfig', '/openapi.json', '/metrics'];

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'xfsguard',
        version: XFSGUARD_VERSION,
        description:
          "Tells whether QEMU's workaround for the XFS fallocate vs in-flight AIO+DIO size race must be enabled for VM images at a path, from the filesystem, the kernel and a live self-test.",
      },
    },
    transform: createJsonSchemaTransform({ skipList: OPENAPI_HIDDEN }),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
}
