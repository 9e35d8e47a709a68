// GET /metrics: Prometheus text exposition (not part of the OpenAPI document).
import type { FastifyPluginCallback } from 'fastify';
import type { XfsguardService } from '../service.js';

const metricsRoutes: FastifyPluginCallback<{ svc: XfsguardService }> = (app, { svc }, done) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { registry } = svc.metrics;
    void reply.type(registry.contentType);
    return registry.metrics();
  });
  done();
};

export default metricsRoutes;
