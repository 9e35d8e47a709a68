// GET /livez (the process answers) and GET /readyz (start-up is over and not shutting down).
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { hungDevices } from '../../../probes/selftest-process.js';
import type { XfsguardService } from '../service.js';
import { XFSGUARD_VERSION } from '../../package-info.js';
import { HEALTH_CONTENT_TYPE, healthSchema, problems, responseOf } from '../schemas.js';

/** Filesystem probes stuck on a hung mount: a warning, a failure once they hold every thread. */
function probeCheck(svc: XfsguardService): { status: 'pass' | 'warn' | 'fail'; output?: string } {
  const { stuck, stalled, maxStuck } = svc.probes;
  if (stuck === 0) return { status: 'pass' };
  return {
    status: stalled ? 'fail' : 'warn',
    output: `${stuck} filesystem probe${stuck > 1 ? 's have' : ' has'} not returned (a hung mount?)${stalled ? `: at most ${maxStuck}, new decisions and self-tests are refused until they return` : ''}`,
  };
}

/** Self-tests abandoned on a device that did not respond and still stuck there: a warning naming them. */
function hungCheck(): { status: 'pass' | 'warn'; output?: string } {
  const hung = hungDevices();
  if (hung.length === 0) return { status: 'pass' };
  return {
    status: 'warn',
    output: hung.map((h) => `device ${h.device} did not respond: its self-test has been stuck since ${h.since}`).join('; '),
  };
}

const healthRoutes: FastifyPluginCallbackZod<{ svc: XfsguardService }> = (app, { svc }, done) => {
  app.get(
    '/livez',
    {
      schema: {
        operationId: 'getLivez',
        summary: 'Liveness: the process answers (never checks dependencies)',
        description: 'For a liveness probe or a watchdog: answers pass as long as the event loop runs; it never looks at the kernel, the policy or the filesystems.',
        tags: ['health'],
        response: { 200: responseOf('The process answers', healthSchema, HEALTH_CONTENT_TYPE), ...problems(400) },
      },
    },
    (_request, reply) => {
      void reply.type(HEALTH_CONTENT_TYPE);
      return { status: 'pass' as const, version: XFSGUARD_VERSION, checks: { process: { status: 'pass' as const } } };
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadyz',
        summary: 'Readiness: policy and knowledge base loaded, kernel probed, self-test state loaded, filesystem probes not stalled, not shutting down',
        description:
          'A missing native addon is a warning (self-tests come back unsupported), not a failure; so is a filesystem probe stuck on a hung mount, until so many are stuck that no probe can run.',
        tags: ['health'],
        response: {
          200: responseOf('Ready: decisions are served (status pass, or warn with the reason in checks)', healthSchema, HEALTH_CONTENT_TYPE),
          ...problems(400),
          503: responseOf('Not ready: starting, shutting down, or filesystem probes stalled (checks say which)', healthSchema, HEALTH_CONTENT_TYPE),
        },
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
        selftest_devices: hungCheck(),
      };
      const failed = reason !== null || svc.probes.stalled;
      const status = failed ? 'fail' : Object.values(checks).some((c) => c.status === 'warn') ? 'warn' : 'pass';
      void reply.code(failed ? 503 : 200).type(HEALTH_CONTENT_TYPE);
      return { status, version: XFSGUARD_VERSION, checks } as const;
    },
  );
  done();
};

export default healthRoutes;
