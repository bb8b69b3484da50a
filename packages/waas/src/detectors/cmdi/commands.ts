/**
 * Command names a shell would run, as facts about Unix and Windows systems. "Strong" names
 * are no English words, so a separator before one is enough; "weak" names (`cat`, `echo`,
 * `sleep`, `type`) are words too and need arguments that look like a shell's.
 */

export const STRONG_COMMANDS: ReadonlySet<string> = new Set(
  // Unix: identity, system, network, shells and interpreters, file tools
  (
    'whoami uname id ifconfig netstat wget curl nc ncat netcat socat telnet tftp ' +
    'bash sh zsh ksh csh tcsh dash ash busybox python python2 python3 perl ruby php lua ' +
    'nodejs awk gawk nawk nslookup getent chmod chown chgrp passwd useradd usermod ' +
    'crontab nohup xterm ls pwd printenv sudo mkdir rmdir ssh scp sftp rsync ' +
    'dig hostname base64 xxd hexdump uuencode openssl nmap gzip gunzip bzip2 unzip ' +
    'lsb_release sysctl umount killall pkill pgrep ps systemctl shutdown reboot ' +
    'telinit tee xargs rev tac readlink realpath whereis ' +
    'lsof fuser lspci lsusb dmesg journalctl iptables nft arp traceroute tracepath ' +
    'mkfifo mknod bzcat zcat xzcat uptime sh.exe bash.exe printf ' +
    // Windows: cmd built-ins and system tools that are no words
    'cmd cmd.exe powershell powershell.exe pwsh ipconfig systeminfo tasklist taskkill ' +
    'certutil bitsadmin msiexec rundll32 regsvr32 wscript cscript mshta wmic reg schtasks ' +
    'netsh nltest whoami.exe net.exe findstr icacls cacls attrib xcopy robocopy'
  ).split(' '),
);

export const WEAK_COMMANDS: ReadonlySet<string> = new Set(
  (
    'cat echo sleep ping set type dir ver net del copy more find grep head tail less kill ' +
    'time touch host sort cut date who w last finger bc expr timeout nice read source wait ' +
    'test true false yes clear start call exit tree move ren rename erase vi vim ' +
    'nano view file stat du df free top tr wc diff cmp split join paste fold look nl pr ' +
    'rm cp mv ip ss od dd ln init route tar node mount halt which locate strings env sed ' +
    'exec eval ftp'
  ).split(' '),
);

/** Interpreters and downloaders: a bare URL or a flag after one is already an attack. */
export const FETCHERS: ReadonlySet<string> = new Set([
  'wget',
  'curl',
  'nc',
  'ncat',
  'netcat',
  'tftp',
  'ftp',
  'bash',
  'sh',
  'python',
  'python3',
  'perl',
  'ruby',
  'php',
  'powershell',
  'pwsh',
  'cmd',
  'certutil',
  'bitsadmin',
]);

/** Files an attacker reads to prove the injection; an argument naming one is evidence. */
export const SENSITIVE_PATH_PREFIXES: readonly string[] = [
  '/etc/',
  '/proc/',
  '/dev/tcp/',
  '/dev/udp/',
  '/bin/',
  '/sbin/',
  '/usr/bin/',
  '/usr/sbin/',
  '/usr/local/bin/',
  '/tmp/',
  '/var/',
  '/root/',
  '/home/',
  '/windows/',
  'c:\\',
  'c:/',
  '%windir%',
  '%systemroot%',
];
