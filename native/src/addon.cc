// N-API surface of xfsguard_native: runRace (async, Promise), sdNotify (sync), abi_version.
#include <napi.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "peercred.h"
#include "race.h"

namespace {

constexpr int32_t kAbiVersion = 1;

using xfsguard::RaceOutput;
using xfsguard::RaceParams;

class RaceWorker : public Napi::AsyncWorker {
 public:
  RaceWorker(Napi::Env env, RaceParams params, Napi::Value cancel)
      : Napi::AsyncWorker(env, "xfsguard.runRace"), deferred_(Napi::Promise::Deferred::New(env)), params_(std::move(params)) {
    // Keep the cancel array (and its SharedArrayBuffer) alive for the worker's lifetime.
    if (cancel.IsObject()) cancelRef_ = Napi::Persistent(cancel.As<Napi::Object>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { xfsguard::runRaceSync(params_, out_); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    auto set = [&](const char* k, Napi::Value v) { (void)r.Set(k, v); };
    set("engine", Napi::String::New(env, params_.engine == xfsguard::Engine::IoUring ? "io_uring" : "aio"));
    set("mode", Napi::String::New(env, params_.mode == xfsguard::FallocMode::ZeroRange ? "zero-range" : "alloc"));
    set("outcome", Napi::String::New(env, out_.outcome));
    set("iterations", Napi::Number::New(env, out_.iterations));
    set("reproductions", Napi::Number::New(env, out_.reproductions));
    set("in_flight_iterations", Napi::Number::New(env, out_.in_flight_iterations));
    if (out_.has_first) {
      Napi::Object f = Napi::Object::New(env);
      (void)f.Set("iteration", Napi::Number::New(env, out_.first.iteration));
      (void)f.Set("io_size", Napi::Number::New(env, static_cast<double>(out_.first.io_size)));
      (void)f.Set("write_offset", Napi::Number::New(env, static_cast<double>(out_.first.write_offset)));
      (void)f.Set("falloc_offset", Napi::Number::New(env, static_cast<double>(out_.first.falloc_offset)));
      (void)f.Set("falloc_len", Napi::Number::New(env, static_cast<double>(out_.first.falloc_len)));
      (void)f.Set("expected_size", Napi::Number::New(env, static_cast<double>(out_.first.expected_size)));
      (void)f.Set("actual_size", Napi::Number::New(env, static_cast<double>(out_.first.actual_size)));
      (void)f.Set("data_mismatch", Napi::Boolean::New(env, out_.first.data_mismatch));
      set("first_reproduction", f);
    } else {
      set("first_reproduction", env.Null());
    }
    Napi::Array sizes = Napi::Array::New(env, out_.io_sizes.size());
    for (size_t i = 0; i < out_.io_sizes.size(); i++) (void)sizes.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(out_.io_sizes[i])));
    set("io_sizes", sizes);
    set("duration_ms", Napi::Number::New(env, std::round(out_.duration_ms * 1000) / 1000));
    set("bytes_written", Napi::Number::New(env, static_cast<double>(out_.bytes_written)));
    set("block_size", Napi::Number::New(env, static_cast<double>(out_.block_size)));
    set("scratch", Napi::String::New(env, out_.scratch));
    set("cancelled", Napi::Boolean::New(env, out_.cancelled));
    if (out_.has_reason) {
      Napi::Object o = Napi::Object::New(env);
      (void)o.Set("stage", Napi::String::New(env, out_.reason_stage));
      (void)o.Set("errno", Napi::String::New(env, out_.reason_errno));
      (void)o.Set("message", Napi::String::New(env, out_.reason_message));
      set("reason", o);
    } else {
      set("reason", env.Null());
    }
    set("window", Napi::String::New(env, out_.window));
    set("completed_before_fallocate", Napi::Number::New(env, out_.completed_before_fallocate));
    if (out_.first_reproduction_ms >= 0)
      set("first_reproduction_ms", Napi::Number::New(env, std::round(out_.first_reproduction_ms * 1000) / 1000));
    else
      set("first_reproduction_ms", env.Null());
    deferred_.Resolve(r);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  RaceParams params_;
  RaceOutput out_;
  Napi::ObjectReference cancelRef_;
};

Napi::Value Rejected(Napi::Env env, const std::string& msg) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(Napi::TypeError::New(env, "runRace: " + msg).Value());
  return d.Promise();
}

// A getter of the options object threw: reject with what it threw instead of throwing synchronously.
Napi::Value RejectPending(Napi::Env env) {
  Napi::Value thrown = env.GetAndClearPendingException().Value();  // first: no N-API call works while it is pending
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(thrown);
  return d.Promise();
}

bool GetProp(Napi::Object o, const char* key, Napi::Value* out) {
  Napi::Value v;
  if (!o.Get(key).UnwrapTo(&v)) return false;
  *out = v;
  return true;
}

// A positive finite number (optionally an integer within [lo, hi]).
bool PositiveNumber(Napi::Value v, bool integer, double hi, double* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d <= 0 || d > hi) return false;
  if (integer && std::floor(d) != d) return false;
  *out = d;
  return true;
}

Napi::Value RunRace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray()) return Rejected(env, "options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  RaceParams p;
  Napi::Value v;
  if (!GetProp(o, "directory", &v)) return RejectPending(env);
  if (!v.IsString() || v.As<Napi::String>().Utf8Value().empty()) return Rejected(env, "directory must be a non-empty string");
  p.directory = v.As<Napi::String>().Utf8Value();
  if (p.directory.find('\0') != std::string::npos) return Rejected(env, "directory must not contain NUL");
  while (p.directory.size() > 1 && p.directory.back() == '/') p.directory.pop_back();
  if (!GetProp(o, "directory_fd", &v)) return RejectPending(env);
  if (!v.IsUndefined()) {
    double fd = -1;
    if (!v.IsNumber() || (fd = v.As<Napi::Number>().DoubleValue()) < 0 || fd > 2147483647.0 || std::floor(fd) != fd)
      return Rejected(env, "directory_fd must be a non-negative integer");
    p.directory_fd = static_cast<int>(fd);
  }

  if (!GetProp(o, "engine", &v)) return RejectPending(env);
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "aio") p.engine = xfsguard::Engine::Aio;
  else if (s == "io_uring") p.engine = xfsguard::Engine::IoUring;
  else return Rejected(env, "engine must be 'aio' or 'io_uring'");

  if (!GetProp(o, "mode", &v)) return RejectPending(env);
  s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "zero-range") p.mode = xfsguard::FallocMode::ZeroRange;
  else if (s == "alloc") p.mode = xfsguard::FallocMode::Alloc;
  else return Rejected(env, "mode must be 'zero-range' or 'alloc'");

  double d = 0;
  if (!GetProp(o, "max_iterations", &v)) return RejectPending(env);
  if (!PositiveNumber(v, true, 1e6, &d)) return Rejected(env, "max_iterations must be an integer in 1..1000000");
  p.max_iterations = static_cast<uint32_t>(d);
  if (!GetProp(o, "budget_ms", &v)) return RejectPending(env);
  if (!PositiveNumber(v, false, 86400e3, &d)) return Rejected(env, "budget_ms must be a positive number (at most one day)");
  p.budget_ms = d;
  if (!GetProp(o, "max_bytes", &v)) return RejectPending(env);
  if (!PositiveNumber(v, true, 9007199254740991.0, &d)) return Rejected(env, "max_bytes must be a positive integer");
  p.max_bytes = static_cast<uint64_t>(d);

  if (!GetProp(o, "window", &v)) return RejectPending(env);
  if (!v.IsUndefined()) {
    s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    if (s == "auto") p.window = xfsguard::Window::Auto;
    else if (s == "beyond_eof") p.window = xfsguard::Window::BeyondEof;
    else if (s == "eof_prealloc") p.window = xfsguard::Window::EofPrealloc;
    else if (s == "below_range") p.window = xfsguard::Window::BelowRange;
    else return Rejected(env, "window must be 'auto', 'beyond_eof', 'eof_prealloc' or 'below_range'");
  }
  if (!GetProp(o, "stop_on_first", &v)) return RejectPending(env);
  if (!v.IsUndefined()) {
    if (!v.IsBoolean()) return Rejected(env, "stop_on_first must be a boolean");
    p.stop_on_first = v.As<Napi::Boolean>().Value();
  }

  Napi::Value cancel;
  if (!GetProp(o, "cancel", &cancel)) return RejectPending(env);
  if (!cancel.IsUndefined() && !cancel.IsNull()) {
    if (!cancel.IsTypedArray() || cancel.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      return Rejected(env, "cancel must be an Int32Array");
    Napi::Int32Array ta = cancel.As<Napi::Int32Array>();
    if (ta.ElementLength() < 1) return Rejected(env, "cancel must have at least one element");
    // The worker thread reads ta.Data() until it ends. A plain ArrayBuffer can be detached
    // (transfer(), postMessage) and its memory freed meanwhile; a SharedArrayBuffer cannot.
    if (ta.ArrayBuffer().IsArrayBuffer()) return Rejected(env, "cancel must be an Int32Array over a SharedArrayBuffer");
    p.cancel = ta.Data();
  } else {
    cancel = env.Undefined();
  }

  auto* w = new RaceWorker(env, std::move(p), cancel);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

// Opens a directory once without following any symlink (sync: a path lookup, no I/O wait on data).
Napi::Value OpenDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "openDirectory: path must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Object r = Napi::Object::New(env);
  if (path.find('\0') != std::string::npos) {
    Napi::TypeError::New(env, "openDirectory: path must not contain NUL").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  xfsguard::DirOpen d;
  xfsguard::openDirectoryNoFollow(path, d);
  if (d.fd < 0) {
    Napi::Object e = Napi::Object::New(env);
    (void)e.Set("stage", Napi::String::New(env, d.stage));
    (void)e.Set("errno", Napi::String::New(env, xfsguard::errnoName(d.err)));
    (void)e.Set("message", Napi::String::New(env, d.message));
    (void)r.Set("error", e);
    return r;
  }
  (void)r.Set("fd", Napi::Number::New(env, d.fd));
  (void)r.Set("resolver", Napi::String::New(env, d.resolver));
  (void)r.Set("device", Napi::String::New(env, std::to_string(d.dev_major) + ":" + std::to_string(d.dev_minor)));
  (void)r.Set("inode", Napi::String::New(env, std::to_string(d.ino)));
  (void)r.Set("magic", Napi::Number::New(env, static_cast<double>(d.magic)));
  return r;
}

Napi::Object NotifyResult(Napi::Env env, bool sent, const std::string& error) {
  Napi::Object r = Napi::Object::New(env);
  (void)r.Set("sent", Napi::Boolean::New(env, sent));
  (void)r.Set("error", error.empty() ? env.Null() : Napi::String::New(env, error).As<Napi::Value>());
  return r;
}

std::string ErrnoText(int e, const std::string& what) {
  return std::string(xfsguard::errnoName(e)) + ": " + what + ": " + strerror(e);
}

Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "sdNotify: state must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string state = info[0].As<Napi::String>().Utf8Value();
  const char* sock = getenv("NOTIFY_SOCKET");
  if (sock == nullptr || sock[0] == '\0') return NotifyResult(env, false, "");
  std::string addr(sock);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (addr[0] != '/' && addr[0] != '@')
    return NotifyResult(env, false, ErrnoText(EAFNOSUPPORT, "NOTIFY_SOCKET is neither a path nor @abstract: " + addr));
  if (addr.size() > sizeof(sa.sun_path) - (addr[0] == '/' ? 1 : 0))
    return NotifyResult(env, false, ErrnoText(ENAMETOOLONG, "NOTIFY_SOCKET address too long"));
  memcpy(sa.sun_path, addr.data(), addr.size());
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + addr.size());
  if (addr[0] == '@') sa.sun_path[0] = '\0';  // abstract namespace; length excludes a trailing NUL
  else len += 1;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return NotifyResult(env, false, ErrnoText(errno, "socket(AF_UNIX, SOCK_DGRAM)"));
  ssize_t n;
  do {
    n = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&sa), len);
  } while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (n < 0) return NotifyResult(env, false, ErrnoText(e, "sendto " + addr));
  if (static_cast<size_t>(n) != state.size()) return NotifyResult(env, false, ErrnoText(EMSGSIZE, "short datagram to " + addr));
  return NotifyResult(env, true, "");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  (void)exports.Set("runRace", Napi::Function::New(env, RunRace, "runRace"));
  (void)exports.Set("openDirectory", Napi::Function::New(env, OpenDirectory, "openDirectory"));
  (void)exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  (void)exports.Set("peerCred", Napi::Function::New(env, xfsguard::PeerCred, "peerCred"));
  (void)exports.Set("abi_version", Napi::Number::New(env, kAbiVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(xfsguard_native, Init)
