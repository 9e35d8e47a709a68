// A route's serializer compiler: its 200 body, built by our own typed code, is written with plain
// JSON.stringify (re-encoding ~2.7 KB through zod cost more than judging the path); every other
// status keeps the zod serializer. The route's test checks the schema would not change the body.
import { serializerCompiler } from 'fastify-type-provider-zod';

type ZodRoute = Parameters<typeof serializerCompiler>[0];

export function plainJsonFor200(route: { httpStatus?: string }): (data: unknown) => string {
  return route.httpStatus === '200' ? (data) => JSON.stringify(data) : serializerCompiler(route as ZodRoute);
}
