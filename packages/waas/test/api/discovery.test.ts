import { describe, expect, it } from 'vitest';
import { createApiDiscovery } from '../../src/api/discovery.js';
import { createApiSchema } from '../../src/api/openapi.js';
import type { HttpRequest } from '../../src/request.js';

const uuids = [
  '0b6f8f4e-3c1a-4b8e-9a52-2f1d7c8e9a10',
  '1c7a9e5f-4d2b-4c9f-8b63-3a2e8d9f0b21',
  '2d8b0f6a-5e3c-4dab-9c74-4b3f9e0a1c32',
];

/** Synthetic traffic of a pets/users API. */
function traffic(): HttpRequest[] {
  const out: HttpRequest[] = [];
  for (let i = 0; i < 30; i++) {
    out.push({ method: 'GET', url: `/pets?limit=${10 + i}&kind=${i % 2 === 0 ? 'cat' : 'dog'}` });
    out.push({ method: 'GET', url: `/pets/${i + 1}` });
    out.push({ method: 'GET', url: `/users/${uuids[i % 3]}?verbose=${i % 2 === 0}` });
    out.push({
      method: 'POST',
      url: '/pets',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `pet${i}`,
        age: i,
        weight: i + 0.5,
        tags: ['a', 'b'],
        owner: { id: uuids[i % 3], nick: i % 3 === 0 ? null : 'x' },
      }),
    });
  }
  out.push({ method: 'GET', url: '/files/5f2a9c0b7e' });
  return out;
}

describe('createApiDiscovery', () => {
  it('learns endpoints with id parameters, query types, enums and body properties', () => {
    const d = createApiDiscovery();
    for (const r of traffic()) d.observe(r, 200);
    d.observe({ method: 'GET', url: '/admin.php' }, 404);
    const doc = d.toOpenApi() as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual(['/files/{id}', '/pets', '/pets/{id}', '/users/{id}']);
    expect(doc.paths['/pets/{id}']!['parameters']).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'integer' } },
    ]);
    expect(doc.paths['/users/{id}']!['parameters']).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
    ]);
    expect(doc.paths['/pets']!['get']).toEqual({
      parameters: [
        {
          name: 'kind',
          in: 'query',
          required: true,
          schema: { type: 'string', enum: ['cat', 'dog'] },
        },
        { name: 'limit', in: 'query', required: true, schema: { type: 'integer' } },
      ],
      responses: { '200': { description: 'observed' } },
    });
    expect(doc.paths['/pets']!['post']).toMatchObject({
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['age', 'name', 'owner', 'tags', 'weight'],
              properties: {
                age: { type: 'integer' },
                weight: { type: 'number' },
                tags: { type: 'array', items: { type: 'string' } },
                owner: {
                  type: 'object',
                  properties: {
                    id: { type: 'string', format: 'uuid' },
                    nick: { type: 'string', nullable: true },
                  },
                },
              },
            },
          },
        },
      },
    });
  });

  it('exports a document createApiSchema accepts and that validates the same traffic', () => {
    const d = createApiDiscovery();
    const seen = traffic();
    for (const r of seen) d.observe(r);
    const schema = createApiSchema(JSON.stringify(d.toOpenApi()));
    for (const r of seen) expect(schema.validate(r)).toEqual([]);
    expect(
      schema.validate({ method: 'GET', url: '/pets?limit=x&kind=cat' }).map((f) => f.reason),
    ).toEqual(['query.limit: expected integer']);
    expect(schema.validate({ method: 'DELETE', url: '/pets/1' }).map((f) => f.reason)).toEqual([
      'method DELETE not allowed on /pets/{id}',
    ]);
    expect(schema.validate({ method: 'GET', url: '/secret' }).map((f) => f.reason)).toEqual([
      'unknown path',
    ]);
  });

  it('learns nothing a document could not hold from malformed requests', () => {
    const d = createApiDiscovery();
    d.observe({ method: 'GET', url: '/x?=1&&a=1&a=2' });
    d.observe({ method: 'PROPFIND', url: '/x' });
    d.observe({
      method: 'POST',
      url: '/x',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    const doc = d.toOpenApi() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/x']!)).toEqual(['get', 'post']);
    expect(createApiSchema(doc).validate({ method: 'GET', url: '/x?a=3' })).toEqual([]);
  });

  it('caps the endpoints it learns', () => {
    const d = createApiDiscovery({ maxEndpoints: 3 });
    for (let i = 0; i < 10; i++) d.observe({ method: 'GET', url: `/page${i}` });
    expect(Object.keys((d.toOpenApi() as { paths: object }).paths)).toHaveLength(3);
    expect(d.dropped).toBe(7);
  });

  it('stops tracking values of a parameter with many, and makes no enum of it', () => {
    const d = createApiDiscovery();
    for (let i = 0; i < 100; i++) d.observe({ method: 'GET', url: `/search?q=word${i}` });
    const doc = d.toOpenApi() as { paths: Record<string, { get: { parameters: unknown[] } }> };
    expect(doc.paths['/search']!.get.parameters).toEqual([
      { name: 'q', in: 'query', required: true, schema: { type: 'string' } },
    ]);
  });
});
