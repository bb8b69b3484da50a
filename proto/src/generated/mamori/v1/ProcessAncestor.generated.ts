// Original file: mamori/v1/event.proto


export interface ProcessAncestor {
  'pid'?: (number);
  'name'?: (string);
  'exe'?: (string);
  'args'?: (string)[];
}

export interface ProcessAncestor__Output {
  'pid': (number);
  'name': (string);
  'exe': (string);
  'args': (string)[];
}
