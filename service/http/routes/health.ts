// GET /livez (the process answers) and GET /readyz (start-up is over and not shutting down).
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { XfsguardService } from '../app.js';
import { livezResponseSchema, readyzResponseSchema } from '../schemas.js';

const healthRoutes: FastifyPluginCallbackZod<{ svc: XfsguardService }> = (app, { svc }, done) => {
  app.get(
    '/livez',
    { schema: { summary: 'Liveness: the process answers (never checks dependencies)', tags: ['health'], response: { 200: livezResponseSchema } } },
    () => ({ status: 'pass' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: policy and knowledge base loaded, kernel probed, self-test state loaded, not shutting down',
        description: 'A missing native addon is a warning (self-tests come back unsupported), not a failure.',
        tags: ['health'],
        response: { 200: readyzResponseSchema, 503: readyzResponseSchema },
      },
    },
    (_request, reply) => {
      const reason = svc.state.notReadyReason();
      const checks = {
        startup: reason === null ? { status: 'pass' as const } : { status: 'fail' as const, output: reason },
        native_addon: svc.native.available
          ? { status: 'pass' as const }
          : { status: 'warn' as const, output: `self-tests come back unsupported: ${svc.native.error ?? 'native addon unavailable'}` },
      };
      const status = reason !== null ? 'fail' : svc.native.available ? 'pass' : 'warn';
      void reply.code(reason === null ? 200 : 503).type('application/health+json');
      return { status, checks } as const;
    },
  );
  done();
};

export default healthRoutes;
