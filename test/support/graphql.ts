/**
 * Asks the GraphQL API of a running `mamori start` (or `mamori api`) on 127.0.0.1 with a bearer
 * token; resolves with `data`, rejects with the errors when there are any.
 */
export async function graphql<T>(
  apiPort: number,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}
