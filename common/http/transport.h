// Non-blocking byte transport for one accepted socket: plain TCP or TLS (OpenSSL, kept out of
// this header). Read/Write never block; they say when the socket must become readable or
// writable before retrying. Owned and used by one thread (the HTTP server's loop).
#ifndef DOGSEARCH_COMMON_HTTP_TRANSPORT_H_
#define DOGSEARCH_COMMON_HTTP_TRANSPORT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace dogsearch::http {

enum class Io { kOk, kWantRead, kWantWrite, kClosed, kError };

class Transport {
 public:
  virtual ~Transport() = default;  // Closes the socket.
  // kOk with *n > 0 bytes, or why nothing was transferred.
  virtual Io Read(char* buf, size_t len, size_t* n) = 0;
  virtual Io Write(const char* buf, size_t len, size_t* n) = 0;
  // Half-close the sending side (TLS close_notify first); best effort.
  virtual void ShutdownWrite() = 0;
  virtual int fd() const = 0;
};

// A server-side TLS configuration (certificate chain + key, TLS 1.2 or later).
class TlsContext {
 public:
  static absl::StatusOr<std::unique_ptr<TlsContext>> Load(const std::string& cert_pem_file,
                                                          const std::string& key_pem_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  void* native() const { return ctx_; }

 private:
  explicit TlsContext(void* ctx) : ctx_(ctx) {}
  void* ctx_;  // SSL_CTX*
};

// Takes ownership of the non-blocking socket `fd`. tls == nullptr: plain TCP.
std::unique_ptr<Transport> MakeTransport(int fd, const TlsContext* tls);

}  // namespace dogsearch::http

#endif  // DOGSEARCH_COMMON_HTTP_TRANSPORT_H_
