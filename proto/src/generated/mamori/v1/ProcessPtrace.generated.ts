// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

/**
 * A ptrace call, made by the process (the tracer, or for PTRACE_TRACEME the process asking to
 * be traced). Reported when the call succeeded.
 */
export interface ProcessPtrace {
  'process'?: (_mamori_v1_Process | null);
  /**
   * The request as Falco names it: PTRACE_ATTACH, PTRACE_SEIZE, PTRACE_TRACEME,
   * PTRACE_POKETEXT, PTRACE_POKEDATA, PTRACE_SETREGS, …; named by the sensor, because request
   * numbers differ between architectures.
   */
  'request'?: (string);
  /**
   * The traced process (ptrace's pid argument); 0 for PTRACE_TRACEME, which names none.
   */
  'target_pid'?: (number);
}

/**
 * A ptrace call, made by the process (the tracer, or for PTRACE_TRACEME the process asking to
 * be traced). Reported when the call succeeded.
 */
export interface ProcessPtrace__Output {
  'process': (_mamori_v1_Process__Output | null);
  /**
   * The request as Falco names it: PTRACE_ATTACH, PTRACE_SEIZE, PTRACE_TRACEME,
   * PTRACE_POKETEXT, PTRACE_POKEDATA, PTRACE_SETREGS, …; named by the sensor, because request
   * numbers differ between architectures.
   */
  'request': (string);
  /**
   * The traced process (ptrace's pid argument); 0 for PTRACE_TRACEME, which names none.
   */
  'target_pid': (number);
}
