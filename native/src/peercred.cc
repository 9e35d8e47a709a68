// SO_PEERCRED for the service's unix socket: Node has no API for the peer's credentials. The kernel
// records pid/uid/gid of the connecting process at connect() time; they cannot be forged by it.
// peerCred(fd) -> {pid, uid, gid} or {error: "ENOTSOCK: ..."} (never throws for a kernel refusal).
#include "peercred.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <string>

namespace xfsguard {

Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "peerCred(fd): fd must be a number").ThrowAsJavaScriptException();
    return env.Null();
  }
  const int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Object r = Napi::Object::New(env);
  struct ucred cred;
  socklen_t len = sizeof(cred);
  memset(&cred, 0, sizeof(cred));
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
    const int e = errno;
    const char* name = e == EBADF ? "EBADF" : e == ENOTSOCK ? "ENOTSOCK" : e == ENOPROTOOPT ? "ENOPROTOOPT" : "errno";
    (void)r.Set("error", Napi::String::New(env, std::string(name) + ": " + strerror(e)));
    return r;
  }
  (void)r.Set("pid", Napi::Number::New(env, static_cast<double>(cred.pid)));
  (void)r.Set("uid", Napi::Number::New(env, static_cast<double>(cred.uid)));
  (void)r.Set("gid", Napi::Number::New(env, static_cast<double>(cred.gid)));
  return r;
}

}  // namespace xfsguard
