// GET /v1/host: what the service judges with — kernel, host, QEMU, knowledge base, policy, self-tests.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { assessQemu } from '../../../policies/qemu-exposure.js';
import { XFSGUARD_VERSION } from '../../package-info.js';
import type { XfsguardService } from '../service.js';
import { hostResponseSchema, problems, responseOf } from '../schemas.js';

const hostRoutes: FastifyPluginCallbackZod<{ svc: XfsguardService }> = (app, { svc }, done) => {
  app.get(
    '/v1/host',
    {
      schema: {
        operationId: 'getHost',
        summary: 'Kernel, host, knowledge base, policy in force and known self-tests',
        description: 'What the service judges with: the kernel probed at start-up (its distro from /etc/os-release, the same probe for kernel and host), the knowledge base revision, the policy and the self-tests known per filesystem.',
        tags: ['host'],
        response: { 200: responseOf('Host, kernel, policy and self-tests', hostResponseSchema), ...problems(400, 500, 503) },
      },
    },
    async () => {
      const ctx = svc.context();
      const { state, policy } = svc;
      const host = await state.hostFacts();
      const now = Date.now();
      return {
        xfsguard_version: XFSGUARD_VERSION,
        started_at: new Date(state.started_at).toISOString(),
        uptime_s: Math.round((now - state.started_at) / 1000),
        kernel: ctx.kernel!,
        // the distro comes from the kernel probe (/etc/os-release), so kernel and host never disagree
        host: { ...(host ?? { hostname: null, arch: null, platform: null, distro: null, note: 'host facts not gathered' }), distro: ctx.kernel!.distro },
        qemu:
          state.qemu === null
            ? null
            : { searched: state.qemu.searched, duration_ms: state.qemu.duration_ms, note: state.qemu.note, versions: state.qemu.binaries, ...assessQemu(state.qemu.binaries) },
        native_addon: svc.native,
        knowledge_base: { revision: svc.knowledgeBase.revision },
        policy: {
          source: policy.source,
          mode: policy.mode,
          trust_selftest_min_iterations: policy.trust_selftest_min_iterations,
          allowed_roots: policy.allowed_roots,
          overrides: policy.overrides,
        },
        selftests: state.entries().map((s) => ({
          device: s.report.device,
          fs_uuid: s.report.fs_uuid,
          fs_type: s.report.fs_type,
          directory: s.report.directory,
          outcome: s.report.outcome,
          kernel_release: s.report.kernel_release,
          started_at: s.report.started_at,
          written_at: new Date(s.written_at).toISOString(),
          age_s: Math.max(0, Math.round((now - s.written_at) / 1000)),
          current_boot: state.isCurrent(s),
          running: svc.singleFlight.isRunning(s.report.device),
        })),
      };
    },
  );
  done();
};

export default hostRoutes;
