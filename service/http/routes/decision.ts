// GET /v1/decision: the decision for a path, the same document as `xfsguard check --json`.
import { performance } from 'node:perf_hooks';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { XfsguardService } from '../service.js';
import { DecisionBodies } from '../decision-body.js';
import { DecisionLogs } from '../decision-log.js';
import { decisionQuerySchema, decisionResponseSchema, problems, responseOf } from '../schemas.js';

const decisionRoutes: FastifyPluginCallbackZod<{ svc: XfsguardService }> = (app, { svc }, done) => {
  const bodies = new DecisionBodies();
  const logs = new DecisionLogs(app.log);
  app.get(
    '/v1/decision',
    {
      schema: {
        operationId: 'getDecision',
        summary: 'Should QEMU\'s workaround be enabled for images at a path?',
        description:
          'Probes the filesystem of the path (statfs), judges the kernel probed at start-up and the self-test known for this boot and filesystem. With selftest=auto and none known, runs one (concurrent requests for the same filesystem share it).',
        tags: ['decision'],
        querystring: decisionQuerySchema,
        response: {
          200: responseOf('The decision, with remedies per platform; X-Request-Id carries decision_id; Cache-Control: no-store', decisionResponseSchema),
          ...problems(400, 403, 422, 500, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const started = performance.now();
      const { query } = request;
      const path = svc.checkPath(query.path);
      const whatIf = {
        decision_id: request.id,
        ...(query.kernel_release !== undefined ? { kernel_release_override: query.kernel_release } : {}),
        ...(query.kernel_version !== undefined ? { kernel_version_override: query.kernel_version } : {}),
        ...(query.version_signature !== undefined ? { version_signature_override: query.version_signature } : {}),
      };
      const { decision, selftest_ran, basis } = await svc.decide(path, query.aio ?? null, query.selftest, whatIf);
      // One id per answer: the request id is the decision id, in the body, the X-Request-Id
      // header and the log line (whose reqId is the same).
      const decisionId = request.id;
      void reply.header('x-request-id', decisionId).header('cache-control', 'no-store');
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      svc.metrics.decisions.inc({ verdict: decision.verdict });
      const own = { decision_id: decisionId, decided_at: decision.decided_at, selftest_ran, duration_ms: durationMs };
      logs.write(decision, basis, request.log, own);
      // The schema's own text, written once per remembered decision (decision-body.ts); a JSON
      // body is sent as is (the type provider only knows the object it describes).
      const json = bodies.json(decision, basis, own);
      if (json === null) return { ...decision, ...own };
      return reply.type('application/json; charset=utf-8').send(json as unknown as typeof decision & typeof own);
    },
  );
  done();
};

export default decisionRoutes;
