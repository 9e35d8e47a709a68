// GET /livez (the process answers) and GET /readyz (start-up is over and not shutting down).
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { XfsguardService } from '../service.js';
import { livezResponseSchema, readyzResponseSchema } from '../schemas.js';

/** Filesystem probes stuck on a hung mount: a warning, a failure once they hold every thread. */
function probeCheck(svc: XfsguardService): { status: 'pass' | 'warn' | 'fail'; output?: string } {
  const { stuck, stalled, maxStuck } = svc.probes;
  if (stuck === 0) return { status: 'pass' };
  return {
    status: stalled ? 'fail' : 'warn',
    output: `${stuck} filesystem probe${stuck > 1 ? 's have' : ' has'} not returned (a hung mount?)${stalled ? `: at most ${maxStuck}, new decisions and self-tests are refused until they return` : ''}`,
  };
}

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
        summary: 'Readiness: policy and knowledge base loaded, kernel probed, self-test state loaded, filesystem probes not stalled, not shutting down',
        description:
          'A missing native addon is a warning (self-tests come back unsupported), not a failure; so is a filesystem probe stuck on a hung mount, until so many are stuck that no probe can run.',
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
        filesystem_probes: probeCheck(svc),
      };
      const failed = reason !== null || svc.probes.stalled;
      const status = failed ? 'fail' : Object.values(checks).some((c) => c.status === 'warn') ? 'warn' : 'pass';
      void reply.code(failed ? 503 : 200).type('application/health+json');
      return { status, checks } as const;
    },
  );
  done();
};

export default healthRoutes;
