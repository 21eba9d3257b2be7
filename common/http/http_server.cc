#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/thread_pool.h"
#include "common/http/transport.h"

namespace dogsearch::http {
namespace {

constexpr uint64_t kListenerId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadChunk = 64 << 10;
constexpr size_t kLingerBytes = 1 << 20;
constexpr absl::Duration kLingerTime = absl::Seconds(2);

enum class State { kHead, kBody, kHandling, kWriting, kLinger, kDead };

bool IsSafeMethod(absl::string_view m) { return m == "GET" || m == "HEAD" || m == "OPTIONS"; }

// Host part of "host[:port]" / "[v6]:port", lower-cased.
std::string HostName(absl::string_view host_port) {
  if (!host_port.empty() && host_port[0] == '[') {
    return absl::AsciiStrToLower(host_port.substr(0, host_port.find(']') + 1));
  }
  return absl::AsciiStrToLower(host_port.substr(0, host_port.rfind(':')));
}

bool IsIpLiteral(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr a6;
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6) == 1;
  }
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1;
}

std::vector<std::string> SplitPath(absl::string_view path) {
  return absl::StrSplit(path.substr(1), '/');
}

}  // namespace

bool HostAllowed(absl::string_view host_header, const std::vector<std::string>& allowed) {
  const std::string host = HostName(absl::StripAsciiWhitespace(host_header));
  if (host.empty()) return false;
  if (IsIpLiteral(host) || host == "localhost" || absl::EndsWith(host, ".localhost")) return true;
  for (const std::string& a : allowed) {
    if (a == "*" || absl::EqualsIgnoreCase(a, host)) return true;
  }
  return false;
}

absl::Status CheckSameOrigin(const HttpRequest& request) {
  if (IsSafeMethod(request.method)) return absl::OkStatus();
  const std::string* site = request.Header("sec-fetch-site");
  if (site != nullptr && *site != "same-origin" && *site != "none") {
    return absl::PermissionDeniedError(
        absl::StrCat("cross-site request refused (Sec-Fetch-Site: ", site->substr(0, 32),
                     "); use this server's own page or a non-browser client"));
  }
  const std::string* origin = request.Header("origin");
  if (origin == nullptr) return absl::OkStatus();
  const std::string* host = request.Header("host");
  const size_t scheme_end = origin->find("://");
  if (host == nullptr || scheme_end == std::string::npos ||
      !absl::EqualsIgnoreCase(origin->substr(scheme_end + 3), *host)) {
    return absl::PermissionDeniedError(
        absl::StrCat("cross-origin request refused (Origin ", origin->substr(0, 100),
                     " is not this server); use this server's own page or a non-browser client"));
  }
  return absl::OkStatus();
}

struct HttpServer::Impl {
  struct Conn {
    uint64_t id = 0;
    std::unique_ptr<Transport> t;
    std::string peer;
    State state = State::kHead;
    std::string in;        // Received, not yet consumed.
    size_t scan_from = 0;  // Where to resume looking for the end of the head.
    HttpRequest req;
    const Route* route = nullptr;
    bool keep_alive = false;
    bool head_only = false;
    bool close_after = false;
    std::string out;
    size_t out_off = 0;
    Io want = Io::kWantRead;
    uint32_t interest = 0;  // The epoll mask in force (once registered).
    bool registered = false;
    size_t lingered = 0;
    absl::Time deadline;
  };

  HttpServerOptions options;
  std::vector<Route> routes;
  std::vector<std::vector<std::string>> route_segments;  // Parallel to routes.
  std::unique_ptr<TlsContext> tls;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  int port = 0;
  std::unique_ptr<ThreadPool> workers;
  std::thread loop;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open{0};

  // Owned by the loop thread; nothing else touches them.
  absl::flat_hash_map<uint64_t, std::unique_ptr<Conn>> conns;
  absl::flat_hash_map<std::string, size_t> per_client;
  std::vector<uint64_t> ready;  // Connections to drive again without waiting for epoll.
  uint64_t next_id = 2;

  // Responses finished by workers, handed to the loop (which owns the connections).
  std::mutex done_mu;
  std::vector<std::pair<uint64_t, HttpResponse>> done ABSL_GUARDED_BY(done_mu);

  ~Impl() {
    for (int fd : {listen_fd, epoll_fd, wake_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }

  absl::Status Listen();
  void Run();
  void Accept();
  void Wake();
  void TakeFinished();
  void Sweep(absl::Time now);
  void Drive(Conn& c);
  bool AdvanceHead(Conn& c);
  bool AdvanceBody(Conn& c);
  bool AdvanceWrite(Conn& c);
  void Linger(Conn& c);
  Io ReadSome(Conn& c, size_t max);
  bool Flush(Conn& c);
  void Admit(Conn& c, HttpRequest req);
  const Route* Match(HttpRequest* req, bool* path_known, absl::Status* decode_error) const;
  void Dispatch(Conn& c);
  void Fail(Conn& c, int http_status, const absl::Status& reason);
  void StartWrite(Conn& c, HttpResponse res);
  void UpdateInterest(Conn& c);
  void Close(uint64_t id);
  void Finish(uint64_t id, HttpResponse res);
};

absl::Status HttpServer::Impl::Listen() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(options.port);
  if (int e = getaddrinfo(options.host.c_str(), service.c_str(), &hints, &res); e != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", options.host, ": ", gai_strerror(e)));
  }
  int err = 0;
  for (addrinfo* a = res; a != nullptr && listen_fd < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
      listen_fd = fd;
    } else {
      err = errno;
      ::close(fd);
    }
  }
  freeaddrinfo(res);
  if (listen_fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ", strerror(err)));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || wake_fd < 0) return absl::InternalError("cannot create epoll/eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.data.u64 = kWakeId;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
  return absl::OkStatus();
}

void HttpServer::Impl::Run() {
  std::vector<epoll_event> events(256);
  absl::Time last_sweep = absl::Now();
  while (!stopping.load()) {
    const int timeout_ms = ready.empty() ? 100 : 0;
    const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
    std::vector<uint64_t> again;
    again.swap(ready);
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenerId) {
        Accept();
      } else if (id == kWakeId) {
        TakeFinished();
      } else if (auto it = conns.find(id); it != conns.end()) {
        Conn& c = *it->second;
        if (c.state == State::kHandling && (events[i].events & (EPOLLHUP | EPOLLERR))) {
          Close(id);  // Client gone; the worker's response will find no connection.
          continue;
        }
        Drive(c);
      }
    }
    for (uint64_t id : again) {
      if (auto it = conns.find(id); it != conns.end()) Drive(*it->second);
    }
    const absl::Time now = absl::Now();
    if (now - last_sweep >= absl::Milliseconds(100)) {
      Sweep(now);
      last_sweep = now;
    }
  }
  std::vector<uint64_t> ids;
  for (auto& [id, c] : conns) ids.push_back(id);
  for (uint64_t id : ids) Close(id);
  ::close(listen_fd);  // Refuse new connections from now on.
  listen_fd = -1;
}

void HttpServer::Impl::Accept() {
  while (true) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd =
        accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or out of descriptors (retried on the next event).
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, ip, sizeof ip);
    } else {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, ip, sizeof ip);
    }
    size_t& mine = per_client[ip];
    if (conns.size() >= options.max_connections || mine >= options.max_connections_per_client) {
      if (mine == 0) per_client.erase(ip);
      if (!tls) {
        static constexpr char kBusy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)!::send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL);
      }
      ::close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->t = MakeTransport(fd, tls.get());
    if (c->t == nullptr) continue;
    ++mine;
    c->id = next_id++;
    c->peer = ip;
    c->deadline = absl::Now() + options.head_timeout;
    Conn& ref = *c;
    conns.emplace(c->id, std::move(c));
    open.store(conns.size());
    UpdateInterest(ref);
  }
}

void HttpServer::Impl::Wake() {
  const uint64_t one = 1;
  (void)!::write(wake_fd, &one, sizeof one);
}

void HttpServer::Impl::Finish(uint64_t id, HttpResponse res) {
  {
    std::lock_guard<std::mutex> l(done_mu);
    done.emplace_back(id, std::move(res));
  }
  Wake();
}

void HttpServer::Impl::TakeFinished() {
  uint64_t v;
  while (::read(wake_fd, &v, sizeof v) > 0) {
  }
  std::vector<std::pair<uint64_t, HttpResponse>> mine;
  {
    std::lock_guard<std::mutex> l(done_mu);
    mine.swap(done);
  }
  for (auto& [id, res] : mine) {
    auto it = conns.find(id);
    if (it == conns.end() || it->second->state != State::kHandling) continue;
    StartWrite(*it->second, std::move(res));
    Drive(*it->second);
  }
}

void HttpServer::Impl::Sweep(absl::Time now) {
  std::vector<uint64_t> expired;
  for (auto& [id, c] : conns) {
    if (c->state != State::kHandling && now > c->deadline) expired.push_back(id);
  }
  for (uint64_t id : expired) {
    Conn& c = *conns[id];
    const bool idle = c.state == State::kHead && c.in.empty();
    if (idle || c.state == State::kWriting || c.state == State::kLinger) {
      Close(id);
      continue;
    }
    Fail(c, 408,
         absl::DeadlineExceededError(c.state == State::kHead
                                         ? "the request head took too long to arrive"
                                         : "the request body took too long to arrive"));
    Drive(c);
  }
}

void HttpServer::Impl::Drive(Conn& c) {
  for (int step = 0; step < 256; ++step) {
    bool progressed = false;
    switch (c.state) {
      case State::kHead:
        progressed = AdvanceHead(c);
        break;
      case State::kBody:
        progressed = AdvanceBody(c);
        break;
      case State::kWriting:
        progressed = AdvanceWrite(c);
        break;
      case State::kLinger:
        Linger(c);
        break;
      case State::kHandling:
        break;
      case State::kDead:
        return Close(c.id);
    }
    if (c.state == State::kDead) return Close(c.id);
    if (!progressed) return UpdateInterest(c);
  }
  ready.push_back(c.id);  // Busy connection: let the others run, then continue.
  UpdateInterest(c);
}

Io HttpServer::Impl::ReadSome(Conn& c, size_t max) {
  const size_t n0 = c.in.size();
  const size_t want = std::min(max, kReadChunk);
  c.in.resize(n0 + want);
  size_t got = 0;
  const Io r = c.t->Read(c.in.data() + n0, want, &got);
  c.in.resize(n0 + (r == Io::kOk ? got : 0));
  if (r == Io::kWantRead || r == Io::kWantWrite) c.want = r;
  if (r == Io::kClosed || r == Io::kError) c.state = State::kDead;
  return r;
}

bool HttpServer::Impl::Flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    size_t n = 0;
    const Io r = c.t->Write(c.out.data() + c.out_off, c.out.size() - c.out_off, &n);
    if (r == Io::kOk) {
      c.out_off += n;
      continue;
    }
    if (r == Io::kWantRead || r == Io::kWantWrite) {
      c.want = r;
    } else {
      c.state = State::kDead;
    }
    return false;
  }
  c.out.clear();
  c.out_off = 0;
  return true;
}

bool HttpServer::Impl::AdvanceHead(Conn& c) {
  // Tolerate blank lines before a request (RFC 9112 section 2.2).
  while (c.in.size() >= 2 && c.in[0] == '\r' && c.in[1] == '\n') c.in.erase(0, 2);
  const size_t end = c.in.find("\r\n\r\n", c.scan_from);
  if (end == std::string::npos) {
    if (c.in.size() > options.head.max_head_bytes) {
      Fail(c, 431,
           absl::OutOfRangeError(absl::StrCat("request head is larger than ",
                                              options.head.max_head_bytes, " bytes")));
      return true;
    }
    c.scan_from = c.in.size() >= 3 ? c.in.size() - 3 : 0;
    return ReadSome(c, options.head.max_head_bytes + 4 - c.in.size() + 1) == Io::kOk;
  }
  HttpRequest req;
  req.peer = c.peer;
  req.tls = tls != nullptr;
  absl::Status s = ParseRequestHead(absl::string_view(c.in).substr(0, end), options.head, &req);
  c.in.erase(0, end + 4);
  c.scan_from = 0;
  if (!s.ok()) {
    const int code = s.code() == absl::StatusCode::kOutOfRange           ? 431
                     : s.code() == absl::StatusCode::kFailedPrecondition ? 411
                                                                         : 400;
    Fail(c, code, s);
    return true;
  }
  Admit(c, std::move(req));
  return true;
}

const Route* HttpServer::Impl::Match(HttpRequest* req, bool* path_known,
                                     absl::Status* decode_error) const {
  const std::vector<std::string> segs = SplitPath(req->path);
  const std::string& method = req->method == "HEAD" ? std::string("GET") : req->method;
  *path_known = false;
  for (size_t i = 0; i < routes.size(); ++i) {
    const auto& pat = route_segments[i];
    if (pat.size() != segs.size()) continue;
    bool ok = true;
    for (size_t j = 0; j < pat.size() && ok; ++j) {
      ok = pat[j] == "{}" ? !segs[j].empty() : pat[j] == segs[j];
    }
    if (!ok) continue;
    *path_known = true;
    if (routes[i].method != method) continue;
    req->path_params.clear();
    for (size_t j = 0; j < pat.size(); ++j) {
      if (pat[j] != "{}") continue;
      auto v = PercentDecode(segs[j], false);
      if (!v.ok()) {
        *decode_error = v.status();
        return nullptr;
      }
      req->path_params.push_back(std::move(*v));
    }
    return &routes[i];
  }
  return nullptr;
}

void HttpServer::Impl::Admit(Conn& c, HttpRequest req) {
  c.keep_alive = WantsKeepAlive(req);
  c.head_only = req.method == "HEAD";
  const std::string* host = req.Header("host");
  if (host == nullptr && req.minor_version >= 1) {
    return Fail(c, 400, absl::InvalidArgumentError("HTTP/1.1 requests need a Host header"));
  }
  if (host != nullptr && !HostAllowed(*host, options.allowed_hosts)) {
    return Fail(
        c, 421,
        absl::PermissionDeniedError(absl::StrCat("Host '", host->substr(0, 100),
                                                 "' is not served here; the operator can add it to "
                                                 "--http_allowed_hosts")));
  }
  bool path_known = false;
  absl::Status decode_error;
  const Route* route = Match(&req, &path_known, &decode_error);
  if (!decode_error.ok()) return Fail(c, 400, decode_error);
  if (route == nullptr) {
    return Fail(c, path_known ? 405 : 404,
                absl::NotFoundError(path_known ? absl::StrCat("method ", req.method.substr(0, 16),
                                                              " is not allowed on ", req.path)
                                               : absl::StrCat("no such page: ", req.path)));
  }
  if (absl::Status s = CheckSameOrigin(req); !s.ok()) return Fail(c, 403, s);
  if (route->admit) {
    if (absl::Status s = route->admit(req); !s.ok()) {
      const int code = options.http_status_of                            ? options.http_status_of(s)
                       : s.code() == absl::StatusCode::kUnauthenticated  ? 401
                       : s.code() == absl::StatusCode::kPermissionDenied ? 403
                                                                         : 400;
      return Fail(c, code, s);
    }
  }
  if (req.content_length > route->max_body_bytes) {
    return Fail(
        c, 413,
        absl::OutOfRangeError(absl::StrCat(
            "request body of ", req.content_length, " bytes is larger than the ",
            route->max_body_bytes, " bytes ", req.method, " ", route->pattern, " accepts")));
  }
  const std::string* expect = req.Header("expect");
  if (expect != nullptr && absl::EqualsIgnoreCase(*expect, "100-continue") &&
      req.content_length > c.in.size()) {
    c.out = "HTTP/1.1 100 Continue\r\n\r\n";
    c.out_off = 0;
  }
  c.route = route;
  c.req = std::move(req);
  c.state = State::kBody;
  c.deadline =
      absl::Now() + options.body_base_timeout +
      absl::Seconds(static_cast<double>(c.req.content_length) / options.min_body_bytes_per_second);
}

bool HttpServer::Impl::AdvanceBody(Conn& c) {
  if (!c.out.empty() && !Flush(c)) return false;
  const uint64_t need = c.req.content_length;
  if (c.in.size() >= need) {
    c.req.body = c.in.substr(0, need);
    c.in.erase(0, need);
    Dispatch(c);
    return true;
  }
  return ReadSome(c, need - c.in.size()) == Io::kOk;
}

void HttpServer::Impl::Dispatch(Conn& c) {
  c.state = State::kHandling;
  auto req = std::make_shared<HttpRequest>(std::move(c.req));
  c.req = HttpRequest();
  const Route* route = c.route;
  const uint64_t id = c.id;
  const bool queued = workers->TrySchedule([this, route, id, req] {
    HttpResponse res;
    try {
      route->handle(*req, res);
    } catch (...) {
      res = HttpResponse();
      res.status = 500;
      res.SetBody("unexpected error while handling the request\n", "text/plain");
    }
    Finish(id, std::move(res));
  });
  if (!queued) {
    c.state = State::kHead;  // So that Fail treats it as an ordinary refusal.
    Fail(c, 503, absl::UnavailableError("the server is busy; retry shortly"));
  }
}

void HttpServer::Impl::Fail(Conn& c, int http_status, const absl::Status& reason) {
  HttpResponse res;
  if (options.render_error) {
    res = options.render_error(http_status, reason);
  } else {
    res.SetBody(absl::StrCat(reason.message(), "\n"), "text/plain; charset=utf-8");
  }
  res.status = http_status;
  c.close_after = true;
  c.out.clear();
  c.out_off = 0;
  StartWrite(c, std::move(res));
}

void HttpServer::Impl::StartWrite(Conn& c, HttpResponse res) {
  for (const auto& [name, value] : options.default_headers) {
    if (res.Find(name) == nullptr) res.headers.emplace_back(name, value);
  }
  const bool keep = c.keep_alive && !c.close_after && !stopping.load();
  c.close_after = !keep;
  c.out = SerializeResponse(res, keep, c.head_only);
  c.out_off = 0;
  c.state = State::kWriting;
  c.deadline =
      absl::Now() + options.write_base_timeout +
      absl::Seconds(static_cast<double>(c.out.size()) / options.min_write_bytes_per_second);
}

bool HttpServer::Impl::AdvanceWrite(Conn& c) {
  if (!Flush(c)) return false;
  if (c.close_after) {
    c.t->ShutdownWrite();
    c.state = State::kLinger;
    c.deadline = absl::Now() + kLingerTime;
    return true;
  }
  c.state = State::kHead;
  c.route = nullptr;
  c.deadline = absl::Now() + options.head_timeout;
  return true;
}

// After a refusal the client may still be sending the body it announced: read and drop a
// bounded amount so that it sees our answer rather than a connection reset.
void HttpServer::Impl::Linger(Conn& c) {
  char buf[16 << 10];
  while (c.lingered < kLingerBytes) {
    size_t n = 0;
    const Io r = c.t->Read(buf, sizeof buf, &n);
    if (r == Io::kOk) {
      c.lingered += n;
      continue;
    }
    if (r == Io::kWantRead || r == Io::kWantWrite) {
      c.want = r;
      return;
    }
    break;
  }
  c.state = State::kDead;
}

void HttpServer::Impl::UpdateInterest(Conn& c) {
  constexpr uint32_t kIn = EPOLLIN;
  constexpr uint32_t kOut = EPOLLOUT;
  uint32_t mask = 0;
  switch (c.state) {
    case State::kHead:
    case State::kBody:
    case State::kLinger:
      mask = kIn | (c.want == Io::kWantWrite || !c.out.empty() ? kOut : 0u);
      break;
    case State::kWriting:
      mask = kOut | (c.want == Io::kWantRead ? kIn : 0u);
      break;
    case State::kHandling:
    case State::kDead:
      mask = 0;
      break;
  }
  if (c.registered && c.interest == mask) return;
  epoll_event ev{};
  ev.events = mask;
  ev.data.u64 = c.id;
  epoll_ctl(epoll_fd, c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.t->fd(), &ev);
  c.registered = true;
  c.interest = mask;
}

void HttpServer::Impl::Close(uint64_t id) {
  auto it = conns.find(id);
  if (it == conns.end()) return;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, it->second->t->fd(), nullptr);
  auto pc = per_client.find(it->second->peer);
  if (pc != per_client.end() && --pc->second == 0) per_client.erase(pc);
  conns.erase(it);  // Closes the socket.
  open.store(conns.size());
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              std::vector<Route> routes) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", options.port, " out of range"));
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("HTTPS needs both a certificate and its key");
  }
  if (options.worker_threads < 1 || options.max_queued_requests < 1 ||
      options.min_body_bytes_per_second <= 0 || options.min_write_bytes_per_second <= 0) {
    return absl::InvalidArgumentError("HTTP server limits must be positive");
  }
  auto impl = std::make_unique<Impl>();
  for (const Route& r : routes) {
    if (r.pattern.empty() || r.pattern[0] != '/' || !r.handle) {
      return absl::InvalidArgumentError(absl::StrCat("bad route '", r.pattern, "'"));
    }
    impl->route_segments.push_back(SplitPath(r.pattern));
  }
  if (!options.tls_cert.empty()) {
    auto tls = TlsContext::Load(options.tls_cert, options.tls_key);
    if (!tls.ok()) return tls.status();
    impl->tls = std::move(*tls);
  }
  impl->options = std::move(options);
  impl->routes = std::move(routes);
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  impl->workers =
      std::make_unique<ThreadPool>(impl->options.worker_threads, impl->options.max_queued_requests);
  Impl* raw = impl.get();
  impl->loop = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }
size_t HttpServer::open_connections() const { return impl_->open.load(); }

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->Wake();
  if (impl_->loop.joinable()) impl_->loop.join();
  impl_->workers.reset();  // Runs what is queued; their responses go nowhere.
}

}  // namespace dogsearch::http
