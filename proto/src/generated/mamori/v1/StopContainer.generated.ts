// Original file: mamori/v1/defender.proto


export interface StopContainer {
  'container_id'?: (string);
  'reason'?: (string);
}

export interface StopContainer__Output {
  'container_id': (string);
  'reason': (string);
}
