#include "common/http/transport.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace dogsearch::http {
namespace {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  ~PlainTransport() override { ::close(fd_); }

  Io Read(char* buf, size_t len, size_t* n) override {
    const ssize_t r = ::recv(fd_, buf, len, 0);
    if (r > 0) {
      *n = static_cast<size_t>(r);
      return Io::kOk;
    }
    if (r == 0) return Io::kClosed;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kWantRead;
    return Io::kError;
  }

  Io Write(const char* buf, size_t len, size_t* n) override {
    const ssize_t r = ::send(fd_, buf, len, MSG_NOSIGNAL);
    if (r >= 0) {
      *n = static_cast<size_t>(r);
      return Io::kOk;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kWantWrite;
    return Io::kError;
  }

  void ShutdownWrite() override { ::shutdown(fd_, SHUT_WR); }
  int fd() const override { return fd_; }

 private:
  const int fd_;
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~TlsTransport() override {
    SSL_free(ssl_);
    ::close(fd_);
  }

  Io Read(char* buf, size_t len, size_t* n) override {
    ERR_clear_error();
    if (SSL_read_ex(ssl_, buf, len, n) == 1) return Io::kOk;
    return Map(SSL_get_error(ssl_, 0));
  }

  Io Write(const char* buf, size_t len, size_t* n) override {
    ERR_clear_error();
    if (SSL_write_ex(ssl_, buf, len, n) == 1) return Io::kOk;
    return Map(SSL_get_error(ssl_, 0));
  }

  void ShutdownWrite() override {
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
    ::shutdown(fd_, SHUT_WR);
  }
  int fd() const override { return fd_; }

 private:
  static Io Map(int err) {
    switch (err) {
      case SSL_ERROR_WANT_READ:
        return Io::kWantRead;
      case SSL_ERROR_WANT_WRITE:
        return Io::kWantWrite;
      case SSL_ERROR_ZERO_RETURN:
        return Io::kClosed;
      default:
        return Io::kError;
    }
  }

  const int fd_;
  SSL* const ssl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Load(const std::string& cert_pem_file,
                                                             const std::string& key_pem_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("cannot create a TLS context");
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_pem_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_pem_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot use ", cert_pem_file, " / ", key_pem_file, " for HTTPS"));
  }
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(static_cast<SSL_CTX*>(ctx_)); }

std::unique_ptr<Transport> MakeTransport(int fd, const TlsContext* tls) {
  if (tls == nullptr) return std::make_unique<PlainTransport>(fd);
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(tls->native()));
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    if (ssl != nullptr) SSL_free(ssl);
    ::close(fd);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return std::make_unique<TlsTransport>(fd, ssl);
}

}  // namespace dogsearch::http
