// peerCred(fd): the credentials of the process at the other end of a unix socket (SO_PEERCRED).
#pragma once
#include <napi.h>

namespace xfsguard {
Napi::Value PeerCred(const Napi::CallbackInfo& info);
}  // namespace xfsguard
