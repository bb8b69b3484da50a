import { describe, expect, it } from 'vitest';
import { createInspector } from '../../src/inspect.js';
import type { HttpRequest } from '../../src/request.js';

const inspector = createInspector();
const post = (body: unknown, contentType = 'application/json'): HttpRequest => ({
  method: 'POST',
  url: '/graphql',
  headers: { 'content-type': contentType },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

function nested(levels: number): string {
  return `query { ${'a { '.repeat(levels)}id${' }'.repeat(levels)} }`;
}

describe('graphqlCheck', () => {
  it('alerts, without blocking, on introspection wherever GraphQL over HTTP carries a query', () => {
    for (const request of [
      post({ query: '{ __schema { types { name kind } } }' }),
      post({ query: 'query Q { __type(name: "User") { fields { name } } }', variables: {} }),
      post('query {\n  __schema { queryType { name } }\n}', 'application/graphql'),
      {
        method: 'GET',
        url: `/graphql?query=${encodeURIComponent('{__type(name:"Order"){fields{name}}}')}`,
      },
      {
        method: 'GET',
        url: `/graphql?query=${encodeURIComponent(JSON.stringify({ query: '{__schema{types{name}}}' }))}`,
      },
    ]) {
      expect(inspector.inspect(request), request.url).toMatchObject({
        action: 'alert',
        findings: [{ category: 'protocol', reason: expect.stringContaining('introspection') }],
      });
    }
  });

  it('alerts on selection sets nested deeper than real queries go', () => {
    expect(inspector.inspect(post({ query: nested(20) }))).toMatchObject({
      action: 'alert',
      findings: [{ category: 'protocol', reason: expect.stringContaining('nested') }],
    });
    expect(inspector.inspect(post({ query: nested(8) })).action).toBe('allow');
  });

  it('leaves ordinary queries, string arguments and other fields alone', () => {
    for (const request of [
      post({ query: '{ user(id: 1) { name __typename posts { title } } }' }),
      post({ query: `{ search(text: "${'{'.repeat(40)}") { id } }` }),
      post({ comment: 'Try { __schema { types { name } } } in GraphiQL' }),
      post({ query: '# __schema is off here\n{ me { id } }' }),
      { method: 'GET', url: '/search?query=how+to+disable+__schema+introspection' },
    ]) {
      expect(inspector.inspect(request).findings, request.body ?? request.url).toEqual([]);
    }
  });
});
