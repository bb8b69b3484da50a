/**
 * Reading `mamori.v1` messages straight from their protobuf bytes, without decoding them into
 * objects: ingest validates events this way and the warehouse turns them into rows.
 */
export { WireDecodeError, decodeEvent, decodeMessage } from './decode.js';
export {
  checkStructure,
  createFieldRef,
  forEachField,
  lastVarintEnd,
  lookup,
  readVarint,
  varintSize,
  writeVarint,
  type FieldRef,
  type WireProblem,
} from './reader.js';
export {
  DIRECT_FIELDS,
  WireType,
  fieldPath,
  loadEventWireSchema,
  wireMessage,
  type WireField,
  type WireMessage,
} from './schema.js';
