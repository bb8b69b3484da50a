// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

/**
 * A kernel module loaded (init_module from a memory image, finit_module from a file), seen at
 * the kernel's module-load point. Reported when the module was loaded.
 */
export interface KernelModuleLoad {
  'process'?: (_mamori_v1_Process | null);
  /**
   * The module's own name, as lsmod shows it (e.g. nf_tables).
   */
  'name'?: (string);
  /**
   * The file finit_module loaded, from its descriptor; empty for init_module, which loads an
   * image from memory (a module that never touched the filesystem).
   */
  'path'?: (string);
  /**
   * The parameter string passed with the module (uargs), e.g. "debug=1"; often empty.
   */
  'parameters'?: (string);
}

/**
 * A kernel module loaded (init_module from a memory image, finit_module from a file), seen at
 * the kernel's module-load point. Reported when the module was loaded.
 */
export interface KernelModuleLoad__Output {
  'process': (_mamori_v1_Process__Output | null);
  /**
   * The module's own name, as lsmod shows it (e.g. nf_tables).
   */
  'name': (string);
  /**
   * The file finit_module loaded, from its descriptor; empty for init_module, which loads an
   * image from memory (a module that never touched the filesystem).
   */
  'path': (string);
  /**
   * The parameter string passed with the module (uargs), e.g. "debug=1"; often empty.
   */
  'parameters': (string);
}
