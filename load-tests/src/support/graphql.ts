/** The benchmarks' GraphQL client of the API. */

export type Graphql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

/** A client of `url` with `token`; a response with errors (or without data) throws. */
export function graphqlClient(url: string, token: string): Graphql {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (!body.data || body.errors) {
      throw new Error(`GraphQL ${response.status}: ${JSON.stringify(body.errors)}`);
    }
    return body.data;
  };
}
