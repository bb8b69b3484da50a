// Test helpers for suites that talk to ingest: a minimal defender on one stream.
export { connectAgent, execEvent, type TestAgent } from './agent.js';
