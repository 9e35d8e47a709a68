// The decision's JSON body, written by the response schema (zod encode + JSON.stringify) once per
// remembered decision (service/decision-memo.ts) and reused: each request only splices in what is
// its own — decision_id, decided_at, free space, the stored self-test's age, duration_ms and
// selftest_ran — into the text the schema wrote. Byte for byte what the schema would write.
import type { Decision } from '../../policies/decide.js';
import type { IdentifiedDecision } from '../judge.js';
import { decisionResponseSchema } from './schemas.js';

export type DecisionResponse = IdentifiedDecision & { duration_ms: number; selftest_ran: boolean };

/** Values no real answer has, to find where each per-request value goes in the schema's text. */
const MARK = {
  decision_id: '6f1d0c2e-9b7a-4c3d-8e5f-a1b2c3d4e5f6',
  decided_at: '1970-01-01T00:00:00.123Z',
  free_bytes: 9007199254740.125,
  age_ms: 8007199254740.125,
  duration_ms: 7007199254740.125,
} as const;

/** The schema's text cut where the per-request values go, or null when a cut is not unambiguous. */
type Template = { parts: Buffer[]; withAge: boolean } | null;

/** A value's JSON when it is plain ASCII the splice can copy as is (a UUID, an ISO time, a finite number), else null. */
function ascii(v: string | number): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  return /^[\w:.-]*$/.test(v) ? `"${v}"` : null;
}

/** What the response schema writes for a body (throws as the route's serializer would). */
export function schemaJson(body: DecisionResponse): string {
  return JSON.stringify(decisionResponseSchema.encode(body));
}

/**
 * The text cut around each `"key":value` (in order, each exactly once): every part but the last
 * ends with its `"key":`, the value left out. Null when a cut is not unambiguous.
 */
function cut(text: string, marks: [string, string][]): string[] | null {
  const parts: string[] = [];
  let from = 0;
  for (const [key, value] of marks) {
    const mark = `"${key}":${value}`;
    const at = text.indexOf(mark, from);
    if (at < 0 || text.indexOf(mark, at + 1) >= 0) return null;
    parts.push(text.slice(from, at + key.length + 3));
    from = at + mark.length;
  }
  parts.push(text.slice(from));
  return parts;
}

function build(sample: DecisionResponse): Template {
  const ev = sample.evidence;
  const withAge = ev.selftest !== null;
  const marked: DecisionResponse = {
    ...sample,
    decision_id: MARK.decision_id,
    decided_at: MARK.decided_at,
    evidence: {
      ...ev,
      filesystem: { ...ev.filesystem, free_bytes: MARK.free_bytes },
      selftest: ev.selftest === null ? null : { ...ev.selftest, age_ms: MARK.age_ms },
    },
    duration_ms: MARK.duration_ms,
    selftest_ran: false,
  };
  const text = schemaJson(marked);
  // duration_ms and selftest_ran close the document (the schema's order); written per request.
  const tail = `,"duration_ms":${MARK.duration_ms},"selftest_ran":false}`;
  if (!text.endsWith(tail)) return null;
  const parts = cut(text.slice(0, -tail.length), [
    ['decision_id', `"${MARK.decision_id}"`],
    ['decided_at', `"${MARK.decided_at}"`],
    ['free_bytes', String(MARK.free_bytes)],
    ...(withAge ? [['age_ms', String(MARK.age_ms)] as [string, string]] : []),
  ]);
  return parts === null ? null : { parts: parts.map((p) => Buffer.from(p)), withAge };
}

/** What is the request's own in the body and the decision log line. */
export interface PerRequest {
  decision_id: string;
  decided_at: string;
  duration_ms: number;
  selftest_ran: boolean;
}

export class DecisionBodies {
  private readonly templates = new WeakMap<Decision, Template>();

  /**
   * The body (UTF-8) spliced into the remembered decision's text: the parts copied, the request's
   * own values between them. Null without a remembered decision: the route's serializer writes it.
   */
  json(decision: IdentifiedDecision, basis: Decision | undefined, own: PerRequest): Buffer | null {
    if (basis === undefined) return null;
    const st = decision.evidence.selftest;
    let t = this.templates.get(basis);
    if (t === undefined) {
      t = build({ ...decision, ...own });
      this.templates.set(basis, t);
    }
    if (t === null || t.withAge !== (st !== null)) return null;
    const values = [ascii(own.decision_id), ascii(own.decided_at), ascii(decision.evidence.filesystem.free_bytes), ...(st === null ? [] : [ascii(st.age_ms)])];
    const duration = ascii(own.duration_ms);
    if (duration === null || values.includes(null)) return null;
    values.push(`,"duration_ms":${duration},"selftest_ran":${own.selftest_ran}}`);
    let size = 0;
    for (const p of t.parts) size += p.length;
    for (const v of values) size += v!.length;
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < t.parts.length; i++) {
      at += t.parts[i]!.copy(out, at);
      at += out.write(values[i]!, at, 'latin1');
    }
    return out;
  }
}
