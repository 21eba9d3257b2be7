#include "services/gateway/http_api.h"

#include <httplib.h>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/image/image_header.h"
#include "common/metrics/metrics_http_server.h"

namespace dogsearch::gateway {
namespace {

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kFailedPrecondition: return 412;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    case absl::StatusCode::kCancelled: return 499;
    default: return 500;
  }
}

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += absl::StrCat("\\u00", absl::Hex(u, absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void SendError(httplib::Response& res, const absl::Status& s) {
  res.status = HttpStatus(s.code());
  res.set_content(absl::StrCat("{\"code\":", JsonQuote(absl::StatusCodeToString(s.code())),
                               ",\"error\":", JsonQuote(s.message()), "}\n"),
                  "application/json");
}

void SendMessage(httplib::Response& res, const google::protobuf::Message& msg, int status = 200) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;
  opts.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(msg, &json, opts);
  res.status = status;
  res.set_content(json, "application/json");
}

template <typename T>
void Send(httplib::Response& res, const absl::StatusOr<T>& r, int status = 200) {
  if (r.ok()) {
    SendMessage(res, *r, status);
  } else {
    SendError(res, r.status());
  }
}

// Every part named `field` as a Photo (file name kept).
void AddPhotos(const httplib::Request& req, const std::string& field,
               google::protobuf::RepeatedPtrField<v1::Photo>* out) {
  auto range = req.files.equal_range(field);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.filename.empty() && it->second.content.empty()) continue;
    v1::Photo* p = out->Add();
    p->set_data(it->second.content);
    p->set_name(it->second.filename);
  }
}

std::string Field(const httplib::Request& req, const std::string& name) {
  if (req.has_file(name)) return req.get_file_value(name).content;
  if (req.has_param(name)) return req.get_param_value(name);
  return "";
}

absl::StatusOr<uint32_t> UintField(const httplib::Request& req, const std::string& name) {
  const std::string v = Field(req, name);
  uint32_t n = 0;
  if (!v.empty() && !absl::SimpleAtoi(v, &n)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be a non-negative integer"));
  }
  return n;
}

const char* PhotoContentType(absl::string_view data) {
  auto h = image::ReadImageHeader(data);
  if (!h.ok()) return "application/octet-stream";
  switch (h->format) {
    case image::ImageFormat::kJpeg: return "image/jpeg";
    case image::ImageFormat::kPng: return "image/png";
    case image::ImageFormat::kWebp: return "image/webp";
  }
  return "application/octet-stream";
}

}  // namespace

HttpApi::HttpApi(GatewayCore* core, rpc::TokenAuthenticator auth, HttpApiOptions options)
    : core_(core), auth_(std::move(auth)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<HttpApi>> HttpApi::Start(GatewayCore* core,
                                                        rpc::TokenAuthenticator auth,
                                                        HttpApiOptions options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("http port ", options.port, " out of range"));
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("HTTPS needs both a certificate and its key");
  }
  std::unique_ptr<HttpApi> api(new HttpApi(core, std::move(auth), std::move(options)));
  if (!api->options_.tls_cert.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(api->options_.tls_cert.c_str(),
                                                    api->options_.tls_key.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot use ", api->options_.tls_cert, " / ",
                                                     api->options_.tls_key, " for HTTPS"));
    }
    api->server_ = std::move(ssl);
  } else {
    api->server_ = std::make_unique<httplib::Server>();
  }
  const IntakeLimits& lim = core->options().limits;
  api->server_->set_payload_max_length(lim.max_photos_per_request * lim.max_photo_bytes +
                                       (1 << 20));
  api->Routes();
  auto port = metrics::ListenInBackground(api->server_.get(), api->options_.host,
                                          api->options_.port, &api->thread_);
  if (!port.ok()) {
    return absl::Status(port.status().code(), absl::StrCat("web page: ", port.status().message()));
  }
  api->port_ = *port;
  return api;
}

HttpApi::~HttpApi() { Stop(); }

void HttpApi::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpApi::Routes() {
  httplib::Server& s = *server_;
  // Token check on the raw Authorization header, exactly as the gRPC side does it.
  auto check = [this](const httplib::Request& req, rpc::RpcKind kind) {
    if (!req.has_header("Authorization")) return auth_.CheckHeader(nullptr, kind);
    const std::string h = req.get_header_value("Authorization");
    absl::string_view v(h);
    return auth_.CheckHeader(&v, kind);
  };
  auto deadline = [this] { return absl::Now() + options_.request_timeout; };
  // Wraps a handler with the auth check.
  auto guarded = [check](rpc::RpcKind kind, auto body) {
    return [check, kind, body](const httplib::Request& req, httplib::Response& res) {
      if (absl::Status a = check(req, kind); !a.ok()) return SendError(res, a);
      body(req, res);
    };
  };
  using K = rpc::RpcKind;

  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' blob: data:; style-src 'self' "
                   "'unsafe-inline'; script-src 'self' 'unsafe-inline'");
    res.set_content(kIndexHtml, "text/html; charset=utf-8");
  });
  s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    res.status = core_->serving() ? 200 : 503;
    res.set_content(core_->serving() ? "ok\n" : "no model serving yet\n", "text/plain");
  });
  s.Get("/api/model", guarded(K::kRead, [this](const httplib::Request&, httplib::Response& res) {
    SendMessage(res, core_->GetModelStatus());
  }));
  s.Post("/api/upgrade",
         guarded(K::kMutating, [this](const httplib::Request& req, httplib::Response& res) {
           v1::StartModelUpgradeRequest r;
           if (!google::protobuf::util::JsonStringToMessage(req.body, &r).ok()) {
             r.set_version(Field(req, "version"));
           }
           Send(res, core_->StartModelUpgrade(r));
         }));
  s.Post("/api/search",
         guarded(K::kRead, [this, deadline](const httplib::Request& req, httplib::Response& res) {
           v1::SearchRequest r;
           if (req.has_file("photo")) {
             const auto f = req.get_file_value("photo");
             r.mutable_photo()->set_data(f.content);
             r.mutable_photo()->set_name(f.filename);
           }
           auto k = UintField(req, "k");
           auto per = UintField(req, "photos_per_dog");
           if (!k.ok()) return SendError(res, k.status());
           if (!per.ok()) return SendError(res, per.status());
           r.set_k(*k);
           r.set_photos_per_dog(*per);
           Send(res, core_->Search(r, deadline()));
         }));
  s.Post("/api/verify",
         guarded(K::kRead, [this, deadline](const httplib::Request& req, httplib::Response& res) {
           v1::VerifyRequest r;
           for (const char* name : {"photo_a", "photo_b"}) {
             if (!req.has_file(name)) continue;
             const auto f = req.get_file_value(name);
             v1::Photo* p = std::string(name) == "photo_a" ? r.mutable_photo_a()
                                                          : r.mutable_photo_b();
             p->set_data(f.content);
             p->set_name(f.filename);
           }
           Send(res, core_->Verify(r, deadline()));
         }));
  s.Get("/api/dogs", guarded(K::kRead, [this](const httplib::Request& req, httplib::Response& res) {
    v1::ListDogsRequest r;
    auto size = UintField(req, "page_size");
    if (!size.ok()) return SendError(res, size.status());
    r.set_page_size(*size);
    r.set_page_token(Field(req, "page_token"));
    Send(res, core_->ListDogs(r));
  }));
  s.Post("/api/dogs",
         guarded(K::kMutating, [this, deadline](const httplib::Request& req,
                                                httplib::Response& res) {
           v1::EnrollRequest r;
           r.set_dog_id(Field(req, "dog_id"));
           r.set_name(Field(req, "name"));
           r.set_notes(Field(req, "notes"));
           AddPhotos(req, "photos", r.mutable_photos());
           Send(res, core_->Enroll(r, deadline()), 201);
         }));
  s.Get(R"(/api/dogs/([^/]+))",
        guarded(K::kRead, [this](const httplib::Request& req, httplib::Response& res) {
          v1::GetDogRequest r;
          r.set_dog_id(req.matches[1]);
          Send(res, core_->GetDog(r));
        }));
  s.Delete(R"(/api/dogs/([^/]+))",
           guarded(K::kMutating, [this, deadline](const httplib::Request& req,
                                                  httplib::Response& res) {
             v1::DeleteDogRequest r;
             r.set_dog_id(req.matches[1]);
             absl::Status st = core_->DeleteDog(r, deadline());
             if (!st.ok()) return SendError(res, st);
             res.set_content("{}", "application/json");
           }));
  s.Post(R"(/api/dogs/([^/]+)/photos)",
         guarded(K::kMutating, [this, deadline](const httplib::Request& req,
                                                httplib::Response& res) {
           v1::AddPhotosRequest r;
           r.set_dog_id(req.matches[1]);
           AddPhotos(req, "photos", r.mutable_photos());
           Send(res, core_->AddPhotos(r, deadline()));
         }));
  s.Delete(R"(/api/dogs/([^/]+)/photos/([^/]+))",
           guarded(K::kMutating, [this, deadline](const httplib::Request& req,
                                                  httplib::Response& res) {
             v1::RemovePhotoRequest r;
             r.set_dog_id(req.matches[1]);
             r.set_photo_id(req.matches[2]);
             Send(res, core_->RemovePhoto(r, deadline()));
           }));
  s.Get(R"(/api/photos/([^/]+))",
        guarded(K::kRead, [this](const httplib::Request& req, httplib::Response& res) {
          auto data = core_->GetPhoto(req.matches[1]);
          if (!data.ok()) return SendError(res, data.status());
          res.set_header("Cache-Control", "public, max-age=31536000, immutable");
          res.set_content(*data, PhotoContentType(*data));
        }));
  s.Get("/api/map", guarded(K::kRead, [this, deadline](const httplib::Request& req,
                                                       httplib::Response& res) {
    auto max = UintField(req, "max_points");
    if (!max.ok()) return SendError(res, max.status());
    const size_t n = *max == 0 ? options_.max_map_points
                               : std::min<size_t>(*max, options_.max_map_points);
    auto points = core_->EmbeddingMap(n, deadline());
    if (!points.ok()) return SendError(res, points.status());
    std::string json = "{\"points\":[";
    for (size_t i = 0; i < points->size(); ++i) {
      const MapPoint& p = (*points)[i];
      absl::StrAppend(&json, i ? "," : "", "{\"photo_id\":", JsonQuote(p.photo_id),
                      ",\"dog_id\":", JsonQuote(p.dog_id), ",\"dog_name\":",
                      JsonQuote(p.dog_name), ",\"x\":", p.x, ",\"y\":", p.y, "}");
    }
    json += "]}\n";
    res.set_content(json, "application/json");
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                             std::exception_ptr) {
    SendError(res, absl::InternalError("unexpected error while handling the request"));
  });
}

}  // namespace dogsearch::gateway
