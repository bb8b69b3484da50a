/** Where the readers find procfs and the host's files; tests point both at a fake tree. */
export interface ProcfsOptions {
  /** Where procfs is mounted. @default '/proc' */
  procRoot?: string;
  /**
   * The host's filesystem root, under which `/etc/passwd` and the container runtimes' state
   * (`/var/lib/docker`, `/run/containerd`, …) are read. @default '/'
   */
  hostRoot?: string;
}

export const DEFAULT_PROC_ROOT = '/proc';
export const DEFAULT_HOST_ROOT = '/';
