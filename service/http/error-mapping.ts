// Maps every error a request can meet — ours, path input, zod validation, Fastify's own, an
// unparseable request, no such route — to one answer: an RFC 9457 problem document
// (application/problem+json) with our `code` and `message`, and its status.
import { STATUS_CODES as HTTP_STATUS } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { Socket } from 'node:net';
import { PathInputError } from '../../probes/path-input.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code answered, for the request log line. */
    errorCode: string | null;
  }
}

/** Statuses Fastify's own errors map to, with our code. */
export const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'bad_url',
};

/** Codes for other 4xx errors thrown by Fastify or its plugins, by status. */
const STATUS_CODES: Record<number, string> = {
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** Turns a zod validation failure into one readable sentence naming each field. */
function describeValidation(err: FastifyError): { code: string; message: string } {
  const where = err.validationContext ?? 'request';
  const issues = err.validation ?? [];
  const parts: string[] = [];
  let code = where === 'body' ? 'invalid_body' : where === 'querystring' ? 'invalid_query' : 'invalid_request';
  for (const issue of issues) {
    const field = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const params = issue.params as { keys?: string[] };
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
      const what = where === 'querystring' ? 'query parameter' : 'field';
      parts.push(`unknown ${what}${params.keys.length > 1 ? 's' : ''}: ${params.keys.join(', ')}`);
      if (issues.length === 1) code = where === 'querystring' ? 'unknown_query_parameter' : 'unknown_field';
    } else if (field === 'path' && issue.keyword === 'invalid_type' && /received undefined/.test(issue.message ?? '')) {
      parts.push('path: a path is required');
      if (issues.length === 1) code = 'path_missing';
    } else {
      const message = issue.message ?? 'invalid';
      parts.push(field === '' ? message : `${field}: ${message}`);
    }
  }
  if (where === 'body' && issues.length === 0) parts.push('the body does not match the schema');
  return { code, message: `${where === 'querystring' ? 'query' : where}: ${parts.join('; ')}` };
}

function pathInputStatus(err: PathInputError): number {
  switch (err.code) {
    case 'path_permission':
      return 403;
    case 'path_unavailable':
      return 422;
    case 'path_unresponsive':
      return 504;
    default:
      return 400;
  }
}

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/** The problem document: type/title/status/detail/instance (RFC 9457) plus code, message and, for 5xx, request_id. */
export function problemBody(status: number, code: string, message: string, instance?: string, requestId?: string) {
  return {
    type: `urn:xfsguard:problem:${code}`,
    title: HTTP_STATUS[status] ?? 'Error',
    status,
    detail: message,
    ...(instance !== undefined ? { instance } : {}),
    code,
    message,
    ...(status >= 500 && requestId !== undefined ? { request_id: requestId } : {}),
  };
}

export function errorBody(request: FastifyRequest, statusCode: number, code: string, message: string) {
  request.errorCode = code;
  const url = (request.url ?? '').split('?', 1)[0] ?? '';
  return problemBody(statusCode, code, message, url.length > 0 && url.length <= 300 ? url : undefined, request.id);
}

/** Sends the problem document with its media type. */
function sendProblem(request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).type(PROBLEM_JSON).send(errorBody(request, status, code, message));
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let status: number;
  let code: string;
  let message: string;
  if (err instanceof ApiError) {
    ({ statusCode: status, code, message } = err);
  } else if (err instanceof PathInputError) {
    status = pathInputStatus(err);
    code = err.code;
    message = err.message;
  } else if (hasZodFastifySchemaValidationErrors(err) || err.validation !== undefined) {
    status = 400;
    ({ code, message } = describeValidation(err));
  } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    status = err.statusCode;
    code = FASTIFY_CODES[err.code] ?? (err instanceof SyntaxError ? 'malformed_json' : (STATUS_CODES[status] ?? 'bad_request'));
    message = err.message;
    if (code === 'unsupported_media_type') {
      const type = request.headers['content-type'];
      message = `${type === undefined || type === '' ? 'no Content-Type' : `Content-Type ${JSON.stringify(type.slice(0, 100))}`} is not supported: send the body as application/json`;
    }
  } else {
    request.log.error({ err, reqId: request.id }, 'internal error');
    status = 500;
    code = 'internal';
    message = 'internal error; the request id names it in the service log';
  }
  if (status === 503 && code === 'not_ready') void reply.header('retry-after', '1');
  return sendProblem(request, reply, status, code, message);
}

/** A raw-socket answer for what Node's HTTP parser rejects before Fastify sees a request. */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let code = 'bad_request';
  let message = 'the request could not be parsed as HTTP/1.1';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'request_timeout';
    message = 'the request was not received in time';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'headers_too_large';
    message = 'the request headers are too large';
  }
  this.log.info({ code, status, err: { code: err.code, message: err.message } }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(problemBody(status, code, message));
    socket.write(
      `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: ${PROBLEM_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** Errors Fastify meets before routing (a malformed URL): the onResponse hook does not run, so the line is logged here. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const code = FASTIFY_CODES[error.code] ?? 'bad_request';
  request.log.info({ method: request.method, url: request.url.slice(0, 300), statusCode: status, code }, 'request rejected');
  void sendProblem(request, reply, status, code, error.message);
}

/** No such route: 405 with Allow when the URL answers other methods, 404 otherwise. */
export function notFoundHandler(methodsByUrl: ReadonlyMap<string, ReadonlySet<string>>) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const url = request.url.split('?', 1)[0] ?? '/';
    const allowed = methodsByUrl.get(url);
    if (allowed !== undefined && !allowed.has(request.method)) {
      const allow = [...allowed].sort().join(', ');
      void reply.header('allow', allow);
      return sendProblem(request, reply, 405, 'method_not_allowed', `${request.method} is not supported on ${url}; use ${allow}`);
    }
    return sendProblem(request, reply, 404, 'not_found', `no route ${request.method} ${url.length > 200 ? `${url.slice(0, 200)}…` : url}`);
  };
}
