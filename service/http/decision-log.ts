// The "decision" log line: one per answer, at info. What a remembered decision says (path,
// verdict, reasons, facts) is serialized once, into a child logger's bindings; each request adds
// only its own id, time, duration and whether a self-test ran.
import type { FastifyBaseLogger } from 'fastify';
import type { Decision } from '../../policies/decide.js';
import type { PerRequest } from './decision-body.js';

/** The fields of the decision line that follow from the decision itself. */
export function decisionFields(decision: Decision): Record<string, unknown> {
  return {
    path: decision.path,
    judged_directory: decision.judged_directory,
    verdict: decision.verdict,
    enable_workaround: decision.enable_workaround,
    confidence: decision.confidence,
    reasons: decision.reasons.map((r) => r.code),
    fs_type: decision.evidence.filesystem.fs_type,
    device: decision.evidence.filesystem.device,
    kernel_release: decision.evidence.kernel.judged_release,
    selftest_outcome: decision.evidence.selftest_used ? (decision.evidence.selftest?.report.outcome ?? null) : null,
    knowledge_base_revision: decision.provenance.knowledge_base_revision,
    policy_source: decision.policy.source,
  };
}

export class DecisionLogs {
  private readonly loggers = new WeakMap<Decision, FastifyBaseLogger>();

  constructor(private readonly log: FastifyBaseLogger) {}

  /** Logs the line: the decision's fields serialized once per remembered decision (basis), else now. */
  write(decision: Decision, basis: Decision | undefined, requestLog: FastifyBaseLogger, own: PerRequest): void {
    if (basis === undefined) {
      requestLog.info({ decision_id: own.decision_id, decided_at: own.decided_at, ...decisionFields(decision), selftest_ran: own.selftest_ran, duration_ms: own.duration_ms }, 'decision');
      return;
    }
    let logger = this.loggers.get(basis);
    if (logger === undefined) {
      logger = this.log.child(decisionFields(basis));
      this.loggers.set(basis, logger);
    }
    // The request log's binding (reqId, the decision id) is given here instead.
    logger.info({ reqId: own.decision_id, ...own }, 'decision');
  }
}
