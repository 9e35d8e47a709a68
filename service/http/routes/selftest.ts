// POST /v1/selftest: run the race self-test on the filesystem of a path, or join the one running
// there. Rate-limited per client (TCP address, or uid on the socket): a self-test writes for seconds.
// Only requests that could start one count: the limit is applied after the body is validated and
// the path checked (a bad request is answered 4xx for what is wrong, and spends no self-test).
import { performance } from 'node:perf_hooks';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { ALL_ENGINES, ALL_MODES, selfTestTimedOut } from '../../../probes/selftest.js';
import { clientKey } from '../auth.js';
import { ApiError } from '../errors.js';
import type { ServiceLimits } from '../limits.js';
import type { XfsguardService } from '../service.js';
import { problems, responseOf, selfTestBodySchema, selfTestResponseSchema } from '../schemas.js';

const selfTestRoutes: FastifyPluginCallbackZod<{ svc: XfsguardService; limits: ServiceLimits }> = (app, { svc, limits }, done) => {
  app.post(
    '/v1/selftest',
    {
      config: {
        rateLimit: {
          max: limits.selftestRateMax,
          timeWindow: limits.selftestRateWindowMs,
          keyGenerator: clientKey,
          // after validation and the route's preHandler below (onRequest by default)
          hook: 'preHandler',
          errorResponseBuilder: (_req, ctx) =>
            new ApiError(429, 'rate_limited', `at most ${ctx.max} self-test requests per client per ${limits.selftestRateWindowMs / 1000} s; retry in ${ctx.after}`),
        },
      },
      schema: {
        operationId: 'runSelfTest',
        summary: 'Run the race self-test on the filesystem of a path',
        description:
          'At most one self-test runs per filesystem: a request while one runs joins it (joined: true) and gets its result. The result is stored for this boot and used by later decisions.',
        tags: ['selftest'],
        body: selfTestBodySchema,
        response: {
          200: responseOf('The self-test report (joined: true when it joined a run in progress)', selfTestResponseSchema),
          ...problems(400, 403, 413, 415, 422, 429, 500, 503, 504),
        },
      },
      // Runs before the rate limit (appended to preHandler by @fastify/rate-limit).
      preHandler: async (request) => {
        svc.context(); // 503 before start-up is over
        svc.checkPath(request.body.path);
        return Promise.resolve();
      },
    },
    async (request) => {
      const started = performance.now();
      const { body } = request;
      const path = svc.checkPath(body.path);
      const fs = await svc.probeFilesystem(path);
      const { report, joined } = await svc.selfTest(fs, {
        engines: body.engine === 'all' ? ALL_ENGINES : [body.engine],
        modes: body.mode === 'all' ? ALL_MODES : [body.mode],
        ...(body.iterations !== undefined ? { iterations: body.iterations } : {}),
      });
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      if (selfTestTimedOut(report)) {
        request.log.warn({ path, device: fs.device, deadline_ms: report.timeout.deadline_ms }, 'self-test: the device did not respond');
        throw new ApiError(504, 'selftest_timeout', report.timeout.message);
      }
      request.log.info(
        { path, device: fs.device, fs_type: fs.fs_type, outcome: report.outcome, joined, reproductions: report.reproductions, iterations: report.iterations, duration_ms: durationMs },
        'self-test',
      );
      return { joined, duration_ms: durationMs, filesystem: fs, report };
    },
  );
  done();
};

export default selfTestRoutes;
