// coreforged's few system calls that Node has no API for: who is on the other
// end of a Unix socket (SO_PEERCRED, SO_PEERGROUPS), and file system calls made
// with a caller's rights instead of root's.
//
// Acting as a caller switches only the calling thread's file system uid/gid and
// supplementary groups (raw system calls: Linux credentials are per thread; the
// glibc wrappers would change every thread of the process), makes one call, and
// switches back before returning. The daemon calls these from its main thread,
// so no JavaScript and no other request runs while the thread wears the caller's
// identity, and libuv's worker threads keep root's.
//
// Every function returns a number: >= 0 on success, -errno on failure; the
// TypeScript side turns failures into Node-style errors.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <node_api.h>

#define MAX_GROUPS 65536

typedef struct {
  int active;
  uid_t uid;
  gid_t gid;
  size_t ngroups;
  gid_t *groups;
} identity;

typedef struct {
  uid_t fsuid;
  gid_t fsgid;
  int ngroups;
  gid_t groups[NGROUPS_MAX > 65536 ? 65536 : NGROUPS_MAX];
} saved_identity;

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static int arg_int(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok ? 0 : -EINVAL;
}

// Reads a JS string argument into a fresh buffer (PATH_MAX bounded).
static int arg_path(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -EINVAL;
  if (len >= size - 1) return -ENAMETOOLONG;
  if (strlen(buf) != len) return -EINVAL; // an embedded NUL
  return 0;
}

// Reads {uid, gid, groups} or null. null means "as the daemon itself".
static int arg_identity(napi_env env, napi_value v, identity *id) {
  napi_valuetype type;
  memset(id, 0, sizeof *id);
  if (napi_typeof(env, v, &type) != napi_ok) return -EINVAL;
  if (type == napi_null || type == napi_undefined) return 0;
  if (type != napi_object) return -EINVAL;
  napi_value uid, gid, groups;
  int64_t n;
  if (napi_get_named_property(env, v, "uid", &uid) != napi_ok || arg_int(env, uid, &n) != 0 || n < 0 || n > UINT32_MAX - 1) return -EINVAL;
  id->uid = (uid_t)n;
  if (napi_get_named_property(env, v, "gid", &gid) != napi_ok || arg_int(env, gid, &n) != 0 || n < 0 || n > UINT32_MAX - 1) return -EINVAL;
  id->gid = (gid_t)n;
  if (napi_get_named_property(env, v, "groups", &groups) != napi_ok) return -EINVAL;
  uint32_t count = 0;
  if (napi_get_array_length(env, groups, &count) != napi_ok || count > MAX_GROUPS) return -EINVAL;
  id->groups = calloc(count ? count : 1, sizeof(gid_t));
  if (!id->groups) return -ENOMEM;
  for (uint32_t i = 0; i < count; i++) {
    napi_value g;
    if (napi_get_element(env, groups, i, &g) != napi_ok || arg_int(env, g, &n) != 0 || n < 0 || n > UINT32_MAX - 1) {
      free(id->groups);
      id->groups = NULL;
      return -EINVAL;
    }
    id->groups[i] = (gid_t)n;
  }
  id->ngroups = count;
  id->active = 1;
  return 0;
}

// Puts the caller's identity on this thread only. On failure nothing stays changed.
static int become(const identity *id, saved_identity *saved) {
  if (!id->active) return 0;
  saved->ngroups = (int)syscall(SYS_getgroups, (int)(sizeof saved->groups / sizeof saved->groups[0]), saved->groups);
  if (saved->ngroups < 0) return -errno;
  saved->fsuid = (uid_t)syscall(SYS_setfsuid, (uid_t)-1);
  saved->fsgid = (gid_t)syscall(SYS_setfsgid, (gid_t)-1);
  if (syscall(SYS_setgroups, id->ngroups, id->groups) != 0) return -errno;
  syscall(SYS_setfsgid, id->gid);
  syscall(SYS_setfsuid, id->uid);
  // setfsuid/setfsgid report nothing on failure: read back what is in effect.
  if ((uid_t)syscall(SYS_setfsuid, (uid_t)-1) != id->uid || (gid_t)syscall(SYS_setfsgid, (gid_t)-1) != id->gid) {
    syscall(SYS_setfsuid, saved->fsuid);
    syscall(SYS_setfsgid, saved->fsgid);
    syscall(SYS_setgroups, saved->ngroups, saved->groups);
    return -EPERM;
  }
  return 0;
}

static void restore(const identity *id, const saved_identity *saved) {
  if (!id->active) return;
  syscall(SYS_setfsuid, saved->fsuid);
  syscall(SYS_setfsgid, saved->fsgid);
  if (syscall(SYS_setgroups, saved->ngroups, saved->groups) != 0 ||
      (uid_t)syscall(SYS_setfsuid, (uid_t)-1) != saved->fsuid) {
    // A thread that cannot get root's identity back must not go on serving requests.
    fprintf(stderr, "coreforged: cannot restore the daemon's identity after acting as uid %u; exiting\n", (unsigned)id->uid);
    abort();
  }
}

// Runs EXPR (a system call giving 0 / a value, or -1 with errno) with the caller's identity on this
// thread, then frees the identity; gives EXPR's value, or -errno. GNU C statement expression.
#define AS_CALLER(id, expr)                            \
  ({                                                   \
    saved_identity saved_;                             \
    int r_ = become(&(id), &saved_);                   \
    if (r_ == 0) {                                     \
      r_ = (int)(expr);                                \
      if (r_ < 0) r_ = -errno;                         \
      restore(&(id), &saved_);                         \
    }                                                  \
    free((id).groups);                                 \
    r_;                                                \
  })

#define ARGS(n)                                                  \
  size_t argc = n;                                               \
  napi_value argv[n];                                            \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) return number(env, -EINVAL);

// openat(identity, dirfd, path, flags, mode) -> fd
static napi_value js_openat(napi_env env, napi_callback_info info) {
  ARGS(5);
  identity id;
  int64_t dirfd, flags, mode;
  char path[PATH_MAX + 1];
  int r;
  if ((r = arg_path(env, argv[2], path, sizeof path)) || arg_int(env, argv[1], &dirfd) || arg_int(env, argv[3], &flags) || arg_int(env, argv[4], &mode)) return number(env, r ? r : -EINVAL);
  if ((r = arg_identity(env, argv[0], &id))) return number(env, r);
  return number(env, AS_CALLER(id, openat((int)dirfd, path, (int)flags | O_CLOEXEC, (mode_t)mode)));
}

// mkdirat(identity, dirfd, path, mode)
static napi_value js_mkdirat(napi_env env, napi_callback_info info) {
  ARGS(4);
  identity id;
  int64_t dirfd, mode;
  char path[PATH_MAX + 1];
  int r;
  if ((r = arg_path(env, argv[2], path, sizeof path)) || arg_int(env, argv[1], &dirfd) || arg_int(env, argv[3], &mode)) return number(env, r ? r : -EINVAL);
  if ((r = arg_identity(env, argv[0], &id))) return number(env, r);
  return number(env, AS_CALLER(id, mkdirat((int)dirfd, path, (mode_t)mode)));
}

// renameat2(identity, olddirfd, oldpath, newdirfd, newpath, flags)
static napi_value js_renameat(napi_env env, napi_callback_info info) {
  ARGS(6);
  identity id;
  int64_t olddirfd, newdirfd, flags;
  char oldpath[PATH_MAX + 1], newpath[PATH_MAX + 1];
  int r;
  if ((r = arg_path(env, argv[2], oldpath, sizeof oldpath)) || (r = arg_path(env, argv[4], newpath, sizeof newpath)) ||
      arg_int(env, argv[1], &olddirfd) || arg_int(env, argv[3], &newdirfd) || arg_int(env, argv[5], &flags))
    return number(env, r ? r : -EINVAL);
  if ((r = arg_identity(env, argv[0], &id))) return number(env, r);
  return number(env, AS_CALLER(id, syscall(SYS_renameat2, (int)olddirfd, oldpath, (int)newdirfd, newpath, (unsigned)flags)));
}

// unlinkat(identity, dirfd, path, flags)
static napi_value js_unlinkat(napi_env env, napi_callback_info info) {
  ARGS(4);
  identity id;
  int64_t dirfd, flags;
  char path[PATH_MAX + 1];
  int r;
  if ((r = arg_path(env, argv[2], path, sizeof path)) || arg_int(env, argv[1], &dirfd) || arg_int(env, argv[3], &flags)) return number(env, r ? r : -EINVAL);
  if ((r = arg_identity(env, argv[0], &id))) return number(env, r);
  return number(env, AS_CALLER(id, unlinkat((int)dirfd, path, (int)flags)));
}

// linkat(olddirfd, oldpath, newdirfd, newpath, flags), as the daemon: used to keep
// a file a caller opened (through /proc/self/fd/N) in the daemon's own directory.
static napi_value js_linkat(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t olddirfd, newdirfd, flags;
  char oldpath[PATH_MAX + 1], newpath[PATH_MAX + 1];
  int r;
  if ((r = arg_path(env, argv[1], oldpath, sizeof oldpath)) || (r = arg_path(env, argv[3], newpath, sizeof newpath)) ||
      arg_int(env, argv[0], &olddirfd) || arg_int(env, argv[2], &newdirfd) || arg_int(env, argv[4], &flags))
    return number(env, r ? r : -EINVAL);
  r = linkat((int)olddirfd, oldpath, (int)newdirfd, newpath, (int)flags) == 0 ? 0 : -errno;
  return number(env, r);
}

// peerCredentials(fd) -> {pid, uid, gid, groups} or a negative errno
static napi_value js_peer_credentials(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd;
  if (arg_int(env, argv[0], &fd)) return number(env, -EINVAL);
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt((int)fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return number(env, -errno);
  gid_t small[64];
  gid_t *groups = small;
  socklen_t glen = sizeof small;
  int r = getsockopt((int)fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen);
  if (r != 0 && errno == ERANGE && glen <= MAX_GROUPS * sizeof(gid_t)) {
    groups = malloc(glen);
    if (!groups) return number(env, -ENOMEM);
    r = getsockopt((int)fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen);
  }
  if (r != 0) {
    int e = -errno;
    if (groups != small) free(groups);
    return number(env, e);
  }
  napi_value out, list;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "pid", number(env, cred.pid));
  napi_set_named_property(env, out, "uid", number(env, cred.uid));
  napi_set_named_property(env, out, "gid", number(env, cred.gid));
  size_t n = glen / sizeof(gid_t);
  napi_create_array_with_length(env, n, &list);
  for (size_t i = 0; i < n; i++) napi_set_element(env, list, (uint32_t)i, number(env, groups[i]));
  napi_set_named_property(env, out, "groups", list);
  if (groups != small) free(groups);
  return out;
}

// readlinkat(identity, dirfd, path) -> string or a negative errno
static napi_value js_readlinkat(napi_env env, napi_callback_info info) {
  ARGS(3);
  identity id;
  int64_t dirfd;
  char path[PATH_MAX + 1], target[PATH_MAX + 1];
  int r;
  if ((r = arg_path(env, argv[2], path, sizeof path)) || arg_int(env, argv[1], &dirfd)) return number(env, r ? r : -EINVAL);
  if ((r = arg_identity(env, argv[0], &id))) return number(env, r);
  int n = AS_CALLER(id, readlinkat((int)dirfd, path, target, PATH_MAX));
  if (n < 0) return number(env, n);
  napi_value out;
  napi_create_string_utf8(env, target, (size_t)n, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"openat", NULL, js_openat, NULL, NULL, NULL, napi_default, NULL},
    {"mkdirat", NULL, js_mkdirat, NULL, NULL, NULL, napi_default, NULL},
    {"renameat", NULL, js_renameat, NULL, NULL, NULL, napi_default, NULL},
    {"unlinkat", NULL, js_unlinkat, NULL, NULL, NULL, napi_default, NULL},
    {"linkat", NULL, js_linkat, NULL, NULL, NULL, napi_default, NULL},
    {"readlinkat", NULL, js_readlinkat, NULL, NULL, NULL, napi_default, NULL},
    {"peerCredentials", NULL, js_peer_credentials, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value constants;
  napi_create_object(env, &constants);
  napi_set_named_property(env, constants, "O_PATH", number(env, O_PATH));
  napi_set_named_property(env, constants, "O_NOFOLLOW", number(env, O_NOFOLLOW));
  napi_set_named_property(env, constants, "O_DIRECTORY", number(env, O_DIRECTORY));
  napi_set_named_property(env, constants, "O_NONBLOCK", number(env, O_NONBLOCK));
  napi_set_named_property(env, constants, "O_CREAT", number(env, O_CREAT));
  napi_set_named_property(env, constants, "O_EXCL", number(env, O_EXCL));
  napi_set_named_property(env, constants, "O_RDONLY", number(env, O_RDONLY));
  napi_set_named_property(env, constants, "O_WRONLY", number(env, O_WRONLY));
  napi_set_named_property(env, constants, "O_RDWR", number(env, O_RDWR));
  napi_set_named_property(env, constants, "O_NOCTTY", number(env, O_NOCTTY));
  napi_set_named_property(env, constants, "AT_FDCWD", number(env, AT_FDCWD));
  napi_set_named_property(env, constants, "AT_REMOVEDIR", number(env, AT_REMOVEDIR));
  napi_set_named_property(env, constants, "AT_SYMLINK_FOLLOW", number(env, AT_SYMLINK_FOLLOW));
  napi_set_named_property(env, constants, "RENAME_NOREPLACE", number(env, 1));
  napi_set_named_property(env, exports, "constants", constants);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
