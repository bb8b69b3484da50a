/** Undoes the octal escapes (\040 for a space, …) mountinfo uses in paths and options. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

/**
 * The overlayfs upper directory of the filesystem mounted at the process's root, from its
 * /proc/<pid>/mountinfo; undefined when its root is not an overlay (a host process) or the
 * option is not shown. The last mount on '/' wins: it is the one on top.
 */
export function rootOverlayUpperDir(mountinfo: string): string | undefined {
  let upper: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== '/') continue;
    const dash = fields.indexOf('-', 6);
    if (dash < 0) continue;
    if (fields[dash + 1] !== 'overlay') {
      upper = undefined;
      continue;
    }
    const options = fields[dash + 3] ?? '';
    const option = options.split(',').find((o) => o.startsWith('upperdir='));
    upper = option === undefined ? undefined : unescapeMountField(option.slice('upperdir='.length));
  }
  return upper;
}
