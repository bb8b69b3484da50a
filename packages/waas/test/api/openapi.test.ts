import { isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { createApiSchema } from '../../src/api/openapi.js';
import type { HttpRequest } from '../../src/request.js';

/** A small pets/users API: path templates, a base path, every parameter place, a JSON body with refs. */
const PETS_YAML = `
openapi: 3.0.3
info: { title: Pets, version: '1' }
servers:
  - url: https://api.example.com/v1
paths:
  /pets:
    get:
      parameters:
        - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100 } }
        - { name: kind, in: query, schema: { type: string, enum: [cat, dog] } }
        - { name: tags, in: query, schema: { type: array, items: { type: string, maxLength: 8 } } }
      responses: { '200': { description: ok } }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Pet' }
      responses: { '201': { description: created } }
  /pets/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: integer } }
    get:
      parameters:
        - { name: x-request-id, in: header, schema: { type: string, format: uuid } }
      responses: { '200': { description: ok } }
    delete:
      parameters:
        - { name: session, in: cookie, required: true, schema: { type: string, pattern: '^[a-f0-9]{8}$' } }
      responses: { '204': { description: gone } }
  /users/me:
    get: { responses: { '200': { description: ok } } }
  /users/{userId}:
    get:
      parameters:
        - { name: userId, in: path, required: true, schema: { type: string, format: uuid } }
        - { name: email, in: query, schema: { type: string, format: email } }
      responses: { '200': { description: ok } }
components:
  schemas:
    Pet:
      type: object
      required: [name, owner]
      additionalProperties: false
      properties:
        name: { type: string, minLength: 1, maxLength: 20 }
        age: { type: integer, minimum: 0 }
        owner: { $ref: '#/components/schemas/Owner' }
        friends: { type: array, items: { $ref: '#/components/schemas/Pet' } }
    Owner:
      type: object
      required: [ip]
      properties:
        ip: { type: string, format: ipv4 }
        since: { type: string, format: date-time }
`;

const schema = createApiSchema(PETS_YAML);
const get = (url: string, headers: Record<string, string> = {}): HttpRequest => ({
  method: 'GET',
  url,
  headers,
});
const post = (body: unknown): HttpRequest => ({
  method: 'POST',
  url: '/v1/pets',
  headers: { 'Content-Type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const reasons = (r: HttpRequest) => schema.validate(r).map((f) => f.reason);

describe('createApiSchema', () => {
  it('passes requests that conform, under the server base path', () => {
    expect(schema.validate(get('/v1/pets?limit=10&kind=cat&tags=a,b'))).toEqual([]);
    expect(schema.validate(get('https://api.example.com/v1/pets/12'))).toEqual([]);
    expect(schema.validate(get('/v1/users/me'))).toEqual([]);
    expect(
      schema.validate(get('/v1/users/0b6f8f4e-3c1a-4b8e-9a52-2f1d7c8e9a10?email=a%40b.example')),
    ).toEqual([]);
    const pet = { name: 'Rex', owner: { ip: '10.0.0.1', since: '2024-01-02T03:04:05Z' } };
    expect(schema.validate(post({ ...pet, friends: [pet] }))).toEqual([]);
    expect(
      schema.validate({
        method: 'DELETE',
        url: '/v1/pets/3',
        headers: { Cookie: 'session=deadbeef' },
      }),
    ).toEqual([]);
  });

  it('reports unknown paths and methods', () => {
    expect(schema.validate(get('/v1/owners'))).toEqual([
      {
        category: 'api-schema',
        location: 'path',
        evidence: '/v1/owners',
        confidence: 1,
        reason: 'unknown path',
      },
    ]);
    expect(reasons(get('/pets'))).toEqual(['unknown path']);
    expect(reasons({ method: 'PUT', url: '/v1/pets/3' })).toEqual([
      'method PUT not allowed on /pets/{id}',
    ]);
    expect(reasons({ method: 'HEAD', url: '/v1/pets/3' })).toEqual([]);
  });

  it('reports parameters that break their schema, each at its location', () => {
    expect(reasons(get('/v1/pets?limit=500'))).toEqual(['query.limit: expected integer ≤ 100']);
    expect(reasons(get('/v1/pets?limit=ten'))).toEqual(['query.limit: expected integer']);
    expect(reasons(get('/v1/pets?kind=cow'))).toEqual(['query.kind: expected one of "cat", "dog"']);
    expect(reasons(get('/v1/pets?tags=a,toolongtag'))).toEqual([
      'query.tags[1]: expected at most 8 characters',
    ]);
    expect(reasons(get('/v1/pets/abc'))).toEqual(['path.id: expected integer']);
    expect(reasons(get('/v1/pets/1', { 'X-Request-Id': 'nope' }))).toEqual([
      'header.x-request-id: expected uuid',
    ]);
    expect(reasons(get('/v1/users/42'))).toEqual(['path.userId: expected uuid']);
    expect(reasons(get('/v1/users/0b6f8f4e-3c1a-4b8e-9a52-2f1d7c8e9a10?email=x'))).toEqual([
      'query.email: expected email',
    ]);
    expect(reasons({ method: 'DELETE', url: '/v1/pets/3' })).toEqual([
      'cookie.session: required parameter missing',
    ]);
    expect(
      reasons({ method: 'DELETE', url: '/v1/pets/3', headers: { cookie: "session=' or 1=1" } }),
    ).toEqual(['cookie.session: does not match ^[a-f0-9]{8}$']);
  });

  it('reports bodies that break their schema, through $refs and recursion', () => {
    expect(reasons({ method: 'POST', url: '/v1/pets' })).toEqual(['body: required body missing']);
    expect(reasons(post('{"name":'))).toEqual(['body: not valid JSON']);
    expect(
      reasons({
        method: 'POST',
        url: '/v1/pets',
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      }),
    ).toEqual(['body: content type text/plain not accepted']);
    expect(reasons(post({ name: '', owner: { ip: '300.1.1.1' }, admin: true }))).toEqual([
      'body.name: expected at least 1 characters',
      'body.owner.ip: expected ipv4',
      'body.admin: property not allowed',
    ]);
    expect(
      reasons(post({ name: 'a', owner: { ip: '1.2.3.4' }, friends: [{ name: 'b', age: -1 }] })),
    ).toEqual([
      'body.friends[0].owner: required property missing',
      'body.friends[0].age: expected integer ≥ 0',
    ]);
    expect(reasons(post([1]))).toEqual(['body: expected object']);
  });

  it('prefers a literal segment over a template', () => {
    expect(reasons(get('/v1/users/me?email=x'))).toEqual([]);
  });

  it('accepts a parsed 3.1 document with type lists and numeric exclusive bounds', () => {
    const s = createApiSchema({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/files/{name}.json': {
          get: {
            parameters: [
              { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
              {
                name: 'n',
                in: 'query',
                schema: { type: ['integer', 'null'], exclusiveMaximum: 10 },
              },
            ],
          },
        },
      },
    });
    expect(s.validate(get('/files/a.json?n=9'))).toEqual([]);
    expect(s.validate(get('/files/a.json?n=10')).map((f) => f.reason)).toEqual([
      'query.n: expected integer < 10',
    ]);
    expect(s.validate(get('/files/a.txt')).map((f) => f.reason)).toEqual(['unknown path']);
  });

  it('skips a pattern RE2 refuses and says where', () => {
    const s = createApiSchema({
      openapi: '3.0.0',
      paths: {
        '/a': {
          get: {
            parameters: [{ name: 'q', in: 'query', schema: { type: 'string', pattern: '(a)\\1' } }],
          },
        },
      },
    });
    expect(s.problems).toEqual([
      expect.stringContaining('paths["/a"].get.parameters[0].schema.pattern: skipped'),
    ]);
    expect(s.validate(get('/a?q=zz'))).toEqual([]);
  });

  it('refuses bad documents naming the JSON path', () => {
    const bad = (doc: unknown) => {
      try {
        createApiSchema(doc);
      } catch (err) {
        expect(isMamoriError(err, 'MAMORI_VALIDATION')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('openapi: 2.0\npaths: {}')).toBe('openapi: must be "3.0.x" or "3.1.x", not 2');
    expect(bad('{ not json')).toMatch(/^\(document\): not JSON or YAML/);
    expect(
      bad({
        openapi: '3.0.0',
        paths: { '/a/{id}': { get: { parameters: [{ name: 'id', in: 'body' }] } } },
      }),
    ).toBe('paths["/a/{id}"].get.parameters[0].in: must be path, query, header or cookie');
    expect(
      bad({
        openapi: '3.0.0',
        paths: {
          '/a': {
            post: { requestBody: { content: { 'application/json': { schema: { type: 'int' } } } } },
          },
        },
      }),
    ).toBe(
      'paths["/a"].post.requestBody.content["application/json"].schema.type: unknown type "int"',
    );
    expect(
      bad({
        openapi: '3.0.0',
        paths: { '/a': { get: { parameters: [{ $ref: '#/components/parameters/Nope' }] } } },
      }),
    ).toBe('paths["/a"].get.parameters[0].$ref: #/components/parameters/Nope does not resolve');
    expect(
      bad({
        openapi: '3.0.0',
        paths: {
          '/a': {
            get: {
              parameters: [{ name: 'x', in: 'query', schema: { $ref: '#/components/schemas/A' } }],
            },
          },
        },
        components: {
          schemas: { A: { $ref: '#/components/schemas/B' }, B: { $ref: '#/components/schemas/A' } },
        },
      }),
    ).toMatch(/circular reference/);
  });

  it('bounds the findings of one request', () => {
    const s = createApiSchema(PETS_YAML, { maxFindings: 2 });
    const body = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`x${i}`, i]));
    expect(s.validate(post({ name: 'a', owner: { ip: '1.1.1.1' }, ...body }))).toHaveLength(2);
  });
});
