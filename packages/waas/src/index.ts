export {
  CATEGORIES,
  type Category,
  type Detector,
  type Finding,
  type InspectedValue,
  type Paranoia,
} from './types.js';
