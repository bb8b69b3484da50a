/*
 * proc-events: subscribes to the kernel's process events connector (NETLINK_CONNECTOR,
 * CN_IDX_PROC) and prints one JSON object per line on stdout:
 *
 *   {"e":"ready"}                                   subscribed, and events do arrive
 *   {"e":"exec","pid":..,"t":..,"args":[..],"exe":..,"exe_id":"dev:ino:size:mtime:ctime",
 *    "cwd":..,"stat":..,"uid":..,"gid":..,"cap_eff":"hex","login_uid":..,"fd":[..,..,..],
 *    "mnt_ns":..,"cgroup":..}
 *                                                   read from /proc as soon as the event comes;
 *                                                   exe_id: the program file's identity (stat
 *                                                   through /proc/<pid>/exe, times in ns)
 *   {"e":"exit","pid":..,"tgid":..,"t":..,"code":..,"signal":..}
 *   {"e":"lost","count":N}                          events the kernel dropped (ENOBUFS)
 *   {"e":"lost","count":N,"reason":"queue"}         lines dropped because the agent read too
 *                                                   slowly for the output queue (64 MiB)
 *   {"e":"error","reason":".."}                     then exits non-zero
 *
 * Only thread-group leaders are reported. "t" is microseconds since the epoch. Strings are
 * valid JSON whatever bytes a command line holds: invalid UTF-8 becomes U+FFFD. Exits on
 * SIGTERM/SIGINT, when stdin reaches EOF (the agent is gone) or stdout is closed.
 * Depends on libc and the Linux UAPI headers only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Command lines longer than this are cut (ARG_MAX can be megabytes; 32 KiB says enough). */
#define MAX_CMDLINE 32768
#define MAX_TEXT 4096
/* Per-CPU sequence numbers reveal dropped events; CPUs beyond this are not tracked. */
#define MAX_CPUS 4096
/* Socket receive buffer asked for (bytes): bursts of forks must not overflow it. */
#define RCVBUF_BYTES (8 * 1024 * 1024)
/* Output queued for a slow reader: starts at OUT_INITIAL and grows up to OUT_CAP (bytes). */
#define OUT_INITIAL (1 << 20)
#define OUT_CAP (64 << 20)
/* How long the probe's events may take to arrive before the connector is judged unusable, ms. */
#define PROBE_MS 10000

static volatile sig_atomic_t stopping = 0;
static uint64_t last_seq[MAX_CPUS];
static unsigned char seen_cpu[MAX_CPUS];

/*
 * Output queue. stdout is non-blocking: when the agent reads slowly, lines wait here and the
 * helper goes on reading the connector and /proc at once, so a process's details are taken
 * while it still runs. Whole lines are dropped, and counted, only past OUT_CAP.
 */
static char *out = NULL;
static size_t out_cap = 0;  /* allocated */
static size_t out_off = 0;  /* written up to here */
static size_t out_len = 0;  /* queued up to here */
static size_t line_start = 0;
static int in_line = 0;
static int line_overflow = 0;
static long long queue_dropped = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* Writes what stdout takes now; with `block`, everything. Exits when stdout is closed. */
static void flush_out_mode(int block) {
  /* Only whole lines leave: a line being built can still be dropped. */
  size_t limit = in_line ? line_start : out_len;
  while (out_off < limit) {
    ssize_t n = write(STDOUT_FILENO, out + out_off, limit - out_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!block) break;
        struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
        poll(&p, 1, -1);
        continue;
      }
      exit(0); /* stdout closed: nobody listens any more */
    }
    out_off += (size_t)n;
  }
  if (out_off == out_len) {
    out_off = out_len = line_start = 0;
  } else if (out_off > out_cap / 2) {
    memmove(out, out + out_off, out_len - out_off);
    out_len -= out_off;
    line_start -= out_off;
    out_off = 0;
  }
}

static void flush_out(void) { flush_out_mode(0); }

static void put(const char *s, size_t n) {
  if (line_overflow) return;
  if (out_len + n > out_cap) {
    flush_out();
    size_t cap = out_cap == 0 ? OUT_INITIAL : out_cap;
    while (out_len + n > cap && cap < OUT_CAP) cap *= 2;
    if (cap > OUT_CAP) cap = OUT_CAP;
    if (out_len + n > cap) {
      line_overflow = 1; /* the agent is far behind: this line goes */
      return;
    }
    if (cap != out_cap) {
      char *grown = realloc(out, cap);
      if (grown == NULL) {
        line_overflow = 1;
        return;
      }
      out = grown;
      out_cap = cap;
    }
  }
  memcpy(out + out_len, s, n);
  out_len += n;
}

static void begin_line(void) {
  line_start = out_len;
  in_line = 1;
  line_overflow = 0;
}

/* Ends a line begun with begin_line: kept whole, or dropped whole and counted. */
static void end_line(void) {
  in_line = 0;
  if (line_overflow) {
    out_len = line_start;
    line_overflow = 0;
    queue_dropped++;
  }
}

/* Says how many lines the queue dropped, once there is room again. */
static void report_dropped(void) {
  if (queue_dropped == 0) return;
  char buf[96];
  int n = snprintf(buf, sizeof(buf), "{\"e\":\"lost\",\"count\":%lld,\"reason\":\"queue\"}\n",
                   queue_dropped);
  begin_line();
  put(buf, (size_t)n);
  int kept = !line_overflow;
  line_overflow = 0; /* not itself counted */
  if (!kept) out_len = line_start;
  in_line = 0;
  if (kept) queue_dropped = 0;
}

static void puts_raw(const char *s) { put(s, strlen(s)); }

static void put_fmt(const char *fmt, long long v) {
  char buf[64];
  int n = snprintf(buf, sizeof(buf), fmt, v);
  if (n > 0) put(buf, (size_t)n);
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
  if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
  return len;
}

/* A JSON string of n arbitrary bytes. */
static void put_json_string(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  put("\"", 1);
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c == '"') { put("\\\"", 2); i++; }
    else if (c == '\\') { put("\\\\", 2); i++; }
    else if (c == '\n') { put("\\n", 2); i++; }
    else if (c == '\t') { put("\\t", 2); i++; }
    else if (c == '\r') { put("\\r", 2); i++; }
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      put(buf, 6);
      i++;
    } else {
      size_t len = utf8_len(s + i, n - i);
      if (len == 0) { put("\\ufffd", 6); i++; }
      else { put((const char *)s + i, len); i += len; }
    }
  }
  put("\"", 1);
}

static void put_cstring(const char *s) { put_json_string(s, strlen(s)); }

static uint64_t unix_micros_of(uint64_t ktime_ns) {
  struct timespec mono, real;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  uint64_t mono_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
  uint64_t real_ns = (uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec;
  uint64_t age = mono_ns > ktime_ns ? mono_ns - ktime_ns : 0;
  return (real_ns - age) / 1000ull;
}

/* Reads a whole (small) /proc file into buf; returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  while (len < cap) {
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return -1;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  return (ssize_t)len;
}

static ssize_t read_link(const char *path, char *buf, size_t cap) {
  ssize_t n = readlink(path, buf, cap);
  return n < 0 ? -1 : n;
}

static void put_link_field(const char *name, const char *path) {
  static char buf[MAX_TEXT];
  ssize_t n = read_link(path, buf, sizeof(buf));
  puts_raw(",\"");
  puts_raw(name);
  puts_raw("\":");
  if (n < 0) puts_raw("null");
  else put_json_string(buf, (size_t)n);
}

/* The second (effective) number of a status line such as "Uid:\t1000\t0\t0\t0". */
static long long status_effective(const char *status, const char *key) {
  const char *line = strstr(status, key);
  if (line == NULL) return -1;
  char *end;
  strtoll(line + strlen(key), &end, 10);
  return strtoll(end, NULL, 10);
}

static void emit_exec(int pid, uint64_t ts) {
  static char cmdline[MAX_CMDLINE];
  static char text[MAX_TEXT];
  static char status[MAX_TEXT * 4];
  char path[64];

  begin_line();
  puts_raw("{\"e\":\"exec\"");
  put_fmt(",\"pid\":%lld", pid);
  put_fmt(",\"t\":%lld", (long long)unix_micros_of(ts));

  /* cmdline first: it is what a short-lived process loses first. */
  snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
  ssize_t n = read_file(path, cmdline, sizeof(cmdline));
  if (n >= 0) {
    puts_raw(",\"args\":[");
    size_t start = 0;
    int first = 1;
    for (size_t i = 0; i < (size_t)n; i++) {
      if (cmdline[i] != '\0') continue;
      if (!first) put(",", 1);
      put_json_string(cmdline + start, i - start);
      first = 0;
      start = i + 1;
    }
    if (start < (size_t)n) { /* cut at MAX_CMDLINE, or no trailing NUL */
      if (!first) put(",", 1);
      put_json_string(cmdline + start, (size_t)n - start);
    }
    puts_raw("]");
    if ((size_t)n == sizeof(cmdline)) puts_raw(",\"truncated\":true");
  }
  snprintf(path, sizeof(path), "/proc/%d/exe", pid);
  put_link_field("exe", path);
  /* The program file's identity, while the process still runs: the agent can then tell the
     file at the exe path is still that one after the process is gone, and hash it. */
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
    char id[160];
    int n = snprintf(id, sizeof(id), ",\"exe_id\":\"%llu:%llu:%lld:%lld:%lld\"",
                     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                     (long long)st.st_size,
                     (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                     (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec);
    if (n > 0 && (size_t)n < sizeof(id)) put(id, (size_t)n);
  }
  snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
  put_link_field("cwd", path);

  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  n = read_file(path, text, sizeof(text));
  if (n > 0) {
    puts_raw(",\"stat\":");
    put_json_string(text, (size_t)n);
  }
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  n = read_file(path, status, sizeof(status) - 1);
  if (n > 0) {
    status[n] = '\0';
    put_fmt(",\"uid\":%lld", status_effective(status, "\nUid:"));
    put_fmt(",\"gid\":%lld", status_effective(status, "\nGid:"));
    const char *cap = strstr(status, "\nCapEff:");
    if (cap != NULL) {
      cap += strlen("\nCapEff:");
      while (*cap == '\t' || *cap == ' ') cap++;
      size_t len = strspn(cap, "0123456789abcdefABCDEF");
      puts_raw(",\"cap_eff\":");
      put_json_string(cap, len);
    }
  }
  snprintf(path, sizeof(path), "/proc/%d/loginuid", pid);
  n = read_file(path, text, sizeof(text) - 1);
  if (n > 0) {
    text[n] = '\0';
    unsigned long long v = strtoull(text, NULL, 10);
    put_fmt(",\"login_uid\":%lld", v == 4294967295ull ? -1 : (long long)v);
  }
  puts_raw(",\"fd\":[");
  for (int fd = 0; fd < 3; fd++) {
    static char target[MAX_TEXT];
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
    ssize_t len = read_link(path, target, sizeof(target));
    if (fd > 0) put(",", 1);
    put_json_string(target, len < 0 ? 0 : (size_t)len);
  }
  puts_raw("]");
  snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
  put_link_field("mnt_ns", path);
  snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
  n = read_file(path, status, sizeof(status));
  if (n > 0) {
    puts_raw(",\"cgroup\":");
    put_json_string(status, (size_t)n);
  }
  puts_raw("}\n");
  end_line();
}

static void emit_exit(int pid, int tgid, uint64_t ts, unsigned int status) {
  begin_line();
  puts_raw("{\"e\":\"exit\"");
  put_fmt(",\"pid\":%lld", pid);
  put_fmt(",\"tgid\":%lld", tgid);
  put_fmt(",\"t\":%lld", (long long)unix_micros_of(ts));
  /* exit_code is the wait(2) status: exit status in bits 8-15, terminating signal in 0-6. */
  put_fmt(",\"code\":%lld", (status >> 8) & 0xff);
  put_fmt(",\"signal\":%lld", status & 0x7f);
  puts_raw("}\n");
  end_line();
}

static void emit_error(const char *reason, int err) {
  begin_line();
  puts_raw("{\"e\":\"error\",\"reason\":");
  char buf[256];
  snprintf(buf, sizeof(buf), "%s: %s", reason, strerror(err));
  put_cstring(buf);
  puts_raw("}\n");
  end_line();
  flush_out_mode(1);
}

/* Counts events missing between this one and the last of the same CPU. */
static void track_seq(unsigned int cpu, uint32_t seq) {
  if (cpu >= MAX_CPUS) return;
  if (seen_cpu[cpu] && seq > last_seq[cpu] + 1) {
    begin_line();
    put_fmt("{\"e\":\"lost\",\"count\":%lld}\n", (long long)(seq - last_seq[cpu] - 1));
    end_line();
  }
  seen_cpu[cpu] = 1;
  last_seq[cpu] = seq;
}

static int subscribe(int sock, enum proc_cn_mcast_op op) {
  char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))];
  memset(buf, 0, sizeof(buf));
  struct nlmsghdr *nl = (struct nlmsghdr *)buf;
  struct cn_msg *cn = (struct cn_msg *)NLMSG_DATA(nl);
  nl->nlmsg_len = sizeof(buf);
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = 0;
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof(enum proc_cn_mcast_op);
  memcpy(cn->data, &op, sizeof(op));
  return send(sock, buf, sizeof(buf), 0) < 0 ? -1 : 0;
}

/*
 * Handles one datagram. Returns 1 when it contained an event about `probe_pid` (any kind),
 * which proves events reach us (they do not from a non-initial pid or net namespace).
 */
static int handle(const char *buf, ssize_t len, pid_t probe_pid) {
  int probed = 0;
  for (const struct nlmsghdr *nl = (const struct nlmsghdr *)buf; NLMSG_OK(nl, (size_t)len);
       nl = NLMSG_NEXT(nl, len)) {
    if (nl->nlmsg_type == NLMSG_ERROR || nl->nlmsg_type == NLMSG_NOOP) continue;
    const struct cn_msg *cn = (const struct cn_msg *)NLMSG_DATA(nl);
    if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) continue;
    const struct proc_event *ev = (const struct proc_event *)cn->data;
    track_seq(ev->cpu, cn->seq);
    switch (ev->what) {
      case PROC_EVENT_FORK:
        if (probe_pid > 0 && ev->event_data.fork.child_tgid == probe_pid) probed = 1;
        break;
      case PROC_EVENT_EXEC:
        if (ev->event_data.exec.process_pid != ev->event_data.exec.process_tgid) break;
        emit_exec(ev->event_data.exec.process_tgid, ev->timestamp_ns);
        break;
      case PROC_EVENT_EXIT:
        if (probe_pid > 0 && ev->event_data.exit.process_tgid == probe_pid) probed = 1;
        if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid) break;
        emit_exit(ev->event_data.exit.process_pid, ev->event_data.exit.process_tgid,
                  ev->timestamp_ns, ev->event_data.exit.exit_code);
        break;
      default:
        break;
    }
  }
  return probed;
}

int main(void) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int sock = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (sock < 0) {
    emit_error("socket(NETLINK_CONNECTOR)", errno);
    return 2;
  }
  int rcvbuf = RCVBUF_BYTES;
  if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof(addr));
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0; /* the kernel picks a port id */
  if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    emit_error("bind(CN_IDX_PROC)", errno);
    return 2;
  }
  if (subscribe(sock, PROC_CN_MCAST_LISTEN) < 0) {
    emit_error("PROC_CN_MCAST_LISTEN", errno);
    return 2;
  }

  /* Probe: a child that exits at once must show up, or events do not reach us here. */
  pid_t probe = fork();
  if (probe == 0) _exit(0);
  if (probe < 0) {
    emit_error("fork", errno);
    return 2;
  }
  int ready = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);

  static char buf[1 << 16] __attribute__((aligned(NLMSG_ALIGNTO)));
  int flags = fcntl(STDOUT_FILENO, F_GETFL);
  if (flags >= 0) fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK);
  struct pollfd fds[3] = {{.fd = sock, .events = POLLIN},
                          {.fd = STDIN_FILENO, .events = POLLIN},
                          {.fd = STDOUT_FILENO, .events = 0}};
  while (!stopping) {
    int timeout = -1;
    if (!ready) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      /* Ten seconds for our own child's exit to arrive: it takes milliseconds, but a node busy
       * at boot must not lose the connector for good; only a non-initial namespace waits it out. */
      if (waited >= PROBE_MS) {
        emit_error("no events arrive from the process connector (not the initial pid/net namespace?)", ETIMEDOUT);
        return 3;
      }
      timeout = (int)(PROBE_MS - waited);
    }
    fds[2].events = out_off < out_len ? POLLOUT : 0;
    int rc = poll(fds, 3, timeout);
    if (rc < 0) {
      if (errno == EINTR) continue;
      emit_error("poll", errno);
      return 2;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char sink[256];
      ssize_t n = read(STDIN_FILENO, sink, sizeof(sink));
      if (n <= 0 && !(n < 0 && errno == EINTR)) break; /* EOF: the agent went away */
    }
    if (fds[2].revents & (POLLERR | POLLHUP)) break; /* stdout closed */
    if (!(fds[0].revents & POLLIN)) {
      flush_out();
      report_dropped();
      continue;
    }
    /* Drain what is queued, then flush once. */
    for (;;) {
      ssize_t len = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
      if (len < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) continue; /* overrun: the per-CPU sequence gap gives the count */
        emit_error("recv", errno);
        return 2;
      }
      if (len == 0) break;
      if (handle(buf, len, ready ? 0 : probe) && !ready) {
        ready = 1;
        waitpid(probe, NULL, 0);
        /* Events put out before this line in the same batch are real too. */
        begin_line();
        puts_raw("{\"e\":\"ready\"}\n");
        end_line();
      }
    }
    flush_out();
    report_dropped();
  }
  subscribe(sock, PROC_CN_MCAST_IGNORE);
  report_dropped();
  flush_out_mode(1);
  close(sock);
  return 0;
}
