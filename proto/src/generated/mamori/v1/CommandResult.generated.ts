// Original file: mamori/v1/defender.proto


export interface CommandResult {
  'command_id'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
}

export interface CommandResult__Output {
  'command_id': (string);
  'ok': (boolean);
  'error': (string);
}
