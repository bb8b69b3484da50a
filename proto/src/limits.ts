/**
 * Size limits both sides of the defender stream agree on.
 *
 * A tenant's policy set travels to every agent as one `PolicyUpdate`. Policies carry rule text
 * and OpenAPI documents of up to 1 MiB each, so a set can pass gRPC's default of 4 MiB: ingest
 * sends, and agents accept, up to this much. The API refuses a change that would make a
 * tenant's set larger.
 */
export const MAX_POLICY_UPDATE_BYTES = 64 * 1024 * 1024;

/** gRPC's limit on a message from ingest to an agent: the largest policy update and its envelope. */
export const MAX_SERVER_MESSAGE_BYTES = MAX_POLICY_UPDATE_BYTES + 64 * 1024;
