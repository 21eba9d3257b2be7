// The network-facing HTTP server, driven over real sockets: what a browser, curl and a
// hostile client each see. Deadlines in these tests are shortened so that they run fast.
#include "common/http/http_server.h"

#include <httplib.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/process_stats.h"
#include "common/http/form.h"
#include "common/http/http_parse.h"
#include "gtest/gtest.h"
#include "tests/testing/eventually.h"
#include "tests/testing/raw_socket.h"

namespace dogsearch::http {
namespace {

using ::dogsearch::testing::RawSocket;

std::vector<Route> TestRoutes(std::atomic<int>* bodies_read) {
  std::vector<Route> routes;
  routes.push_back({"GET", "/healthz", 0, nullptr, [](const HttpRequest&, HttpResponse& res) {
                      res.SetBody("ok\n", "text/plain");
                    }});
  routes.push_back(
      {"POST", "/echo", 1 << 20, nullptr, [bodies_read](const HttpRequest& req, HttpResponse& res) {
         ++*bodies_read;
         res.SetBody(req.body, "application/octet-stream");
       }});
  routes.push_back({"POST", "/private", 400 << 20,
                    [](const HttpRequest& req) {
                      const std::string* a = req.Header("authorization");
                      return a != nullptr && *a == "Bearer t"
                                 ? absl::OkStatus()
                                 : absl::UnauthenticatedError("a token is needed");
                    },
                    [bodies_read](const HttpRequest& req, HttpResponse& res) {
                      ++*bodies_read;
                      res.SetBody(absl::StrCat(req.body.size()), "text/plain");
                    }});
  routes.push_back(
      {"GET", "/dogs/{}/photos/{}", 0, nullptr, [](const HttpRequest& req, HttpResponse& res) {
         res.SetBody(absl::StrCat(req.path_params[0], "|", req.path_params[1], "|", req.Query("q")),
                     "text/plain");
       }});
  routes.push_back(
      {"POST", "/form", 1 << 20, nullptr, [](const HttpRequest& req, HttpResponse& res) {
         const std::string* ct = req.Header("content-type");
         auto form = Form::Parse(ct ? *ct : "", req.body, 8);
         if (!form.ok()) {
           res.status = 400;
           return res.SetBody(std::string(form.status().message()), "text/plain");
         }
         std::string out;
         for (const FormPart& p : form->parts()) {
           absl::StrAppend(&out, p.name, "=", p.filename, ":", p.data.size(), ";");
         }
         res.SetBody(out, "text/plain");
       }});
  return routes;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.default_headers = {{"X-Content-Type-Options", "nosniff"}};
    auto s = HttpServer::Start(std::move(o), TestRoutes(&bodies_read_));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  // Time for GET /healthz on a fresh connection, or a huge value when it fails.
  absl::Duration HealthzLatency() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_connection_timeout(5);
    c.set_read_timeout(5);
    const absl::Time t0 = absl::Now();
    auto r = c.Get("/healthz");
    if (!r || r->status != 200) return absl::Hours(1);
    return absl::Now() - t0;
  }

  std::atomic<int> bodies_read_{0};
  std::unique_ptr<HttpServer> server_;
};

TEST(HttpParseTest, HeadIsParsedAndLimited) {
  HttpRequest r;
  ASSERT_TRUE(
      ParseRequestHead("GET /a%20b?x=1&y=two+words HTTP/1.1\r\nHost: h\r\nX-A:  v ", {}, &r).ok());
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/a%20b");
  EXPECT_EQ(r.Query("y"), "two words");
  ASSERT_NE(r.Header("x-a"), nullptr);
  EXPECT_EQ(*r.Header("x-a"), "v");
  HeadLimits small;
  small.max_headers = 2;
  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3", small, &r).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nTransfer-Encoding: chunked", {}, &r).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(
      ParseRequestHead("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2", {}, &r).ok());
  EXPECT_FALSE(ParseRequestHead("GET / HTTP/1.1\r\nContent-Length: -1", {}, &r).ok());
  EXPECT_FALSE(ParseRequestHead("GET / HTTP/1.1\r\n folded", {}, &r).ok());
  EXPECT_FALSE(ParseRequestHead("GET http://x/ HTTP/1.1", {}, &r).ok());
  EXPECT_FALSE(ParseRequestHead("GET / HTTP/2.0", {}, &r).ok());
  EXPECT_FALSE(PercentDecode("%4", false).ok());
  EXPECT_FALSE(PercentDecode("%00", false).ok());
  EXPECT_EQ(*PercentDecode("%41+", false), "A+");
}

TEST(HttpFormTest, MultipartAndUrlEncodedBodies) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a \\\"b\\\".jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n\x01\x02\r\n--\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=k\r\n\r\n5\r\n--XyZ--\r\n";
  auto f = Form::Parse("multipart/form-data; boundary=\"XyZ\"", body, 8);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->parts().size(), 2u);
  EXPECT_EQ(f->parts()[0].filename, "a \"b\".jpg");
  EXPECT_EQ(f->parts()[0].data, "\x01\x02\r\n--");
  EXPECT_EQ(f->Value("k"), "5");
  EXPECT_EQ(Form::Parse("multipart/form-data; boundary=XyZ", body, 1).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(Form::Parse("multipart/form-data; boundary=XyZ", body.substr(0, 60), 8).ok());
  EXPECT_FALSE(Form::Parse("multipart/form-data", body, 8).ok());
  auto u = Form::Parse("application/x-www-form-urlencoded", "version=v%202&x=", 8);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->Value("version"), "v 2");
}

TEST_F(HttpServerTest, ServesRoutesKeepAliveHeadAndMultipartFromARealClient) {
  StartServer();
  httplib::Client c("127.0.0.1", server_->port());
  auto r = c.Get("/dogs/rex%2Fx/photos/p1?q=a%20b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "rex/x|p1|a b");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  auto echo = c.Post("/echo", std::string(200000, 'e'), "application/octet-stream");
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->body.size(), 200000u);
  auto form = c.Post(
      "/form", httplib::MultipartFormDataItems{
                   {"photo", std::string(1000, '\0'), "x.jpg", "image/jpeg"}, {"k", "3", "", ""}});
  ASSERT_TRUE(form);
  EXPECT_EQ(form->body, "photo=x.jpg:1000;k=:1;");
  auto head = c.Head("/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(c.Get("/nope")->status, 404);
  EXPECT_EQ(c.Delete("/echo")->status, 405);
  // Two pipelined requests on one connection, answered in order.
  RawSocket s(server_->port());
  ASSERT_TRUE(
      s.Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close"
             "\r\n\r\nabc"));
  const std::string both = s.ReadAll(absl::Seconds(3));
  EXPECT_NE(both.find("ok\n"), std::string::npos) << both;
  EXPECT_TRUE(absl::EndsWith(both, "abc")) << both;
}

TEST_F(HttpServerTest, SlowClientsDoNotStarveOthers) {
  StartServer();
  for (int n : {8, 64}) {
    std::vector<std::unique_ptr<RawSocket>> slow;
    for (int i = 0; i < n; ++i) {
      slow.push_back(std::make_unique<RawSocket>(server_->port()));
      ASSERT_TRUE(slow.back()->connected());
      ASSERT_TRUE(slow.back()->Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n"));
    }
    // Every slow socket keeps trickling header lines while others are served.
    for (int round = 0; round < 3; ++round) {
      for (auto& s : slow) s->Send("X-Slow: 1\r\n");
      const absl::Duration d = HealthzLatency();
      // 1 s is far above what it takes (milliseconds); before the event loop, 8 such sockets
      // held all 8 worker threads and /healthz timed out.
      EXPECT_LT(d, absl::Seconds(1)) << n << " slow sockets";
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
}

TEST_F(HttpServerTest, TheWholeHeadHasADeadlineNotEachRead) {
  HttpServerOptions o;
  o.head_timeout = absl::Milliseconds(800);
  StartServer(o);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /healthz HTTP/1.1\r\n"));
  const absl::Time t0 = absl::Now();
  std::string got;
  // One header line every 100 ms: each read is quick, the head never ends.
  while (absl::Now() - t0 < absl::Seconds(4) && got.empty()) {
    s.Send("X-Slow: 1\r\n");
    got = s.ReadAll(absl::Milliseconds(100));
  }
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 408")) << got;
  EXPECT_LT(absl::Now() - t0, absl::Seconds(3));
  // An idle keep-alive connection is closed silently after the same time.
  RawSocket idle(server_->port());
  EXPECT_TRUE(idle.ClosedWithin(absl::Seconds(3)));
}

TEST_F(HttpServerTest, HeaderFloodIsRefusedWithoutGrowingMemory) {
  StartServer();
  const uint64_t rss0 = ResidentMemoryBytes().value_or(0);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n"));
  const std::string line = "X-Flood: " + std::string(1000, 'f') + "\r\n";
  size_t sent = 0;
  while (sent < (64u << 20) && s.Send(line)) sent += line.size();
  const std::string got = s.ReadAll(absl::Seconds(2));
  EXPECT_LT(sent, 64u << 20) << "the server kept reading a 64 MiB head";
  EXPECT_TRUE(got.empty() || absl::StartsWith(got, "HTTP/1.1 431")) << got.substr(0, 100);
  const uint64_t rss1 = ResidentMemoryBytes().value_or(0);
  EXPECT_LT(rss1, rss0 + (16u << 20));
  // Too many small headers: 431 too.
  RawSocket many(server_->port());
  std::string head = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n";
  for (int i = 0; i < 100; ++i) absl::StrAppend(&head, "X-", i, ": 1\r\n");
  ASSERT_TRUE(many.Send(head + "\r\n"));
  EXPECT_TRUE(absl::StartsWith(many.ReadAll(absl::Seconds(2)), "HTTP/1.1 431"));
}

TEST_F(HttpServerTest, BodiesAreRefusedBeforeTheyAreRead) {
  StartServer();
  const uint64_t rss0 = ResidentMemoryBytes().value_or(0);
  // Route limit from the declared length: nothing is read.
  RawSocket big(server_->port());
  ASSERT_TRUE(
      big.Send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 314572800\r\n\r\n"));
  const std::string too_big = big.ReadAll(absl::Seconds(2));
  EXPECT_TRUE(absl::StartsWith(too_big, "HTTP/1.1 413")) << too_big;
  EXPECT_NE(too_big.find("1048576 bytes"), std::string::npos) << too_big;
  // No token: 401 from the head alone, while four clients keep pushing 300 MiB each.
  std::vector<std::thread> pushers;
  std::atomic<int> refused{0};
  for (int i = 0; i < 4; ++i) {
    pushers.emplace_back([&] {
      RawSocket s(server_->port());
      s.Send("POST /private HTTP/1.1\r\nHost: localhost\r\nContent-Length: 314572800\r\n\r\n");
      const std::string chunk(1 << 20, 'p');
      for (int mb = 0; mb < 300 && s.Send(chunk); ++mb) {
      }
      if (absl::StartsWith(s.ReadAll(absl::Seconds(2)), "HTTP/1.1 401")) ++refused;
    });
  }
  for (auto& t : pushers) t.join();
  EXPECT_EQ(refused.load(), 4);
  EXPECT_EQ(bodies_read_.load(), 0);
  EXPECT_LT(ResidentMemoryBytes().value_or(0), rss0 + (64u << 20));
  // Expect: 100-continue is not answered for a refused body, and is for an admitted one.
  RawSocket ok(server_->port());
  ASSERT_TRUE(
      ok.Send("POST /private HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer t\r\n"
              "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(ok.ReadAll(absl::Milliseconds(300)), "HTTP/1.1 100 Continue"));
  ASSERT_TRUE(ok.Send("abcd"));
  EXPECT_NE(ok.ReadAll(absl::Milliseconds(500)).find("\r\n\r\n4"), std::string::npos);
  // Chunked bodies must declare a length instead.
  RawSocket chunked(server_->port());
  ASSERT_TRUE(
      chunked.Send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(chunked.ReadAll(absl::Seconds(2)), "HTTP/1.1 411"));
}

TEST_F(HttpServerTest, SlowBodyGetsADeadline) {
  HttpServerOptions o;
  o.body_base_timeout = absl::Milliseconds(500);
  StartServer(o);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nab"));
  const absl::Time t0 = absl::Now();
  std::string got;
  while (got.empty() && absl::Now() - t0 < absl::Seconds(4)) {
    s.Send("c");
    got = s.ReadAll(absl::Milliseconds(100));
  }
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 408")) << got;
  EXPECT_EQ(bodies_read_.load(), 0);
}

TEST_F(HttpServerTest, ConnectionsPerClientAreCapped) {
  HttpServerOptions o;
  o.max_connections_per_client = 4;
  StartServer(o);
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawSocket>(server_->port()));
  (void)dogsearch::testing::Eventually([&] { return server_->open_connections() >= 4; },
                                       absl::Milliseconds(500), absl::Milliseconds(10));
  RawSocket fifth(server_->port());
  ASSERT_TRUE(fifth.Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(fifth.ReadAll(absl::Seconds(1)), "HTTP/1.1 503"));
  held.clear();
  (void)dogsearch::testing::Eventually([&] { return server_->open_connections() <= 0; },
                                       absl::Seconds(1), absl::Milliseconds(10));
  EXPECT_LT(HealthzLatency(), absl::Seconds(1));
}

TEST_F(HttpServerTest, HostAndCrossSiteChecks) {
  HttpServerOptions o;
  o.allowed_hosts = {"dogs.example.org"};
  StartServer(o);
  auto status_of = [&](const std::string& head) {
    RawSocket s(server_->port());
    s.Send(head + "Connection: close\r\n\r\n");
    const std::string got = s.ReadAll(absl::Seconds(1));
    return got.size() >= 12 ? got.substr(9, 3) : got;
  };
  EXPECT_EQ(status_of("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:80\r\n"), "200");
  EXPECT_EQ(status_of("GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\n"), "200");
  EXPECT_EQ(status_of("GET /healthz HTTP/1.1\r\nHost: localhost:8080\r\n"), "200");
  EXPECT_EQ(status_of("GET /healthz HTTP/1.1\r\nHost: DOGS.example.org\r\n"), "200");
  // DNS rebinding: an attacker's name pointed at this server.
  EXPECT_EQ(status_of("GET /healthz HTTP/1.1\r\nHost: evil.example.com\r\n"), "421");
  EXPECT_EQ(status_of("GET /healthz HTTP/1.1\r\n"), "400");
  const std::string post = "POST /echo HTTP/1.1\r\nHost: localhost:1\r\nContent-Length: 0\r\n";
  EXPECT_EQ(status_of(post), "200");
  EXPECT_EQ(status_of(post + "Origin: http://localhost:1\r\nSec-Fetch-Site: same-origin\r\n"),
            "200");
  EXPECT_EQ(status_of(post + "Sec-Fetch-Site: cross-site\r\n"), "403");
  EXPECT_EQ(status_of(post + "Sec-Fetch-Site: same-site\r\n"), "403");
  EXPECT_EQ(status_of(post + "Origin: http://evil.example.com\r\n"), "403");
  EXPECT_EQ(status_of(post + "Origin: null\r\n"), "403");
  // Reads from another site stay allowed (the page's own images, links).
  EXPECT_EQ(status_of("GET /healthz HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: cross-site\r\n"),
            "200");
  EXPECT_TRUE(HostAllowed("anything", {"*"}));
}

TEST_F(HttpServerTest, BusyWorkersAnswer503AndStopIsPrompt) {
  HttpServerOptions o;
  o.worker_threads = 1;
  o.max_queued_requests = 1;
  std::atomic<bool> release{false};
  std::vector<Route> routes;
  routes.push_back({"GET", "/slow", 0, nullptr, [&](const HttpRequest&, HttpResponse& res) {
                      while (!release.load()) absl::SleepFor(absl::Milliseconds(5));
                      res.SetBody("done", "text/plain");
                    }});
  auto s = HttpServer::Start(o, std::move(routes));
  ASSERT_TRUE(s.ok());
  const int port = (*s)->port();
  std::vector<std::unique_ptr<RawSocket>> socks;
  for (int i = 0; i < 3; ++i) {
    socks.push_back(std::make_unique<RawSocket>(port));
    socks.back()->Send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(absl::StartsWith(socks[2]->ReadAll(absl::Milliseconds(500)), "HTTP/1.1 503"));
  release = true;
  EXPECT_NE(socks[0]->ReadAll(absl::Milliseconds(500)).find("done"), std::string::npos);
  const absl::Time t0 = absl::Now();
  (*s)->Stop();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(2));
}

}  // namespace
}  // namespace dogsearch::http
