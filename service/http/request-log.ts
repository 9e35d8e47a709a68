// One log line and one latency observation per request: what went wrong at info (4xx) or error
// (5xx), the rest at debug.
import type { onResponseHookHandler } from 'fastify';
import type { ServiceMetrics } from './metrics.js';

/** Levels at which the debug line of a success is written. */
const QUIET_ENOUGH = new Set(['debug', 'trace']);

export function requestLogHook(metrics: ServiceMetrics): onResponseHookHandler {
  return (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration.observe({ method: request.method, route, status_code: String(status) }, reply.elapsedTime / 1000);
    // A success is logged at debug only: no line to build unless that level is on.
    if (status < 400 && !QUIET_ENOUGH.has(request.log.level)) {
      done();
      return;
    }
    const line = {
      method: request.method,
      url: request.url.length > 300 ? `${request.url.slice(0, 300)}…` : request.url,
      statusCode: status,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      ...(request.errorCode !== null ? { code: request.errorCode } : {}),
    };
    if (status >= 500) request.log.error(line, 'request failed');
    else if (status >= 400) request.log.info(line, 'request rejected');
    else request.log.debug(line, 'request completed');
    done();
  };
}
