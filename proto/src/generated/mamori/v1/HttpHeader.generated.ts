// Original file: mamori/v1/event.proto


export interface HttpHeader {
  'name'?: (string);
  'value'?: (string);
}

export interface HttpHeader__Output {
  'name': (string);
  'value': (string);
}
